"""Audit ``units-exceed-limit``: more units of a code than its unit limit (line, day or month)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.engine.findings import Evidence
from auditkit.measures.coding import (
    SEVERITY_BY_CONFIDENCE,
    CodingView,
    choose,
    coding_view,
    combination,
    combine,
    concat,
    group_sum,
    literal,
    template,
)

#: How each kind of limit (``per`` in the unit_limits reference file) is said in messages.
PERIOD_TEXT: dict[str, str] = {
    "line": "on the line",
    "day": "for the patient with this provider that day",
    "month": "for the patient that calendar month",
}
LIMIT_TEXT: dict[str, str] = {"line": "a line", "day": "a day", "month": "a month"}


#: How each MUE adjudication indicator (MAI) is said in messages and evidence.
MAI_TEXT: dict[int, str] = {
    1: "MAI 1, line edit",
    2: "MAI 2, date-of-service edit: policy",
    3: "MAI 3, date-of-service edit: clinical",
}
#: Where a limit came from (``limit_from`` in the evidence).
FROM_MUE = "CMS MUE file"
FROM_PACKAGED = "packaged unit_limits table"
#: The fix of a finding, by the kind of limit it broke (MAI of an MUE, else ``per``).
FIX_TEXT: dict[str, str] = {
    "mai1": (
        "Correct the units on the line (or remove a duplicate line) and send a corrected claim, "
        "refunding a line paid above the MUE. This is a line edit (MAI 1): only where the note "
        "documents further units at a distinct site or session, bill them on their own lines "
        "with the anatomic modifier, XS/59, 76 or 77."
    ),
    "mai2": (
        "Correct the units (or remove the duplicate line or claim) and send a corrected claim, "
        "refunding any line paid above the MUE. This is a date-of-service edit set by policy "
        "(MAI 2): every line and claim of the day is added up, so splitting the units does not "
        "get round it, and an appeal is not expected to pay units above it."
    ),
    "mai3": (
        "Correct the units (or remove the duplicate line or claim) and send a corrected claim, "
        "refunding any line paid above the MUE. This is a date-of-service edit set on clinical "
        "grounds (MAI 3): splitting the units over lines or claims does not get round it; only "
        "where the note shows more units were medically necessary, appeal with the records."
    ),
    "line": (
        "Correct the units on the line (or remove a duplicate line) and send a corrected claim. "
        "The limit counts each line on its own: only where the note documents further units at "
        "a distinct site or session and the payer allows it, bill them on their own lines with "
        "the anatomic modifier or XS/59."
    ),
    "day": (
        "Correct the units (or remove the duplicate line or claim) and send a corrected claim, "
        "refunding any line paid above the limit. The limit adds up every line and claim of the "
        "patient with the provider that day, so splitting the units does not get round it; "
        "appeal with the records only where the note shows more units were necessary."
    ),
    "month": (
        "Bill the code once per patient per calendar month (further time in the month of chronic "
        "pain management is G3003): remove the repeat line and send a corrected claim, "
        "refunding it if paid."
    ),
}
BILATERAL_NOTE = " A line with modifier 50 is both sides in 1 unit: bill it with 1 unit."


def _period_keys(view: CodingView, per: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Per limited line (at ``pos``): the group its units are added up in. A line of its own
    for a per-line limit; (patient, rendering provider, date of service) for a per-day limit, as
    Medicare's date-of-service unit edits count; (patient, calendar month) for a per-month one.
    Lines without a date are groups of their own."""
    provider = view.provider[pos]
    provider = np.where(provider < 0, int(provider.max()) + 1, provider)  # blank: one group
    day = combine(view.session[pos], provider)
    month = view.patient_month[pos]
    kind = np.select([per == "line", per == "month"], [0, 2], 1)
    own = np.arange(len(pos))
    inner = np.select([kind == 0, kind == 2], [own, month], day)
    return combine(kind, inner)


def _packaged_limits(context: Context, use_unverified: bool) -> pd.DataFrame:
    """The packaged (or the user's) ``unit_limits`` table as limits by code (see
    :func:`_limit_layers` for the columns)."""
    table = context.reference.coding("unit_limits").drop_duplicates("code", keep="last")
    if not use_unverified:
        table = table[table["confidence"] != "V"]
    table = table.set_index("code")
    return pd.DataFrame(
        {
            "max_units": pd.to_numeric(table["max_units"], errors="coerce"),
            "per": table["per"].fillna("day").astype(str),
            "mai": np.nan,
            "confidence": table["confidence"].astype(str),
            "limit_from": FROM_PACKAGED,
            "limit_source": table["source"].fillna("").astype(str),
            "mue_file": None,
            "mue_version": None,
            "mue_quarter": None,
        },
        index=table.index,
    )


def _mue_limits(context: Context) -> pd.DataFrame | None:
    """The run's CMS MUE table (``[reference] mue`` / ``--mue``) as limits by code, or None when
    no file is given. MAI 1 is a per-line limit, MAI 2 and 3 per-day limits."""
    mue = context.mue
    if mue is None:
        return None
    frame = mue.frame().drop_duplicates("code", keep="last").set_index("code")
    files = ", ".join(s.name for s in mue.sources)
    versions = ", ".join(sorted({s.version for s in mue.sources if s.version})) or None
    quarters = ", ".join(sorted({s.quarter for s in mue.sources if s.quarter})) or None
    label = ", ".join(t for t in (versions, quarters) if t)
    title = f"{mue.title}{f' {label}' if label else ''} ({files})"
    rationale = frame["rationale"].fillna("").astype(str).str.strip()
    source = (title + "; MUE rationale: " + rationale).where(rationale != "", title)
    mai = pd.to_numeric(frame["mai"], errors="coerce")
    return pd.DataFrame(
        {
            "max_units": pd.to_numeric(frame["mue"], errors="coerce").astype("float64"),
            "per": np.where(mai == 1, "line", "day"),
            "mai": mai.astype("float64"),
            "confidence": "C",
            "limit_from": FROM_MUE,
            "limit_source": source,
            "mue_file": files,
            "mue_version": versions,
            "mue_quarter": quarters,
        },
        index=frame.index,
    )


def _limit_layers(context: Context, use_unverified: bool) -> list[pd.DataFrame]:
    """The limits to check, as tables by code (columns max_units, per, mai, confidence,
    limit_from, limit_source, mue_file, mue_version, mue_quarter), each code at most once a
    table. Without an MUE file: the packaged table. With one: the MUEs, the packaged limits of
    the codes it does not list, then (a second layer) the packaged per-month limits (G3002) of
    the codes it does list, which are not MUEs and still apply."""
    packaged = _packaged_limits(context, use_unverified)
    mue = _mue_limits(context)
    if mue is None:
        return [packaged]
    listed = packaged.index.isin(mue.index)
    layers = [pd.concat([mue, packaged[~listed]])]
    monthly = packaged[listed & (packaged["per"] == "month")]
    if len(monthly):
        layers.append(monthly)
    return layers


class UnitsExceedLimit(Audit):
    """More units of a code than its unit limit allows, on one line, one day or one month.

    Why it matters
    --------------
    Medicare caps the units of a code with its medically unlikely edits (MUEs), and other payers
    cap them the same way: some limits apply to each claim line, most to the patient's date of
    service, adding up the units of every line and claim of the same provider that day. Over the
    limit the payer denies the whole line (for a per-day limit, the day's lines of the code), not
    just the extra units, and units paid above it are an overpayment to refund. Excess units are
    usually a keying error (3 for 1), a level coded as units, or a service billed twice across
    claims.

    What is flagged
    ---------------
    A code's limit is its MUE in CMS's practitioner services MUE table when the run is given one
    (``[reference] mue`` in the config or ``--mue``) and the table lists the code; otherwise its
    row of the packaged ``unit_limits`` reference file. An MUE is read by its adjudication
    indicator (MAI), as CMS adjudicates it:

    - MAI 1, a line edit: each claim line whose own units are above the MUE value; further lines
      of the code (with modifiers) are checked each on its own;
    - MAI 2, a date-of-service edit set by policy (more units are contrary to statute,
      regulation or CMS's coding instructions; an appeal is not expected to pay them), and MAI 3,
      a date-of-service edit set on clinical grounds (more units are possible but medically
      highly unlikely; payable on appeal with the records): every line of the code for one
      patient, rendering provider and date of service when their units together, across lines
      and claims, are above the MUE value.

    The packaged file gives each code a kind of limit (``per``): ``line`` and ``day``, counted as
    MAI 1 and MAI 2/3 are, and ``month``: every line of the code for one patient in a calendar
    month when their units together are above ``max_units`` (G3002, the first 30 minutes of
    chronic pain management in the month). The monthly G3002 rule is not an MUE: it applies with
    an MUE table too, and a line over both its MUE and the month is reported once, under its MUE.

    Modifier 50: a line's units are counted as billed. CMS sets the MUE of a code that may be
    billed bilaterally for Medicare's way of billing it, one line with modifier 50 and 1 unit
    (MLN Matters SE1422; NCCI Policy Manual, chapter I), so a 50 line with 1 unit counts 1, and a
    50 line with 2 units counts 2: over an MUE of 1 its whole line is flagged and the message
    says to bill 1 unit. Where the MUE value already allows both sides (2), a 50 line with 2
    units is within it and not flagged here (``bilateral-style-inconsistent`` judges the billing
    style). The MUE table has no column for sides, and auditkit assumes nothing more. The
    packaged per-day limit of 2 on the bilateral spinal codes allows one line per side, one line
    RT,LT with 2 units, or one 50 line.

    The packaged limits come from the facts file: once per session for 20552 and 20553, one
    interlaminar level, two transforaminal or facet levels counting both sides (confidence S),
    once a month for G3002 (C). The rest (joints, ablations, 64405, office visits, imaging) are
    unverified guesses (confidence V): their findings are medium instead of high, setting
    ``use_unverified`` to false leaves them out, and ``[reference] unit_limits`` replaces the
    table with your payers' limits (a file without a ``per`` column counts per day). MUEs always
    apply, to every payer's lines, and their findings are high. Each finding's evidence says
    where its limit came from: ``limit_from`` (the CMS MUE file or the packaged table), ``mai``,
    ``mue_file``, ``mue_version`` and ``mue_quarter`` for an MUE, ``limit_source`` (the table
    and CMS's rationale, or the packaged row's source). Voided and rejected lines are not
    counted. Without ``patient_id`` units are added up per claim. Dollars at risk: each flagged
    line's own value, its paid amount when paid, else its expected payment, else its charge.

    How to fix
    ----------
    Check the note for the number of levels, joints or sessions really done; correct the units
    (or remove the duplicate line or claim) and send a corrected claim, refunding any line paid
    above the limit. Split units across lines only when the edit is a line edit (MAI 1, or a
    packaged ``line`` limit) and the documentation supports a distinct site or session: then
    bill the further units on their own lines with the anatomic modifier, XS/59, 76 or 77. A
    date-of-service edit (MAI 2 or 3, or a ``day`` limit) adds up every line and claim of the
    day, so splitting does not get round it: with MAI 3 appeal with the records where more units
    were medically necessary; do not expect an appeal to pay units above an MAI 2 value. Bill a
    bilateral service to Medicare as one line with modifier 50 and 1 unit.

    Columns needed
    --------------
    Required: cpt, units. Optional: modifiers (a 50 line's message), patient_id (units across
    claims), rendering_provider and date_of_service (the day and month of a limit), claim_id,
    status (voided and rejected lines left out), paid and charge (dollars).

    Example
    -------
    Flagged: a bilateral lumbar transforaminal epidural at one level keyed as 3 units (the limit is
    2 a day, one per side).

        claim_id | patient_id | date_of_service | cpt   | modifiers | units
        ---------+------------+-----------------+-------+-----------+------
        C1101    | P110       | 2024-03-04      | 64483 | RT,LT     | 3

    Result: 1 high finding, 1 unit over.

    Not flagged: one line per side, 1 unit each.

        claim_id | patient_id | date_of_service | cpt   | modifiers | units
        ---------+------------+-----------------+-------+-----------+------
        C1101    | P110       | 2024-03-04      | 64483 | RT        | 1
        C1101    | P110       | 2024-03-04      | 64483 | LT        | 1
    """

    id = "units-exceed-limit"
    title = "Units above the unit limit (line, day or month)"
    severities = ("high", "medium")
    columns = ("cpt", "units")
    optional_columns = (
        "modifiers",
        "patient_id",
        "rendering_provider",
        "date_of_service",
        "claim_id",
        "status",
        "paid",
        "charge",
    )
    thresholds = (
        Threshold(
            "use_unverified",
            bool,
            True,
            "Also apply the limits marked unverified (confidence V) in the unit_limits table "
            "(CMS MUEs always apply).",
        ),
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        layers = _limit_layers(context, settings.use_unverified)
        parts: list[pd.DataFrame] = []
        flagged_before = np.zeros(view.n, dtype=bool)
        audited = False
        for table in layers:
            limit = view.per_code(table["max_units"], np.nan).astype("float64")[view.code_ids]
            limited = ~np.isnan(limit) & view.counted
            if not limited.any():
                continue
            audited = True
            found, flagged = self._over(view, table, limit, limited, flagged_before)
            if flagged is not None:
                parts.append(found)
                flagged_before[flagged] = True
        if not audited:
            raise NothingToAudit("no lines of a code with a unit limit")
        return concat(parts)

    def _over(
        self,
        view: CodingView,
        table: pd.DataFrame,
        limit: np.ndarray,
        limited: np.ndarray,
        already: np.ndarray,
    ) -> tuple[pd.DataFrame, np.ndarray | None]:
        """Findings of one layer of limits: every line of a group (line, day or month) over its
        code's limit, except lines an earlier layer flagged; and the positions flagged."""
        pos = np.flatnonzero(limited)
        per = view.by_code(table["per"], "day")[pos].astype(str)
        group = combine(_period_keys(view, per, pos), view.code_ids[pos] + 1)
        total = group_sum(group, view.units[pos])
        over = total > limit[pos]
        if not over.any():
            return concat([]), None
        flagged = pos[over]
        group, total, per = group[over], total[over], per[over]
        max_units = limit[flagged]
        # The flagged groups, numbered 0..G-1: their lines and claims, for the messages.
        number, _ = pd.factorize(group)
        lines_in = np.bincount(number)[number]
        labels = np.full(view.n, -1, dtype=np.int64)
        labels[flagged] = number
        listed = view.listing_text(labels, labels >= 0, np.arange(number.max() + 1), codes=False)
        # A line over an earlier layer's limit (its MUE) is reported there only; the groups'
        # texts above still count and name all their lines.
        keep = ~already[flagged]
        if not keep.any():
            return concat([]), None
        flagged, total, per, max_units = flagged[keep], total[keep], per[keep], max_units[keep]
        lines_in = lines_in[keep]
        claims = listed.take(number[keep]).reset_index(drop=True)

        def column(name: str, default: object) -> pd.Categorical:
            """The limit table's ``name`` of each flagged line's code (missing: ``default``)."""
            per_code = view.per_code(table[name], default)
            return pd.Categorical(per_code)[view.code_ids[flagged]]

        mai = view.by_code(table["mai"], np.nan).astype("float64")[flagged]
        is_mue = ~np.isnan(mai)
        confidence = column("confidence", "V")
        has_50 = view.has("50")[flagged]
        fifty = has_50 & (view.units[flagged] > 1)
        several = lines_in > 1
        over = total - max_units

        def mai_said(m: float) -> str:
            return MAI_TEXT.get(int(m), f"MAI {m:g}") + "; " if m == m else ""

        message = view.message(
            flagged,
            template(
                ": {uel_total:g}",
                choose(total == 1, {True: " unit ", False: " units "}),  # an MUE may be 0
                choose(per, lambda p: literal(PERIOD_TEXT[p])),
                # " (2 lines: claims C1, C2)"; "claim" when the listing has no comma.
                choose(
                    np.where(several, 1 + claims.str.contains(",", regex=False).to_numpy(), 0),
                    {
                        0: "",
                        1: " ({uel_lines:g} lines: claim {uel_claims})",
                        2: " ({uel_lines:g} lines: claims {uel_claims})",
                    },
                ),
                choose(is_mue, {True: ", the CMS MUE is ", False: ", the limit is "}),
                "{uel_max:g} ",
                choose(per, lambda p: literal(LIMIT_TEXT[p])),
                " (",
                choose(np.where(is_mue, mai, np.nan), lambda m: literal(mai_said(m))),
                "{uel_over:g} over)",
                combination(
                    lambda many, p: (
                        "; every line of the code that "
                        + {"month": "month", "day": "day", "line": "day"}[p]
                        if many
                        else "; the whole line"
                    ),
                    several,
                    per,
                ),
                " is at risk.",
                choose(fifty, {True: literal(BILATERAL_NOTE), False: ""}),
            ),
            uel_total=total,
            uel_lines=lines_in,
            uel_claims=claims,
            uel_max=max_units,
            uel_over=over,
        )
        fix = combination(
            lambda m, p: FIX_TEXT.get(f"mai{m:g}" if m == m else p, FIX_TEXT["day"]),
            np.where(is_mue, mai, np.nan),
            per,
        )
        evidence = Evidence(
            {
                "units": total,
                "max_units": max_units,
                "per": pd.Categorical(per),
                "excess_units": over,
                "lines": pd.array(lines_in, dtype="Int64"),
                "limit_from": column("limit_from", None),
                "mai": pd.array(np.where(is_mue, mai, np.nan), dtype="Float64").astype("Int64"),
                "mue_file": column("mue_file", None),
                "mue_version": column("mue_version", None),
                "mue_quarter": column("mue_quarter", None),
                "limit_source": column("limit_source", None),
                "confidence": confidence,
                "modifier_50": has_50,
            }
        )
        found = view.findings(
            self,
            flagged,
            severity=choose(confidence, lambda c: SEVERITY_BY_CONFIDENCE.get(c, "medium")),
            message=message,
            evidence=evidence,
            fix=fix,
        )
        return found, flagged
