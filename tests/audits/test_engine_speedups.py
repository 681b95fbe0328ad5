"""The shared, computed-once building blocks behind the audits' speed give the same answers as
the plain pandas they replace, and the engine reports its timings and leaves the process as it
found it.

Each fast path is checked against the straightforward computation it stands for, on data with
the awkward cases (missing values, blanks, stray spaces, mixed case, repeated keys)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from auditkit.audits.paid_vs_denied import PY_WHITESPACE, filled
from auditkit.config import Config
from auditkit.engine.context import Context, dense_unique
from auditkit.engine.runner import run_audits
from auditkit.engine.settings import load_settings
from auditkit.measures.coding import excess_units, group_sum, join_groups, member
from auditkit.measures.kpis import clean_claims, rate_table_of_counts
from auditkit.synth import generate

RNG = np.random.default_rng(11)


def rate_table(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The plain pandas version of ``rate_table_of_counts`` over a clean-claims frame: the
    fast version must give the same table."""
    counted = frame[frame["counted"]]
    out = counted.groupby(by, sort=True, observed=True).agg(
        claims=("clean", "size"), clean=("clean", "sum")
    )
    out["clean"] = out["clean"].astype("int64")
    out["rate"] = out["clean"] / out["claims"]
    return out.reset_index()


@pytest.fixture(scope="module")
def messy() -> pd.DataFrame:
    """Generated lines with blanks, missing values, stray spaces and mixed case mixed in."""
    frame = generate(3000, 4, plant=False).reset_index(drop=True)
    n = len(frame)
    for column in ("payer", "rendering_provider", "status", "cpt", "claim_id", "patient_id"):
        frame.loc[RNG.random(n) < 0.03, column] = pd.NA
        frame.loc[RNG.random(n) < 0.02, column] = ""
    frame.loc[RNG.random(n) < 0.05, "payer"] = "  Medicare "
    frame.loc[RNG.random(n) < 0.05, "status"] = " Denied"
    frame.loc[RNG.random(n) < 0.03, "cpt"] = "g3002"
    frame.loc[RNG.random(n) < 0.02, "line_number"] = pd.NA
    frame.loc[RNG.random(n) < 0.02, "submitted_date"] = pd.NaT
    return frame


def _text(values: pd.Series) -> pd.Series:
    """The context's payer/provider rule written out line by line."""
    tidy = values.astype("string").str.strip()
    return tidy.mask(tidy.eq(""), pd.NA).fillna("(blank)")


def test_derived_columns_and_their_codes_match_plain_pandas(messy: pd.DataFrame) -> None:
    ctx = Context(messy, Config())
    expected = {
        "payer": _text(messy["payer"]),
        "provider": _text(messy["rendering_provider"]),
        "status": messy["status"].astype("string").str.strip().str.lower(),
    }
    for name, want in expected.items():
        got = getattr(ctx, name)
        assert (
            got.astype(object).fillna("<NA>").tolist()
            == want.astype(object).fillna("<NA>").tolist()
        )
        codes, uniques = ctx.codes(f"ctx.{name}")
        want_codes, want_uniques = pd.factorize(want, use_na_sentinel=True)
        assert codes.tolist() == want_codes.tolist(), name
        assert list(uniques) == list(want_uniques), name
    # a subset straight from the codes equals the subset of the whole column
    rows = RNG.random(len(messy)) < 0.3
    assert ctx.text("ctx.payer", rows).tolist() == ctx.payer[rows].tolist()
    assert ctx.text("ctx.payer", rows).index.tolist() == ctx.payer[rows].index.tolist()


def test_status_masks_match_isin(messy: pd.DataFrame) -> None:
    ctx = Context(messy, Config())
    for wanted in (("denied",), ("paid", "partially_paid"), ("voided", "rejected")):
        plain = ctx.status.isin(wanted).fillna(False).to_numpy(dtype=bool)
        assert ctx.status_is(*wanted).tolist() == plain.tolist()
    mask = ctx.status_is("denied")
    mask[:] = False  # callers may combine masks in place: the cached one is not touched
    assert ctx.status_is("denied").any()


def test_group_agg_matches_grouping_the_text(messy: pd.DataFrame) -> None:
    ctx = Context(messy, Config())
    rows = ctx.status_is("paid", "partially_paid")
    values = {"paid": messy["paid"].fillna(0.0).to_numpy()}
    agg = {"lines": ("paid", "size"), "total": ("paid", "sum"), "mid": ("paid", "median")}
    got = ctx.group_agg({"cpt": "cpt", "payer": "ctx.payer"}, rows, values, agg)
    plain = pd.DataFrame(
        {"cpt": messy["cpt"].astype("string"), "payer": ctx.payer, "paid": values["paid"]}
    )[rows]
    want = plain.groupby(["cpt", "payer"], sort=True, observed=True).agg(**agg)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_fees_priced_per_distinct_pair_match_line_by_line(messy: pd.DataFrame) -> None:
    config = load_settings(
        {"fee_schedule": {"20552": 60.0, "99213": 80.0, "Medicare": {"20552": 55.5}}}
    )
    ctx = Context(messy, config)
    fast_fee, fast_source = ctx.fees(messy["cpt"], ctx.payer)
    slow_fee, slow_source = ctx._priced(
        messy["cpt"].astype("string").reset_index(drop=True), ctx.payer.reset_index(drop=True)
    )
    pd.testing.assert_series_equal(fast_fee, slow_fee, check_names=False)
    assert fast_source.tolist() == slow_source.tolist()
    assert np.array_equal(ctx.line_fees(), slow_fee.to_numpy(), equal_nan=True)


def test_excess_units_matches_running_totals() -> None:
    """Only groups that can pass their allowance get running totals; the answer is the same as
    adding up every group in row order, negative and fractional units included."""
    for _ in range(300):
        n = int(RNG.integers(1, 40))
        keys = RNG.integers(0, 6, n)
        units = RNG.choice([-2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 0.1], n)
        allowed = RNG.choice([0.0, 1.0, 2.0, 2.5], n) if RNG.random() < 0.5 else 1.0
        running = pd.Series(units).groupby(keys).cumsum().to_numpy()
        excess = np.clip(np.minimum(units, running - allowed), 0.0, None)
        got_excess, got_share, total = excess_units(keys, units, allowed)
        assert np.array_equal(got_excess > 0, excess > 0)
        assert np.array_equal(got_excess[excess > 0], excess[excess > 0])
        assert np.array_equal(total, group_sum(keys, units))
        assert np.array_equal(
            got_share[excess > 0], (excess / np.where(units > 0, units, 1))[excess > 0]
        )


def test_small_integer_helpers_match_numpy() -> None:
    for _ in range(200):
        keys = RNG.integers(-3, 40, int(RNG.integers(0, 30)))
        wanted = RNG.integers(-3, 40, int(RNG.integers(0, 8)))
        assert member(keys, wanted).tolist() == np.isin(keys, wanted).tolist()
        positive = np.abs(keys)
        got = dense_unique(positive)
        want = np.unique(positive, return_inverse=True)
        assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()
    sparse = np.array([5, 10**12, 5, 7])
    assert member(sparse, np.array([10**12])).tolist() == [False, True, False, False]


def test_join_groups_matches_groupby_join() -> None:
    for most in (1, 2, 16):
        frame = pd.DataFrame(
            {
                "key": RNG.integers(0, 8, 60),
                "text": RNG.choice(["20552 on claim A", "B", "", "C, D"], 60).astype(object),
            }
        ).drop_duplicates()
        want = frame.groupby("key", sort=False)["text"].agg(", ".join)
        got = join_groups(frame, most=most)
        assert (
            got.reindex(range(8)).fillna("").tolist() == want.reindex(range(8)).fillna("").tolist()
        )


def test_filled_is_pythons_strip() -> None:
    assert set(PY_WHITESPACE) == {c for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    texts = ["", " ", "\t\n", "\x1c", "\u3000", "a", " a ", "\u200b", None, "x\x85"]
    got = filled(pd.Series(texts, dtype="string")).tolist()
    assert got == [isinstance(t, str) and bool(t.strip()) for t in texts]
    assert filled(pd.Series([3, None], dtype="Int64")).tolist() == [True, False]


def test_clean_claim_tables_from_codes_match_grouping(messy: pd.DataFrame) -> None:
    clean = clean_claims(Context(messy, Config()))
    assert clean is not None
    for level, by in (("claims", ["provider"]), ("units", ["provider", "family"])):
        frame = clean.claims if level == "claims" else clean.units
        pd.testing.assert_frame_equal(
            rate_table_of_counts(clean.counted_by(level, by), by), rate_table(frame, by)
        )


def test_run_reports_timings_and_restores_the_allocator(messy: pd.DataFrame) -> None:
    pool = pa.default_memory_pool().backend_name
    first = run_audits(messy)
    assert pa.default_memory_pool().backend_name == pool
    assert all(r.seconds >= 0 for r in first.audits)
    assert {"prepare", "audits", "findings", "tables", "summary", "total"} <= set(first.timings)
    assert first.timings["total"] >= first.timings["audits"] >= max(r.seconds for r in first.audits)
    # a second run over the same lines gives the same findings (nothing leaks between runs)
    again = run_audits(messy)
    pd.testing.assert_frame_equal(
        first.findings.drop(columns="evidence"), again.findings.drop(columns="evidence")
    )
    assert first.findings["evidence"].tolist() == again.findings["evidence"].tolist()


def test_shared_measures_are_the_ones_worked_out_on_demand(messy: pd.DataFrame) -> None:
    shared = Context(messy, Config())
    shared.share()
    mark = shared.mark()
    assert {f"codes.{c}" for c in Context.SHARED_CODES} | {"line_fees"} <= mark
    lazy = Context(messy, Config())
    for column in Context.SHARED_CODES:
        got, want = shared.codes(column), lazy.codes(column)
        np.testing.assert_array_equal(got[0], want[0])
        assert list(got[1]) == list(want[1])
    np.testing.assert_array_equal(shared.line_fees(), lazy.line_fees())


def test_share_works_without_the_optional_columns(messy: pd.DataFrame) -> None:
    ctx = Context(messy.drop(columns=["claim_id", "cpt"]), Config())
    ctx.share()  # the derived columns stand in as constants; no claim or code codes, no fees
    assert "codes.ctx.payer" in ctx.mark()
    assert not {"codes.claim_id", "codes.cpt", "line_fees"} & ctx.mark()


def test_forget_since_drops_only_what_came_after_the_mark(messy: pd.DataFrame) -> None:
    ctx = Context(messy, Config())
    ctx.codes("claim_id")
    before = ctx.tpi_lines  # a cached property
    mark = ctx.mark()
    ctx.codes("payer")
    ctx.status_is("denied")
    assert ctx.reference is not None
    ctx.forget_since(mark)
    assert ctx.mark() == mark
    assert ctx.tpi_lines is before  # kept, not worked out again
