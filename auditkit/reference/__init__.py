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

The coding-rule audits read these too (``confidence`` as above on every row):

* ``procedures.csv`` also has an optional ``addon_window`` column: ``month`` where an add-on
  needs its primary code in the same calendar month (G3003), blank for the same day.
  ``addon_to`` may name several primary codes, separated by ``;`` (any one of them will do).
  Optional too: ``global_days`` (the Physician Fee Schedule's global surgery indicator: 000,
  010, 090, XXX, YYY, ZZZ or MMM; ``0``, ``10``, ``90`` are read as 000, 010, 090),
  ``modifier_25`` (what the code means for an office visit billed the same day: ``required``,
  25 needed and supported, as beside a 0- or 10-day procedure; ``allowed``, 25 supported but
  its absence not called, as beside 96372 or a 90-day procedure; ``no``, nothing for 25 to
  separate the visit from; blank: worked out from ``global_days``), ``global_source`` and
  ``global_confidence`` (where those two come from, and how sure they are).
* ``imaging_bundles.csv``: imaging, first_code, last_code, rule, use_instead, source. An imaging
  guidance code billed with a code in the range: ``included`` (part of it), ``not_billable``
  (that kind of guidance is not billed with it) or ``wrong_pair`` (bill ``use_instead``).
* ``dx_groups.csv``: family, kind, code, match, from_date, source. ICD-10-CM codes (``exact``)
  or code prefixes (``prefix``) that support a procedure family (``supporting``), are axial or
  nonspecific only (``axial``), or are not valid for services from ``from_date`` (``invalid``).
* ``dx_regions.csv``: code, match, region, source. The spinal region an ICD-10-CM code (or
  prefix) names in its title (``cervical``, ``thoracolumbar``, ``lumbar``, ...);
  :data:`DX_REGION_SPANS` gives the procedure regions of ``spinal_sessions.csv`` it lies in.
* ``unit_limits.csv``: code, max_units, per, source. Units of a code allowed ``per`` claim
  ``line`` (as a claim-line MUE, MAI 1), ``day`` (per patient, rendering provider and date of
  service, across lines and claims, as a date-of-service MUE, MAI 2/3) or calendar ``month``
  (per patient); ``per`` may be left out of a replacement file and is then ``day``.
* ``bilateral_styles.csv``: payer, style, codes, source. How a payer wants a bilateral service:
  ``50`` (one line, modifier 50, 1 unit), ``rtlt`` (an RT line and an LT line) or ``units``
  (one line with 2 units), for its ``primary`` codes, its ``add-on`` codes or ``all`` (the
  default when a replacement file leaves ``codes`` out). Payer names match case-insensitively.
* The procedure-to-procedure (NCCI PTP) code-pair edits are CMS's own files, read by
  :mod:`auditkit.reference.ncci` from ``[reference] ptp`` (``ncci_ptp_default.csv`` when none is
  given); they replaced the former ``code_pair_edits.csv``.
* ``spinal_sessions.csv``: code, kind, region, source. Which codes make an epidural, facet
  injection or radiofrequency ablation session in which spinal region (frequency limits).

``deadlines.csv`` (payer_class, kind, days or months, measured_from, presumed_receipt_days,
source, confidence) holds the filing, corrected-claim and appeal deadlines of the work list per
payer class (``medicare``, ``medicaid``, ``commercial``, ``default``); the commercial, Medicaid
and default rows are defaults (confidence ``V``): see :mod:`auditkit.reference.deadlines`.

``kpi_benchmarks.csv`` (kpi, text, good, fair, higher_is_better, source, confidence) holds the
benchmark of each key indicator in the summary, with the traffic-light thresholds the workbook
uses; read by :func:`kpi_benchmarks`.

A practice can replace any of these files with its own copy (same columns) from the config
file::

    [reference]
    procedures = "my_procedures.csv"   # relative to the config file
    carcs = "my_carcs.csv"
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
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

#: The spinal regions ICD-10-CM code titles name (``dx_regions.csv``) -> the procedure regions
#: of ``spinal_sessions.csv`` each lies in. A thoracolumbar diagnosis lies in both: procedures at
#: the T12-L1 junction are coded with either region's codes (a T12-L1 transforaminal epidural is
#: 64479, CMS billing article A58993).
DX_REGION_SPANS: dict[str, tuple[str, ...]] = {
    "occipito-atlanto-axial": ("cervical-thoracic",),
    "cervical": ("cervical-thoracic",),
    "cervicothoracic": ("cervical-thoracic",),
    "thoracic": ("cervical-thoracic",),
    "thoracolumbar": ("cervical-thoracic", "lumbar-sacral"),
    "lumbar": ("lumbar-sacral",),
    "lumbosacral": ("lumbar-sacral",),
    "sacral": ("lumbar-sacral",),
}

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
    "imaging_bundles": (
        "imaging",
        "first_code",
        "last_code",
        "rule",
        "use_instead",
        "source",
        "confidence",
    ),
    "dx_groups": ("family", "kind", "code", "match", "from_date", "source", "confidence"),
    "dx_regions": ("code", "match", "region", "source", "confidence"),
    "unit_limits": ("code", "max_units", "source", "confidence"),
    "bilateral_styles": ("payer", "style", "source", "confidence"),
    "spinal_sessions": ("code", "kind", "region", "source", "confidence"),
}
#: The Physician Fee Schedule's global surgery indicators ("" where unknown).
GLOBAL_DAYS: tuple[str, ...] = ("000", "010", "090", "XXX", "YYY", "ZZZ", "MMM", "")
#: A blank ``modifier_25`` in procedures.csv, worked out from ``global_days``: 25 is needed
#: beside a minor (0- or 10-day) procedure and supported beside a major (90-day) one or one
#: whose period the MAC sets (YYY); an add-on (ZZZ) takes its primary code's value.
MODIFIER_25_BY_GLOBAL: dict[str, str] = {
    "000": "required",
    "010": "required",
    "090": "allowed",
    "YYY": "allowed",
    "XXX": "no",
    "MMM": "no",
}
#: Columns a reference file may leave out, with the value they take then.
OPTIONAL_COLUMNS: dict[str, dict[str, str]] = {
    "procedures": {
        "addon_window": "",
        "global_days": "",
        "modifier_25": "",
        "global_source": "",
        "global_confidence": "",
    },
    "unit_limits": {"per": "day"},
    "bilateral_styles": {"codes": "all"},
}
#: Columns whose values come from a fixed list, per file ("" where a blank is allowed).
CHOICES: dict[str, dict[str, tuple[str, ...]]] = {
    "procedures": {
        "confidence": ("C", "S", "V"),
        "addon_window": ("day", "month", ""),
        "global_days": GLOBAL_DAYS,
        "modifier_25": ("required", "allowed", "no", ""),
        "global_confidence": ("C", "S", "V", ""),
    },
    "imaging_bundles": {
        "rule": ("included", "not_billable", "wrong_pair"),
        "confidence": ("C", "S", "V"),
    },
    "dx_groups": {
        "kind": ("supporting", "axial", "invalid"),
        "match": ("exact", "prefix"),
        "confidence": ("C", "S", "V"),
    },
    "dx_regions": {
        "match": ("exact", "prefix"),
        "region": tuple(DX_REGION_SPANS),
        "confidence": ("C", "S", "V"),
    },
    "unit_limits": {"per": ("line", "day", "month"), "confidence": ("C", "S", "V")},
    "bilateral_styles": {
        "style": ("50", "rtlt", "units"),
        "codes": ("all", "primary", "add-on", ""),
        "confidence": ("C", "S", "V"),
    },
    "spinal_sessions": {
        "kind": ("epidural", "facet injection", "radiofrequency ablation"),
        "region": ("cervical-thoracic", "lumbar-sacral"),
        "confidence": ("C", "S", "V"),
    },
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
    for col, default in OPTIONAL_COLUMNS.get(name, {}).items():
        if col not in frame.columns:
            frame[col] = default
    for col in ("code", "first_code", "last_code", "addon_to", "imaging", "use_instead"):
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
    _check_coding_columns(name, frame, source)
    return frame


def _bad_value(frame: pd.DataFrame, bad: pd.Series, source: Path, col: str, text: str) -> None:
    """Raise a ConfigError naming the first row where ``bad`` holds."""
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ConfigError(
            f"expected {text}, got '{frame[col].iloc[row]}'", path=source, row=row + 2, column=col
        )


def _normalise_procedures(frame: pd.DataFrame) -> None:
    """In place: several primaries in ``addon_to`` joined by ``;``; a global period typed as a
    number (a spreadsheet drops the zeros: 10 -> 010); a blank ``modifier_25`` worked out from
    ``global_days`` (:data:`MODIFIER_25_BY_GLOBAL`; an add-on takes its first primary's)."""
    primaries = frame["addon_to"].str.upper().str.split(r"[\s;,|/]+", regex=True)
    frame["addon_to"] = primaries.map(lambda codes: ";".join(c for c in codes if c))
    days = frame["global_days"].str.upper()
    numeric = days.str.fullmatch(r"\d{1,3}")
    frame["global_days"] = days.where(~numeric, days.str.zfill(3))
    derived = frame["global_days"].map(MODIFIER_25_BY_GLOBAL).fillna("")
    blank = frame["modifier_25"].eq("")
    own = frame["modifier_25"].str.lower().where(~blank, derived)
    first_primary = frame["addon_to"].str.split(";").str[0]
    of_primary = first_primary.map(dict(zip(frame["code"], own, strict=True))).fillna("")
    addon = frame["global_days"].eq("ZZZ") & frame["addon_to"].ne("")
    frame["modifier_25"] = frame["modifier_25"].where(~blank, own.where(~addon, of_primary))


def _check_coding_columns(name: str, frame: pd.DataFrame, source: Path) -> None:
    """Check (and normalise in place) the columns with fixed values, unit limits and dates."""
    if name == "procedures":
        _normalise_procedures(frame)
    for col, allowed in CHOICES.get(name, {}).items():
        upper = col in ("confidence", "global_confidence", "global_days")
        values = frame[col].str.upper() if upper else frame[col].str.lower()
        listed = ", ".join(repr(a) for a in allowed if a)
        _bad_value(frame, ~values.isin(allowed), source, col, f"one of {listed}")
        frame[col] = values
    if "max_units" in frame.columns:
        units = pd.to_numeric(frame["max_units"], errors="coerce")
        _bad_value(frame, ~(units >= 0), source, "max_units", "a number of units of at least 0")
    if "from_date" in frame.columns:
        dates = pd.to_datetime(frame["from_date"], errors="coerce", format="%Y-%m-%d")
        bad = frame["from_date"].ne("") & dates.isna()
        _bad_value(frame, bad, source, "from_date", "a date as YYYY-MM-DD or a blank")


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


def table(name: str, path: str | Path | None = None) -> pd.DataFrame:
    """Any reference table by name (a key of :data:`TABLE_COLUMNS`), packaged or a replacement."""
    if name not in TABLE_COLUMNS:
        raise ValueError(f"unknown reference table {name!r}")
    return (_packaged(name) if path is None else _read(name, path)).copy()


def kpi_benchmarks() -> pd.DataFrame:
    """The packaged benchmark of each key indicator (``kpi_benchmarks.csv``), one row per KPI."""
    frame = pd.read_csv(HERE / "kpi_benchmarks.csv", dtype=str, keep_default_na=False)
    expected = ["kpi", "text", "good", "fair", "higher_is_better", "source", "confidence"]
    if list(frame.columns) != expected:  # pragma: no cover - a packaging mistake
        raise RuntimeError(f"kpi_benchmarks.csv: expected columns {expected}")
    return frame


@dataclass(frozen=True)
class Reference:
    """The three reference tables an audit run uses (packaged unless the config overrides)."""

    procedures: pd.DataFrame
    families: pd.DataFrame
    carcs: pd.DataFrame
    #: Paths of the user's replacement files (the coding tables are read when an audit asks).
    overrides: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def load(cls, overrides: dict[str, Path] | None = None) -> Reference:
        overrides = overrides or {}
        return cls(
            procedures=procedures(overrides.get("procedures")),
            families=family_ranges(overrides.get("families")),
            carcs=carcs(overrides.get("carcs")),
            overrides=dict(overrides),
        )

    def coding(self, name: str) -> pd.DataFrame:
        """One of the coding-rule tables (imaging_bundles, dx_groups, dx_regions, unit_limits,
        bilateral_styles, spinal_sessions), from the user's file when the config names one."""
        return table(name, self.overrides.get(name))


def procedure_family(
    codes: pd.Series,
    procedures_table: pd.DataFrame | None = None,
    ranges: pd.DataFrame | None = None,
) -> pd.Series:
    """Family of each code ("trigger point", "facet", ..., "other"), as a string Series.

    Codes listed in the procedures table win; then the first matching range of the families
    table; else "other". Work is done once per distinct code, then broadcast back.
    """
    positions, uniques = pd.factorize(codes, use_na_sentinel=True)
    per_code = families_of_distinct(uniques, procedures_table, ranges)
    table = pd.array([*per_code, "other"], dtype="string")  # last slot: missing code
    out = table.take(np.where(positions < 0, len(per_code), positions))
    return pd.Series(out, index=codes.index, dtype="string", name="family")


def families_of_distinct(
    uniques: Any,
    procedures_table: pd.DataFrame | None = None,
    ranges: pd.DataFrame | None = None,
) -> list[str]:
    """The family of each distinct raw code value (``pd.factorize`` uniques; codes are compared
    trimmed and upper-case), see :func:`procedure_family`."""
    table = procedures_table if procedures_table is not None else _packaged("procedures")
    ranges = ranges if ranges is not None else _packaged("families")
    uniq = pd.Series(np.asarray(uniques, dtype=object), dtype="string").str.strip().str.upper()
    family = uniq.map(dict(zip(table["code"], table["family"], strict=True)))
    unresolved = family.isna()
    # Codes are five characters (digits, or a letter then digits, or digits then a letter), so a
    # string comparison between codes of that shape follows the numeric order inside a range.
    shaped = uniq.str.len().eq(5).fillna(False).astype(bool)
    for fam, first, last in ranges[["family", "first_code", "last_code"]].itertuples(index=False):
        inside = unresolved & shaped & uniq.ge(first).fillna(False) & uniq.le(last).fillna(False)
        family = family.mask(inside.astype(bool), fam)
        unresolved &= ~inside.astype(bool)
    return [str(f) for f in family.fillna("other")]


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


# The revenue audits' table (auth-mismatch): codes that need prior authorization, by payer and
# place of service. Registered here so ``[reference] auth_required = "my.csv"`` works; loaders
# and checks are in auditkit.reference.revenue.
TABLE_COLUMNS["auth_required"] = (
    "first_code",
    "last_code",
    "payer",
    "place_of_service",
    "source",
    "confidence",
)
CHOICES["auth_required"] = {"confidence": ("C", "S", "V")}
# The revenue audits' other tables: remark codes and the denial cause they name (denial causes
# of CO-16), and the codes the multiple-procedure rule reduces (underpayment). Described and
# loaded in auditkit.reference.revenue.
TABLE_COLUMNS["rarcs"] = ("code", "meaning", "root_cause", "source", "confidence")
CHOICES["rarcs"] = {"confidence": ("C", "S", "V")}
TABLE_COLUMNS["multiple_procedures"] = ("first_code", "last_code", "rule", "source", "confidence")
CHOICES["multiple_procedures"] = {"rule": ("subject", "exempt"), "confidence": ("C", "S", "V")}
# The work list's deadlines (timely filing, corrected claim, appeal) per payer class; described,
# loaded and checked in auditkit.reference.deadlines.
TABLE_COLUMNS["deadlines"] = (
    "payer_class",
    "kind",
    "days",
    "months",
    "measured_from",
    "source",
    "confidence",
)
OPTIONAL_COLUMNS["deadlines"] = {"presumed_receipt_days": "0"}
CHOICES["deadlines"] = {
    "payer_class": ("medicare", "medicaid", "commercial", "default"),
    "kind": ("timely_filing", "corrected_claim", "appeal", "redetermination"),
    "measured_from": ("date_of_service", "remittance_date"),
    "confidence": ("C", "S", "V"),
}
