"""Synthetic CMS NCCI files in the layouts CMS publishes, at any size, for tests and benchmarks.

Everything in them is made up: the codes look like CPT/HCPCS codes (five characters: digits,
or digits and a letter) but the pairs, dates, units and reasons are random. Only the layouts
are CMS's (see :mod:`auditkit.reference.ncci` for what they are):

* PTP practitioner edits: a ``.txt`` per part with a notice line, a title line and the header
  wrapped over four tab-delimited lines, CRLF line ends; split by column 1 code range into parts
  ``f1`` to ``f4``, each in its own zip named as CMS names them (:func:`write_ptp_set`). Also the
  same table as ``.xlsx`` and as a comma-separated ``.csv`` with the header in one row (as a
  workbook saved as CSV gives it).
* MUE practitioner services: a ``.csv`` whose first record is a quoted notice over several
  lines and whose code header has a line break in it; also ``.txt`` (tab-delimited) and
  ``.xlsx``, and the zip CMS serves (:func:`write_mue_zip`).

The same size and seed always give the same bytes (zips carry a fixed timestamp).
:data:`PUBLISHED_PTP_ROWS` is about the size of a quarter's practitioner PTP table.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

#: Rows of a quarter's practitioner PTP table (f1..f4 together), roughly.
PUBLISHED_PTP_ROWS = 2_200_000
#: Codes in a quarter's practitioner MUE table, roughly.
PUBLISHED_MUE_CODES = 15_000

#: PTP columns in the published order (text as written in the files).
PTP_FIELDS = (
    "column1",
    "column2",
    "prior_1996",
    "effective",
    "deletion",
    "modifier",
    "rationale",
)
MUE_FIELDS = ("code", "mue", "mai", "rationale")

NOTICE = (
    "CPT codes and descriptions only are copyright American Medical Association. "
    "Synthetic test file in the CMS layout: every edit in it is made up."
)
PTP_TITLE = "Column1/Column2 Edits"
#: The PTP header as the .txt wraps it: four lines of seven tab-separated cells.
PTP_HEADER_LINES = (
    ("Column 1", "Column 2", "*=in existence", "Effective", "Deletion", "Modifier", "PTP Edit Rationale"),
    ("", "", "prior to 1996", "Date", "Date", "0=not allowed", ""),
    ("", "", "", "", "*=no data", "1=allowed", ""),
    ("", "", "", "", "", "9=not applicable", ""),
)  # fmt: skip
#: The same header in one row, as a workbook shows it (line breaks inside the cells).
PTP_HEADER_ROW = tuple(
    "\n".join(line[pos] for line in PTP_HEADER_LINES if line[pos]) for pos in range(7)
)
MUE_HEADER = (
    "HCPCS/\nCPT Code",
    "Practitioner Services MUE Values",
    "MUE Adjudication Indicator",
    "MUE Rationale",
)
MAI_TEXT = {
    1: "1 Line Edit",
    2: "2 Date of Service Edit: Policy",
    3: "3 Date of Service Edit: Clinical",
}
PTP_REASONS = (
    "Synthetic: the column 2 service is part of the column 1 service",
    "Synthetic: the two services exclude each other",
    "Synthetic: the column 2 code is misused with the column 1 code",
    "Synthetic: a coding manual instruction",
    "Synthetic: standard surgical practice",
    "Synthetic: more extensive procedure includes the lesser one",
)
MUE_REASONS = (
    "Synthetic: anatomy",
    "Synthetic: code descriptor",
    "Synthetic: clinical data",
    "Synthetic: nature of the service",
    "Synthetic: policy",
)
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


# --------------------------------------------------------------------------------------------
# the made-up content


def code_universe(n_codes: int, seed: int = 7, include: Iterable[str] = ()) -> np.ndarray:
    """``n_codes`` distinct, sorted five-character codes (mostly five digits, some ending in T,
    U or M, some starting with G or J), plus the ``include`` codes."""
    rng = np.random.default_rng(seed)
    n_alpha = n_codes // 8
    numbers = rng.choice(np.arange(100, 100_000), size=n_codes - n_alpha, replace=False)
    digits = np.char.zfill(numbers.astype(str), 5)
    stems = np.char.zfill(rng.choice(np.arange(1, 10_000), size=n_alpha).astype(str), 4)
    letters = rng.choice(np.array(["T", "U", "M", "G", "J"]), size=n_alpha)
    lead = np.isin(letters, ["G", "J"])
    alpha = np.where(lead, np.char.add(letters, stems), np.char.add(stems, letters))
    extra = np.array([str(c).strip().upper() for c in include], dtype="U5")
    return np.unique(np.concatenate([digits, alpha, extra]).astype("U5"))


def _quarter_start(year: np.ndarray, quarter: np.ndarray) -> np.ndarray:
    return year * 10_000 + (quarter * 3 + 1) * 100 + 1


def ptp_edits(
    n_rows: int,
    seed: int = 7,
    *,
    include_codes: Sequence[str] = (),
    as_of: date = date(2026, 7, 1),
) -> pa.Table:
    """``n_rows`` made-up PTP edits as text columns (:data:`PTP_FIELDS`), sorted by column 1
    then column 2 as CMS sorts them.

    About 30% of the edits are deleted (a deletion date, most at a year end), 2% were deleted
    from their first day (deletion = effective, modifier indicator 9), 0.5% take effect after
    ``as_of`` (the next quarter); 8% existed before 1996 (flag ``*``, effective 1996-01-01). Of
    the rest, a fifth have indicator 0. ``include_codes`` are in the code set, with pairs among
    them (so that an export using them finds edits).
    """
    if n_rows < 1:
        raise ValueError(f"n_rows must be at least 1, got {n_rows}")
    rng = np.random.default_rng(seed)
    # enough codes that every edit can be a distinct pair (size * (size - 1) >= n_rows)
    n_codes = max(int(np.clip(n_rows // 150, 60, 20_000)), int(np.sqrt(n_rows)) + 2)
    universe = code_universe(n_codes, seed, include_codes)
    size = len(universe)
    # random pairs; the number of edits per column 1 code varies a lot, as in the real table
    weights = rng.lognormal(0.0, 1.0, size)
    counts = np.minimum(rng.multinomial(n_rows, weights / weights.sum()), size - 1)
    room = (size - 1) - counts
    before = np.cumsum(room) - room
    counts += np.clip(n_rows - int(counts.sum()) - before, 0, room)  # hand out what did not fit
    first = np.repeat(np.arange(size), counts)
    widest = np.maximum(1, (size - 1) // np.maximum(counts, 1))
    gaps = rng.integers(1, widest[first] + 1)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    offsets = np.cumsum(gaps) - np.concatenate([[0], np.cumsum(gaps)])[starts]
    second = (first + offsets) % size
    # pairs among the codes an export uses, in place of random ones (the total stays n_rows)
    wanted = np.flatnonzero(np.isin(universe, [str(c).strip().upper() for c in include_codes]))
    a, b = np.meshgrid(wanted, wanted)
    keep = (a != b) & (rng.random(a.shape) < 0.3)
    first = np.concatenate([a[keep], first])
    second = np.concatenate([b[keep], second])
    _, unique = np.unique(first.astype(np.int64) * size + second, return_index=True)
    unique.sort()  # included pairs first
    first, second = first[unique], second[unique]
    n_included = int(keep.sum())
    surplus = len(first) - n_rows
    if surplus > 0:
        random_ones = np.arange(n_included, len(first))
        if surplus <= len(random_ones):
            drop = rng.choice(random_ones, size=surplus, replace=False)
        else:
            drop = np.concatenate(
                [random_ones, rng.choice(n_included, surplus - len(random_ones), replace=False)]
            )
        mask = np.ones(len(first), dtype=bool)
        mask[drop] = False
        first, second = first[mask], second[mask]
    order = np.lexsort((second, first))
    first, second = first[order], second[order]
    n = len(first)

    year = rng.integers(1996, as_of.year + 1, n)
    quarter = rng.integers(0, 4, n)
    effective = _quarter_start(year, quarter)
    effective = np.minimum(effective, as_of.year * 10_000 + as_of.month * 100 + 1)
    kind = rng.random(n)
    prior = kind < 0.08
    effective[prior] = 19960101
    future = (kind >= 0.08) & (kind < 0.085)
    following = (as_of.month - 1) // 3 + 1  # the next quarter, counted from 0
    next_q = date(as_of.year + following // 4, (following % 4) * 3 + 1, 1)
    effective[future] = next_q.year * 10_000 + next_q.month * 100 + 1
    retro = (kind >= 0.085) & (kind < 0.105)
    eff_year = effective // 10_000
    deleted = (kind >= 0.105) & (kind < 0.405) & (eff_year < as_of.year)
    del_year = eff_year + (rng.random(n) * (as_of.year - eff_year)).astype(np.int64)
    deletion = np.where(deleted, del_year * 10_000 + 1231, 0)
    deletion = np.where(retro, effective, deletion)
    modifier = np.where(rng.random(n) < 0.2, 0, 1)
    modifier = np.where(retro, 9, modifier)

    def text(values: np.ndarray) -> pa.Array:
        return pc.cast(pa.array(values), pa.string())

    codes = pa.array(universe, type=pa.string())
    reasons = pa.array(PTP_REASONS, type=pa.string())
    return pa.table(
        {
            "column1": codes.take(pa.array(first)),
            "column2": codes.take(pa.array(second)),
            "prior_1996": pa.array(np.where(prior, "*", ""), type=pa.string()),
            "effective": text(effective),
            "deletion": pc.if_else(pa.array(deletion > 0), text(deletion), "*"),
            "modifier": text(modifier),
            "rationale": reasons.take(pa.array(rng.integers(0, len(reasons), n))),
        }
    )


def mue_values(codes: Sequence[str] | int, seed: int = 7) -> pa.Table:
    """Made-up MUEs as text columns (:data:`MUE_FIELDS`) for ``codes`` (or that many made-up
    codes), sorted by code; the adjudication indicator as CMS writes it (digit and words)."""
    universe = code_universe(codes, seed) if isinstance(codes, int) else np.unique(list(codes))
    rng = np.random.default_rng(seed + 1)
    n = len(universe)
    values = rng.choice([0, 1, 2, 3, 4, 6, 8, 12, 24, 50], size=n, p=[0.02, 0.5, 0.15, 0.08, 0.08, 0.05, 0.04, 0.03, 0.03, 0.02])  # fmt: skip
    mai = rng.choice([1, 2, 3], size=n, p=[0.2, 0.35, 0.45])
    mai_text = pa.array([MAI_TEXT[1], MAI_TEXT[2], MAI_TEXT[3]], type=pa.string())
    reasons = pa.array(MUE_REASONS, type=pa.string())
    return pa.table(
        {
            "code": pa.array(universe.astype(str), type=pa.string()),
            "mue": pc.cast(pa.array(values), pa.string()),
            "mai": mai_text.take(pa.array(mai - 1)),
            "rationale": reasons.take(pa.array(rng.integers(0, len(reasons), n))),
        }
    )


# --------------------------------------------------------------------------------------------
# the files


def _write_tsv_body(handle: BinaryIO, table: pa.Table, eol: str = "\r\n") -> None:
    options = pacsv.WriteOptions(
        include_header=False, delimiter="\t", quoting_style="none", eol=eol
    )
    pacsv.write_csv(table, handle, write_options=options)


def _write_ptp_txt(handle: BinaryIO, edits: pa.Table, notice: str) -> None:
    lines = [[notice, *[""] * 6], [PTP_TITLE, *[""] * 6], *PTP_HEADER_LINES]
    handle.write("".join("\t".join(line) + "\r\n" for line in lines).encode("latin-1"))
    _write_tsv_body(handle, edits.select(list(PTP_FIELDS)))


def write_ptp_txt(path: str | Path, edits: pa.Table, *, notice: str = NOTICE) -> Path:
    """One PTP part as CMS's ``.txt``: notice line, title line, the header wrapped over four
    lines, then one tab-delimited edit per line (CRLF line ends)."""
    path = Path(path)
    with path.open("wb") as handle:
        _write_ptp_txt(handle, edits, notice)
    return path


def write_ptp_csv(path: str | Path, edits: pa.Table, *, notice: str = NOTICE) -> Path:
    """The PTP table as a workbook saved as CSV gives it: notice and title rows, the header in
    one row (cells with line breaks, quoted), then the edits, comma-separated."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow([notice, *[""] * 6])
        writer.writerow([PTP_TITLE, *[""] * 6])
        writer.writerow(PTP_HEADER_ROW)
    with path.open("ab") as handle:
        options = pacsv.WriteOptions(include_header=False, eol="\r\n")
        pacsv.write_csv(edits.select(list(PTP_FIELDS)), handle, write_options=options)
    return path


def write_ptp_xlsx(path: str | Path, edits: pa.Table, *, notice: str = NOTICE) -> Path:
    """The PTP table as a workbook: notice and title rows, the header in one row (line breaks
    inside the cells), then the edits, all cells text as CMS's workbooks hold them."""
    from openpyxl import Workbook  # only the workbook variants need it

    book = Workbook(write_only=True)
    sheet = book.create_sheet("ccipra")
    sheet.append([notice])
    sheet.append([PTP_TITLE])
    sheet.append(list(PTP_HEADER_ROW))
    columns = [edits.column(name).to_pylist() for name in PTP_FIELDS]
    for row in zip(*columns, strict=True):
        sheet.append(list(row))
    _save(book, path)
    return Path(path)


def _save(book: Any, target: str | Path | BinaryIO) -> None:
    """Save a workbook with fixed times (its properties and its zip entries), so that the same
    content gives the same bytes every run."""
    book.properties.created = datetime(2026, 1, 1)
    raw = io.BytesIO()
    book.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(out, "w") as copy:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the time of saving
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", data
                )
            copy.writestr(_zip_member(info.filename), data)
    if isinstance(target, str | Path):
        Path(target).write_bytes(out.getvalue())
    else:
        target.write(out.getvalue())


def _zip_member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def write_ptp_set(
    folder: str | Path,
    n_rows: int = PUBLISHED_PTP_ROWS,
    seed: int = 7,
    *,
    version: str = "v322r0",
    quarter: str = "2026q3",
    parts: int = 4,
    zipped: bool = True,
    include_codes: Sequence[str] = (),
    as_of: date = date(2026, 7, 1),
) -> list[Path]:
    """A practitioner PTP table of ``n_rows`` made-up edits (:func:`ptp_edits`) split by column 1
    code into ``parts`` files, named as CMS names them: ``ccipra-{version}-f{k}.TXT`` inside
    ``medicare-ncci-{quarter}-practitioner-ptp-edits-ccipra-{version}-f{k}.zip`` (or the
    ``.TXT`` files alone when not ``zipped``). Returns the files written, in order."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    edits = ptp_edits(n_rows, seed, include_codes=include_codes, as_of=as_of)
    column1 = edits.column("column1").to_numpy(zero_copy_only=False)
    bounds = [0]
    for k in range(1, parts):
        at = int(
            np.searchsorted(column1, column1[min(len(column1) - 1, k * len(column1) // parts)])
        )
        bounds.append(max(bounds[-1], at))
    bounds.append(len(column1))
    written = []
    for k in range(parts):
        part = edits.slice(bounds[k], bounds[k + 1] - bounds[k])
        name = f"ccipra-{version}-f{k + 1}.TXT"
        if not zipped:
            written.append(write_ptp_txt(folder / name, part))
            continue
        target = (
            folder / f"medicare-ncci-{quarter}-practitioner-ptp-edits-ccipra-{version}-f{k + 1}.zip"
        )
        with (
            zipfile.ZipFile(target, "w") as archive,
            archive.open(_zip_member(name), "w") as handle,
        ):
            _write_ptp_txt(handle, part, NOTICE)
        written.append(target)
    return written


def _mue_notice() -> str:
    return NOTICE.replace(". ", ".\n\n")


def write_mue_csv(path: str | Path, values: pa.Table) -> Path:
    """MUEs as CMS's ``.csv``: a first record holding the notice (quoted, over several lines),
    the header (the code column's name has a line break), then one code per line."""
    path = Path(path)
    with path.open("wb") as handle:
        _write_mue_csv(handle, values)
    return path


def _write_mue_csv(handle: BinaryIO, values: pa.Table) -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow([_mue_notice(), "", "", ""])
    writer.writerow(MUE_HEADER)
    handle.write(text.getvalue().encode("utf-8"))
    options = pacsv.WriteOptions(include_header=False, eol="\n")
    pacsv.write_csv(values.select(list(MUE_FIELDS)), handle, write_options=options)


def write_mue_txt(path: str | Path, values: pa.Table) -> Path:
    """MUEs as tab-delimited text: a notice line, the header, one code per line."""
    path = Path(path)
    with path.open("wb") as handle:
        header = [h.replace("\n", "") for h in MUE_HEADER]
        handle.write((NOTICE + "\t\t\t\r\n" + "\t".join(header) + "\r\n").encode("latin-1"))
        _write_tsv_body(handle, values.select(list(MUE_FIELDS)))
    return path


def _mue_book(values: pa.Table) -> Any:
    from openpyxl import Workbook  # only the workbook variants need it

    book = Workbook(write_only=True)
    sheet = book.create_sheet("MUE")
    sheet.append([_mue_notice()])
    sheet.append(list(MUE_HEADER))
    columns = [values.column(name).to_pylist() for name in MUE_FIELDS]
    for code, mue, mai, reason in zip(*columns, strict=True):
        sheet.append([code, int(mue), mai, reason])
    return book


def write_mue_xlsx(path: str | Path, values: pa.Table) -> Path:
    """MUEs as a workbook: the notice in the first row, the header, one code per row (units
    as numbers, as a workbook holds them)."""
    _save(_mue_book(values), path)
    return Path(path)


def write_mue_zip(
    folder: str | Path,
    values: pa.Table,
    *,
    effective: date = date(2026, 7, 1),
    with_xlsx: bool = False,
) -> Path:
    """The MUE zip as CMS serves it: ``MCR_MUE_PractitionerServices_Eff_MM-DD-YYYY.csv`` (and
    the same table as ``.xlsx`` when ``with_xlsx``) inside
    ``medicare-ncci-YYYY-qN-practitioner-services-mue-table.zip``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    quarter = (effective.month - 1) // 3 + 1
    stem = f"MCR_MUE_PractitionerServices_Eff_{effective:%m-%d-%Y}"
    target = (
        folder / f"medicare-ncci-{effective.year}-q{quarter}-practitioner-services-mue-table.zip"
    )
    with zipfile.ZipFile(target, "w") as archive:
        with archive.open(_zip_member(f"{stem}.csv"), "w") as handle:
            _write_mue_csv(handle, values)
        if with_xlsx:
            buffer = io.BytesIO()
            _save(_mue_book(values), buffer)
            archive.writestr(_zip_member(f"{stem}.xlsx"), buffer.getvalue())
    return target
