"""Audit ``bilateral-style-inconsistent``: bilateral services not billed the way the payer wants."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from auditkit.engine.context import Context
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.engine.findings import Evidence
from auditkit.measures.coding import (
    choose,
    coding_view,
    combine,
    concat,
    group_any,
    group_sum,
    literal,
    member,
    template,
)

#: How each style reads in a message.
STYLE_TEXT: dict[str, str] = {
    "50": "one line with modifier 50 and 1 unit",
    "rtlt": "an RT line and an LT line",
    "units": "one line with 2 units",
}


class BilateralStyleInconsistent(Audit):
    """Bilateral service billed differently from the way its payer takes bilateral services.

    Why it matters
    --------------
    Payers disagree on how a service done on both sides is billed: Medicare wants one line with
    modifier 50 and 1 unit (paid at 150%), many commercial payers two lines RT and LT, others one
    line with 2 units. A bilateral service billed the other way is denied, paid for one side
    only, or paid twice and taken back later. A practice usually bills each payer one way; a line
    that breaks the payer's pattern is most likely the error. Modifier 50 on a code that cannot be
    bilateral (an interlaminar epidural, a trigger-point injection) is denied outright.

    What is flagged
    ---------------
    A bilateral service is the lines of one code for one patient on one date of service whose
    code allows bilateral billing (``bilateral_allowed = yes`` in the reference procedure table)
    and that say both sides: one line with 50 and 1 unit (style ``50``), an RT line and an LT line
    (style ``rtlt``), or one line with 2 or more units carrying 50 or both RT and LT (style
    ``units``). A payer's style is judged separately for its primary codes and its add-on codes
    (``addon_to`` set in the procedure table, e.g. 64494): some payers take 64493 with 50 but the
    add-on once per side and level (64494 RT and 64494 LT), so one kind is never compared with
    the other. Each payer's style for a kind of code comes from the ``bilateral_styles``
    reference file (payer names match case-insensitively; its ``codes`` column says ``primary``,
    ``add-on`` or ``all``; the packaged file sets Medicare to ``50`` for all codes, a secondary
    source), else from the payer's own data: the style of at least ``min_share`` of its
    bilateral services of that kind, when it has at least ``min_services`` of them. A bilateral
    service in another style is flagged on its first line: high when the payer's style is
    configured, medium when it is the payer's usual style. Separately, each line with 50 whose
    code does not allow it (``bilateral_allowed = no``, e.g. 62321, 62323, 20552, 20553) is
    flagged high. Voided lines are ignored, and rejected lines are not counted as bilateral
    services. Dollars at risk: the service's lines with a side modifier, each at its paid amount
    when paid, else its expected payment, else its charge (the finding covers those lines).

    How to fix
    ----------
    Rebill the flagged service the way the payer takes bilateral services (see the message) and
    record the payer's rule in the ``bilateral_styles`` file (for all its codes, or a row for its
    primary and one for its add-on codes where they differ) so every line is checked against it.
    Remove 50 from codes that do not allow it: bill the service once, or once per side with RT and
    LT where the code is side-specific.

    Columns needed
    --------------
    Required: cpt, modifiers, payer. Optional: units (one line with 2 units), patient_id (a
    service's lines across claims), date_of_service, claim_id, status (voided and rejected lines),
    paid and charge (dollars).

    Example
    -------
    Flagged: a bilateral lumbar facet injection billed to Medicare as an RT line and an LT line
    (Medicare's configured style is one line with 50), and 50 on a lumbar interlaminar epidural,
    which cannot be bilateral.

        claim_id | patient_id | date_of_service | payer    | cpt   | modifiers | units
        ---------+------------+-----------------+----------+-------+-----------+------
        C4001    | P300       | 2024-03-04      | Medicare | 64493 | RT        | 1
        C4001    | P300       | 2024-03-04      | Medicare | 64493 | LT        | 1
        C4002    | P301       | 2024-03-05      | Aetna    | 62323 | 50        | 1

    Result: 2 high findings: one on the first 64493 line, one on the 62323 line.

    Not flagged: one 64493 line with 50 and 1 unit for Medicare, and the epidural without 50.

        claim_id | patient_id | date_of_service | payer    | cpt   | modifiers | units
        ---------+------------+-----------------+----------+-------+-----------+------
        C4001    | P300       | 2024-03-04      | Medicare | 64493 | 50        | 1
        C4002    | P301       | 2024-03-05      | Aetna    | 62323 |           | 1
    """

    id = "bilateral-style-inconsistent"
    title = "Bilateral services billed against the payer's style"
    severities = ("high", "medium")
    columns = ("cpt", "modifiers", "payer")
    optional_columns = (
        "units",
        "patient_id",
        "date_of_service",
        "claim_id",
        "status",
        "paid",
        "charge",
    )
    thresholds = (
        Threshold(
            "min_services",
            int,
            5,
            "Bilateral services a payer needs before its usual style is used (without a configured style).",
            min=1,
        ),
        Threshold(
            "min_share",
            float,
            0.7,
            "Share of a payer's bilateral services in one style that makes it the payer's usual style.",
            min=0.5,
            max=1,
        ),
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        view = coding_view(lines, context)
        m50, rt, lt = view.has("50"), view.has("RT"), view.has("LT")
        if not (m50 | rt | lt).any():
            raise NothingToAudit("no line carries RT, LT or 50")
        not_allowed = view.procedure_is("bilateral_allowed", "no")
        parts = [self._not_allowed(view, not_allowed & m50 & view.billed)]
        allowed = view.procedure_is("bilateral_allowed", "yes")
        parts.append(self._styles(view, allowed & view.counted, settings, context))
        return concat(parts)

    def _not_allowed(self, view, mask: np.ndarray) -> pd.DataFrame:
        pos = np.flatnonzero(mask)
        message = view.message(
            pos,
            " carries modifier 50, which {where_cpt} does not allow: it is not billed as a "
            "bilateral service.",
        )
        fix = (
            "Remove modifier 50 and bill the service once (or once per side with RT and LT where "
            "the code is side-specific); send a corrected claim."
        )
        return view.findings(self, pos, severity="high", message=message, fix=fix)

    def _styles(
        self, view, candidate: np.ndarray, settings: SimpleNamespace, context: Context
    ) -> pd.DataFrame:
        m50, rt, lt = view.has("50"), view.has("RT"), view.has("LT")
        units_line = candidate & ((m50 & (view.units >= 2)) | (rt & lt))
        fifty_line = candidate & m50 & ~units_line
        # A service is a (patient, day, code) of the candidate lines; every mask below is
        # within the candidates, so the other lines share one group of their own.
        at = np.flatnonzero(candidate)
        service = np.zeros(view.n, dtype=np.int64)
        service[at] = combine(view.session[at], view.code_ids[at] + 1) + 1
        g_units = group_any(service, units_line)
        g_fifty = group_any(service, fifty_line)
        g_rtlt = group_any(service, candidate & rt & ~lt & ~m50) & group_any(
            service, candidate & lt & ~rt & ~m50
        )
        in_service = candidate & (g_units | g_fifty | g_rtlt)
        if not in_service.any():
            return concat([])
        sided = in_service & (m50 | rt | lt)
        dollars = group_sum(service, np.where(sided, view.dollars, 0.0))
        pos = np.flatnonzero(in_service)
        first = ~pd.Series(service[pos]).duplicated().to_numpy()
        pos = pos[first]  # one row per bilateral service: its first line
        style = np.where(g_units[pos], "units", np.where(g_fifty[pos], "50", "rtlt"))
        # A payer's style is judged separately for its primary codes and its add-on codes:
        # many bill an add-on once per side and level (64494 RT, 64494 LT) beside 64493-50.
        addon = view.per_code(view.procedures["addon_to"], "") != ""
        services = pd.DataFrame(
            {
                "pos": pos,
                "service": service[pos],
                "style": style,
                "payer": context.text("ctx.payer", pos).reset_index(drop=True),
                "codes": np.where(addon[view.code_ids[pos]], "add-on", "primary"),
            }
        )
        payers = self._payer_styles(services, settings, context)
        services = services.join(payers, on=["payer", "codes"])
        bad = services[
            services["payer_style"].notna() & (services["style"] != services["payer_style"])
        ].reset_index(drop=True)
        if bad.empty:
            return concat([])
        bad_pos = bad["pos"].to_numpy()
        claims = view.listing_text(service, sided, bad["service"].to_numpy(), codes=False)
        style_said = choose(bad["style"], lambda s: literal(STYLE_TEXT[s]))
        wanted = choose(bad["payer_style"], lambda s: literal(STYLE_TEXT[s]))
        configured = (bad["basis"] == "configured").to_numpy()
        add_on = (bad["codes"] == "add-on").to_numpy()
        why = choose(
            np.where(configured, 2, add_on.astype(np.int64)),
            {
                2: " (configured)",
                1: " on {bil_style_services} of {bil_services} bilateral services of its add-on "
                "codes",
                0: " on {bil_style_services} of {bil_services} bilateral services",
            },
        )
        # Nullable integers: a slice of findings of several audits must not make them floats.
        style_services = pd.array(bad["style_services"].astype(int), dtype="Int64")
        services_n = pd.array(bad["services"].astype(int), dtype="Int64")
        message = view.message(
            bad_pos,
            template(
                " is billed for both sides as ",
                style_said,
                " (claims {bil_claims}); {bil_payer} takes ",
                wanted,
                why,
                ".",
            ),
            bil_claims=claims,
            bil_payer=bad["payer"],
            bil_style_services=style_services,
            bil_services=services_n,
        )
        evidence = Evidence(
            {
                "style": pd.Categorical(bad["style"]),
                "payer_style": pd.Categorical(bad["payer_style"]),
                "basis": pd.Categorical(bad["basis"]),
                "payer_bilateral_services": services_n,
                "payer_style_services": style_services,
                "claims": claims,
                "codes": pd.Categorical(bad["codes"]),
            }
        )
        severity = np.where(configured, "high", "medium")
        payer = pd.Categorical(bad["payer"])
        fix = template(
            "Rebill the service as ",
            choose(bad["payer_style"], STYLE_TEXT),
            " for ",
            payer,
            " and send a corrected claim.",
        )
        found = view.findings(
            self,
            bad_pos,
            severity=severity,
            message=message,
            dollars=dollars[bad_pos],
            evidence=evidence,
            fix=fix,
        )
        # The dollars are the service's sided lines': the finding covers all of them.
        label = np.full(view.n, -1, dtype=np.int64)
        flagged = sided & member(service, bad["service"].to_numpy())
        label[flagged] = pd.Index(bad["service"].to_numpy()).get_indexer(service[flagged])
        if view.lines is context.lines:
            found["covers"] = context.covers_of(label, len(bad)).astype("str")
        return found

    @staticmethod
    def _payer_styles(
        services: pd.DataFrame, settings: SimpleNamespace, context: Context
    ) -> pd.DataFrame:
        """Per payer and kind of code (primary, add-on): its style (configured, else its usual
        one when clear), and counts."""
        counts = services.groupby(["payer", "codes"]).style.value_counts().unstack(fill_value=0)
        total = counts.sum(axis=1)
        top = counts.idxmax(axis=1)
        top_n = counts.max(axis=1)
        clear = (total >= settings.min_services) & (top_n >= settings.min_share * total)
        table = context.reference.coding("bilateral_styles")
        # A row for "primary" or "add-on" codes wins over the payer's row for "all" codes.
        configured: dict[tuple[str, str], str] = {}
        for payer, style, codes in table[["payer", "style", "codes"]].itertuples(index=False):
            for kind in ("primary", "add-on") if codes in ("all", "") else (codes,):
                key = (str(payer).casefold(), kind)
                if codes in (kind,) or key not in configured:
                    configured[key] = style
        by_config = pd.Series(
            [configured.get((str(p).casefold(), k)) for p, k in counts.index], index=counts.index
        )
        style = by_config.where(by_config.notna(), top.where(clear))
        style_n = pd.Series(
            [
                counts.at[key, s] if isinstance(s, str) and s in counts.columns else 0
                for key, s in style.items()
            ],
            index=counts.index,
        )
        return pd.DataFrame(
            {
                "payer_style": style,
                "basis": np.where(by_config.notna(), "configured", "usual"),
                "services": total,
                "style_services": style_n,
            }
        )
