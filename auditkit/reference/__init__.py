"""Packaged reference data (procedure codes, procedure families, denial reason codes) and loaders.

The data lives in CSV files next to this module, each row naming its source and, for procedures,
how sure it is (``C`` confirmed by CMS or a payer, ``S`` secondary source, ``V`` unverified):

* ``procedures.csv``: code, family, description (own words), side_specific, bilateral_allowed,
  addon_to, imaging_included, source, confidence.
* ``families.csv``: family, first_code, last_code, source. Code ranges, checked top to bottom;
  the first range holding a code gives its family. Codes listed in ``procedures.csv`` take their
  family from there first.
* ``carcs.csv``: code, meaning, root_cause, source. Claim adjustment reason codes and the
  practice's root-cause group for each (a convention, not a standard: edit it freely).

A practice can replace any of the three files with its own copy (same columns) from the config
file::

    [reference]
    procedures = "my_procedures.csv"   # relative to the config file
    carcs = "my_carcs.csv"
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from auditkit.errors import ConfigError

HERE = Path(__file__).parent

#: Procedure families in report order; every code maps to exactly one of them.
FAMILIES: tuple[str, ...] = (
    "trigger point",
    "joint",
    "epidural",
    "facet",
    "nerve block",
    "neurostimulation",
    "chronic pain management",
    "E/M",
    "other",
)

#: Required columns of each reference file.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "procedures": (
        "code",
        "family",
        "description",
        "side_specific",
        "bilateral_allowed",
        "addon_to",
        "imaging_included",
        "source",
        "confidence",
    ),
    "families": ("family", "first_code", "last_code", "source"),
    "carcs": ("code", "meaning", "root_cause", "source"),
}

_YES_NO = {"yes", "no", "unknown", ""}
#: Claim adjustment group codes (CR appears in old files instead of PI).
CARC_GROUPS: tuple[str, ...] = ("CO", "PR", "OA", "PI", "CR")


def _read(name: str, path: str | Path | None) -> pd.DataFrame:
    """Read one reference CSV (packaged or a user's copy) as text and check its columns."""
    source = Path(path) if path is not None else HERE / f"{name}.csv"
    try:
        frame = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            f"reference file for '{name}' not found", path=source, hint="check [reference] paths"
        ) from None
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ConfigError(
            f"cannot read the {name} reference file as CSV ({exc})".splitlines()[0], path=source
        ) from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in TABLE_COLUMNS[name] if c not in frame.columns]
    if missing:
        raise ConfigError(
            f"the {name} reference file lacks column(s) {', '.join(missing)}",
            path=source,
            hint=f"it needs: {', '.join(TABLE_COLUMNS[name])}",
        )
    frame = frame.apply(lambda col: col.str.strip())
    for col in ("code", "first_code", "last_code", "addon_to"):
        if col in frame.columns:
            frame[col] = frame[col].str.upper()
    if "family" in frame.columns:
        bad = ~frame["family"].isin(FAMILIES)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ConfigError(
                f"unknown family '{frame['family'].iloc[row]}'",
                path=source,
                row=row + 2,  # header is row 1
                column="family",
                hint=f"use one of: {', '.join(FAMILIES)}",
            )
    for col in ("side_specific", "bilateral_allowed", "imaging_included"):
        if col in frame.columns:
            bad = ~frame[col].str.lower().isin(_YES_NO)
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise ConfigError(
                    f"expected yes, no or unknown, got '{frame[col].iloc[row]}'",
                    path=source,
                    row=row + 2,
                    column=col,
                )
            frame[col] = frame[col].str.lower()
    return frame


@functools.cache
def _packaged(name: str) -> pd.DataFrame:
    return _read(name, None)


def procedures(path: str | Path | None = None) -> pd.DataFrame:
    """The procedure-code table (packaged, or a practice's replacement at ``path``)."""
    return (_packaged("procedures") if path is None else _read("procedures", path)).copy()


def family_ranges(path: str | Path | None = None) -> pd.DataFrame:
    """The code ranges that give a procedure family to codes not listed in procedures.csv."""
    return (_packaged("families") if path is None else _read("families", path)).copy()


def carcs(path: str | Path | None = None) -> pd.DataFrame:
    """The claim adjustment reason code table (packaged, or a replacement at ``path``)."""
    return (_packaged("carcs") if path is None else _read("carcs", path)).copy()


@dataclass(frozen=True)
class Reference:
    """The three reference tables an audit run uses (packaged unless the config overrides)."""

    procedures: pd.DataFrame
    families: pd.DataFrame
    carcs: pd.DataFrame

    @classmethod
    def load(cls, overrides: dict[str, Path] | None = None) -> Reference:
        overrides = overrides or {}
        return cls(
            procedures=procedures(overrides.get("procedures")),
            families=family_ranges(overrides.get("families")),
            carcs=carcs(overrides.get("carcs")),
        )


def procedure_family(
    codes: pd.Series,
    procedures_table: pd.DataFrame | None = None,
    ranges: pd.DataFrame | None = None,
) -> pd.Series:
    """Family of each code ("trigger point", "facet", ..., "other"), as a string Series.

    Codes listed in the procedures table win; then the first matching range of the families
    table; else "other". Work is done once per distinct code, then broadcast back.
    """
    table = procedures_table if procedures_table is not None else _packaged("procedures")
    ranges = ranges if ranges is not None else _packaged("families")
    normalised = codes.astype("string").str.strip().str.upper()
    positions, uniques = pd.factorize(normalised, use_na_sentinel=True)
    uniq = pd.Series(uniques, dtype="string")
    family = uniq.map(dict(zip(table["code"], table["family"], strict=True)))
    unresolved = family.isna()
    # Codes are five characters (digits, or a letter then digits, or digits then a letter), so a
    # string comparison between codes of that shape follows the numeric order inside a range.
    shaped = uniq.str.len().eq(5).fillna(False).astype(bool)
    for fam, first, last in ranges[["family", "first_code", "last_code"]].itertuples(index=False):
        inside = unresolved & shaped & uniq.ge(first).fillna(False) & uniq.le(last).fillna(False)
        family = family.mask(inside.astype(bool), fam)
        unresolved &= ~inside.astype(bool)
    family = family.fillna("other").astype("string")
    out = np.where(positions >= 0, family.to_numpy(dtype=object)[np.maximum(positions, 0)], "other")
    return pd.Series(out, index=codes.index, dtype="string", name="family")


def split_carc(code: str) -> tuple[str | None, str]:
    """Split "CO-197" into ("CO", "197"); a bare "197" gives (None, "197")."""
    text = str(code).strip().upper().replace(" ", "")
    for sep in ("-", ":"):
        head, found, tail = text.partition(sep)
        if found and head in CARC_GROUPS:
            return head, tail
    if len(text) > 2 and text[:2] in CARC_GROUPS and text[2:].isalnum():
        return text[:2], text[2:]
    return None, text


def carc_info(code: str, table: pd.DataFrame | None = None) -> dict[str, Any] | None:
    """Meaning and root-cause group of a reason code ("CO-197" or "197"); None if unknown."""
    group, reason = split_carc(code)
    table = table if table is not None else _packaged("carcs")
    hit = table.loc[table["code"] == reason]
    if hit.empty:
        return None
    row = hit.iloc[0]
    return {
        "code": reason,
        "group": group,
        "meaning": row["meaning"],
        "root_cause": row["root_cause"],
        "source": row["source"],
    }


def carc_reason(codes: pd.Series) -> pd.Series:
    """Vectorised: the reason part of each adjustment code ("CO-197" -> "197")."""
    text = codes.astype("string").str.strip().str.upper()
    return text.str.replace(r"^(CO|PR|OA|PI|CR)[-:]?", "", regex=True)
