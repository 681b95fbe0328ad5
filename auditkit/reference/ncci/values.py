"""Typing the text cells of a table, a batch at a time, and keeping the edits of the codes an
export bills."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from auditkit.reference.ncci.layouts import Layout

_CODE = r"^[A-Z0-9]{5}$"


def _trimmed(array: pa.Array) -> pa.Array:
    return pc.utf8_trim_whitespace(array)


def _codes(array: pa.Array) -> pa.Array:
    """Codes trimmed and upper-case; an all-digit code a spreadsheet shortened (1996) padded
    back to five digits (01996)."""
    codes = pc.utf8_upper(_trimmed(array))
    short = pc.less(pc.utf8_length(codes), 5)
    if pc.any(short).as_py():
        digits = pc.match_substring_regex(codes, r"^[0-9]+$")
        codes = pc.if_else(pc.and_(short, digits), pc.utf8_lpad(codes, width=5, padding="0"), codes)
    return codes


def _dates(text: pa.Array, blank: pa.Array) -> pa.Array:
    """``YYYYMMDD`` (exactly eight digits) as date32, null where not a date; ISO and US forms
    are read as well, for a table re-saved by a spreadsheet."""
    eight = pc.match_substring_regex(text, r"^[0-9]{8}$")
    parsed = pc.strptime(
        pc.if_else(eight, text, None), format="%Y%m%d", unit="s", error_is_null=True
    )
    blanks = pc.sum(blank).as_py() or 0
    if parsed.null_count > blanks:
        for fmt, shape in (
            ("%Y-%m-%d", r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
            ("%m/%d/%Y", r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$"),
        ):
            other = pc.if_else(pc.match_substring_regex(text, shape), text, None)
            parsed = pc.coalesce(
                parsed, pc.strptime(other, format=fmt, unit="s", error_is_null=True)
            )
    return pc.cast(parsed, pa.date32())


def _in(array: pa.Array, values: Sequence[str]) -> pa.Array:
    return pc.is_in(array, value_set=pa.array(values, type=pa.string()))


def typed_batch(
    columns: dict[str, pa.Array], n: int, layout: Layout, counts: dict[str, Any]
) -> pa.RecordBatch:
    """One batch of text cells as a typed batch of the valid rows; the invalid ones (a stray
    note, a bad date or indicator) are counted in ``counts['skipped']``, blank ones ignored."""
    empty = pa.array([""] * n, type=pa.string())
    rationale = _trimmed(columns.get("rationale", empty))
    typed = _ptp_arrays if layout.kind == "ptp" else _mue_arrays
    arrays, valid, blank = typed(columns)
    arrays.append(rationale)
    valid = pc.fill_null(valid, False)
    n_valid = pc.sum(valid).as_py() or 0
    n_blank = pc.sum(pc.and_(blank, pc.invert(valid))).as_py() or 0
    counts["rows"] += n_valid
    counts["skipped"] += n - n_valid - n_blank
    batch = pa.RecordBatch.from_arrays(arrays, schema=layout.schema)
    return batch.filter(valid) if n_valid < n else batch


def _ptp_arrays(columns: dict[str, pa.Array]) -> tuple[list[pa.Array], pa.Array, pa.Array]:
    """The typed PTP columns but the rationale, which rows are valid edits, which are blank."""
    column1, column2 = _codes(columns["column1"]), _codes(columns["column2"])
    effective_text = _trimmed(columns["effective"])
    deletion_text = _trimmed(columns["deletion"])
    none_deleted = _in(deletion_text, ["*", ""])
    effective = _dates(effective_text, pc.equal(effective_text, ""))
    deletion = _dates(deletion_text, none_deleted)
    modifier_text = _trimmed(columns["modifier"])
    modifier = pc.cast(
        pc.if_else(_in(modifier_text, ["0", "1", "9"]), modifier_text, None), pa.int8()
    )
    valid = pc.and_(
        pc.and_(pc.match_substring_regex(column1, _CODE), pc.match_substring_regex(column2, _CODE)),
        pc.and_(
            pc.and_(pc.is_valid(effective), pc.is_valid(modifier)),
            pc.or_(none_deleted, pc.is_valid(deletion)),
        ),
    )
    blank = pc.and_(pc.equal(column1, ""), pc.equal(column2, ""))
    return [column1, column2, effective, deletion, modifier], valid, blank


def _mue_arrays(columns: dict[str, pa.Array]) -> tuple[list[pa.Array], pa.Array, pa.Array]:
    """The typed MUE columns but the rationale, which rows are valid MUEs, which are blank."""
    code = _codes(columns["code"])
    value_text = _trimmed(columns["mue"])
    is_number = pc.match_substring_regex(value_text, r"^[0-9]+$")
    mue = pc.cast(pc.if_else(is_number, value_text, None), pa.int32())
    mai_digit = pc.utf8_slice_codeunits(_trimmed(columns["mai"]), 0, 1)
    mai = pc.cast(pc.if_else(_in(mai_digit, ["1", "2", "3"]), mai_digit, None), pa.int8())
    valid = pc.and_(
        pc.match_substring_regex(code, _CODE), pc.and_(pc.is_valid(mue), pc.is_valid(mai))
    )
    blank = pc.and_(pc.equal(code, ""), pc.equal(value_text, ""))
    return [code, mue, mai], valid, blank


def as_codes(codes: Collection[str] | str) -> Iterable[object]:
    return [codes] if isinstance(codes, str) else codes


def normalise_codes(codes: Iterable[object]) -> frozenset[str]:
    """Codes as the tables hold them: trimmed, upper-case; blanks and missing values dropped."""
    out = set()
    for code in codes:
        if code is None or (isinstance(code, float) and code != code):
            continue
        text = str(code).strip().upper()
        if text and text not in ("NAN", "<NA>", "NONE"):
            out.add(text)
    return frozenset(out)


def keep_mask(batch: pa.RecordBatch, layout: Layout, wanted: frozenset[str]) -> pa.Array:
    values = pa.array(sorted(wanted), type=pa.string())
    if layout.kind == "ptp":
        return pc.and_(
            pc.is_in(batch.column("column1"), value_set=values),
            pc.is_in(batch.column("column2"), value_set=values),
        )
    return pc.is_in(batch.column("code"), value_set=values)


def keep_expression(layout: Layout, wanted: frozenset[str]) -> ds.Expression:
    values = pa.array(sorted(wanted), type=pa.string())
    if layout.kind == "ptp":
        return pc.field("column1").isin(values) & pc.field("column2").isin(values)
    return pc.field("code").isin(values)
