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
        parts = [
            f"Remittances: {self.remit_lines:,} line(s) joined to {self.export_lines:,} export "
            f"line(s): {self.matched_by_line_control:,} matched by claim id and line control "
            f"number, {self.matched_by_date_and_code:,} by claim id, date of service and code, "
            f"{self.matched_by_claim:,} claim-level by claim id"
        ]
        if self.reversals_netted or self.reversals_unmatched:
            parts.append(
                f"{self.reversals_netted:,} reversal(s) netted against their original payment, "
                f"{self.reversals_unmatched:,} without one kept as voided"
            )
        if self.unmatched_remit_lines:
            parts.append(
                f"{self.unmatched_remit_lines:,} remittance line(s) match no export line "
                f"(claims {', '.join(self.unmatched_remit_examples)})"
            )
        if self.unmatched_claims:
            parts.append(
                f"{self.unmatched_claims:,} export claim(s) have no remittance "
                f"(e.g. {', '.join(self.unmatched_claim_examples)})"
            )
        if self.export_lines_with_several_remits:
            parts.append(
                f"{self.export_lines_with_several_remits:,} export line(s) have several "
                "remittance lines (paid amounts summed, the rest from the latest)"
            )
        filled = ", ".join(f"{col} on {n:,}" for col, n in self.filled.items() if n)
        parts.append(f"filled {filled}" if filled else "nothing filled")
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
    n_export = len(claims)

    def text(frame: pd.DataFrame, column: str) -> pd.Series:
        if column not in frame:
            return pd.Series(pd.NA, index=frame.index, dtype="string")
        return frame[column].astype("string").str.strip().str.upper()

    def day(frame: pd.DataFrame) -> pd.Series:
        if "date_of_service" not in frame:
            return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        return pd.to_datetime(frame["date_of_service"]).dt.normalize()

    exp = pd.DataFrame(
        {
            "claim": _claim_key(claims["claim_id"]).to_numpy(),
            "cpt": text(claims, "cpt").to_numpy(),
            "dos": day(claims).to_numpy(),
            "modifiers": text(claims, "modifiers").fillna("").to_numpy(),
            "line": (
                claims["line_number"].astype("Int64").astype("string").to_numpy()
                if "line_number" in claims
                else pd.array([pd.NA] * n_export, dtype="string")
            ),
            "position": np.arange(n_export),
        }
    )
    control = text(remits, "line_control_number")
    rem = pd.DataFrame(
        {
            "claim": _claim_key(remits["claim_id"]).to_numpy(),
            "cpt": text(remits, "cpt").to_numpy(),
            "dos": day(remits).to_numpy(),
            "modifiers": text(remits, "modifiers").fillna("").to_numpy(),
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

    # 1. claim id + line control number (REF*6R against the export's line number)
    step1 = _empty_pairs()
    if "line_number" in claims:
        left = rem[rem["line"].notna()]
        right = exp[exp["line"].notna()]
        step1 = left.merge(right, on=["claim", "line"], suffixes=("_r", "_e"))
        step1 = step1.sort_values("position_e").drop_duplicates("position_r")
        step1 = step1.rename(columns={"position_r": "r", "position_e": "e"})[["r", "e"]]
    done = np.zeros(len(rem), dtype=bool)
    done[step1["r"].to_numpy()] = True

    # 2. claim id + date of service + code; the k-th such line of one adjudicated claim meets
    #    the k-th such line of the export's claim (ordered by modifiers), so RT meets RT
    step2 = _empty_pairs()
    left = rem[~done & rem["cpt"].notna() & rem["dos"].notna()].copy()
    right = exp[exp["cpt"].notna() & exp["dos"].notna()].copy()
    if len(left) and len(right):
        left["k"] = _occurrence(left, ["adjudication", "claim", "dos", "cpt"])
        right["k"] = _occurrence(right, ["claim", "dos", "cpt"])
        step2 = left.merge(right, on=["claim", "dos", "cpt", "k"], suffixes=("_r", "_e"))
        step2 = step2.rename(columns={"position_r": "r", "position_e": "e"})[["r", "e"]]
    done[step2["r"].to_numpy()] = True

    # 3. claim-level rows (a CLP without SVC): every export line of that claim still unmatched
    step3 = _empty_pairs()
    reached = np.zeros(n_export, dtype=bool)
    reached[np.concatenate([step1["e"].to_numpy(), step2["e"].to_numpy()])] = True
    left = rem[~done & rem["cpt"].isna()]
    right = exp[~reached]
    if len(left) and len(right):
        step3 = left.merge(right, on="claim", suffixes=("_r", "_e"))
        step3 = step3.rename(columns={"position_r": "r", "position_e": "e"})[["r", "e"]]
    done[step3["r"].to_numpy()] = True

    report.matched_by_line_control = len(step1)
    report.matched_by_date_and_code = len(step2)
    report.matched_by_claim = int(step3["r"].nunique())
    report.unmatched_remit_lines = int((~done).sum())
    report.unmatched_remit_examples = (
        remits.loc[~done, "claim_id"].astype(str).drop_duplicates().head(_EXAMPLES).tolist()
    )

    pairs = pd.concat(
        [
            step1.assign(claim_level=False),
            step2.assign(claim_level=False),
            step3.assign(claim_level=True),
        ],
        ignore_index=True,
    )
    matched = np.zeros(n_export, dtype=bool)
    matched[pairs["e"].to_numpy()] = True
    report.export_lines_matched = int(matched.sum())
    report.export_lines_with_several_remits = int((pairs["e"].value_counts() > 1).sum())
    claim_keys = exp["claim"]
    seen_claims = set(claim_keys[matched].dropna())
    lonely = claims.loc[~claim_keys.isin(seen_claims).to_numpy(), "claim_id"].astype(str)
    lonely = lonely.drop_duplicates()
    report.unmatched_claims = len(lonely)
    report.unmatched_claim_examples = lonely.head(_EXAMPLES).tolist()

    # one value per export line: paid summed over its remittance lines, the rest from the latest
    order = pd.DataFrame({"e": pairs["e"], "r": pairs["r"], "claim_level": pairs["claim_level"]})
    paid_date = (
        remits["paid_date"] if "paid_date" in remits else pd.Series(pd.NaT, index=remits.index)
    )
    order["when"] = paid_date.to_numpy()[order["r"].to_numpy()]
    order = order.sort_values(["e", "when", "r"], na_position="first")
    latest = order.drop_duplicates("e", keep="last").set_index("e")
    out = claims.copy()
    filled: dict[str, int] = {}
    for column in FILL_COLUMNS:
        if column not in remits:
            continue
        source = remits[column]
        values = source.iloc[latest["r"].to_numpy()].set_axis(latest.index)
        if column not in _CLAIM_LEVEL_FILL:
            values = values.mask(latest["claim_level"])
        if column == "paid":
            # a claim-level row's paid is the claim's total: spread only when it is zero
            each = source.iloc[order["r"].to_numpy()].set_axis(order["e"].to_numpy())
            each = each.mask(order["claim_level"].to_numpy() & (each != 0).to_numpy())
            values = each.groupby(level=0).sum(min_count=1)
        full = values.reindex(range(n_export)).set_axis(out.index)
        if column not in out:
            if not full.notna().any():
                continue  # no remittance reached the export: the column stays absent
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
        filled[column] = int((missing & placed).sum())
    report.filled = filled
    return canonical.conform(out), report
