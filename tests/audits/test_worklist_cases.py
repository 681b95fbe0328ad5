"""The work list's hand-written case files (tests/cases/worklist/*.toml), one pytest test each.

The work list (auditkit.measures.worklist) is not an audit, so its cases have a format of their
own, in the spirit of the audit case files (tests/audits/case_runner.py). Each case is written
by hand from the policy text it cites, with the dates worked out by hand in comments, so that a
mistake shared by the code and our generator can still show::

    description = "What the case shows"
    source = "42 CFR 405.942(a): ..."     # the policy text the expectations come from
    as_of = "2024-06-03"                  # the date the list is drawn up on
    follow_up_days = 30                   # optional: work_list(follow_up_days=...)
    underpaid_tolerance = 1.0             # optional: work_list(underpaid_tolerance=...)
    rarcs = true                          # optional: pass the packaged remark codes (rarcs.csv),
                                          # as a run does; without it CO-16 keeps its own cause
    allow_other_items = false             # optional; default false: every item is expected
    drop_columns = ["payer"]              # optional; remove a column the helper would add
    blank_columns = ["submitted_date"]    # optional; add a column empty where no line sets it
    xfail_reason = "..."                  # optional: the code disagrees with the cited policy
                                          # (reported to the lead); run as a strict xfail

    [overrides."Keystone Health"]         # optional: work_list(overrides=...), as the config's
    appeal = 60                           # [deadlines."Keystone Health"]

    [defaults]                            # optional; columns every line gets unless it sets them
    payer = "Medicare"

    [[lines]]                             # the claim lines (audit_helpers.make_lines), plus
    claim_id = "M1"                       # `expected` (the contract's expected payment) and
    status = "denied"                     # `worth` (the usual payment) per line, passed to
    expected = 512.34                     # work_list(expected=..., worth=...)

    [[expect]]                            # an item that must be on the list
    claim_id = "M1"                       # matched on claim_id, and line where given: exactly
    line = 1                              # one item must match
    item = "denied"                       # then any of: item action deadline_kind cause
    action = "appeal"                     #   payer (equal), deadline (ISO date), days_left,
    deadline = "2024-08-04"               #   rank, amount, priority (to the cent),
    days_left = 62                        #   amount_basis_contains, reason_contains,
    reason_contains = ["CO-50"]           #   source_date_contains, rule_contains (text or list)

    absent = ["D1", "D2"]                 # claim ids that must not be on the list
    order = ["A2", "A1", "W1"]            # these claims' items appear in this rank order

``tests/cases/<audit-id>/*.toml`` is otherwise the audits' folder: the audit case runner must
leave ``worklist/`` to this module.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from audit_helpers import make_lines

from auditkit.measures.worklist import ACTIONS, ITEMS, WORKLIST_COLUMNS, work_list
from auditkit.reference import table
from auditkit.reference.deadlines import deadline_rules

FOLDER = Path(__file__).resolve().parent.parent / "cases" / "worklist"
CASE_FILES = sorted(FOLDER.glob("*.toml"))
#: Per-line values that are arguments of work_list, not claim-line columns.
SIDE_VALUES = ("expected", "worth")
CASE_KEYS = {
    "description",
    "source",
    "as_of",
    "follow_up_days",
    "underpaid_tolerance",
    "rarcs",
    "allow_other_items",
    "drop_columns",
    "blank_columns",
    "xfail_reason",
    "overrides",
    "defaults",
    "lines",
    "expect",
    "absent",
    "order",
}
#: Expectation fields compared for equality with the item's column of the same name.
EQUAL_FIELDS = (
    "item",
    "action",
    "deadline_kind",
    "cause",
    "payer",
    "days_left",
    "rank",
    "deadline_source_date_used",
)
#: Expectation fields compared to the cent.
MONEY_FIELDS = ("amount", "priority")
#: Expectation fields naming text (or a list of texts) the item's column must contain.
CONTAINS_FIELDS = {
    "amount_basis_contains": "amount_basis",
    "reason_contains": "reason",
    "source_date_contains": "deadline_source_date_used",
    "rule_contains": "deadline_rule",
}
EXPECT_KEYS = {"claim_id", "line", "deadline", *EQUAL_FIELDS, *MONEY_FIELDS, *CONTAINS_FIELDS}


def load_case(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _params() -> list[Any]:
    """The case files, a case with ``xfail_reason`` as a strict xfail (it must fail, so that
    the day the code agrees with the policy the mark has to go)."""
    params = []
    for path in CASE_FILES:
        reason = load_case(path).get("xfail_reason")
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        params.append(pytest.param(path, marks=marks, id=path.stem))
    return params


def _side_values(
    rows: list[dict[str, Any]], defaults: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, list[float]]]:
    """Rows and defaults without ``expected``/``worth``, and those values per built line, in
    the order make_lines builds the lines (each repeat, each per_line entry)."""
    defaults = dict(defaults)
    fallback = {name: defaults.pop(name, np.nan) for name in SIDE_VALUES}
    values: dict[str, list[float]] = {name: [] for name in SIDE_VALUES}
    clean = []
    for row in rows:
        row = dict(row)
        own = {name: row.pop(name, fallback[name]) for name in SIDE_VALUES}
        entries = [dict(e) for e in row.get("per_line") or [{}]]
        per_entry = [{n: e.pop(n, own[n]) for n in SIDE_VALUES} for e in entries]
        if row.get("per_line"):
            row["per_line"] = entries
        for _ in range(int(row.get("repeat", 1))):
            for entry in per_entry:
                for name in SIDE_VALUES:
                    values[name].append(float(entry[name]))
        clean.append(row)
    return clean, defaults, values


def build_lines(case: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, pd.Series | None]]:
    """The case's canonical claim lines, and its ``expected``/``worth`` series (None where no
    line gives one)."""
    rows, defaults, values = _side_values(case["lines"], case.get("defaults", {}))
    blank = dict.fromkeys(case.get("blank_columns", []))  # None: empty, in the column's type
    lines = make_lines(rows, {**blank, **defaults}).drop(columns=case.get("drop_columns", []))
    assert all(len(v) == len(lines) for v in values.values())
    side = {
        name: (pd.Series(v, index=lines.index) if not np.isnan(v).all() else None)
        for name, v in values.items()
    }
    return lines, side


def run_case(case: dict[str, Any]) -> pd.DataFrame:
    """The work list of the case's lines, as the case configures it."""
    lines, side = build_lines(case)
    kwargs: dict[str, Any] = {"expected": side["expected"]}
    if side["worth"] is not None:
        kwargs["worth"] = side["worth"]
    for name in ("follow_up_days", "underpaid_tolerance"):
        if name in case:
            kwargs[name] = case[name]
    if case.get("rarcs"):
        kwargs["rarcs"] = table("rarcs")
    out = work_list(lines, str(case["as_of"]), None, case.get("overrides"), **kwargs)
    assert list(out.columns) == list(WORKLIST_COLUMNS)
    return out


def describe(items: pd.DataFrame) -> str:
    """The list one item per line, for assertion messages."""
    rows = [
        f"  #{r.rank} {r.claim_id}/{r.line} {r.item} {r.action} ${r.amount:.2f} "
        f"({r.amount_basis}) {r.deadline_kind} {_iso(r.deadline)} days_left={r.days_left} "
        f"priority={r.priority} reason={r.reason!r} from={r.deadline_source_date_used!r}"
        for r in items.itertuples()
    ]
    return "\n".join(rows) or "  (empty)"


def _iso(value: Any) -> str:
    return "(none)" if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _texts(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _matching(items: pd.DataFrame, expect: dict[str, Any]) -> pd.DataFrame:
    hit = items["claim_id"] == expect["claim_id"]
    if "line" in expect:
        hit &= items["line"] == expect["line"]
    return items[hit.fillna(False).astype(bool)]


def check_expectation(items: pd.DataFrame, expect: dict[str, Any]) -> list[str]:
    """What differs between the item ``expect`` names and the list (empty when all agree)."""
    unknown = set(expect) - EXPECT_KEYS
    assert not unknown, f"unknown expect keys {sorted(unknown)}"
    where = f"{expect['claim_id']}" + (f"/{expect['line']}" if "line" in expect else "")
    found = _matching(items, expect)
    if len(found) != 1:
        return [f"{where}: {len(found)} items match, expected exactly 1"]
    got = found.iloc[0]
    wrong = []
    for key in EQUAL_FIELDS:
        value = got[key].item() if isinstance(got[key], np.generic) else got[key]
        if key in expect and (pd.isna(value) or value != expect[key]):
            wrong.append(f"{where} {key}: got {value!r}, expected {expect[key]!r}")
    if "deadline" in expect and _iso(got["deadline"]) != str(expect["deadline"]):
        wrong.append(
            f"{where} deadline: got {_iso(got['deadline'])}, expected {expect['deadline']}"
        )
    for key in MONEY_FIELDS:
        if key in expect and not (abs(float(got[key]) - float(expect[key])) < 0.005):
            wrong.append(f"{where} {key}: got {float(got[key])!r}, expected {expect[key]!r}")
    for key, column in CONTAINS_FIELDS.items():
        for text in _texts(expect.get(key, [])):
            if text not in str(got[column]):
                wrong.append(f"{where} {column}: {got[column]!r} lacks {text!r}")
    return wrong


def check_case(case: dict[str, Any], name: str) -> pd.DataFrame:
    """Run a case and assert all it expects; return the list."""
    assert set(case) <= CASE_KEYS, f"{name}: unknown case keys {sorted(set(case) - CASE_KEYS)}"
    assert case.get("description"), f"{name}: every case needs a description"
    assert len(case.get("source", "")) > 10, f"{name}: every case cites the policy text"
    assert case.get("expect") or case.get("absent"), f"{name}: expects items or absences"
    items = run_case(case)
    listing = f"\nthe list as of {case['as_of']}:\n{describe(items)}"

    wrong = [w for e in case.get("expect", []) for w in check_expectation(items, e)]
    assert not wrong, f"{name}:\n  " + "\n  ".join(wrong) + listing

    absent = [c for c in case.get("absent", []) if (items["claim_id"] == c).any()]
    assert not absent, f"{name}: on the list but must not be: {absent}" + listing

    if not case.get("allow_other_items", False):
        expected = [_matching(items, e).index for e in case.get("expect", [])]
        named = set().union(*map(set, expected)) if expected else set()
        extra = items.drop(index=list(named))
        assert extra.empty, f"{name}: items no case expects:\n{describe(extra)}" + listing

    if "order" in case:
        wanted = list(case["order"])
        got = [c for c in items["claim_id"] if c in set(wanted)]
        assert got == wanted, f"{name}: rank order {got}, expected {wanted}" + listing
    return items


@pytest.mark.parametrize("case_file", _params())
def test_worklist_case(case_file: Path) -> None:
    check_case(load_case(case_file), f"worklist/{case_file.name}")


def test_the_cases_cover_every_item_action_and_deadline_kind() -> None:
    """At least one passing case (no xfail) per kind of item, per action and per deadline kind
    of the deadline table, and the controls: absences, a payer override, a rank order. A
    deleted case fails here."""
    cases = {p.stem: load_case(p) for p in CASE_FILES}
    passing = [c for c in cases.values() if "xfail_reason" not in c]
    expects = [e for c in passing for e in c.get("expect", [])]
    kinds = sorted(set(deadline_rules()["kind"]))
    for field, wanted in (("item", ITEMS), ("action", ACTIONS), ("deadline_kind", kinds)):
        seen = {e.get(field) for e in expects}
        missing = [w for w in wanted if w not in seen]
        assert not missing, f"no passing worklist case expects {field} {missing}"
    assert sum(bool(c.get("absent")) for c in passing) >= 5, "controls: lines kept off the list"
    assert any("overrides" in c for c in passing), "a case with a payer override"
    assert any("order" in c for c in passing), "a case with a rank order"
    assert any(e.get("action") == "write_off_review" for e in expects), "a passed deadline"
