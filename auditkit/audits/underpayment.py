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
    representative, with the dollars to ask for. Reductions the contract or the law makes are
    priced in first, so what is left is money the payer owes.

    What is flagged
    ---------------
    Needs a contract fee schedule (``--fee-schedule FILE``: payer, code, modifier, place of
    service, allowed amount per unit; a row without a payer applies to every payer without its
    own row). Each paid or partially paid line is priced with the most specific row: the
    payer's own before an every-payer row, a row for one of the line's modifiers before a row
    without one, a row for its place of service before one for any place. The contract amount
    is amount x units; a line with modifier 50 priced by a row without 50, on a code that may be
    billed bilaterally, at ``bilateral_percent`` of it (CMS Medicare Claims Processing Manual
    ch. 12 s.40.7: 150%). The expected amount then takes off what is not an underpayment:

    * the multiple-procedure rule (CMS Medicare Claims Processing Manual ch. 12 s.40.6): the
      procedures of one session (same patient, date of service, rendering physician and payer;
      the claim stands for the patient without ``patient_id``) that the editable file
      ``auditkit/reference/multiple_procedures.csv`` makes subject to it (surgical codes
      10004-69990 by default; add-on codes, office visits and imaging are exempt) are ranked by
      their contract amount, highest first, and paid at ``multiple_procedure_percents`` in
      that order (Medicare's "100,50": the first at 100%, every other at 50%; the last percent
      repeats; each unit is one procedure; "100" turns the rule off). A procedure the fee
      schedule does not price is assumed to rank first, so the rule never expects too much;
    * sequestration (CO-253, the 2% cut of Medicare's payment since 2013 under the Budget
      Control Act of 2011): at payers whose name holds one of ``sequestration_payers`` as a
      whole word (default "Medicare", so Medicare Advantage plans named so are included - an
      assumption: most pass the cut on, check your contracts) or any of whose lines carry
      reason code 253, a line compared on paid plus patient responsibility is expected
      ``sequestration_percent`` of the payer's payment less (paid x s / (1 - s)). An allowed
      amount is not cut, so a line with one is compared with the contract as it is.

    The line's allowed amount (else paid plus patient responsibility) is compared with the
    expected amount; a line is flagged when it is short by more than ``tolerance_dollars`` and
    ``tolerance_percent`` of the expected amount. Lines carrying a reason code that refuses
    payment, like a unit denied with CO-151, are left to the denial audits; contractual codes
    (CO-45, CO-59, CO-253), the patient's share and codes ``carcs.csv`` does not list do not
    excuse a line, so it is still checked. Medium from ``medium_dollars`` short, else low; the
    message gives the payer's total. Dollars at risk: the shortfall. Recoverable dollars by
    payer go to the ``underpayment_by_payer`` table.

    How to fix
    ----------
    Send the payer's provider representative the list of short lines for the payer with the
    contract rate and ask for reprocessing; check whether the payer loaded an old or wrong fee
    schedule and ask for the correction to be applied to every claim since. Appeal single lines
    in the payer's reconsideration window. Where the payer reduced a session's procedures in
    another order than by value, or cut an add-on code, ask for the session to be repriced.

    Columns needed
    --------------
    Required: cpt, payer, status. Optional: allowed (else paid and patient_responsibility),
    units, modifiers, place_of_service, denial_codes, remark_codes, claim_id, line_number;
    patient_id, date_of_service and rendering_provider (sessions for the multiple-procedure
    rule).

    Example
    -------
    Contract fee schedule (the file given with ``--fee-schedule``):

        payer    | cpt   | allowed
        ---------+-------+--------
        Aetna    | 64493 | 210.00
        Aetna    | 99213 | 95.00
        Medicare | 64483 | 300.00
        Medicare | 20552 | 60.00

    Flagged: Aetna allowed $150.00 for a lumbar facet injection the contract prices at $210.00.
    Medicare allowed the epidural in full and the trigger-point injection of the same session at
    half (the multiple-procedure rule).

        claim_id | patient_id | payer    | cpt   | modifiers | units | status | allowed | paid
        ---------+------------+----------+-------+-----------+-------+--------+---------+-------
        C1701    | P1         | Aetna    | 64493 | RT        | 1     | paid   | 150.00  | 120.00
        C1701    | P1         | Aetna    | 99213 | 25        | 1     | paid   | 95.00   | 76.00
        C1702    | P2         | Medicare | 64483 | RT        | 1     | paid   | 300.00  | 235.20
        C1702    | P2         | Medicare | 20552 |           | 1     | paid   | 30.00   | 23.52

    Result: 1 medium finding, on the 64493 line: $60.00 short, at least ``medium_dollars``.

    Not flagged: the line reprocessed at the contract rate.

        claim_id | patient_id | payer    | cpt   | modifiers | units | status | allowed | paid
        ---------+------------+----------+-------+-----------+-------+--------+---------+-------
        C1701    | P1         | Aetna    | 64493 | RT        | 1     | paid   | 210.00  | 168.00
        C1701    | P1         | Aetna    | 99213 | 25        | 1     | paid   | 95.00   | 76.00
        C1702    | P2         | Medicare | 64483 | RT        | 1     | paid   | 300.00  | 235.20
        C1702    | P2         | Medicare | 20552 |           | 1     | paid   | 30.00   | 23.52
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
        "remark_codes",
        "claim_id",
        "line_number",
        "patient_id",
        "date_of_service",
        "rendering_provider",
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
            "multiple_procedure_percents",
            str,
            "100,50",
            "Percent of the contract paid for a session's 1st, 2nd, ... procedure, highest-valued "
            'first (the last repeats; Medicare: "100,50"; "100" turns the rule off).',
        ),
        Threshold(
            "sequestration_percent",
            float,
            2.0,
            "Percent sequestration takes off a sequestered payer's payment (Medicare: 2).",
            min=0,
            max=50,
        ),
        Threshold(
            "sequestration_payers",
            str,
            "Medicare",
            "Payers whose payment is sequestered: names matched as whole words, comma-separated "
            "(payers whose lines carry CO-253 are too).",
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
                + _session_text(r)
                + f"; {rate_of}"
                + (f" for modifier {r.fee_modifier}" if pd.notna(r.fee_modifier) else "")
                + (f" at place of service {r.fee_pos}" if pd.notna(r.fee_pos) else "")
                + (
                    f"; less {money_exact(r.sequestration)} sequestration "
                    f"({settings.sequestration_percent:g}% of the payment)"
                    if r.sequestration > 0
                    else ""
                )
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
                "multiple_procedure_percent": float(r.mpr_percent),
                "session_place": None if pd.isna(r.mpr_rank) else int(r.mpr_rank),
                "session_procedures": None if pd.isna(r.mpr_of) else int(r.mpr_of),
                "sequestration": float(r.sequestration),
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


def _session_text(r: object) -> str:
    """How the multiple-procedure rule priced a line, for its message ("" where it did not)."""
    if pd.isna(r.mpr_rank):
        return ""
    first, units = int(r.mpr_rank), int(round(r.units))
    place = f"procedure {first}" if units <= 1 else f"procedures {first}-{first + units - 1}"
    return (
        f" x {r.mpr_percent:g}% as {place} of {int(r.mpr_of)} in the session "
        "(multiple-procedure rule)"
    )


def money_exact(amount: float) -> str:
    """1234.5 -> '$1,234.50' (cents matter when comparing with a contract)."""
    return f"${amount:,.2f}"
