"""Side tables for the revenue audits: an authorization export and a contract fee schedule.

They are read with the claim exports' machinery: the same sniffing and readers (CSV/TSV/TXT in
any of the encodings the loader knows, XLSX/XLS with title rows and total rows), the same
header keys and synonym matching (``Auth #`` = ``auth no``), the same cell normalisers (money,
dates, codes, places of service) and the same problem reports (:class:`FileReport`). Headers are
recognised from each table's own spellings below plus the claim-export spellings of the column
it resembles (a fee schedule's ``CPT Code`` or ``Payer`` header is found like a claim export's).

**Authorization export** (``--auths FILE``), one row per authorization:

==========================  =========  ==========================================================
column                      required   meaning
==========================  =========  ==========================================================
``authorization_number``    yes        the number the payer issued (compared ignoring case,
                                       spaces and dashes)
``patient_id``              yes        the patient's account, as in the claim export
``approved_codes``          yes        codes approved, several in one cell ("64493, 64494") or one
                                       per row
``payer``                   no         payer the authorization is from
``approved_units``          no         units approved for each code over the authorization
``start_date``/``end_date`` no         the date range; a blank end means open-ended
==========================  =========  ==========================================================

**Contract fee schedule** (``--fee-schedule FILE``), one row per payer and code:

======================  =========  ==============================================================
column                  required   meaning
======================  =========  ==============================================================
``cpt``                 yes        the code
``allowed``             yes        the contracted allowed amount for one unit
``payer``               no         the payer; blank means every payer without its own row
``modifier``            no         a modifier the amount is for (26, TC, ...); blank for none
``place_of_service``    no         a place of service the amount is for (facility rates); blank
                                   for any
======================  =========  ==============================================================

A mapping file names headers the detection does not know, in the same shape as a claim mapping
file (``[columns] approved_codes = "Services Approved"``).
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from auditkit.claims import LIST_SEP
from auditkit.errors import ConfigError, InputError
from auditkit.ingest import normalise as norm
from auditkit.ingest.footers import interior_non_data
from auditkit.ingest.headers import (
    MIN_RECOGNISED,
    SynonymTable,
    best_header_row,
    header_key,
    synonyms,
)
from auditkit.ingest.model import FileReport, RowProblem
from auditkit.ingest.readers import Candidate
from auditkit.ingest.sniff import sniff
from auditkit.ingest.text_reader import TextSource
from auditkit.ingest.workbook_reader import WorkbookSource

#: Examples of bad cells kept per column in the report.
MAX_EXAMPLES = 100
_CODE = r"\d{4}[0-9A-Z]|[A-Z]\d{4}"


@dataclass(frozen=True)
class SideColumn:
    """One column of a side table."""

    name: str
    kind: str  # text, codes, code, modifier, number, money, date, pos
    required: bool
    meaning: str
    spellings: tuple[str, ...] = ()
    #: Canonical claim column whose header spellings also name this column.
    like: str | None = None

    @property
    def dtype(self) -> str:
        return {
            "number": "Float64",
            "money": "float64",
            "date": "datetime64[ns]",
        }.get(self.kind, "string")


@dataclass(frozen=True)
class SideSpec:
    """A side table: its name for messages, the command-line option and its columns."""

    kind: str
    what: str
    option: str
    columns: tuple[SideColumn, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> SideColumn:
        return next(c for c in self.columns if c.name == name)


AUTHORIZATIONS = SideSpec(
    "auths",
    "an authorization export",
    "--auths FILE",
    (
        SideColumn(
            "authorization_number",
            "text",
            True,
            "Number the payer issued.",
            (
                "Authorization Number", "Authorization #", "Authorization No", "Auth Number",
                "Auth #", "Auth No", "Auth ID", "Authorization", "Auth", "Prior Auth",
                "Prior Auth #", "Prior Authorization", "Prior Authorization Number",
                "Reference #", "Reference Number", "Ref #", "Certification #",
                "Certification Number", "Cert #", "UTN", "Tracking Number",
            ),
            like="authorization_number",
        ),
        SideColumn("patient_id", "text", True, "Patient account or MRN.", (), like="patient_id"),
        SideColumn(
            "approved_codes",
            "codes",
            True,
            "Codes approved (one or several per cell).",
            (
                "Approved Codes", "Approved Code", "Approved CPT", "Approved CPT Codes",
                "Approved Procedures", "Approved Services", "Authorized Codes",
                "Authorized CPT", "Authorized Services", "Auth Codes", "Auth CPT", "CPT Codes",
                "Procedure Codes", "Service Codes", "Services",
            ),
            like="cpt",
        ),
        SideColumn("payer", "text", False, "Payer that issued it.", (), like="payer"),
        SideColumn(
            "approved_units",
            "number",
            False,
            "Units approved per code over the authorization.",
            (
                "Approved Units", "Units Approved", "Authorized Units", "Units Authorized",
                "Auth Units", "Approved Visits", "Visits Approved", "Authorized Visits",
                "Number of Visits", "Qty Approved", "Approved Qty",
            ),
            like="units",
        ),
        SideColumn(
            "start_date",
            "date",
            False,
            "First date the authorization covers.",
            (
                "Start Date", "Start", "Auth Start", "Auth Start Date", "Effective Date",
                "Effective From", "Eff Date", "Valid From", "Approved From", "Begin Date",
                "From",
            ),
        ),
        SideColumn(
            "end_date",
            "date",
            False,
            "Last date the authorization covers.",
            (
                "End Date", "End", "Auth End", "Auth End Date", "Expiration Date", "Expiry Date",
                "Expires", "Exp Date", "Valid To", "Valid Through", "Valid Thru",
                "Approved Through", "Through Date", "Thru Date", "Through", "Thru", "To",
            ),
        ),
    ),
)  # fmt: skip

FEE_SCHEDULE = SideSpec(
    "fee_schedule",
    "a contract fee schedule",
    "--fee-schedule FILE",
    (
        SideColumn("cpt", "code", True, "Code.", ("Code",), like="cpt"),
        SideColumn(
            "allowed",
            "money",
            True,
            "Contracted allowed amount for one unit.",
            (
                "Allowed", "Allowed Amount", "Allowed Amt", "Contract Allowed", "Contract Rate",
                "Contracted Rate", "Contract Amount", "Contracted Amount", "Contract Fee", "Fee",
                "Fee Amount", "Fee Schedule", "Fee Schedule Amount", "Rate", "Expected",
                "Expected Payment", "Expected Allowed", "Reimbursement",
            ),
            like="allowed",
        ),
        SideColumn("payer", "text", False, "Payer (blank: every payer).", (), like="payer"),
        SideColumn(
            "modifier",
            "modifier",
            False,
            "Modifier the amount is for (blank: none).",
            ("Modifier", "Mod", "Modifiers", "Mod 1", "Modifier 1"),
            like="modifiers",
        ),
        SideColumn(
            "place_of_service",
            "pos",
            False,
            "Place of service the amount is for (blank: any).",
            ("Place of Service", "POS", "Setting POS"),
            like="place_of_service",
        ),
    ),
)  # fmt: skip

SPECS: dict[str, SideSpec] = {s.kind: s for s in (AUTHORIZATIONS, FEE_SCHEDULE)}


@dataclass
class SideTable:
    """A side table read from a file (or built from a DataFrame) and how it was read."""

    kind: str  # "auths" or "fee_schedule"
    frame: pd.DataFrame
    report: FileReport = field(default_factory=lambda: FileReport(path="(in memory)"))

    def __len__(self) -> int:
        return len(self.frame)


# --------------------------------------------------------------------------------------------
# header recognition


def _table(spec: SideSpec) -> SynonymTable:
    """The spec's synonym table: its own spellings first, then the claim-export spellings of
    the column each one resembles (a key already taken keeps its first owner)."""
    whole: dict[str, tuple[str, int]] = {}
    for col in spec.columns:
        for priority, spelling in enumerate([col.name, *col.spellings]):
            key = header_key(spelling)
            owner = whole.get(key)
            if owner is not None and owner[0] != col.name:
                raise ValueError(f"{spec.kind}: {spelling!r} listed for {owner[0]} and {col.name}")
            whole.setdefault(key, (col.name, priority))
    claims = synonyms()
    for col in spec.columns:
        if col.like is None:
            continue
        for key in claims.spellings(col.like):
            whole.setdefault(key, (col.name, 100 + claims.whole[key][1]))
    return SynonymTable(whole, ())


def _match(
    headers: list[str], table: SynonymTable, mapping: dict[str, str], where: str, source: str
) -> tuple[dict[str, int], list[str]]:
    """Column name -> header position: the mapping first, then the best-ranked spelling."""
    positions: dict[str, int] = {}
    used: set[int] = set()
    for name, wanted in mapping.items():
        if not wanted:
            continue
        pos = next((p for p, h in enumerate(headers) if h.strip() == wanted.strip()), None)
        if pos is None:
            pos = next(
                (p for p, h in enumerate(headers) if header_key(h) == header_key(wanted)), None
            )
        if pos is None:
            found = ", ".join(repr(h) for h in headers if h.strip()) or "none"
            raise ConfigError(
                f"[columns] {name} = {wanted!r}: {where} has no such header (headers found: "
                f"{found})",
                path=source,
                hint="fix the header text in the mapping file",
            )
        positions[name] = pos
        used.add(pos)
    ranked: dict[str, tuple[int, int]] = {}
    for pos, text in enumerate(headers):
        if pos in used:
            continue
        rec = table.recognise(text)
        if rec is None or rec.name in mapping:
            continue
        if rec.name not in ranked or rec.priority < ranked[rec.name][0]:
            ranked[rec.name] = (rec.priority, pos)
    positions.update({name: pos for name, (_, pos) in ranked.items()})
    taken = set(positions.values())
    unmapped = [h for p, h in enumerate(headers) if h.strip() and p not in taken]
    return positions, unmapped


def _load_mapping(
    mapping: str | Path | Mapping[str, Any] | None, spec: SideSpec
) -> tuple[dict[str, str], str]:
    """A side-table mapping (TOML path or dict with a ``[columns]`` table), validated."""
    if mapping is None:
        return {}, "mapping"
    source = "mapping"
    if isinstance(mapping, Mapping):
        data = dict(mapping)
    else:
        path = Path(mapping)
        source = str(mapping)
        if not path.is_file():
            raise ConfigError("mapping file does not exist", path=source)
        try:
            data = tomllib.loads(path.read_bytes().decode("utf-8-sig"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(
                f"mapping file is not valid UTF-8 TOML: {exc}",
                path=source,
                hint='write entries like approved_codes = "Services" under [columns]',
            ) from None
    unknown = set(data) - {"columns"}
    if unknown:
        raise ConfigError(
            f"unknown section [{sorted(unknown)[0]}]", path=source, hint="use [columns]"
        )
    columns = data.get("columns", {})
    if not isinstance(columns, Mapping):
        raise ConfigError("[columns] must be a table", path=source)
    out = {}
    for name, header in columns.items():
        if name not in spec.names:
            raise ConfigError(
                f"[columns] {name}: not a column of {spec.what}",
                path=source,
                hint=f"use one of {', '.join(spec.names)}",
            )
        if not isinstance(header, str):
            raise ConfigError(f"[columns] {name}: expected a header name (text)", path=source)
        out[name] = header
    return out, source


# --------------------------------------------------------------------------------------------
# cells


def _parse(col: SideColumn, values: pd.Series) -> norm.Parsed:
    if col.kind == "text":
        return norm.clean_text(values)
    if col.kind == "code":
        parsed = norm.parse_cpt(values)
        return norm.Parsed(parsed.values, parsed.bad)
    if col.kind == "codes":
        return _parse_codes(values)
    if col.kind == "modifier":
        parsed = norm.parse_modifiers(values)
        first = parsed.values.str.split(LIST_SEP).str[0]
        return norm.Parsed(first.mask(first == "").astype(norm.TEXT), parsed.bad)
    if col.kind == "number":
        return norm.parse_number(values)
    if col.kind == "money":
        return norm.parse_money(values)
    if col.kind == "date":
        return norm.read_dates(values)[0]
    if col.kind == "pos":
        return norm.parse_place_of_service(values)
    raise ValueError(col.kind)  # pragma: no cover - the specs above use only these kinds


def _parse_codes(values: pd.Series) -> norm.Parsed:
    """Several codes per cell ("64493, 64494", "64493;64494", "64493 64494") to canonical list
    text; a token that is not a 5-character code is left out and the cell marked bad."""
    text = norm.as_text(values)

    def parse(u: pd.Series) -> tuple[pd.Series, pd.Series]:
        tokens = u.str.upper().str.replace(r"(?<=\d)\.0+\b", "", regex=True)
        tokens = tokens.str.split(r"[^0-9A-Z]+", regex=True).explode()
        tokens = tokens[tokens.fillna("") != ""]
        valid = tokens.str.fullmatch(_CODE).fillna(False).astype(bool)
        kept = tokens[valid]
        joined = kept.groupby(level=0).agg(LIST_SEP.join).reindex(range(len(u)), fill_value="")
        invalid = (~valid).groupby(level=0).any().reindex(range(len(u)), fill_value=False)
        return joined.astype(norm.TEXT), invalid.astype("boolean")

    joined, bad = norm.on_uniques(text, parse)
    joined = joined.astype(norm.TEXT)
    return norm.Parsed(joined.mask(joined == ""), bad.fillna(False).astype(bool))


# --------------------------------------------------------------------------------------------
# public API


def read_authorizations(
    path: str | Path, mapping: str | Path | Mapping[str, Any] | None = None
) -> SideTable:
    """Read an authorization export (CSV/TSV/TXT or a workbook) as a :class:`SideTable`.

    Raises :class:`InputError` (file, row, column, fix) when the file cannot be read or lacks
    a required column, :class:`ConfigError` for mapping problems.
    """
    return _read(path, AUTHORIZATIONS, mapping)


def read_fee_schedule(
    path: str | Path, mapping: str | Path | Mapping[str, Any] | None = None
) -> SideTable:
    """Read a contract fee schedule (CSV/TSV/TXT or a workbook) as a :class:`SideTable`."""
    return _read(path, FEE_SCHEDULE, mapping)


def _read(path: str | Path, spec: SideSpec, mapping: Any) -> SideTable:
    display = str(path)
    fixed, source_name = _load_mapping(mapping, spec)
    sniffed = sniff(Path(path), display)
    if sniffed.kind == "x12":
        raise InputError(
            f"is an X12 835 remittance file, not {spec.what}",
            path=display,
            hint=f"give {spec.option} a CSV or Excel file",
        )
    reader = TextSource if sniffed.kind == "text" else WorkbookSource
    source = reader(Path(path), display)
    table = _table(spec)
    fixed_keys = {header_key(h) for h in fixed.values() if h}
    best: tuple[int, Candidate, int] | None = None
    for candidate in source.candidates():
        index, score = best_header_row(candidate.grid, table, fixed_keys)
        if index >= 0 and (best is None or score > best[0]):
            best = (score, candidate, index)
    if best is None or best[0] < MIN_RECOGNISED:
        raise InputError(
            f"has no header row naming the columns of {spec.what}",
            path=display,
            hint=f"it needs headers for {', '.join(spec.required)}; name them in a mapping file",
        )
    _, candidate, index = best
    headers = list(candidate.grid[index])
    sheet = f" sheet {candidate.sheet!r}" if candidate.sheet else ""
    where = f"{display}{sheet} row {index + 1}"
    positions, unmapped = _match(headers, table, fixed, where, source_name)
    missing = [name for name in spec.required if name not in positions]
    if missing:
        near = []
        for name in missing:
            col = spec.column(name)
            keys = [header_key(s) for s in (name, *col.spellings)]
            close = [
                h
                for h in unmapped
                if max(difflib.SequenceMatcher(None, header_key(h), k).ratio() for k in keys) >= 0.6
            ]
            near.append(name + (f" (closest header: {close[0]!r})" if close else ""))
        raise InputError(
            f"{sheet.strip() + ': ' if sheet else ''}no column found for required "
            f"{', '.join(near)} of {spec.what}",
            path=display,
            row=index + 1,
            hint=f'name the header in a mapping file, e.g. [columns] {missing[0]} = "Header"',
        )
    raw = source.read(candidate, index)
    report = FileReport(
        path=display,
        header_row=index + 1,
        sheet=candidate.sheet,
        encoding=source.encoding,
        delimiter=source.delimiter,
        mapping={name: raw.headers[pos] for name, pos in positions.items()},
        unmapped_headers=unmapped,
        warnings=list(raw.warnings) + ([f"{display} {sniffed.warning}"] if sniffed.warning else []),
    )
    frame = _build(raw.data, raw.headers, raw.rows, positions, spec, report)
    report.footer_rows = sorted(raw.footer_rows + report.footer_rows)
    report.rows = len(frame)
    return SideTable(spec.kind, frame, report)


def _build(
    data: pd.DataFrame,
    headers: list[str],
    rows: np.ndarray,
    positions: dict[str, int],
    spec: SideSpec,
    report: FileReport,
) -> pd.DataFrame:
    keys = [positions[n] for n in spec.required]
    blank, footer = interior_non_data(data, headers, keys)
    row_numbers = pd.Series(rows, index=data.index)
    report.footer_rows = row_numbers[footer].tolist()
    keep = ~(blank | footer)
    data = data[keep]
    row_numbers = row_numbers[keep]
    out: dict[str, pd.Series] = {}
    left_out = pd.Series(False, index=data.index)
    for col in spec.columns:
        if col.name not in positions:
            continue
        header = headers[positions[col.name]]
        parsed = _parse(col, data[positions[col.name]])
        values = parsed.values.astype(col.dtype)
        shown = norm.as_text(data[positions[col.name]])
        _problems(report, header, col, parsed.bad, values, row_numbers, shown)
        if col.required:
            empty = values.isna()
            # an unreadable cell has its problem and warning (above); a blank one gets these
            blank_cell = empty & ~parsed.bad
            if blank_cell.any():
                for r in row_numbers[blank_cell].iloc[:MAX_EXAMPLES]:
                    report.problems.append(
                        RowProblem(int(r), header, f"blank {header}: the row cannot be used")
                    )
                blanks = int(blank_cell.sum())
                report.warnings.append(
                    f"column {header!r}: blank on {blanks:,} row{'' if blanks == 1 else 's'}; "
                    f"{'that row was' if blanks == 1 else 'those rows were'} left out"
                )
            left_out |= empty
        out[col.name] = values
    frame = pd.DataFrame(out, index=data.index)[~left_out]
    frame["source_file"] = pd.Series(report.path, index=frame.index, dtype="string")
    frame["source_row"] = row_numbers[~left_out].astype("Int64")
    report.rows_left_out = int(left_out.sum())
    report.problems.sort(key=lambda p: p.row)
    return _finish(frame.reset_index(drop=True), spec)


def _problems(
    report: FileReport,
    header: str,
    col: SideColumn,
    bad: pd.Series,
    values: pd.Series,
    rows: pd.Series,
    shown: pd.Series,
) -> None:
    """Problems and a warning for the cells of one column that could not be read.

    As for claim exports (:mod:`auditkit.ingest.canonical_frame`), no message quotes a cell: an
    authorization export holds patient accounts, and a row shifted by an unquoted comma puts a
    patient's name in any column. The cell goes to :attr:`RowProblem.value`; the warning names
    the column, the rows and what became of them.
    """
    count = int(bad.sum())
    if not count:
        return
    what = {
        "codes": "a list of 5-character codes",
        "code": "a 5-character code",
        "modifier": "a 2-character modifier",
        "number": "a number",
        "money": "an amount",
        "date": "a date",
        "pos": "a two-digit place-of-service code",
    }.get(col.kind, "a value")
    empty = values.isna()
    # a required value that is empty leaves its row out; otherwise the row is kept, with the
    # value blank or (a code, the codes of a list that could be read) kept as far as it reads
    left_out = bad & empty if col.required else pd.Series(False, index=bad.index)
    for i in bad[bad].index[:MAX_EXAMPLES]:
        report.problems.append(
            RowProblem(int(rows[i]), header, f"not {what}", not left_out[i], str(shown[i]))
        )
    effects = [
        (int(left_out.sum()), "left out"),
        (int((bad & empty & ~left_out).sum()), "kept with the value blank"),
        (int((bad & ~empty).sum()), "kept with the value as far as it reads"),
    ]
    said = [f"{n:,} row{'' if n == 1 else 's'} {effect}" for n, effect in effects if n]
    picked = [str(r) for r in rows[bad].iloc[:3]]
    more = count - len(picked)
    where = ("row " if count == 1 else "rows ") + ", ".join(picked)
    where += f" and {more:,} more" if more > 0 else ""
    report.warnings.append(
        f"column {header!r}: {count:,} value{'' if count == 1 else 's'} could not be read as "
        f"{what} ({where}): {', '.join(said)}"
    )
    report.cells_unread += int((bad & ~left_out).sum())


def _finish(frame: pd.DataFrame, spec: SideSpec) -> pd.DataFrame:
    """Spec columns in order and dtype (optional ones only when present), then provenance."""
    out = {}
    for col in spec.columns:
        if col.name in frame.columns:
            out[col.name] = frame[col.name].astype(col.dtype)
    for name in ("source_file", "source_row"):
        if name in frame.columns:
            out[name] = frame[name]
    return pd.DataFrame(out, index=frame.index)


def as_side_table(value: SideTable | pd.DataFrame | None, kind: str) -> SideTable | None:
    """A side table from what a caller passed to ``run_audits``: a :class:`SideTable` (from
    :func:`read_authorizations` / :func:`read_fee_schedule`), a DataFrame with the spec's column
    names (cells are normalised like a file's), or None.

    Raises :class:`InputError` when a DataFrame lacks a required column.
    """
    if value is None:
        return None
    spec = SPECS[kind]
    if isinstance(value, SideTable):
        if value.kind != kind:
            raise InputError(f"expected {spec.what}, got a {value.kind} table")
        return value
    if not isinstance(value, pd.DataFrame):
        raise TypeError(f"{kind} must be a SideTable or a DataFrame, not {type(value).__name__}")
    missing = [n for n in spec.required if n not in value.columns]
    if missing:
        raise InputError(
            f"{spec.what} needs column(s) {', '.join(missing)}",
            hint=f"its columns are: {', '.join(spec.names)}",
        )
    report = FileReport(path="(in memory)")
    out = {}
    for col in spec.columns:
        if col.name not in value.columns:
            continue
        values = value[col.name]
        if col.kind == "codes":
            values = values.map(
                lambda v: LIST_SEP.join(v) if isinstance(v, list | tuple) else v,
                na_action="ignore",
            )
        if col.kind == "date":
            values = pd.to_datetime(values).astype("datetime64[ns]").dt.normalize()
            out[col.name] = values
            continue
        parsed = _parse(col, values.reset_index(drop=True))
        out[col.name] = parsed.values.astype(col.dtype)
    frame = pd.DataFrame(out)
    required_ok = frame[list(spec.required)].notna().all(axis=1)
    frame["source_file"] = pd.Series("(in memory)", index=frame.index, dtype="string")
    frame["source_row"] = pd.array(np.arange(1, len(frame) + 1), dtype="Int64")
    frame = frame[required_ok].reset_index(drop=True)
    report.rows = len(frame)
    report.rows_left_out = int((~required_ok).sum())
    return SideTable(kind, _finish(frame, spec), report)


def redact(table: SideTable, redactor: Any) -> SideTable:
    """The table with patient ids replaced by the pseudonyms ``redactor`` (an
    :class:`auditkit.redact.Redactor`) gives the claim lines: use the same redactor for both, so
    authorizations still match their claims under ``--redact``."""
    return SideTable(table.kind, redactor.frame(table.frame), table.report)


__all__ = [
    "AUTHORIZATIONS",
    "FEE_SCHEDULE",
    "SPECS",
    "SideColumn",
    "SideSpec",
    "SideTable",
    "as_side_table",
    "read_authorizations",
    "read_fee_schedule",
    "redact",
]
