"""The 835 parser's handler table: one handler per segment id, and events in file order."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditkit.errors import InputError
from auditkit.ingest.x12_elements import Notes
from auditkit.ingest.x12_parse import VALID_SEGMENTS, _Parser, iter_events


def _write(tmp_path: Path, segments: list[str]) -> Path:
    """A headerless 835 (ST..SE) with the SE count filled in."""
    body = ["ST*835*0001", *segments]
    path = tmp_path / "remit.835"
    path.write_text("~\n".join([*body, f"SE*{len(body) + 1}*0001"]) + "~\n")
    return path


HEADER = ["BPR*I*150*C*CHK************20240105", "TRN*1*CHK1*1512345678"]


def test_every_835_segment_has_a_handler(tmp_path):
    parser = _Parser(tmp_path / "x.835", Notes())
    assert set(parser.handlers) == set(VALID_SEGMENTS)


def test_claims_come_before_the_segment_that_closes_them(tmp_path):
    # a payer N1 after the claims: the claim is handed over before the N1 is read, so the
    # transaction has no payer yet (as a single-pass reading of the file has it)
    path = _write(
        tmp_path,
        [
            *HEADER,
            "LX*1",
            "CLP*C1*1*100*80*0*12*P1",
            "SVC*HC:99213*100*80**1",
            "DTM*472*20240102",
            "N1*PR*ACME HEALTH",
            "PLB*123*20241231*WO:1*-5",
        ],
    )
    seen = []
    for kind, txn, claim in iter_events(path):
        seen.append((kind, txn.payer, len(txn.provider_adjustments)))
        if claim is not None:
            assert claim.lines[0].code == "99213"
    assert [kind for kind, _, _ in seen] == ["claim", "transaction"]
    assert seen[0][1:] == (None, 0)
    assert seen[1][1].name == "ACME HEALTH" and seen[1][2] == 1


def test_transaction_count_is_checked_from_the_positions(tmp_path):
    path = _write(tmp_path, [*HEADER, "LX*1", "CLP*C1*1*100*80*0*12*P1"])
    kinds = [kind for kind, _, _ in iter_events(path)]
    assert kinds == ["claim", "transaction"]
    text = path.read_text().replace("SE*6*0001", "SE*7*0001")
    path.write_text(text)
    with pytest.raises(InputError, match="segment count says 7 but the transaction has 6"):
        list(iter_events(path, strict_x12=True))
    notes = Notes()
    assert [kind for kind, _, _ in iter_events(path, notes)] == ["claim", "transaction"]
    assert notes.messages() == [
        "segment 6 (SE): segment count says 7 but the transaction has 6 (ST at segment 1 to "
        "SE); the data was read anyway (--strict-x12 refuses such a file)"
    ]


@pytest.mark.parametrize(
    ("segment", "words"),
    [
        ("SVC*HC:99213*100*80**1", "a service line (SVC) before any claim (CLP)"),
        ("CAS*CO*45*20", "an adjustment (CAS) before any claim (CLP)"),
        ("ZZQ*1", "'ZZQ' is not a segment of an 835 (5010)"),
    ],
)
def test_handler_errors_name_the_segment(tmp_path, segment, words):
    path = _write(tmp_path, [*HEADER, segment])
    with pytest.raises(InputError, match="segment 4") as caught:
        list(iter_events(path))
    assert words in str(caught.value)
