"""Run audit cases: the case files in tests/cases/<audit-id>/*.toml and the Example section of
every audit's docstring, through one runner (the test modules only parametrize over them).

A case file::

    description = "What the case shows"
    select = ["tpi-ratio"]            # optional; default: the folder's audit
    drop_columns = ["payer"]          # optional; remove a column the helper would add
    blank_columns = ["muscles_treated"]  # optional; add a column that is empty on every line
    allow_other_findings = false      # optional; default false: every finding must be expected
    skipped = ["no status column"]    # optional: the audit must be skipped, its reason holding
                                      # each text (a skipped audit makes no finding)
    mue = "mue.csv"                   # optional: a CMS MUE file, relative to the case file,
                                      # run as [reference] mue (merged into config)
    ptp = "ptp.txt"                   # optional: a CMS PTP file (or a list), likewise, run
                                      # as [reference] ptp

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
    dollars_basis = "expected payment"  # optional: what the dollars are
    counted = true                    # optional: whether they are in the summary's total
    [expect.evidence]                 # optional: evidence keys that must have these values
    n_20553 = 3

A casebook case (tests/casebook/<audit-id>/*.toml) has the same shape plus where its rule
comes from: ``source`` (the document: a CMS manual chapter, an LCD or billing article, the CPT
or CARC code set, a payer policy) and ``policy`` (what that text says, in our own words where
it is AMA CPT text). Casebook cases are written by hand, never generated.

Case files of auth-mismatch and underpayment may carry the side table the audit needs, as
arrays of tables with the column names of auditkit.ingest.side_tables (``[[auths]]``,
``[[fee_schedule]]``); they are passed to ``run_audits``.

By default every finding of the selected audits must match some expectation, so negative
controls (``expect = []``) fail on any finding at all.

A docstring Example (parsed by :func:`auditkit.engine.examples.parse_example`) becomes two
such cases: the flagged table expects exactly the findings its Result names per severity, the
not flagged table expects none; both must run the audit (not skip it, not find nothing to
audit), so an example cannot pass by leaving the audit nothing to look at.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any
from unittest import mock

import pandas as pd
from audit_helpers import make_lines

from auditkit.claims import BY_NAME
from auditkit.engine.contract import Audit
from auditkit.engine.examples import ExampleCase
from auditkit.engine.registry import all_audits, get
from auditkit.engine.result import AuditResult
from auditkit.engine.runner import run_audits

CASES = Path(__file__).resolve().parent.parent / "cases"
CASE_FILES = sorted(p for p in CASES.glob("*/*.toml") if p.parent.name != "worklist")
#: The auditor's casebook: hand-written cases, each citing the policy text it comes from, kept
#: apart from the generator's understanding of the rules (tests/casebook/<audit-id>/*.toml).
CASEBOOK = Path(__file__).resolve().parent.parent / "casebook"
CASEBOOK_FILES = sorted(CASEBOOK.glob("*/*.toml"))
MATCH_FIELDS = (
    "audit",
    "severity",
    "scope",
    "provider",
    "payer",
    "cpt",
    "claim_id",
    "line",
    "dollars_basis",
    "counted",
)
CASE_KEYS = {
    "description",
    "select",
    "drop_columns",
    "blank_columns",
    "allow_other_findings",
    "skipped",
    "config",
    "defaults",
    "lines",
    "expect",
    "auths",
    "fee_schedule",
    "policy",
    "source",
    "mue",
    "ptp",
}
#: Case keys naming CMS edit files (relative to the case file), run as ``[reference] <key>``.
EDIT_FILE_KEYS = ("mue", "ptp")
EXPECT_KEYS = set(MATCH_FIELDS) | {
    "message_contains",
    "count",
    "dollars_min",
    "dollars_max",
    "evidence",
}


def load_case(path: Path) -> dict[str, Any]:
    """A case file as a dict (``mue``, ``ptp``: CMS edit files, paths relative to the case
    file, made absolute here)."""
    case = tomllib.loads(path.read_text(encoding="utf-8"))
    for kind in EDIT_FILE_KEYS:
        if isinstance(case.get(kind), list):
            case[kind] = [str((path.parent / p).resolve()) for p in case[kind]]
        elif kind in case:
            case[kind] = str((path.parent / case[kind]).resolve())
    return case


def example_case(audit: type[Audit], flagged: bool) -> dict[str, Any]:
    """One block of the audit's docstring Example as a case."""
    example = audit.doc().example()
    block: ExampleCase = example.flagged if flagged else example.not_flagged
    case: dict[str, Any] = {
        "description": block.caption,
        "lines": [dict(row) for row in block.lines],
        "expect": [{"severity": s, "count": n} for s, n in block.expected.items()],
    }
    if example.settings:
        case["config"] = {audit.id: dict(example.settings)}
    for name, rows in example.side_tables.items():
        case[name] = [dict(row) for row in rows]
    return case


def example_ids() -> list[tuple[str, bool]]:
    """(audit id, flagged) for every block of every registered audit's Example."""
    return [(a.id, flagged) for a in all_audits() for flagged in (True, False)]


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


def describe(findings: list[dict[str, Any]]) -> str:
    """Findings one per line, for assertion messages."""
    return (
        "\n".join(
            f"  {f['audit']} {f['severity']} {f['scope']} provider={f['provider']} "
            f"payer={f['payer']} cpt={f['cpt']} claim={f['claim_id']} line={f['line']}: "
            f"{f['message']}"
            for f in findings
        )
        or "  (none)"
    )


def run_case(case: dict[str, Any], audit_id: str) -> AuditResult:
    """Build the case's claim lines and side tables and run its audits."""
    lines = make_lines(case["lines"], case.get("defaults"))
    lines = lines.drop(columns=case.get("drop_columns", []))
    for name in case.get("blank_columns", []):
        lines[name] = pd.Series(pd.NA, index=lines.index, dtype=BY_NAME[name].dtype)
    config = case.get("config")
    for kind in EDIT_FILE_KEYS:  # given as [reference] mue/ptp, the way a config file does
        if kind in case:
            config = dict(config or {})
            config["reference"] = {**config.get("reference", {}), kind: case[kind]}
    # CMS edit files are cached as they are read: in a folder of the test's own, not the user's.
    with (
        tempfile.TemporaryDirectory() as cache,
        mock.patch.dict(os.environ, {"AUDITKIT_CACHE_DIR": cache}),
    ):
        return run_audits(
            lines,
            select=case.get("select", [audit_id]),
            config=config,
            auths=pd.DataFrame(case["auths"]) if "auths" in case else None,
            fee_schedule=pd.DataFrame(case["fee_schedule"]) if "fee_schedule" in case else None,
        )


def check_case(case: dict[str, Any], audit_id: str, name: str) -> AuditResult:
    """Run a case and assert its expectations; return the result for further checks."""
    assert set(case) <= CASE_KEYS, f"unknown case keys {set(case) - CASE_KEYS}"
    assert case.get("description"), "every case needs a description"
    assert "expect" in case, "every case says what it expects (expect = [] for none)"
    audit = get(audit_id)
    result = run_case(case, audit_id)
    found = result.findings.to_dict("records")
    run = next(r for r in result.audits if r.id == audit_id)
    if "skipped" in case:
        assert run.status == "skipped", (
            f"{name}: expected {audit_id} to be skipped, it {run.status}"
        )
        for text in case["skipped"]:
            assert text in (run.reason or ""), f"{name}: reason {run.reason!r} lacks {text!r}"
        assert run.hint, f"{name}: a skipped audit says what to do so that it runs"
        assert not any(f["audit"] == audit_id for f in found), "a skipped audit is no finding"

    for f in found:
        if f["audit"] == audit_id:
            assert f["severity"] in (*audit.severities, "info"), f"undeclared severity: {f}"
            assert f["message"] and f["why"] and f["fix"]
            # Money is the product: every amount says what it is.
            assert f["dollars_at_risk"] == 0 or f["dollars_basis"] != "none", f"no basis: {f}"

    unmatched = []
    for expect in case["expect"]:
        assert set(expect) <= EXPECT_KEYS, f"unknown expect keys {set(expect) - EXPECT_KEYS}"
        expect = {"audit": audit_id, **expect}
        hits = [f for f in found if _matches(f, expect)]
        if not hits or ("count" in expect and len(hits) != expect["count"]):
            unmatched.append((expect, len(hits)))
    assert not unmatched, (
        f"{name}: expected findings not raised: {unmatched}\nraised:\n{describe(found)}"
    )

    if not case.get("allow_other_findings", False):
        expects = [{"audit": audit_id, **e} for e in case["expect"]]
        extra = [f for f in found if not any(_matches(f, e) for e in expects)]
        assert not extra, f"{name}: unexpected findings:\n{describe(extra)}"
    return result
