"""Findings as columns: templates, evidence columns, the set the writers read (issue 16).

Hand-built findings frames (no audit, no generator), checked against what the classic
one-row-per-finding frame would hold.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from auditkit.engine.contract import Audit
from auditkit.engine.findings import Evidence, Message, findings_frame
from auditkit.engine.findingset import (
    CORE_COLUMNS,
    FindingSet,
    field_text,
    parse_template,
    render,
)
from auditkit.engine.result import AuditResult


class Units(Audit):
    """Units over the limit.

    Why it matters: units over the limit are denied.

    How to fix: bill the units documented.
    """

    id = "units-demo"
    title = "Units demo"
    columns = ("cpt",)


class Other(Audit):
    """Another audit.

    Why it matters: because.

    How to fix: fix it.
    """

    id = "other-demo"
    title = "Other demo"
    columns = ("cpt",)


def _units(n: int = 3) -> pd.DataFrame:
    units = np.arange(2.0, 2.0 + n)
    return findings_frame(
        Units,
        severity="high",
        scope="line",
        claim_id=[f"C{i}" for i in range(n)],
        cpt="20553",
        line=list(range(1, n + 1)),
        dollars_at_risk=units * 10,
        dollars_basis="charge",
        message=Message(
            "{cpt} on claim {claim_id}: {units:g} units, limit {limit}; ${dollars:,.2f} at risk",
            dollars=units * 10,
        ),
        evidence=Evidence({"units": units, "limit": 1, "per": "day", "note": None}),
    )


def test_a_template_renders_fields_specs_and_core_columns() -> None:
    found = FindingSet.build([_units()])
    assert list(found.messages(found.core)) == [
        "20553 on claim C0: 2 units, limit 1; $20.00 at risk",
        "20553 on claim C1: 3 units, limit 1; $30.00 at risk",
        "20553 on claim C2: 4 units, limit 1; $40.00 at risk",
    ]


def test_missing_values_render_as_empty_text_and_specs_follow_format() -> None:
    templates = pd.Series(["a{x}b", "[{y:>4}]"] * 2, dtype="category")
    columns = {
        "x": pd.Series([None, None, "X", None], dtype=object),
        "y": pd.Series([None, 7, None, None], dtype="Int64"),
    }
    assert list(render(templates, columns.__getitem__)) == ["ab", "[   7]", "aXb", "[]"]
    assert list(field_text(pd.Series([1234.5, None]), ",.2f")) == ["1,234.50", ""]
    assert parse_template("{a}-{b:g}") == (("", "a", ""), ("-", "b", "g"))
    with pytest.raises(ValueError, match="conversions"):
        parse_template("{a!r}")


def test_fixed_text_with_braces_is_not_a_template() -> None:
    frame = findings_frame(
        Units, severity="low", scope="practice", message="Use {braces} as they are."
    )
    found = FindingSet.build([frame])
    assert list(found.messages(found.core)) == ["Use {braces} as they are."]


def test_evidence_keeps_each_findings_own_keys_and_types() -> None:
    # A list of dicts whose keys differ from finding to finding (the classic way): the JSON must
    # say exactly what each finding's dict said, not a union with nulls.
    frame = findings_frame(
        Units,
        severity="medium",
        scope="line",
        message=["one", "two"],
        evidence=[{"units": 3, "per": "day"}, {"share": 0.25, "claims": ["C1", "C2"]}],
    )
    found = FindingSet.build([frame])
    assert [json.loads(t) for t in found.evidence_json(found.core)] == [
        {"units": 3, "per": "day"},
        {"share": 0.25, "claims": ["C1", "C2"]},
    ]
    columnar = FindingSet.build([_units()])
    assert json.loads(columnar.evidence_json(columnar.core)[0]) == {
        "units": 2.0,
        "limit": 1,
        "per": "day",
        "note": None,
    }


def test_the_core_holds_no_python_object_per_finding() -> None:
    found = FindingSet.build([_units(50), _units(30)])
    assert len(found) == 80
    for name in CORE_COLUMNS:
        assert found.core[name].dtype != object, name
    for values in found.values:
        for name in values.columns:
            if name != "ev.note":  # an all-None evidence value: one shared None
                assert values[name].dtype != object, name
    # categories of several audit frames are joined, not turned into Python objects
    assert isinstance(found.core["audit"].dtype, pd.CategoricalDtype)


def test_classic_frame_round_trip() -> None:
    classic = pd.DataFrame(
        {
            "audit": ["units-demo", "other-demo"],
            "severity": ["high", "low"],
            "scope": ["line", "payer"],
            "provider": [None, None],
            "payer": [None, "Acme"],
            "cpt": ["20553", None],
            "claim_id": ["C1", None],
            "line": [2, None],
            "dollars_at_risk": [12.5, 0.0],
            "dollars_basis": ["charge", "none"],
            "covers": ["C1:2", ""],
            "counted": [True, False],
            "message": ["Line {odd} text", "Payer text"],
            "why": ["w1", "w2"],
            "fix": ["f1", "f2"],
            "evidence": [{"units": 3}, {"rate": 0.5, "source_file": "x.csv"}],
            "source_file": ["x.csv", None],
            "source_row": [7, None],
        }
    )
    result = AuditResult(findings=classic)
    back = result.found.frame()
    assert list(back.columns) == list(classic.columns)
    assert back["message"].tolist() == classic["message"].tolist()
    assert back["evidence"].tolist() == classic["evidence"].tolist()
    assert back["line"].tolist() == [2, None]
    assert back["source_row"].tolist() == [7, None]
    # an older result kept the second finding's source file in its evidence only
    assert back["source_file"].tolist() == ["x.csv", "x.csv"]
    assert back["dollars_at_risk"].tolist() == [12.5, 0.0]


def test_reorder_moves_findings_not_their_values() -> None:
    flipped = FindingSet.build(
        [_units(3), findings_frame(Other, severity="info", scope="practice", message="x")]
    )
    flipped.reorder(np.array([3, 2, 1, 0]))
    assert flipped.messages(flipped.core).tolist()[0] == "x"
    assert flipped.messages(flipped.core).tolist()[1].startswith("20553 on claim C2")


def test_reorder_in_place_matches_a_whole_take_and_forgets_rendered_messages() -> None:
    parts = [_units(4), findings_frame(Other, severity="info", scope="practice", message="x")]
    found = FindingSet.build([p.copy() for p in parts])
    order = np.array([4, 2, 0, 3])
    expected = FindingSet(found.core.take(order).reset_index(drop=True), found.values)
    assert found.messages(found.core).tolist()[0].startswith("20553 on claim C0")  # rendered once
    found.reorder(order)
    pd.testing.assert_frame_equal(found.core, expected.core)
    assert list(found.core.dtypes) == list(expected.core.dtypes)
    # The messages follow the new order (the ones rendered in the old order are not reused).
    assert found.messages(found.core).tolist() == expected.messages(expected.core).tolist()
    assert found.messages(found.core).tolist()[0] == "x"


def test_each_finding_reads_its_own_audits_values() -> None:
    # "units" is a message-only value of one audit and evidence of another: each message reads
    # its own audit's, and whole numbers stay whole when the frames are joined.
    first = findings_frame(
        Units,
        severity="high",
        scope="line",
        message=Message("A {units}", units=np.array([7, 8])),
        evidence=Evidence({"units": np.array([1.5, 2.5])}),
    )
    second = findings_frame(
        Other,
        severity="low",
        scope="line",
        message=Message("B {units} {sides}"),
        evidence=Evidence({"units": np.array([3]), "sides": np.array([2])}),
    )
    found = FindingSet.build([first, second])
    assert found.messages(found.core).tolist() == ["A 7", "A 8", "B 3 2"]
    assert json.loads(found.evidence_json(found.core)[2]) == {"units": 3, "sides": 2}
    lost = FindingSet.build(
        [findings_frame(Other, severity="low", scope="line", message=Message("{nothing_here}"))]
    )
    with pytest.raises(KeyError, match="nothing_here"):
        lost.messages(lost.core)


def test_a_small_set_renders_its_messages_once_and_any_rows_of_it_read_them() -> None:
    found = FindingSet.build(
        [_units(5), findings_frame(Other, severity="info", scope="practice", message="x")]
    )
    each = [render(found.core["template"].iloc[[i]], found.lookup(found.core.iloc[[i]]))[0]
            for i in range(len(found))]  # fmt: skip
    assert found._rendered is None
    assert found.messages(found.core.iloc[2:5]).tolist() == each[2:5]
    assert found._rendered is not None and found._rendered.tolist() == each
    # Rows in any order (the report's ordered frame) read the kept messages...
    picked = found.core.iloc[[5, 0, 3]]
    assert found.messages(picked).tolist() == [each[5], each[0], each[3]]
    # ... and rows that are not rows of the set (relabelled) are rendered on their own.
    stranger = found.core.iloc[[4, 1]].reset_index(drop=True)
    assert found.messages(stranger).tolist() == [each[4], each[1]]


def test_a_large_set_keeps_no_message_text(monkeypatch: pytest.MonkeyPatch) -> None:
    import auditkit.engine.findingset as fs

    monkeypatch.setattr(fs, "RENDER_ONCE_ROWS", 2)
    found = FindingSet.build([_units(4)])
    assert found.messages(found.core.iloc[1:3]).tolist()[0].startswith("20553 on claim C1")
    assert found._rendered is None


def test_stack_joins_categoricals_of_one_dtype_by_their_codes() -> None:
    from auditkit.engine.findingset import stack, stack_frames

    dtype = pd.CategoricalDtype(pd.Index(["C1", "C2", "C3"], dtype="string"))
    a = pd.Series(pd.Categorical(["C3", "C1"], dtype=dtype), index=[5, 9], name="claim")
    # The same categories in another Index object still join by codes, keeping the index.
    b = pd.Series(
        pd.Categorical(["C2", None], dtype=pd.CategoricalDtype(dtype.categories.copy())),
        index=[1, 2],
        name="claim",
    )
    joined = stack([a, b])
    pd.testing.assert_series_equal(joined, pd.concat([a, b]))
    assert isinstance(joined.dtype, pd.CategoricalDtype)
    # Other categories (or another order of them) fall back to pandas' own join.
    other = pd.Series(pd.Categorical(["C3"], categories=["C3", "C1"]), index=[0], name="claim")
    mixed = stack([a, other])
    assert mixed.astype(object).tolist() == ["C3", "C1", "C3"]
    frames = [pd.DataFrame({"claim": a, "n": [1, 2]}), pd.DataFrame({"claim": b, "n": [3, 4]})]
    pd.testing.assert_frame_equal(stack_frames(frames), pd.concat(frames, ignore_index=True))


def test_stack_frames_with_other_columns_is_pandas_concat() -> None:
    from auditkit.engine.findingset import stack_frames

    dtype = pd.CategoricalDtype(pd.Index(["C1", "C2", "C3"], dtype="string"))
    a = pd.DataFrame(
        {
            "claim": pd.Categorical(["C3", "C1"], dtype=dtype),
            "n": [1, 2],
            "only_a": ["x", "y"],
            "kind": pd.Categorical(["p", "q"]),
        }
    )
    b = pd.DataFrame(
        {
            "units": [7.5],
            "kind": pd.Categorical(["q"], categories=["q"]),  # other categories: pandas' join
            "claim": pd.Categorical(["C2"], dtype=dtype),
            "n": [3],
        }
    )
    joined = stack_frames([a, b])
    pd.testing.assert_frame_equal(joined, pd.concat([a, b], ignore_index=True))
    assert joined["claim"].dtype is dtype  # joined by its codes, the dtype kept


def test_distinct_categories_is_the_checked_dtype(monkeypatch: pytest.MonkeyPatch) -> None:
    from auditkit.engine.findingset import distinct_categories

    labels = pd.Index(["C9", "C1", "(no claim id)"], dtype="string")
    checked = pd.CategoricalDtype(labels)
    fast = distinct_categories(labels)
    assert fast == checked and not fast.ordered
    codes = np.array([2, 0, -1, 1])
    pd.testing.assert_extension_array_equal(
        pd.Categorical.from_codes(codes, dtype=fast),
        pd.Categorical.from_codes(codes, dtype=checked),
    )
    # A pandas without the unchecked constructor gets the checked one.
    monkeypatch.delattr(pd.CategoricalDtype, "_from_fastpath", raising=False)
    assert distinct_categories(labels) == checked
