"""Audit ``underpayment``: lines allowed or paid below the contract fee schedule."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.engine.findings import line_findings
from auditkit.engine.result import empty_findings
from auditkit.engine.text import money
from auditkit.measures.revenue import underpaid_lines


class Underpayment(Audit):
    """A payer allowed or paid lines below its contract by more than the tolerance.

    Why it matters
    --------------
    Payers load fee schedules by hand, apply the wrong year or locality, or reduce a bilateral
    or multi-unit line the contract pays in full, and nobody checks a line that was "paid".
    Each shortfall is small; across a year of one payer's claims it adds up, and contracts
    usually let the practice recover it if it is raised in time. Comparing every paid line
    with the contracted amount finds the payer and codes to raise with the provider
    representative, with the dollars to ask for.

    What is flagged
    ---------------
    Needs a contract fee schedule (``--fee-schedule FILE``: payer, code, modifier, place of
    service, allowed amount per unit; a row without a payer applies to every payer without its
    own row). Each paid or partially paid line is priced with the most specific row: the
    payer's own before an every-payer row, a row for one of the line's modifiers before a row
    without one, a row for its place of service before one for any place. Expected = amount x
    units; a line with modifier 50 priced by a row without 50 is expected at
    ``bilateral_percent`` of the amount. The line's allowed amount (else paid plus patient
    responsibility) is compared with it; a line is flagged when it is short by more than
    ``tolerance_dollars`` and ``tolerance_percent`` of the expected amount. Lines carrying a
    denial reason code (other than contractual or patient responsibility), like a unit denied
    with CO-151, are left to the denial audits. Medium from ``medium_dollars`` short, else
    low; the message gives the payer's total. Dollars at risk: the shortfall. Recoverable
    dollars by payer go to the ``underpayment_by_payer`` table.

    How to fix
    ----------
    Send the payer's provider representative the list of short lines for the payer with the
    contract rate and ask for reprocessing; check whether the payer loaded an old or wrong fee
    schedule and ask for the correction to be applied to every claim since. Appeal single lines
    in the payer's reconsideration window.

    Columns needed
    --------------
    Required: cpt, payer, status. Optional: allowed (else paid and patient_responsibility),
    units, modifiers, place_of_service, denial_codes, claim_id, line_number.

    Example
    -------
    Contract fee schedule (the file given with ``--fee-schedule``):

        payer | cpt   | allowed
        ------+-------+--------
        Aetna | 64493 | 210.00
        Aetna | 99213 | 95.00

    Flagged: Aetna allowed $150.00 for a lumbar facet injection the contract prices at $210.00.

        claim_id | payer | cpt   | modifiers | units | status | allowed | paid
        ---------+-------+-------+-----------+-------+--------+---------+-------
        C1701    | Aetna | 64493 | RT        | 1     | paid   | 150.00  | 120.00
        C1701    | Aetna | 99213 | 25        | 1     | paid   | 95.00   | 76.00

    Result: 1 medium finding, on the 64493 line: $60.00 short, at least ``medium_dollars``.

    Not flagged: the line reprocessed at the contract rate.

        claim_id | payer | cpt   | modifiers | units | status | allowed | paid
        ---------+-------+-------+-----------+-------+--------+---------+-------
        C1701    | Aetna | 64493 | RT        | 1     | paid   | 210.00  | 168.00
        C1701    | Aetna | 99213 | 25        | 1     | paid   | 95.00   | 76.00
    """

    id = "underpayment"
    title = "Underpayment against the contract fee schedule"
    severities = ("medium", "low")
    columns = ("cpt", "payer", "status")
    optional_columns = (
        "allowed",
        "paid",
        "patient_responsibility",
        "units",
        "modifiers",
        "place_of_service",
        "denial_codes",
        "claim_id",
        "line_number",
    )
    side_tables = ("fee_schedule",)
    thresholds = (
        Threshold("tolerance_dollars", float, 1.0, "Shortfall in dollars a line may have.", min=0),
        Threshold(
            "tolerance_percent",
            float,
            0.02,
            "Shortfall as a share of the expected amount a line may have (0.02 = 2%).",
            min=0,
            max=1,
        ),
        Threshold(
            "bilateral_percent",
            float,
            150.0,
            "Percent of the amount a line with modifier 50 is expected at (Medicare: 150).",
            min=0,
        ),
        Threshold(
            "medium_dollars", float, 50.0, "Shortfall on a line that makes it medium.", min=0
        ),
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        if "allowed" not in lines.columns and "paid" not in lines.columns:
            raise NothingToAudit("the data has no allowed or paid amounts")
        under = underpaid_lines(context, settings)
        if under is None or under.attrs.get("priced", 0) == 0:
            raise NothingToAudit("no paid line has a code the fee schedule prices")
        if under.empty:
            return empty_findings()
        totals = under.groupby("payer")["shortfall"].agg(["sum", "size"])
        rows = lines.loc[under["pos"].to_numpy()]
        # One message per short line (the findings themselves).
        messages = []
        for r in under.itertuples():
            total, count = totals.loc[r.payer]
            rate_of = f"{r.fee_payer}'s rate" if pd.notna(r.fee_payer) else "the every-payer rate"
            contract = (
                f"{money_exact(r.fee)} per unit"
                + (f" x {r.units:g} units" if r.units != 1 else "")
                + (f" x {settings.bilateral_percent:g}% for modifier 50" if r.bilateral else "")
                + f"; {rate_of}"
                + (f" for modifier {r.fee_modifier}" if pd.notna(r.fee_modifier) else "")
                + (f" at place of service {r.fee_pos}" if pd.notna(r.fee_pos) else "")
            )
            messages.append(
                f"{r.payer} {'allowed' if r.basis == 'allowed' else 'paid (with patient share)'} "
                f"{money_exact(r.observed)} for {r.cpt}; the contract says "
                f"{money_exact(r.expected)} ({contract}): {money_exact(r.shortfall)} short. "
                f"{r.payer} in all: {money(total)} short on {int(count)} line(s)."
            )
        evidence = [
            {
                "observed": float(r.observed),
                "basis": r.basis,
                "expected": float(r.expected),
                "shortfall": float(r.shortfall),
                "contract_amount": float(r.fee),
                "contract_payer": None if pd.isna(r.fee_payer) else str(r.fee_payer),
                "contract_modifier": None if pd.isna(r.fee_modifier) else str(r.fee_modifier),
                "contract_place_of_service": None if pd.isna(r.fee_pos) else str(r.fee_pos),
                "fee_schedule_row": None if pd.isna(r.fee_row) else int(r.fee_row),
                "payer_total_short": round(float(totals.loc[r.payer, "sum"]), 2),
            }
            for r in under.itertuples()
        ]
        severity = np.where(under["shortfall"] >= settings.medium_dollars, "medium", "low")
        return line_findings(
            self,
            rows,
            severity=severity,
            message=messages,
            dollars_at_risk=under["shortfall"].to_numpy(),
            dollars_basis="shortfall",
            evidence=evidence,
        )


def money_exact(amount: float) -> str:
    """1234.5 -> '$1,234.50' (cents matter when comparing with a contract)."""
    return f"${amount:,.2f}"
