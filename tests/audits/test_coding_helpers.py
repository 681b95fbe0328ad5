"""The shared building blocks of the coding audits (auditkit.measures.coding) and their speed."""

from __future__ import annotations

import numpy as np
import pandas as pd
from audit_helpers import make_lines
from sample_truth import CODING_AUDITS

from auditkit.config import Config
from auditkit.engine.context import Context
from auditkit.engine.runner import run_audits
from auditkit.measures.coding import (
    coding_view,
    combine,
    group_any,
    group_sum,
    own_groups,
    parse_codes,
    units_text,
)
from auditkit.synth import generate


def view_of(rows: list[dict]):
    lines = make_lines(rows)
    return coding_view(lines, Context(lines, Config()))


def test_group_helpers() -> None:
    keys = np.array([0, 1, 0, 2, 1])
    assert group_sum(keys, np.array([1.0, 2, 3, 4, 5])).tolist() == [4, 7, 4, 4, 7]
    assert group_any(keys, np.array([False, False, True, False, False])).tolist() == [
        True,
        False,
        True,
        False,
        False,
    ]
    assert own_groups(np.array([0, -1, 0, -1])).tolist() == [0, 1, 0, 2]
    pairs = combine(np.array([0, 0, 1, 1, 0]), np.array([5, 6, 5, 5, 5]))
    assert pairs[0] == pairs[4] and pairs[2] == pairs[3] and len(set(pairs)) == 3
    assert parse_codes(" rt, LT;50 ,") == ("RT", "LT", "50")
    assert units_text(np.array([2.0, 1.5, np.nan])).tolist() == ["2", "1.5", "no"]


def test_view_normalises_codes_modifiers_and_keys() -> None:
    view = view_of(
        [
            {"claim_id": "A", "patient_id": "P1", "cpt": " 64483 ", "modifiers": ["rt", "59"]},
            {"claim_id": "B", "patient_id": "P1", "cpt": "99213", "modifiers": ""},
            {"claim_id": "C", "patient_id": "", "cpt": "g3002", "status": "voided"},
            {
                "claim_id": "C",
                "cpt": "20552",
                "date_of_service": "2024-03-05",
                "status": "rejected",
            },
        ]
    )
    assert view.code_in(["64483", "G3002"]).tolist() == [True, False, True, False]
    assert view.has("RT").tolist() == [True, False, False, False]
    assert view.count("59", "XS").tolist() == [1, 0, 0, 0]
    assert view.is_em.tolist() == [False, True, False, False]
    assert view.is_procedure.tolist() == [True, False, False, True]
    assert view.billed.tolist() == [True, True, False, True]
    assert view.counted.tolist() == [True, True, False, False]
    # P1's two claims are one patient; lines without a patient id stand for their claim.
    assert view.patient[0] == view.patient[1] and view.patient[2] == view.patient[3]
    assert view.patient[2] != view.patient[0]
    assert view.session[0] == view.session[1] and view.session[2] != view.session[3]
    assert view.where(np.array([0, 3])).tolist() == [
        "64483 on claim A (2024-03-04)",
        "20552 on claim C (2024-03-05)",
    ]


def test_dollars_are_paid_else_expected_payment_else_charge() -> None:
    view = view_of(
        [
            {"cpt": "20552", "charge": 200.0, "paid": 60.0},
            {"cpt": "20552", "charge": 200.0, "paid": 0.0},  # the practice's mean paid: 60
            {"cpt": "20552", "charge": 40.0},  # never more than the line's charge
            {"cpt": "64493", "charge": 900.0},  # never paid here: the charge
            {"cpt": "64494"},  # nothing known
        ]
    )
    assert view.dollars.tolist() == [60.0, 60.0, 40.0, 900.0, 0.0]
    assert view.basis_at(np.arange(view.n)).tolist() == [
        "paid amount",
        "expected payment",
        "expected payment",
        "charge",
        "none",
    ]


def test_all_coding_audits_run_on_a_generated_practice() -> None:
    # Their speed is measured by benchmarks/run.py, not asserted here.
    frame = generate(20_000, 5, plant=False)
    result = run_audits(frame, select=list(CODING_AUDITS))
    assert [r.status for r in result.audits] == ["ran"] * len(CODING_AUDITS)
    # The unplanted base data is clean for every coding rule.
    assert result.findings.empty, result.findings[["audit", "message"]].head().to_string()
    assert isinstance(result.findings, pd.DataFrame)


def test_claim_labels_take_the_short_way_only_where_it_gives_the_same_labels() -> None:
    rows = [
        {"claim_id": "C2", "cpt": "20552"},
        {"claim_id": None, "cpt": "20552"},
        {"claim_id": "C1", "cpt": "20553"},
        {"claim_id": "C2", "cpt": "99213"},
    ]
    view = view_of(rows)
    codes, table, dtype = view._claim_label
    # The long way: tidy (not the plain string cast), factorize again.
    long_codes, long_table, long_dtype = view._label(
        "claim_id", lambda t: t.astype("string").str.strip(), "(no claim id)"
    )
    assert list(dtype.categories) == list(long_dtype.categories)
    assert np.array_equal(table[codes], long_table[long_codes])
    shown = pd.Categorical.from_codes(table[codes], dtype=dtype)
    assert list(shown) == ["C2", "(no claim id)", "C1", "C2"]
    # A claim id that is the missing label itself: the short way is not taken, and the
    # missing claim shares its label rather than making a second one.
    same = view_of([{"claim_id": "(no claim id)", "cpt": "20552"}, {"claim_id": None, "cpt": "1"}])
    codes, table, dtype = same._claim_label
    assert list(dtype.categories) == ["(no claim id)"]
