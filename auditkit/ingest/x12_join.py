"""Join remittance lines (from 835 files) to the claim lines of a PM export.

The rules are documented in :mod:`auditkit.ingest.x12` (section "Joining to an export").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from auditkit import claims as canonical
from auditkit.ingest.x12_lines import net_reversals

#: Columns the remittance fills where the export lacks them (column absent or value missing).
FILL_COLUMNS: tuple[str, ...] = (
    "paid",
    "allowed",
    "adjustment",
    "patient_responsibility",
    "status",
    "denial_codes",
    "remark_codes",
    "paid_date",
)
#: Filled from a claim-level remittance row (a CLP without SVC) onto every line of the claim.
_CLAIM_LEVEL_FILL = ("status", "denial_codes", "remark_codes", "paid_date")
_EXAMPLES = 10


@dataclass
class JoinReport:
    """How remittance lines met the export. Examples are claim ids only (no patient data)."""

    remit_lines: int = 0
    export_lines: int = 0
    matched_by_line_control: int = 0  # remittance lines matched by claim id + line number
    matched_by_date_and_code: int = 0  # ... by claim id + date of service + code
    matched_by_claim: int = 0  # claim-level remittance rows (no SVC) matched by claim id
    unmatched_remit_lines: int = 0
    unmatched_remit_examples: list[str] = field(default_factory=list)
    unmatched_claims: int = 0  # export claims no remittance line reached
    unmatched_claim_examples: list[str] = field(default_factory=list)
    export_lines_matched: int = 0
    export_lines_with_several_remits: int = 0
    reversals_netted: int = 0
    reversals_unmatched: int = 0
    filled: dict[str, int] = field(default_factory=dict)  # column -> values filled

    def __str__(self) -> str:
        def count(n: int, one: str) -> str:
            return f"{n:,} {one if n == 1 else one + 's'}"

        matched = self.matched_by_line_control + self.matched_by_date_and_code
        claim_level = self.matched_by_claim
        remits = count(self.remit_lines, "remittance line")
        exports = count(self.export_lines, "export line")
        if not matched and not claim_level:
            parts = [f"Remittances: none of the {remits} matched any of the {exports}"]
        else:
            how = []
            if self.matched_by_line_control:
                how.append(f"{self.matched_by_line_control:,} by claim id and line control number")
            if self.matched_by_date_and_code:
                how.append(
                    f"{self.matched_by_date_and_code:,} by claim id, date of service and code"
                )
            text = f"Remittances: {matched:,} of the {remits} matched an export line"
            if how:
                text += f" ({', '.join(how)})"
            if claim_level:
                text += f", {count(claim_level, 'claim-level row')} matched by claim id"
            parts = [text, f"{self.export_lines_matched:,} of the {exports} have a remittance"]
        if self.reversals_netted or self.reversals_unmatched:
            parts.append(
                f"{count(self.reversals_netted, 'reversal')} netted against their original "
                f"payment, {self.reversals_unmatched:,} without one kept as voided"
            )
        if self.unmatched_remit_lines:
            parts.append(
                f"{count(self.unmatched_remit_lines, 'remittance line')} matched no export line "
                f"(claims {', '.join(self.unmatched_remit_examples)})"
            )
        if self.unmatched_claims:
            parts.append(
                f"{count(self.unmatched_claims, 'export claim')} without a remittance "
                f"(e.g. {', '.join(self.unmatched_claim_examples)})"
            )
        if self.export_lines_with_several_remits:
            parts.append(
                f"{count(self.export_lines_with_several_remits, 'export line')} with several "
                "remittance lines (paid amounts summed, the rest from the latest)"
            )
        filled = ", ".join(f"{col} on {count(n, 'line')}" for col, n in self.filled.items() if n)
        parts.append(f"filled from the remittances: {filled}" if filled else "nothing filled")
        return "; ".join(parts) + "."


def _claim_key(values: pd.Series) -> pd.Series:
    """Claim ids compared upper-case, trimmed, and without leading zeros when all digits.

    Spreadsheet exports often drop the leading zeros the 835 keeps (0001000055 vs 1000055).
    """
    text = values.astype("string").str.strip().str.upper()
    digits = text.str.fullmatch(r"\d+").fillna(False).astype(bool)
    stripped = text.str.lstrip("0").mask(lambda s: s == "", "0")
    return text.mask(digits, stripped)


def _occurrence(frame: pd.DataFrame, group: list[str]) -> pd.Series:
    """Number lines sharing ``group`` 0, 1, ... ordered by modifiers, then by position."""
    order = frame.sort_values(["modifiers", "position"], kind="stable")
    return order.groupby(group, sort=False).cumcount().reindex(frame.index)


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame({"r": pd.Series(dtype="int64"), "e": pd.Series(dtype="int64")})


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    """``column`` as trimmed upper-case text (all missing when the frame lacks it)."""
    if column not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[column].astype("string").str.strip().str.upper()


def _day(frame: pd.DataFrame) -> pd.Series:
    """The date of service without its time (all missing when the frame lacks it)."""
    if "date_of_service" not in frame:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    return pd.to_datetime(frame["date_of_service"]).dt.normalize()


def _export_keys(claims: pd.DataFrame) -> pd.DataFrame:
    """The export's match keys, one row per export line (``position`` is its place, 0..n-1)."""
    n_export = len(claims)
    return pd.DataFrame(
        {
            "claim": _claim_key(claims["claim_id"]).to_numpy(),
            "cpt": _text(claims, "cpt").to_numpy(),
            "dos": _day(claims).to_numpy(),
            "modifiers": _text(claims, "modifiers").fillna("").to_numpy(),
            "line": (
                claims["line_number"].astype("Int64").astype("string").to_numpy()
                if "line_number" in claims
                else pd.array([pd.NA] * n_export, dtype="string")
            ),
            "position": np.arange(n_export),
        }
    )


def _remit_keys(remits: pd.DataFrame) -> pd.DataFrame:
    """The remittance lines' match keys; ``adjudication`` tells one adjudicated claim (CLP)."""
    control = _text(remits, "line_control_number")
    return pd.DataFrame(
        {
            "claim": _claim_key(remits["claim_id"]).to_numpy(),
            "cpt": _text(remits, "cpt").to_numpy(),
            "dos": _day(remits).to_numpy(),
            "modifiers": _text(remits, "modifiers").fillna("").to_numpy(),
            # REF*6R compared as a number when it is one (0002 matches line 2)
            "line": control.str.lstrip("0").where(control.str.fullmatch(r"\d+").fillna(False)),
            "adjudication": (
                remits["source_file"].astype("string").fillna("")
                + "#"
                + remits["clp_segment"].astype("string").fillna("")
                if {"source_file", "clp_segment"} <= set(remits.columns)
                else pd.Series(np.arange(len(remits)).astype(str))
            ).to_numpy(),
            "position": np.arange(len(remits)),
        }
    )


def _pairs(merged: pd.DataFrame) -> pd.DataFrame:
    """Merged key rows as (remittance position ``r``, export position ``e``) pairs."""
    return merged.rename(columns={"position_r": "r", "position_e": "e"})[["r", "e"]]


def _match_by_line_control(rem: pd.DataFrame, exp: pd.DataFrame) -> pd.DataFrame:
    """Step 1: claim id + line control number (REF*6R against the export's line number)."""
    left = rem[rem["line"].notna()]
    right = exp[exp["line"].notna()]
    merged = left.merge(right, on=["claim", "line"], suffixes=("_r", "_e"))
    return _pairs(merged.sort_values("position_e").drop_duplicates("position_r"))


def _match_by_date_and_code(rem: pd.DataFrame, exp: pd.DataFrame, done: np.ndarray) -> pd.DataFrame:
    """Step 2: claim id + date of service + code, for remittance lines not yet matched.

    The k-th such line of one adjudicated claim meets the k-th such line of the export's claim
    (ordered by modifiers), so RT meets RT.
    """
    left = rem[~done & rem["cpt"].notna() & rem["dos"].notna()].copy()
    right = exp[exp["cpt"].notna() & exp["dos"].notna()].copy()
    if not (len(left) and len(right)):
        return _empty_pairs()
    left["k"] = _occurrence(left, ["adjudication", "claim", "dos", "cpt"])
    right["k"] = _occurrence(right, ["claim", "dos", "cpt"])
    return _pairs(left.merge(right, on=["claim", "dos", "cpt", "k"], suffixes=("_r", "_e")))


def _match_claim_level(
    rem: pd.DataFrame, exp: pd.DataFrame, done: np.ndarray, reached: np.ndarray
) -> pd.DataFrame:
    """Step 3: claim-level rows (a CLP without SVC) meet every export line of that claim that
    no remittance line reached yet."""
    left = rem[~done & rem["cpt"].isna()]
    right = exp[~reached]
    if not (len(left) and len(right)):
        return _empty_pairs()
    return _pairs(left.merge(right, on="claim", suffixes=("_r", "_e")))


@dataclass
class _Matches:
    """The pairs each step found, and which remittance lines met an export line."""

    by_line_control: pd.DataFrame
    by_date_and_code: pd.DataFrame
    by_claim: pd.DataFrame
    done: np.ndarray  # per remittance line

    def pairs(self) -> pd.DataFrame:
        """All pairs (``r``, ``e``, ``claim_level``), step by step."""
        return pd.concat(
            [
                self.by_line_control.assign(claim_level=False),
                self.by_date_and_code.assign(claim_level=False),
                self.by_claim.assign(claim_level=True),
            ],
            ignore_index=True,
        )


def _match(rem: pd.DataFrame, exp: pd.DataFrame, by_line_number: bool) -> _Matches:
    """Run the three matching steps, each on the remittance lines the earlier ones left."""
    step1 = _match_by_line_control(rem, exp) if by_line_number else _empty_pairs()
    done = np.zeros(len(rem), dtype=bool)
    done[step1["r"].to_numpy()] = True
    step2 = _match_by_date_and_code(rem, exp, done)
    done[step2["r"].to_numpy()] = True
    reached = np.zeros(len(exp), dtype=bool)
    reached[np.concatenate([step1["e"].to_numpy(), step2["e"].to_numpy()])] = True
    step3 = _match_claim_level(rem, exp, done, reached)
    done[step3["r"].to_numpy()] = True
    return _Matches(step1, step2, step3, done)


def _count_matches(
    report: JoinReport,
    matches: _Matches,
    pairs: pd.DataFrame,
    claims: pd.DataFrame,
    remits: pd.DataFrame,
    claim_keys: pd.Series,
) -> None:
    """Fill the report's match counts and unmatched examples (claim ids only)."""
    done = matches.done
    report.matched_by_line_control = len(matches.by_line_control)
    report.matched_by_date_and_code = len(matches.by_date_and_code)
    report.matched_by_claim = int(matches.by_claim["r"].nunique())
    report.unmatched_remit_lines = int((~done).sum())
    report.unmatched_remit_examples = (
        remits.loc[~done, "claim_id"].astype(str).drop_duplicates().head(_EXAMPLES).tolist()
    )
    matched = np.zeros(len(claims), dtype=bool)
    matched[pairs["e"].to_numpy()] = True
    report.export_lines_matched = int(matched.sum())
    report.export_lines_with_several_remits = int((pairs["e"].value_counts() > 1).sum())
    seen_claims = set(claim_keys[matched].dropna())
    lonely = claims.loc[~claim_keys.isin(seen_claims).to_numpy(), "claim_id"].astype(str)
    lonely = lonely.drop_duplicates()
    report.unmatched_claims = len(lonely)
    report.unmatched_claim_examples = lonely.head(_EXAMPLES).tolist()


def _order_by_payment(pairs: pd.DataFrame, remits: pd.DataFrame) -> pd.DataFrame:
    """The pairs ordered by export line, then paid date (missing first), then remittance line."""
    order = pd.DataFrame({"e": pairs["e"], "r": pairs["r"], "claim_level": pairs["claim_level"]})
    paid_date = (
        remits["paid_date"] if "paid_date" in remits else pd.Series(pd.NaT, index=remits.index)
    )
    order["when"] = paid_date.to_numpy()[order["r"].to_numpy()]
    return order.sort_values(["e", "when", "r"], na_position="first")


def _remit_values(
    column: str, source: pd.Series, order: pd.DataFrame, latest: pd.DataFrame
) -> pd.Series:
    """One value per matched export line (indexed by its position): ``paid`` summed over its
    remittance lines, the rest from the latest; line-level columns not from claim-level rows."""
    if column == "paid":
        # a claim-level row's paid is the claim's total: spread only when it is zero
        each = source.iloc[order["r"].to_numpy()].set_axis(order["e"].to_numpy())
        each = each.mask(order["claim_level"].to_numpy() & (each != 0).to_numpy())
        return each.groupby(level=0).sum(min_count=1)
    values = source.iloc[latest["r"].to_numpy()].set_axis(latest.index)
    if column not in _CLAIM_LEVEL_FILL:
        values = values.mask(latest["claim_level"])
    return values


def _fill_column(out: pd.DataFrame, column: str, full: pd.Series) -> int | None:
    """Put ``full`` into ``out[column]`` where the export lacks a value; returns how many values
    were filled, or ``None`` when the column is absent and nothing reached it (left absent)."""
    if column not in out:
        if not full.notna().any():
            return None  # no remittance reached the export: the column stays absent
        missing = pd.Series(True, index=out.index)
        out[column] = full
    else:
        missing = out[column].isna()
        if column in canonical.LIST_COLUMNS:
            missing |= out[column].astype("string").fillna("").str.strip() == ""
        out[column] = out[column].mask(missing, full)
    placed = full.notna()
    if column in canonical.LIST_COLUMNS:
        placed &= full.astype("string").fillna("") != ""
    return int((missing & placed).sum())


def _fill(
    claims: pd.DataFrame, remits: pd.DataFrame, pairs: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The export with :data:`FILL_COLUMNS` completed from the matched remittance lines, and
    how many values each column got."""
    order = _order_by_payment(pairs, remits)
    latest = order.drop_duplicates("e", keep="last").set_index("e")
    out = claims.copy()
    filled: dict[str, int] = {}
    for column in FILL_COLUMNS:
        if column not in remits:
            continue
        values = _remit_values(column, remits[column], order, latest)
        full = values.reindex(range(len(claims))).set_axis(out.index)
        count = _fill_column(out, column, full)
        if count is not None:
            filled[column] = count
    return out, filled


def join_remits(claims: pd.DataFrame, remit_lines: pd.DataFrame) -> tuple[pd.DataFrame, JoinReport]:
    """Fill an export's missing payment columns from remittance lines.

    ``claims`` is a canonical export frame, ``remit_lines`` canonical lines read from 835 files
    (one or many, concatenated). Returns the export (same rows, same index) with
    :data:`FILL_COLUMNS` completed where present, added where absent (unless no remittance line
    reached the export, so "not exported" stays visible), and a :class:`JoinReport`.
    """
    remits, netted, lone_reversals = net_reversals(remit_lines)
    remits = remits.reset_index(drop=True)
    report = JoinReport(
        remit_lines=len(remits),
        export_lines=len(claims),
        reversals_netted=netted,
        reversals_unmatched=lone_reversals,
    )
    exp = _export_keys(claims)
    matches = _match(_remit_keys(remits), exp, by_line_number="line_number" in claims)
    pairs = matches.pairs()
    _count_matches(report, matches, pairs, claims, remits, exp["claim"])
    out, report.filled = _fill(claims, remits, pairs)
    return canonical.conform(out), report
