"""The two published layouts (PTP edits, practitioner MUEs): their columns and typed schemas,
how a header row is found by its names, and what a file that is not the table looks like."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from auditkit.errors import InputError

#: How many records from the top are searched for the header row.
HEADER_SCAN_ROWS = 40

PTP_SCHEMA = pa.schema(
    [
        ("column1", pa.string()),
        ("column2", pa.string()),
        ("effective", pa.date32()),
        ("deletion", pa.date32()),
        ("modifier_indicator", pa.int8()),
        ("rationale", pa.string()),
    ]
)
MUE_SCHEMA = pa.schema(
    [
        ("code", pa.string()),
        ("mue", pa.int32()),
        ("mai", pa.int8()),
        ("rationale", pa.string()),
    ]
)


def _key(text: object) -> str:
    """The comparison key of a header: lower-case letters and digits only (as the export
    readers compare headers; ``"HCPCS/\\nCPT Code"`` is ``hcpcscptcode``)."""
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


@dataclass(frozen=True)
class Layout:
    """One published table: its columns (name, pattern on the header key), which are needed,
    and how to describe it in messages."""

    kind: str
    title: str
    fields: tuple[tuple[str, re.Pattern[str]], ...]
    required: tuple[str, ...]
    expected: str  # the header names, for messages
    schema: pa.Schema

    def recognise(self, cell: str) -> str | None:
        key = _key(cell)
        if not key:
            return None
        for name, pattern in self.fields:
            if pattern.fullmatch(key):
                return name
        return None


PTP_LAYOUT = Layout(
    kind="ptp",
    title="CMS practitioner PTP edits file",
    fields=(
        ("column1", re.compile(r"(column|col)(1|one)(code)?")),
        ("column2", re.compile(r"(column|col)(2|two)(code)?")),
        ("prior_1996", re.compile(r".*(prior(to)?1996|inexistence).*")),
        ("effective", re.compile(r"eff(ective)?(date|dt)?")),
        ("deletion", re.compile(r"del(etion)?(date|dt)?(nodata)?")),
        ("modifier", re.compile(r"(modifier|ccmi)(indicator|ind)?(0.*)?")),
        ("rationale", re.compile(r"(ptp)?(edit)?rationale")),
    ),
    required=("column1", "column2", "effective", "deletion", "modifier"),
    expected="Column 1, Column 2, Effective Date, Deletion Date and Modifier",
    schema=PTP_SCHEMA,
)
MUE_LAYOUT = Layout(
    kind="mue",
    title="CMS practitioner services MUE table",
    fields=(
        ("code", re.compile(r"(hcpcs|cpt|hcpcscpt|cpthcpcs)(code)?")),
        ("mue", re.compile(r"[a-z]*muevalues?")),
        ("mai", re.compile(r"(mue)?adjudicationindicator|mai")),
        ("rationale", re.compile(r"(mue)?rationale")),
    ),
    required=("code", "mue", "mai"),
    expected="HCPCS/CPT Code, Practitioner Services MUE Values and MUE Adjudication Indicator",
    schema=MUE_SCHEMA,
)
LAYOUTS = {"ptp": PTP_LAYOUT, "mue": MUE_LAYOUT}
#: How the published files name each column (for messages).
_DISPLAY = {
    "column1": "Column 1",
    "column2": "Column 2",
    "effective": "Effective Date",
    "deletion": "Deletion Date",
    "modifier": "Modifier",
    "code": "HCPCS/CPT Code",
    "mue": "Practitioner Services MUE Values",
    "mai": "MUE Adjudication Indicator",
}

#: Header keys of claim exports (a few of each kind), to say what a wrong file looks like.
_CLAIM_KEYS = frozenset({
    "claimid", "claimno", "claimnumber", "claim", "dos", "dateofservice", "servicedate",
    "fromdate", "patient", "patientname", "patientid", "accountno", "acctno", "chargeamount",
    "charges", "charge", "chgamt", "billed", "billedamount", "paid", "inspaid", "paidamount",
    "units", "proccode", "procedurecode", "cptcode", "cpt", "modifier", "mod1", "modifier1",
    "dx1", "diagnosis", "diagnosis1", "payer", "primaryins", "insurance", "rendprov",
    "renderingprovider", "provider", "status", "pos", "placeofservice",
})  # fmt: skip


@dataclass(frozen=True)
class Header:
    row: int  # index of the first header record
    span: int  # records the header takes (the PTP .txt wraps its header over four lines)
    positions: dict[str, int]  # field -> column position
    width: int  # cells in the header
    cells: list[str]  # the (merged) header texts

    @property
    def score(self) -> int:
        return len(self.positions)


def _is_continuation(row: Sequence[str]) -> bool:
    """A header line that continues the one above: the code columns empty, something else not."""
    cells = [c.strip() for c in row]
    return len(cells) > 2 and not cells[0] and not cells[1] and any(cells[2:])


def _merged(grid: Sequence[Sequence[str]], row: int) -> tuple[list[str], int]:
    """The header texts starting at ``row``, with up to four continuation lines joined in."""
    cells = [str(c) for c in grid[row]]
    span = 1
    while span < 5 and row + span < len(grid) and _is_continuation(grid[row + span]):
        extra = grid[row + span]
        width = max(len(cells), len(extra))
        cells += [""] * (width - len(cells))
        for pos, text in enumerate(extra):
            if str(text).strip():
                cells[pos] = f"{cells[pos]} {text}".strip()
        span += 1
    return cells, span


def find_header(grid: Sequence[Sequence[str]], layout: Layout) -> Header | None:
    """The row among the top :data:`HEADER_SCAN_ROWS` naming the most of ``layout``'s columns
    (continuation lines merged in; the earliest wins a tie), or None when no row names two."""
    best: Header | None = None
    for row in range(min(len(grid), HEADER_SCAN_ROWS)):
        if _is_continuation(grid[row]):
            continue
        cells, span = _merged(grid, row)
        positions: dict[str, int] = {}
        for pos, text in enumerate(cells):
            name = layout.recognise(text)
            if name is not None and name not in positions:
                positions[name] = pos
        if len(positions) >= 2 and (best is None or len(positions) > best.score):
            best = Header(row, span, positions, len(cells), cells)
    return best


def _looks_like(grid: Sequence[Sequence[str]], text: str, layout: Layout) -> str:
    """What a file that is not ``layout`` looks like instead, for the error ("" if unsure)."""
    stripped = text.lstrip("\ufeff \r\n\t")
    if stripped.startswith("ISA"):
        return "it looks like an X12 835 remittance file"
    if stripped.startswith("%PDF"):
        return "it looks like a PDF"
    for other in LAYOUTS.values():
        if other is layout:
            continue
        hit = find_header(grid, other)
        if hit is not None and all(f in hit.positions for f in other.required):
            return f"it looks like the {other.title} instead (give it as the {other.kind.upper()} file)"
    for row in grid[:HEADER_SCAN_ROWS]:
        if sum(_key(c) in _CLAIM_KEYS for c in row) >= 3:
            return "it looks like a claim export"
    if not any(str(c).strip() for row in grid for c in row):
        return "it is empty"
    return ""


def why_not(grid: Sequence[Sequence[str]], text: str, layout: Layout, header: Header | None) -> str:
    """Why a file is not ``layout``: what it looks like instead, else which columns its best
    header row lacks."""
    reason = _looks_like(grid, text, layout)
    if reason or header is None:
        return reason
    missing = [_DISPLAY[f] for f in layout.required if f not in header.positions]
    return f"its header row has no {' or '.join(missing)} column"


def not_this(where: str, layout: Layout, reason: str) -> InputError:
    message = f"not a {layout.title}: expected a header row naming {layout.expected}"
    if reason:
        message += f"; {reason}"
    other = "instead" in reason
    hint = None if other else "download the practitioner file from CMS's NCCI pages"
    return WrongTableError(message, path=where, hint=hint)


class WrongTableError(InputError):
    """The file is readable but is not the table asked for (a zip may hold such files)."""


def check_table_kind(header: Header, layout: Layout, where: str) -> None:
    """The outpatient hospital and DME tables share the practitioner layouts: refuse them."""
    if layout.kind != "mue":
        return
    key = _key(header.cells[header.positions["mue"]])
    for word, name in (("outpatient", "outpatient hospital"), ("hospital", "outpatient hospital")):
        if word in key:
            raise WrongTableError(
                f"this is the {name} services MUE table; auditkit audits professional claims",
                path=where,
                hint="use the Practitioner Services MUE table",
            )
    if key.startswith("dme"):
        raise WrongTableError(
            "this is the DME supplier services MUE table; auditkit audits professional claims",
            path=where,
            hint="use the Practitioner Services MUE table",
        )


def check_name(name: str, layout: Layout, where: str) -> None:
    """CMS names the outpatient hospital PTP files ``ccioph-...``: same layout, other claims."""
    if layout.kind == "ptp" and name.lower().startswith("ccioph"):
        raise WrongTableError(
            "this is the outpatient hospital PTP edits file (ccioph); auditkit audits "
            "professional claims",
            path=where,
            hint="use the practitioner files, named ccipra-...",
        )
