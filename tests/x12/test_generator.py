"""The synthetic 835 generator, and the reader on files it makes (the big-file path)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from auditkit import claims
from auditkit.ingest import x12_tokens
from auditkit.ingest.x12 import iter_835, join_remits, read_835, read_claim_lines
from auditkit.synth.x12gen import from_claims, generate_835


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("x12") / "big.835"
    return path, generate_835(path, 5000, seed=11)


def test_generated_file_reads_back_exactly(big) -> None:
    path, made = big
    remit = read_835(path)
    assert remit.warnings == []
    assert len(remit.transactions) == made.transactions
    assert len(remit.claims) == made.claims
    assert sum(len(c.lines) for c in remit.claims) == made.service_lines
    cas = sum(len(c.adjustments) + sum(len(x.adjustments) for x in c.lines) for c in remit.claims)
    assert cas == made.adjustments
    assert sum(len(t.provider_adjustments) for t in remit.transactions) == made.provider_adjustments
    assert sum(c.paid for c in remit.claims) == pytest.approx(made.total_paid)
    assert [c.patient_control_number for c in remit.claims] == made.claim_ids
    for claim in remit.claims:
        assert claim.charge - claim.paid == pytest.approx(claim.adjustment_total, abs=0.005)
    for txn in remit.transactions:
        net = sum(c.paid for c in txn.claims) - sum(a.amount for a in txn.provider_adjustments)
        sign = 1 if txn.payment.credit_debit == "C" else -1
        assert sign * txn.payment.amount == pytest.approx(net, abs=0.005)
    # ISA is fixed width: 105 characters, then the terminator
    assert len(path.read_text().split("~", 1)[0]) == 105


def test_generated_file_has_pain_practice_content(big) -> None:
    path, made = big
    frame, report = read_claim_lines(path)
    assert made.reversals > 0
    assert any(f"{made.reversals} reversal(s)" in w and "netted" in w for w in report.warnings)
    # netting drops each reversal and its original: two claims' lines per reversal
    assert len(frame) < made.service_lines
    assert "voided" not in set(frame["status"])
    assert {"paid", "denied", "partially_paid"} <= set(frame["status"])
    denied = frame[frame["status"] == "denied"]
    facet = denied[denied["cpt"].isin(["64490", "64493", "64494"])]
    assert (facet["denial_codes"] == "CO-4").all() and len(facet) > 0
    epidural = denied[denied["cpt"].isin(["62321", "62323", "64483", "64484"])]
    assert set(epidural["denial_codes"]) <= {"CO-151", "CO-197"} and "CO-151" in set(
        epidural["denial_codes"]
    )
    assert frame["remark_codes"].str.contains("N290").any()
    assert frame["line_number"].notna().all()
    assert frame["payer"].nunique() == 5


class _CountingReader:
    """A text file that counts the characters read from it."""

    def __init__(self, handle) -> None:
        self.handle = handle
        self.chars = 0

    def read(self, size: int = -1) -> str:
        text = self.handle.read(size)
        self.chars += len(text)
        return text

    def __enter__(self) -> _CountingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


def test_generated_file_streams_one_transaction_at_a_time(big, monkeypatch) -> None:
    """The big-file path: each check is handed over as soon as its SE is read, so a file is
    never held whole. (How fast is measured by benchmarks/run.py, not here.)"""
    path, made = big
    opened: list[_CountingReader] = []

    class CountingPath(type(Path())):
        def open(self, *args, **kwargs):
            opened.append(_CountingReader(super().open(*args, **kwargs)))
            return opened[-1]

    monkeypatch.setattr(x12_tokens, "Path", CountingPath)
    monkeypatch.setattr(x12_tokens, "CHUNK_CHARS", 1 << 14)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        size = len(handle.read())
    transactions = iter_835(path)
    first = next(transactions)
    (reader,) = opened
    assert 0 < reader.chars < size // 4, "the first check waited for much of the file"
    assert 0 < len(first.claims) < made.claims
    rest = list(transactions)
    assert reader.chars == size
    assert 1 + len(rest) == made.transactions
    assert sum(len(t.claims) for t in [first, *rest]) == made.claims
    # each check carries its own claims only: none is handed over twice
    ids = [c.patient_control_number for t in [first, *rest] for c in t.claims]
    assert ids == made.claim_ids


@pytest.mark.parametrize(
    ("options", "terminator"),
    [
        ({"terminator": "~"}, "~"),
        ({"terminator": "\n"}, "\n"),
        ({"terminator": "~\r\n", "component": ">", "repetition": "{"}, "~"),
        ({"envelope": False}, "~"),
        ({"envelope": False, "terminator": "\n", "component": ">"}, "\n"),
    ],
)
def test_layouts_read_the_same(tmp_path: Path, options: dict, terminator: str) -> None:
    plain_path = tmp_path / "plain.835"
    generate_835(plain_path, 300, seed=5)
    path = tmp_path / "variant.835"
    generate_835(path, 300, seed=5, **options)
    plain, _ = read_claim_lines(plain_path)
    variant, _ = read_claim_lines(path)
    columns = ["claim_id", "cpt", "modifiers", "charge", "paid", "status", "denial_codes"]
    pd.testing.assert_frame_equal(plain[columns], variant[columns])
    delims = read_835(path).transactions[0].delimiters
    assert delims.terminator == terminator
    assert delims.component == options.get("component", ":")


def test_same_seed_same_file(tmp_path: Path) -> None:
    generate_835(tmp_path / "a.835", 200, seed=3)
    generate_835(tmp_path / "b.835", 200, seed=3)
    generate_835(tmp_path / "c.835", 200, seed=4)
    assert (tmp_path / "a.835").read_bytes() == (tmp_path / "b.835").read_bytes()
    assert (tmp_path / "a.835").read_bytes() != (tmp_path / "c.835").read_bytes()


def test_from_claims_answers_an_export(tmp_path: Path) -> None:
    export = claims.conform(
        pd.DataFrame(
            {
                "claim_id": ["A1", "A1", "A2", "A3", "A3", "A4"],
                "line_number": [1, 2, 1, 1, 2, 1],
                "date_of_service": ["2024-05-01"] * 2
                + ["2024-05-02"]
                + ["2024-05-03"] * 2
                + ["2024-05-06"],
                "rendering_provider": ["Lee, Anna"] * 6,
                "payer": ["Medicare Part B JE"] * 3 + ["Northstar Health Plan"] * 3,
                "cpt": ["64493", "64494", "62323", "99213", "20553", "G3002"],
                "modifiers": ["RT", "RT", "", "25", "", ""],
                "units": [1, 1, 1, 1, 1, 1],
                "charge": [900, 450, 760, 150, 230, 130],
            }
        )
    )
    made = from_claims(export, tmp_path / "answer.835", seed=2, denial_rate=0.5)
    assert made.claims == 4 and made.service_lines == 6 and made.transactions == 2
    remits, _ = read_claim_lines(tmp_path / "answer.835")
    joined, report = join_remits(export, remits)
    assert report.matched_by_line_control == 6
    assert report.unmatched_remit_lines == 0 and report.unmatched_claims == 0
    assert joined["status"].notna().all() and joined["paid"].notna().all()
    assert list(joined["charge"]) == [900, 450, 760, 150, 230, 130]
    assert set(remits["payer"]) == {"MEDICARE PART B JE", "NORTHSTAR HEALTH PLAN"}
