"""Run every audit case file in tests/cases/<audit-id>/*.toml as one pytest test.

A case file::

    description = "What the case shows"
    select = ["tpi-ratio"]            # optional; default: the folder's audit
    drop_columns = ["payer"]          # optional; remove a column the helper would add
    blank_columns = ["muscles_treated"]  # optional; add a column that is empty on every line
    allow_other_findings = false      # optional; default false: every finding must be expected

    [config."tpi-ratio"]              # optional; passed to run_audits(config=...)
    min_lines = 5

    [defaults]                        # optional; columns every line gets unless it sets them
    status = "paid"

    [[lines]]                         # the claim lines (see audit_helpers.make_lines)
    repeat = 30
    cpt = "20552"
    rendering_provider = "Dr. Lee"

    [[expect]]                        # a finding that must be raised (or `expect = []`)
    severity = "medium"               # audit defaults to the folder's audit
    provider = "Dr. Lee"              # any of: scope provider payer cpt claim_id line
    message_contains = ["20553 on 3 of 33"]
    count = 1                         # optional: exactly this many findings match
    dollars_min = 100.0               # optional bounds on dollars_at_risk
    [expect.evidence]                 # optional: evidence keys that must have these values
    n_20553 = 3

By default every finding of the selected audits must match some expectation, so negative
controls (``expect = []``) fail on any finding at all.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from audit_helpers import make_lines

from auditkit.claims import BY_NAME
from auditkit.engine.registry import get
from auditkit.engine.runner import run_audits

CASES = Path(__file__).resolve().parent.parent / "cases"
CASE_FILES = sorted(CASES.glob("*/*.toml"))
MATCH_FIELDS = ("audit", "severity", "scope", "provider", "payer", "cpt", "claim_id", "line")
CASE_KEYS = {
    "description",
    "select",
    "drop_columns",
    "blank_columns",
    "allow_other_findings",
    "config",
    "defaults",
    "lines",
    "expect",
    "auths",
    "fee_schedule",
}
EXPECT_KEYS = set(MATCH_FIELDS) | {
    "message_contains",
    "count",
    "dollars_min",
    "dollars_max",
    "evidence",
}


def _matches(finding: dict[str, Any], expect: dict[str, Any]) -> bool:
    for key in MATCH_FIELDS:
        if key in expect and finding[key] != expect[key]:
            return False
    wanted = expect.get("message_contains", [])
    for text in [wanted] if isinstance(wanted, str) else wanted:
        if text not in finding["message"]:
            return False
    if "dollars_min" in expect and finding["dollars_at_risk"] < expect["dollars_min"]:
        return False
    if "dollars_max" in expect and finding["dollars_at_risk"] > expect["dollars_max"]:
        return False
    return all(finding["evidence"].get(k) == v for k, v in expect.get("evidence", {}).items())


def _describe(findings: list[dict[str, Any]]) -> str:
    return (
        "\n".join(
            f"  {f['audit']} {f['severity']} {f['scope']} provider={f['provider']} payer={f['payer']} "
            f"cpt={f['cpt']} claim={f['claim_id']} line={f['line']}: {f['message']}"
            for f in findings
        )
        or "  (none)"
    )


@pytest.mark.parametrize(
    "case_file", CASE_FILES, ids=[f"{p.parent.name}/{p.stem}" for p in CASE_FILES]
)
def test_case(case_file: Path) -> None:
    case = tomllib.loads(case_file.read_text(encoding="utf-8"))
    audit_id = case_file.parent.name
    assert set(case) <= CASE_KEYS, f"unknown case keys {set(case) - CASE_KEYS}"
    assert case.get("description"), "every case needs a description"
    assert "expect" in case, "every case says what it expects (expect = [] for none)"
    audit = get(audit_id)

    lines = make_lines(case["lines"], case.get("defaults"))
    lines = lines.drop(columns=case.get("drop_columns", []))
    for name in case.get("blank_columns", []):
        lines[name] = pd.Series(pd.NA, index=lines.index, dtype=BY_NAME[name].dtype)
    select = case.get("select", [audit_id])
    result = run_audits(
        lines,
        select=select,
        config=case.get("config"),
        auths=pd.DataFrame(case["auths"]) if "auths" in case else None,
        fee_schedule=pd.DataFrame(case["fee_schedule"]) if "fee_schedule" in case else None,
    )
    found = result.findings.to_dict("records")

    for f in found:
        if f["audit"] == audit_id:
            assert f["severity"] in (*audit.severities, "info"), f"undeclared severity: {f}"
            assert f["message"] and f["why"] and f["fix"]

    unmatched = []
    for expect in case["expect"]:
        assert set(expect) <= EXPECT_KEYS, f"unknown expect keys {set(expect) - EXPECT_KEYS}"
        expect = {"audit": audit_id, **expect}
        hits = [f for f in found if _matches(f, expect)]
        if not hits or ("count" in expect and len(hits) != expect["count"]):
            unmatched.append((expect, len(hits)))
    assert not unmatched, (
        f"{case_file.name}: expected findings not raised: {unmatched}\nraised:\n{_describe(found)}"
    )

    if not case.get("allow_other_findings", False):
        expects = [{"audit": audit_id, **e} for e in case["expect"]]
        extra = [f for f in found if not any(_matches(f, e) for e in expects)]
        assert not extra, f"{case_file.name}: unexpected findings:\n{_describe(extra)}"


def test_every_audit_has_cases() -> None:
    """At least 3 flagging cases and 2 negative controls per registered audit."""
    from auditkit.engine.registry import all_audits

    for audit in all_audits():
        files = sorted((CASES / audit.id).glob("*.toml"))
        cases = [tomllib.loads(p.read_text(encoding="utf-8")) for p in files]
        flagging = [c for c in cases if c.get("expect")]
        negative = [c for c in cases if c.get("expect") == []]
        assert len(flagging) >= 3, f"{audit.id}: {len(flagging)} flagging cases"
        assert len(negative) >= 2, f"{audit.id}: {len(negative)} negative controls"
