"""The chart-pull review's sample (:func:`auditkit.measures.sampling.draw_sample`): reproducible
from the seed and the data alone, stratified, whole strata when small, filters, frame dollars,
and the prices stored for scoring. Exports are hand-written CSV read through ``auditkit.load``."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import auditkit
from auditkit.errors import InputError
from auditkit.measures.sampling import SAMPLE_COLUMNS, draw_sample

HEADER = "Claim #,Line,DOS,Rend Prov,Primary Ins,Proc Code,Mod 1,Units,Dx1,Chg Amt,Ins Paid,Status"
#: (physician, code, number of lines): Dr. Lee facet 25, epidural 12, trigger point 3;
#: Dr. Ruiz facet 15, office visits 8.
PLAN = (
    ("Dr. Lee", "64493", 25),
    ("Dr. Lee", "62323", 12),
    ("Dr. Lee", "20552", 3),
    ("Dr. Ruiz", "64493", 15),
    ("Dr. Ruiz", "99213", 8),
)
STATUSES = ("Paid", "Paid", "Denied", "Paid", "Rejected", "Partially Paid", "Paid", "Voided")
PAYERS = ("Aetna", "Medicare", "Cigna")
PAID = ("Paid", "Partially Paid")


def rows() -> list[dict]:
    """The export's lines: claim C001..., one line each (two for every fifth claim), dates
    through January to March 2026, charges and paid amounts varying."""
    out, n = [], 0
    for provider, code, count in PLAN:
        for _ in range(count):
            n += 1
            status = STATUSES[n % len(STATUSES)]
            charge = 100.0 + 10 * (n % 7)
            paid = {"Paid": 60.0 + n % 5, "Partially Paid": 20.0}.get(status, 0.0)
            out.append(
                {
                    "claim": f"C{(n + 1) // 2 if n % 5 == 0 else n:03d}",
                    "line": 2 if n % 5 == 0 else 1,
                    "dos": (pd.Timestamp("2026-01-01") + pd.Timedelta(days=n % 90)).date(),
                    "provider": provider,
                    "payer": PAYERS[n % 3],
                    "code": code,
                    "mod": "25" if code == "99213" else "",
                    "units": 2 if code == "20552" and n % 2 == 0 else 1,
                    "dx": "M54.16",
                    "charge": charge,
                    "paid": paid,
                    "status": status,
                }
            )
    return out


def write(path: Path, lines: list[dict], *, status: bool = True) -> Path:
    header = HEADER if status else HEADER.rsplit(",", 1)[0]
    text = [header]
    for r in lines:
        cells = [
            r["claim"],
            str(r["line"]),
            r["dos"].strftime("%m/%d/%Y"),
            r["provider"],
            r["payer"],
            r["code"],
            r["mod"],
            str(r["units"]),
            r["dx"],
            f"{r['charge']:.2f}",
            f"{r['paid']:.2f}",
        ]
        if status:
            cells.append(r["status"])
        text.append(",".join(cells))
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return write(tmp_path / "export.csv", rows())


def frame(path: Path) -> pd.DataFrame:
    return auditkit.load([str(path)]).frame


def picked(sample) -> list[tuple[str, int]]:
    """The sampled lines as (claim, line), in sample order."""
    s = sample.sample
    return list(zip(s["claim_id"].tolist(), s["line"].astype(int).tolist(), strict=True))


def test_same_seed_and_data_give_the_same_sample_whatever_the_row_order(export, tmp_path):
    first = draw_sample(frame(export), per_stratum=4, seed=11)
    again = draw_sample(frame(export), per_stratum=4, seed=11)
    shuffled_rows = rows()
    random.Random(5).shuffle(shuffled_rows)
    shuffled = draw_sample(
        frame(write(tmp_path / "shuffled.csv", shuffled_rows)), per_stratum=4, seed=11
    )
    assert picked(first) == picked(again) == picked(shuffled)
    assert first.sample["sample_id"].tolist() == list(range(1, len(first.sample) + 1))
    assert first.seed == 11
    pd.testing.assert_frame_equal(first.frame, shuffled.frame)


def test_another_seed_gives_another_sample(export):
    lines = frame(export)
    a = draw_sample(lines, per_stratum=4, seed=1)
    b = draw_sample(lines, per_stratum=4, seed=2)
    assert set(picked(a)) != set(picked(b))
    # Small strata are taken whole whatever the seed.
    small = a.frame[a.frame["frame_lines"] <= 4]
    assert len(small) and (small["sample_lines"] == small["frame_lines"]).all()


def test_no_seed_draws_one_and_returns_it(export):
    lines = frame(export)
    drawn = draw_sample(lines, per_stratum=3)
    assert isinstance(drawn.seed, int) and drawn.seed >= 0
    assert picked(draw_sample(lines, per_stratum=3, seed=drawn.seed)) == picked(drawn)


def test_strata_are_physician_by_family_and_small_ones_are_taken_whole(export):
    drawn = draw_sample(frame(export), per_stratum=10, seed=3)
    voided = {n for n in range(1, 64) if STATUSES[n % len(STATUSES)] == "Voided"}
    expected: dict[tuple[str, str], int] = {}
    n = 0
    for provider, code, count in PLAN:
        family = {"64493": "facet", "62323": "epidural", "20552": "trigger point", "99213": "E/M"}[
            code
        ]
        for _ in range(count):
            n += 1
            if n not in voided:
                expected[(provider, family)] = expected.get((provider, family), 0) + 1
    got = {(r.provider, r.family): r.frame_lines for r in drawn.frame.itertuples()}
    assert got == expected
    assert drawn.excluded == {"voided": len(voided)}
    for r in drawn.frame.itertuples():
        assert r.sample_lines == min(10, r.frame_lines)
        members = drawn.sample[
            (drawn.sample["provider"] == r.provider) & (drawn.sample["family"] == r.family)
        ]
        assert len(members) == r.sample_lines
        assert members["claim_id"].is_unique or members["line"].nunique() > 1  # no line twice
    assert not drawn.sample.duplicated(["claim_id", "line"]).any()
    assert list(drawn.sample.columns[: len(SAMPLE_COLUMNS)]) == list(SAMPLE_COLUMNS)
    # In stratum order (the frame's), then by claim.
    order = list(zip(drawn.sample["provider"], drawn.sample["family"], strict=True))
    strata = list(zip(drawn.frame["provider"], drawn.frame["family"], strict=True))
    assert sorted(order, key=strata.index) == order


def test_frame_dollars_are_the_strata_charges(export):
    drawn = draw_sample(frame(export), per_stratum=5, seed=4)
    lee_facet = [
        r["charge"]
        for r in rows()
        if r["provider"] == "Dr. Lee" and r["code"] == "64493" and r["status"] != "Voided"
    ]
    row = drawn.frame[(drawn.frame["provider"] == "Dr. Lee") & (drawn.frame["family"] == "facet")]
    assert row["frame_dollars"].item() == pytest.approx(sum(lee_facet))
    assert row["frame_lines"].item() == len(lee_facet)


@pytest.mark.parametrize(
    ("only", "statuses"),
    [
        ("denied", {"denied", "rejected"}),
        ("paid", {"paid", "partially_paid"}),
        ("all", {"paid", "partially_paid", "denied", "rejected"}),
    ],
)
def test_only_denied_or_paid_and_never_voided(export, only, statuses):
    drawn = draw_sample(frame(export), per_stratum=100, seed=5, only=only)
    assert set(drawn.sample["status"]) == statuses
    wanted = {"denied": ("Denied", "Rejected"), "paid": ("Paid", "Partially Paid")}.get(
        only, ("Paid", "Partially Paid", "Denied", "Rejected")
    )
    assert drawn.frame_lines == sum(r["status"] in wanted for r in rows())
    assert drawn.filters["only"] == only


def test_date_range_is_inclusive(export):
    drawn = draw_sample(
        frame(export), per_stratum=100, seed=6, date_from="2026-01-10", date_to="2026-01-20"
    )
    dates = drawn.sample["date_of_service"]
    assert dates.min() >= pd.Timestamp("2026-01-10") and dates.max() <= pd.Timestamp("2026-01-20")
    expected = sum(
        r["status"] != "Voided"
        and pd.Timestamp("2026-01-10") <= pd.Timestamp(r["dos"]) <= pd.Timestamp("2026-01-20")
        for r in rows()
    )
    assert drawn.frame_lines == expected == len(drawn.sample)
    assert drawn.filters == {"only": "all", "date_from": "2026-01-10", "date_to": "2026-01-20"}


def test_other_strata(export):
    lines = frame(export)
    by_payer = draw_sample(lines, by=("payer",), per_stratum=5, seed=7)
    assert list(by_payer.frame.columns[:1]) == ["payer"]
    assert set(by_payer.frame["payer"]) == set(PAYERS)
    one = draw_sample(lines, by=(), per_stratum=7, seed=7)
    assert len(one.frame) == 1 and len(one.sample) == 7
    with pytest.raises(InputError, match="cannot stratify by doctor"):
        draw_sample(lines, by=("doctor",))


def test_a_stratum_keeps_its_sample_when_other_strata_go(export, tmp_path):
    """Each stratum is drawn from its own seed: dropping Dr. Ruiz changes nothing of Dr. Lee's."""
    everything = draw_sample(frame(export), per_stratum=4, seed=8)
    lee_only = [r for r in rows() if r["provider"] == "Dr. Lee"]
    alone = draw_sample(frame(write(tmp_path / "lee.csv", lee_only)), per_stratum=4, seed=8)
    lee = everything.sample[everything.sample["provider"] == "Dr. Lee"]
    assert list(zip(lee["claim_id"], lee["line"], strict=True)) == picked(alone)


def test_filters_the_data_cannot_answer_are_refused(export, tmp_path):
    no_status = frame(write(tmp_path / "nostatus.csv", rows(), status=False))
    with pytest.raises(InputError, match="--only denied needs the claim status"):
        draw_sample(no_status, only="denied")
    assert len(draw_sample(no_status, per_stratum=2, seed=1).sample)  # --only all works
    with pytest.raises(InputError, match="no claim line is left to sample"):
        draw_sample(frame(export), date_from="2027-01-01")
    with pytest.raises(InputError, match="is after"):
        draw_sample(frame(export), date_from="2026-03-01", date_to="2026-02-01")


def test_prices_per_unit_from_the_practice_or_the_fee_schedule(export):
    lines = frame(export)
    drawn = draw_sample(lines, per_stratum=3, seed=9)
    prices = drawn.prices.set_index(["code", "payer"])
    # The practice's mean paid per unit on paid lines (paid and partially paid) of the code at
    # the payer; at a payer that never paid the code, the mean of the other payers' means.
    per_payer: dict[str, list[float]] = {}
    for r in rows():
        if r["code"] == "20552" and r["status"] in PAID:
            per_payer.setdefault(r["payer"], []).append(r["paid"] / r["units"])
    assert "Aetna" not in per_payer and any(r["units"] == 2 for r in rows())
    for payer, values in per_payer.items():
        assert prices.loc[("20552", payer), "unit_price"] == pytest.approx(np.mean(values))
    any_payer = np.mean([np.mean(v) for v in per_payer.values()])
    assert prices.loc[("20552", "Aetna"), "unit_price"] == pytest.approx(any_payer)
    aetna_facet = [
        r["paid"]
        for r in rows()
        if r["code"] == "64493" and r["payer"] == "Aetna" and r["status"] in PAID
    ]
    assert prices.loc[("64493", "Aetna"), "unit_price"] == pytest.approx(np.mean(aetna_facet))
    assert prices.loc[("64493", "Aetna"), "source"] == "practice mean paid"
    # The configuration's fee schedule wins; a payer's own fee over the general one; a code
    # billed nowhere but in the schedule is priced too.
    config = {"fee_schedule": {"64493": 120.0, "64494": 55.0, "Aetna": {"64493": 110.0}}}
    scheduled = draw_sample(lines, per_stratum=3, seed=9, config=config)
    prices = scheduled.prices.set_index(["code", "payer"])
    assert prices.loc[("64493", "Aetna"), "unit_price"] == 110.0
    assert prices.loc[("64493", "Medicare"), "unit_price"] == 120.0
    assert prices.loc[("64494", "Cigna"), "unit_price"] == 55.0
    assert prices.loc[("64493", "Medicare"), "source"] == "fee schedule"
    assert set(scheduled.prices["payer"]) == set(scheduled.sample["payer"])
