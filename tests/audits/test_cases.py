"""Every audit case file (tests/cases/<audit-id>/*.toml) and every audit docstring's Example, each
run as one pytest test. The case format and the runner are in case_runner.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from case_runner import (
    CASE_FILES,
    CASEBOOK_FILES,
    CASES,
    check_case,
    example_case,
    example_ids,
    load_case,
)

from auditkit.audits.tpi_ratio import TpiRatio
from auditkit.engine.registry import all_audits, get

EXAMPLES = example_ids()


@pytest.mark.parametrize(
    "case_file", CASE_FILES, ids=[f"{p.parent.name}/{p.stem}" for p in CASE_FILES]
)
def test_case(case_file: Path) -> None:
    check_case(load_case(case_file), case_file.parent.name, case_file.name)


@pytest.mark.parametrize(
    "case_file", CASEBOOK_FILES, ids=[f"casebook/{p.parent.name}/{p.stem}" for p in CASEBOOK_FILES]
)
def test_casebook(case_file: Path) -> None:
    """The auditor's casebook: each case cites the policy it comes from."""
    case = load_case(case_file)
    assert len(case.get("source", "")) > 10, "a casebook case names its source"
    assert len(case.get("policy", "")) > 20, "a casebook case says what the policy says"
    check_case(case, case_file.parent.name, f"casebook/{case_file.parent.name}/{case_file.name}")


@pytest.mark.parametrize(
    ("audit_id", "flagged"),
    EXAMPLES,
    ids=[f"{a}::example-{'flagged' if f else 'not-flagged'}" for a, f in EXAMPLES],
)
def test_docstring_example(audit_id: str, flagged: bool) -> None:
    """The Example tables do what the docstring says: the flagged one raises exactly the
    findings its Result names, the not flagged one none, and the audit really runs on both."""
    audit = get(audit_id)
    example = audit.doc().example()
    block = example.flagged if flagged else example.not_flagged
    name = f"{audit_id} Example, {'Flagged' if flagged else 'Not flagged'} table"
    result = check_case(example_case(audit, flagged), audit_id, name)
    run = next(r for r in result.audits if r.id == audit_id)
    assert run.status == "ran", f"{name}: the audit was skipped ({run.reason})"
    if block.nothing_to_audit:
        assert run.reason, f"{name}: says 'nothing to audit', but the audit found lines to check"
    else:
        assert run.reason is None, f"{name}: the audit found nothing to check ({run.reason})"
    if flagged:
        assert block.expected, f"{name}: a flagged example expects at least one finding"


def test_every_audit_has_cases() -> None:
    """At least 3 flagging cases and 2 negative controls per registered audit."""
    for audit in all_audits():
        files = sorted((CASES / audit.id).glob("*.toml"))
        cases = [load_case(p) for p in files]
        flagging = [c for c in cases if c.get("expect")]
        negative = [c for c in cases if c.get("expect") == []]
        assert len(flagging) >= 3, f"{audit.id}: {len(flagging)} flagging cases"
        assert len(negative) >= 2, f"{audit.id}: {len(negative)} negative controls"


class _SmallGroupTpiRatio(TpiRatio):
    """Trigger-point ratio of a small group.

    Example
    -------
    Settings: min_lines = 10

    Flagged: Dr. Lee never bills 20553; Dr. Adams mostly does.

        rendering_provider | cpt   | repeat
        -------------------+-------+-------
        Dr. Lee            | 20552 | 12
        Dr. Adams          | 20552 | 2
        Dr. Adams          | 20553 | 10

    Result: 1 high finding.

    Not flagged: both bill 20553 on about half their lines.

        rendering_provider | cpt   | repeat
        -------------------+-------+-------
        Dr. Lee            | 20552 | 6
        Dr. Lee            | 20553 | 6
        Dr. Adams          | 20552 | 5
        Dr. Adams          | 20553 | 7
    """


def test_an_example_runs_with_its_settings() -> None:
    """An Example's Settings go to the audit's table of the config (with the default
    min_lines of 20 the flagged lines would raise nothing)."""
    case = example_case(_SmallGroupTpiRatio, flagged=True)
    assert case["config"] == {"tpi-ratio": {"min_lines": 10}}
    check_case(case, "tpi-ratio", "small group, flagged")
    check_case(example_case(_SmallGroupTpiRatio, flagged=False), "tpi-ratio", "small group")
