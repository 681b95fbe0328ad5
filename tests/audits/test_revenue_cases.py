"""The revenue audits' case files (tests/cases/<audit-id>/*.toml), run with their side tables.

Case files of auth-mismatch and underpayment may carry the side table the audit needs, as
arrays of tables with the column names of auditkit.ingest.side_tables::

    [[auths]]                             # the authorization export (--auths FILE)
    authorization_number = "SB-1001"
    patient_id = "P1"
    approved_codes = "63650"              # several: "64493,64494"
    approved_units = 1
    start_date = 2024-01-01
    end_date = 2024-06-30

    [[fee_schedule]]                      # the contract fee schedule (--fee-schedule FILE)
    payer = "Aetna"
    cpt = "99214"
    allowed = 150.0

Everything else is the shared case-file format; the one runner (tests/audits/case_runner.py,
run by test_cases.py) passes the side tables to ``run_audits``. This module checks the rules
are all covered.
"""

from __future__ import annotations

from case_runner import CASES, load_case


def test_every_revenue_rule_has_cases() -> None:
    """At least two flagging cases per rule (the rule named in the file name) and two negative
    controls per audit."""
    rules = {
        "denial-root-cause": ("recurring", "physician"),
        "slow-collection": ("slow-code", "slow-payer"),
        "ar-aging": ("open-claims", "over-90"),
        "pre-submission-edits": ("reworked",),
        "auth-mismatch": ("missing", "code", "dates", "units"),
        "underpayment": ("short",),
    }
    for audit, names in rules.items():
        files = sorted((CASES / audit).glob("*.toml"))
        cases = {p.stem: load_case(p) for p in files}
        negative = [s for s, c in cases.items() if c.get("expect") == []]
        assert len(negative) >= 2, f"{audit}: {len(negative)} negative controls"
        for rule in names:
            flagging = [s for s, c in cases.items() if rule in s and c.get("expect")]
            assert len(flagging) >= 2, f"{audit}: rule {rule!r} has {flagging}"
