"""Audit ``auth-mismatch``: claims for codes that need prior authorization with none on file, or
billed outside what was approved."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.claims import LIST_SEP
from auditkit.engine.context import Context, usable
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.engine.findings import line_findings
from auditkit.engine.result import empty_findings
from auditkit.engine.text import money
from auditkit.measures.revenue import bool_mask, money_or_zero, payer_key
from auditkit.reference.revenue import auth_rules, needs_authorization

SEVERITY = {
    "missing": "high",
    "patient": "high",
    "code": "medium",
    "dates": "medium",
    "units": "medium",
}


def _number_key(values: pd.Series) -> pd.Series:
    """Authorization numbers compared without case, spaces or punctuation."""
    key = values.astype("string").str.upper().str.replace(r"[^0-9A-Z]", "", regex=True)
    return key.mask(key == "")


def _text_key(values: pd.Series) -> pd.Series:
    key = values.astype("string").str.strip().str.casefold()
    return key.mask(key == "")


def _day(value: object) -> str:
    return "open" if pd.isna(value) else pd.Timestamp(value).date().isoformat()


def _num(value: float) -> str:
    return f"{value:g}"


class AuthMismatch(Audit):
    """A code that needs prior authorization has none on file, or is billed outside it.

    Why it matters
    --------------
    Payers deny a procedure that needed prior authorization when no approval covers it (CO-197,
    or CO-198 when the approval is exceeded), and take the money back on audit when it was paid
    anyway. Spinal cord stimulators, and Medicare facet injections and ablations in the
    hospital outpatient department, are expensive lines where one miss costs thousands. Matching
    the claims against the practice's own authorization log before (or soon after) billing
    finds the gaps while they can still be fixed.

    What is flagged
    ---------------
    Needs an authorization export (``--auths FILE``: number, patient, payer, approved codes,
    approved units, start and end date). A line needs authorization when its code is listed in
    ``auditkit/reference/auth_required.csv`` for its payer and place of service
    (neurostimulator codes 63650, 63655, 63685 and 63688 at every payer; Medicare facet and
    ablation codes 64490-64495 and 64633-64636 in the hospital outpatient department, POS 22)
    or in ``extra_codes`` (comma-separated codes that need it at every payer); a practice's own
    copy of the file is named with ``[reference] auth_required`` in the config file. With
    ``check_numbered`` on, procedure lines that carry an authorization number are checked
    too. Voided lines are left out.

    A line is matched to the export by its authorization number (compared without case,
    spaces or dashes), else by patient and code (and payer, when both have one); a line whose
    number is not in the export but whose patient has an approval for the code is held to
    that approval (the number on the claim may just be mistyped). Findings:
    *missing* (high) - a line that needs authorization has no number and none in the export
    covers its code for the patient, or its number is not in the export; *another patient*
    (high) - the number is in the export for a different patient; *code* (medium) - the
    number approves other codes; *dates* (medium) - the approval covers the code but not the
    date of service; *units* (medium) - the units billed against one approval and code, in date
    order, go beyond the approved units. Dollars at risk: the line's expected payment (the
    config's fee schedule, else the practice's mean paid amount, else the charge), for units
    the share of it beyond the approval.

    How to fix
    ----------
    For a missing approval, ask the payer for a retro-authorization where it grants them, or
    hold the claim; put the code on the scheduling checklist so approval comes before the
    procedure. Correct the number, code or dates on the claim when the approval was right but
    the claim was not; ask the payer to extend or add units before billing more sessions.

    Columns needed
    --------------
    Required: cpt, payer, date_of_service, patient_id. Optional: authorization_number (match by
    number), units, place_of_service (the Medicare outpatient rule), status (voided lines),
    claim_id, line_number, charge and paid (dollars).

    Example
    -------
    Authorizations on file (the export given with ``--auths``):

        authorization_number | patient_id | approved_codes | start_date | end_date
        ---------------------+------------+----------------+------------+-----------
        SB-1001              | P160       | 63650          | 2024-05-01 | 2024-07-31

    Flagged: the spinal cord stimulator trial done after its approval ended, and the pulse
    generator placed with no approval at all.

        claim_id | patient_id | date_of_service | payer | cpt   | authorization_number | charge
        ---------+------------+-----------------+-------+-------+----------------------+---------
        C1601    | P160       | 2024-08-12      | Aetna | 63650 | SB-1001              | 6,500.00
        C1602    | P160       | 2024-09-16      | Aetna | 63685 |                      | 9,800.00

    Result: 1 high and 1 medium finding: high on the 63685 line (no approval), medium on the 63650
    line (outside the approved dates).

    Not flagged: the trial inside the approved dates (the generator is billed once its own approval
    is on file).

        claim_id | patient_id | date_of_service | payer | cpt   | authorization_number | charge
        ---------+------------+-----------------+-------+-------+----------------------+---------
        C1601    | P160       | 2024-06-10      | Aetna | 63650 | SB-1001              | 6,500.00
    """

    id = "auth-mismatch"
    title = "Prior authorization missing or outside the approved codes, units or dates"
    severities = ("high", "medium")
    columns = ("cpt", "payer", "date_of_service", "patient_id")
    optional_columns = (
        "authorization_number",
        "units",
        "place_of_service",
        "status",
        "claim_id",
        "line_number",
        "charge",
        "paid",
    )
    side_tables = ("auths",)
    thresholds = (
        Threshold(
            "extra_codes",
            str,
            "",
            'Codes that need authorization at every payer, comma-separated ("64483,64484").',
        ),
        Threshold(
            "check_numbered",
            bool,
            True,
            "Also check procedure lines that carry an authorization number.",
        ),
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        extra = tuple(c.strip().upper() for c in str(settings.extra_codes).split(",") if c.strip())
        pos_col = lines["place_of_service"] if "place_of_service" in lines.columns else None
        needed, why = needs_authorization(
            lines["cpt"],
            context.payer,
            pos_col,
            auth_rules(context.reference.overrides.get("auth_required")),
            extra,
        )
        number = (
            _number_key(lines["authorization_number"])
            if usable(lines, "authorization_number")
            else pd.Series(pd.NA, index=lines.index, dtype="string")
        )
        check = needed.copy()
        if settings.check_numbered:
            check |= bool_mask(number.notna() & context.family.ne("E/M"))
        if context.has_status:
            check &= ~context.status_is("voided")
        if not check.any():
            raise NothingToAudit("no line needs authorization or carries a number")
        units = (
            lines["units"].astype("Float64").fillna(1.0).astype("float64")
            if "units" in lines.columns
            else pd.Series(1.0, index=lines.index)
        )
        frame = pd.DataFrame(
            {
                "pos": lines.index[check],
                "code": lines.loc[check, "cpt"].astype("string").str.upper().array,
                "patient": _text_key(lines.loc[check, "patient_id"]).array,
                "payer": payer_key(context.payer[check]).array,
                "dos": lines.loc[check, "date_of_service"].to_numpy(),
                "units": units[check].to_numpy(),
                "num": number[check].array,
                "num_text": lines.loc[check, "authorization_number"].astype("string").array
                if "authorization_number" in lines.columns
                else pd.NA,
                "needed": needed[check].to_numpy(),
            }
        )
        auths = _auth_rows(context.auths)
        result = _match(frame, auths)
        flagged = result[result["problem"].notna()]
        if flagged.empty:
            return empty_findings()
        rows = lines.loc[flagged["pos"].to_numpy()]
        fee, _ = context.fees(rows["cpt"], context.payer[rows.index])
        value = pd.Series(fee.to_numpy(), index=rows.index).fillna(money_or_zero(rows, "charge"))
        basis = np.where(fee.notna().to_numpy(), "expected payment", "charge")
        share = np.where(
            flagged["problem"].eq("units"),
            (flagged["excess"] / flagged["units"]).clip(upper=1.0),
            1.0,
        )
        dollars = (value.to_numpy() * share).round(2)
        flagged = flagged.assign(
            why=why.loc[flagged["pos"].to_numpy()].fillna("the claim carries a number").array,
            claim=rows["claim_id"].astype("string").fillna("?").array
            if "claim_id" in rows.columns
            else "?",
        )
        messages = [_message(r, dollars[i]) for i, r in enumerate(flagged.itertuples())]
        evidence = [
            {
                "problem": r.problem,
                "authorization": None if pd.isna(r.auth_number) else str(r.auth_number),
                "approved_codes": None if pd.isna(r.approved) else str(r.approved),
                "start_date": None if pd.isna(r.start) else _day(r.start),
                "end_date": None if pd.isna(r.end) else _day(r.end),
                "approved_units": None if pd.isna(r.approved_units) else float(r.approved_units),
                "units_billed_to_date": None if pd.isna(r.cum_units) else float(r.cum_units),
                "rule": r.why,
            }
            for r in flagged.itertuples()
        ]  # one dict per flagged line (the findings themselves)
        return line_findings(
            self,
            rows,
            severity=flagged["problem"].map(SEVERITY).to_numpy(),
            message=messages,
            dollars_at_risk=dollars,
            dollars_basis=basis,
            evidence=evidence,
        )


def _auth_rows(auths: pd.DataFrame) -> pd.DataFrame:
    """One row per (authorization, approved code) with normalised keys."""
    codes = auths["approved_codes"].astype("string").str.upper().str.split(LIST_SEP)
    table = pd.DataFrame(
        {
            "aid": np.arange(len(auths)),
            "auth_number": auths["authorization_number"].astype("string").array,
            "num": _number_key(auths["authorization_number"]).array,
            "patient_a": _text_key(auths["patient_id"]).array,
            "payer_a": payer_key(auths["payer"]).array
            if "payer" in auths.columns
            else pd.array([pd.NA] * len(auths), dtype="string"),
            "approved": auths["approved_codes"].astype("string").array,
            "code_a": codes.array,
            "start": auths["start_date"].to_numpy()
            if "start_date" in auths.columns
            else np.full(len(auths), np.datetime64("NaT"), dtype="datetime64[ns]"),
            "end": auths["end_date"].to_numpy()
            if "end_date" in auths.columns
            else np.full(len(auths), np.datetime64("NaT"), dtype="datetime64[ns]"),
            "approved_units": auths["approved_units"].astype("float64").to_numpy()
            if "approved_units" in auths.columns
            else np.nan,
        }
    )
    table = table.explode("code_a", ignore_index=True)
    table["code_a"] = table["code_a"].astype("string").str.strip()
    return table[table["code_a"].notna() & (table["code_a"] != "")]


def _match(frame: pd.DataFrame, auths: pd.DataFrame) -> pd.DataFrame:
    """Each checked line with its problem (None when covered) and the approval it was held to."""
    numbered = frame[frame["num"].notna()]
    by_number = numbered.merge(auths, on="num", how="inner")
    found = frame["pos"].isin(by_number["pos"])
    same = by_number[
        by_number["patient_a"].isna()
        | by_number["patient"].isna()
        | by_number["patient"].eq(by_number["patient_a"]).fillna(False).astype(bool)
    ]
    same_patient = frame["pos"].isin(same["pos"])
    c1 = same[same["code"].eq(same["code_a"]).fillna(False).astype(bool)].assign(rank=0)
    rest = frame[~found & frame["patient"].notna()]
    by_patient = rest.merge(
        auths, left_on=["patient", "code"], right_on=["patient_a", "code_a"], how="inner"
    )
    payer_ok = (
        by_patient["payer_a"].isna()
        | by_patient["payer"].isna()
        | by_patient["payer"].eq(by_patient["payer_a"]).fillna(False).astype(bool)
    )
    c2 = by_patient[payer_ok.astype(bool)].assign(rank=1)
    cand = pd.concat([c1, c2], ignore_index=True)
    inside = (cand["start"].isna() | (cand["start"] <= cand["dos"])) & (
        cand["end"].isna() | (cand["dos"] <= cand["end"])
    )
    cand = cand.assign(inside=inside.astype(bool))
    # The approval a line is held to: one that covers its date first, then a number match.
    cand = cand.sort_values(["pos", "inside", "rank", "aid"], ascending=[True, False, True, True])
    best = cand.drop_duplicates("pos")
    covered = best[best["inside"]].sort_values(["aid", "code", "dos", "pos"], kind="stable")
    covered = covered.assign(cum_units=covered.groupby(["aid", "code"])["units"].cumsum())
    over = covered["approved_units"].notna() & (
        covered["cum_units"] > covered["approved_units"] + 1e-9
    )
    covered = covered.assign(
        excess=np.minimum(covered["units"], covered["cum_units"] - covered["approved_units"]),
        over=over,
    )
    held = best[["pos", "auth_number", "approved", "start", "end", "approved_units"]]
    out = frame.merge(held, on="pos", how="left")
    out = out.merge(covered[["pos", "cum_units", "excess", "over"]], on="pos", how="left")
    out["excess"] = out["excess"].fillna(0.0)
    is_over = out["over"].fillna(False).astype(bool)
    has_code = out["pos"].isin(cand["pos"])
    has_cover = out["pos"].isin(covered["pos"])
    problem = np.select(
        [
            has_cover & is_over,
            has_cover,
            has_code,
            same_patient,
            found,
            out["needed"].astype(bool),
        ],
        ["units", "", "dates", "code", "patient", "missing"],
        default="",
    )
    out["problem"] = pd.Series(problem, index=out.index).replace("", None)
    out["had_number"] = out["num"].notna()
    # Lines whose number approves other codes (or another patient): show what it approves.
    wrong = out["problem"].isin(["code", "patient"]).to_numpy()
    if wrong.any():
        rows = auths[auths["num"].isin(out.loc[wrong, "num"].dropna().unique())]
        grouped = rows.groupby("num", sort=False)
        # Only the numbers of flagged lines: a handful of groups.
        codes = grouped["code_a"].agg(lambda c: ", ".join(sorted(set(c))))
        out.loc[wrong, "approved"] = out.loc[wrong, "num"].map(codes).to_numpy()
        out.loc[wrong, "auth_number"] = (
            out.loc[wrong, "num"].map(grouped["auth_number"].first()).to_numpy()
        )
    return out


def _message(row: object, dollars: float) -> str:
    """One line's message (runs once per finding)."""
    date = _day(row.dos)
    head = f"{row.code} on claim {row.claim}, {date}"
    if row.problem == "missing":
        if row.had_number:
            body = f"authorization {row.num_text} is not in the authorization export"
        else:
            body = (
                "the claim has no authorization number and no authorization in the export "
                "covers this code for the patient"
            )
        return (
            f"{head}: needs prior authorization ({row.why}), but {body}. {money(dollars)} at risk."
        )
    if row.problem == "patient":
        return (
            f"{head}: authorization {row.auth_number} is in the export for a different patient. "
            f"{money(dollars)} at risk."
        )
    if row.problem == "code":
        return (
            f"{head}: authorization {row.auth_number} approves {row.approved}, not {row.code}. "
            f"{money(dollars)} at risk."
        )
    if row.problem == "dates":
        return (
            f"{head}: outside the approved dates {_day(row.start)} to {_day(row.end)} of "
            f"authorization {row.auth_number}. {money(dollars)} at risk."
        )
    return (
        f"{head}: {_num(row.units)} unit(s) billed take the units billed against authorization "
        f"{row.auth_number} for {row.code} to {_num(row.cum_units)}, over the "
        f"{_num(row.approved_units)} approved. {money(dollars)} at risk."
    )
