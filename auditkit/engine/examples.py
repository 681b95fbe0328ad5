"""The Example section of an audit's docstring: claim lines that are flagged and the corrected
lines that are not, as plain-text tables a billing manager reads in ``auditkit explain`` and
the case runner runs, so the documentation cannot go stale.

Format::

    Flagged: what the lines show.

        claim_id | date_of_service | cpt   | modifiers
        ---------+-----------------+-------+----------
        C1001    | 2024-03-04      | 64493 |

    Result: 1 high finding, on the 64493 line.

    Not flagged: the corrected lines.

        (a table)

Optional lines before the blocks: ``Settings: name = value, ...`` (the audit's own settings)
and a side table under a caption of :data:`SIDE_TABLE_CAPTIONS`. A ``repeat`` column makes a
row stand for several identical claims (see :func:`expand_repeats`).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from auditkit.claims import BY_NAME, LIST_SEP
from auditkit.ingest.side_tables import SPECS

#: The two blocks of an Example, each a caption line, a table of claim lines and (for the
#: flagged block) a Result line.
EXAMPLE_BLOCKS: dict[str, bool] = {"Flagged": True, "Not flagged": False}
#: Caption (start of the line) of a side table in an Example -> the side table it fills.
SIDE_TABLE_CAPTIONS: dict[str, str] = {
    "Authorizations on file": "auths",
    "Contract fee schedule": "fee_schedule",
}
#: The column of an Example table that says how many identical lines a row stands for.
REPEAT_COLUMN = "repeat"

_SEVERITY_WORDS = "high|medium|low|info"
_COUNT = rf"(\d+) ({_SEVERITY_WORDS})(?: findings?)?"
_RESULT_HEAD = re.compile(rf"{_COUNT}(?:(?:, | and ){_COUNT})*\b")
_RULE_ROW = re.compile(r"[-+|: ]+")


@dataclass(frozen=True)
class ExampleCase:
    """One block of an audit's Example: claim lines that are flagged, or lines that are not."""

    flagged: bool
    #: The text after ``Flagged:`` / ``Not flagged:`` (what the lines show).
    caption: str
    #: The claim lines, one dict (column -> value, typed by the claim-line contract) per line,
    #: with the ``repeat`` of the table applied (see :func:`expand_repeats`).
    lines: tuple[dict[str, Any], ...]
    #: Findings of the audit expected per severity (empty for a "Not flagged" block).
    expected: dict[str, int] = field(default_factory=dict)
    #: The Result text as written (``""`` when the block has none).
    result: str = ""
    #: A "Not flagged" block whose lines leave the audit nothing to check (``Result: nothing
    #: to audit``), e.g. the corrected claim no longer has a third facet level.
    nothing_to_audit: bool = False


@dataclass(frozen=True)
class AuditExample:
    """An audit's Example section: one flagged and one not flagged table of claim lines, with
    the settings and side tables both run with."""

    flagged: ExampleCase
    not_flagged: ExampleCase
    #: Overrides of the audit's own settings (``Settings: min_lines = 10, alpha = 0.05``).
    settings: dict[str, Any] = field(default_factory=dict)
    #: Side tables by name (``auths``, ``fee_schedule``), rows as column -> text.
    side_tables: dict[str, tuple[dict[str, Any], ...]] = field(default_factory=dict)
    #: Prose before the blocks (what the tables stand for).
    note: str = ""


def parse_table(lines: Sequence[str]) -> list[dict[str, str]]:
    """The rows of a plain-text pipe table, as column -> cell text.

    The first line is the header (column names between ``|``), an optional rule of dashes
    follows (``---------+-----``), then one line per row. Every row has its pipes where the
    header has them, so the table reads as aligned columns. Cells are trimmed (a blank cell is
    ``""``).
    """
    rows = [line.rstrip() for line in lines if line.strip()]
    if not rows:
        raise ValueError("an empty table")
    indent = min(len(r) - len(r.lstrip()) for r in rows)
    rows = [r[indent:] for r in rows]
    header = rows[0]
    pipes = [i for i, c in enumerate(header) if c == "|"]
    if not pipes:
        raise ValueError(f"a table header needs | between columns: {header!r}")
    names = [name.strip() for name in header.split("|")]
    if not all(names) or len(set(names)) != len(names):
        raise ValueError(f"blank or repeated column names in the header {header!r}")
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if _RULE_ROW.fullmatch(row):
            marks = [i for i, c in enumerate(row) if c in "+|"]
            if number != 2 or marks != pipes:
                raise ValueError(f"line {number} of the table: a rule row belongs under the header")
            continue
        if [i for i, c in enumerate(row) if c == "|"] != pipes:
            raise ValueError(
                f"line {number} of the table is not aligned with its header:\n{header}\n{row}"
            )
        cells = [cell.strip() for cell in row.split("|")]
        out.append(dict(zip(names, cells, strict=True)))
    if not out:
        raise ValueError(f"a table without rows under {header!r}")
    return out


def _typed(kind: str, text: str, where: str) -> Any:
    """A cell's text as the value its column kind holds (``kind`` from the claim-line or the
    side-table contract)."""
    try:
        if kind == "int":
            return int(text)
        if kind in ("number", "money"):
            return float(text.removeprefix("$").replace(",", "") if kind == "money" else text)
        if kind == "bool":
            return {"yes": True, "true": True, "no": False, "false": False}[text.lower()]
        if kind == "date":
            return dt.date.fromisoformat(text)
        if kind in ("list", "codes"):
            return LIST_SEP.join(part.strip() for part in text.split(",") if part.strip())
    except (ValueError, KeyError):
        raise ValueError(f"{where}: {text!r} is not a valid {kind} value") from None
    return text


def _claim_rows(table: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Typed claim-line rows; a blank cell is None (the column is there, the value is not)."""
    rows = []
    for row in table:
        typed: dict[str, Any] = {}
        for name, text in row.items():
            if name == REPEAT_COLUMN:
                typed[name] = _typed("int", text or "1", name)
                if typed[name] < 1:
                    raise ValueError(f"repeat must be at least 1, got {text}")
            elif name in BY_NAME:
                typed[name] = _typed(BY_NAME[name].kind, text, name) if text else None
            else:
                raise ValueError(f"{name!r} is not a claim-line column (nor {REPEAT_COLUMN!r})")
        rows.append(typed)
    return rows


def expand_repeats(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Apply the ``repeat`` column: a row without a claim_id and ``repeat = n`` is n one-line
    claims (their claim_id left out, for the caller to number); the rows sharing a claim_id
    are one claim, and ``repeat = n`` on them (the same on each) is n copies of the whole
    claim, numbered ``<claim_id>-1`` to ``<claim_id>-n``."""
    repeats: dict[str, int] = {}
    members: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row.get("claim_id") is not None:
            claim = str(row["claim_id"])
            n = row.get(REPEAT_COLUMN, 1)
            if repeats.setdefault(claim, n) != n:
                raise ValueError(f"the lines of claim {claim} have different repeat counts")
            members.setdefault(claim, []).append(row)
    out: list[dict[str, Any]] = []
    done: set[str] = set()
    for row in rows:
        if row.get("claim_id") is None:
            bare = {k: v for k, v in row.items() if k not in (REPEAT_COLUMN, "claim_id")}
            out += [dict(bare) for _ in range(row.get(REPEAT_COLUMN, 1))]
            continue
        claim = str(row["claim_id"])
        if claim in done:
            continue
        done.add(claim)
        n = repeats[claim]
        for copy in range(1, n + 1):
            for member in members[claim]:
                line = {k: v for k, v in member.items() if k != REPEAT_COLUMN}
                if n > 1:
                    line["claim_id"] = f"{claim}-{copy}"
                out.append(line)
    return out


def _side_rows(kind: str, table: list[dict[str, str]]) -> tuple[dict[str, Any], ...]:
    spec = SPECS[kind]
    rows = []
    unknown = set(table[0]) - set(spec.names)
    if unknown:
        raise ValueError(f"{sorted(unknown)} not columns of {spec.what} ({spec.option})")
    for row in table:
        rows.append({n: _typed(spec.column(n).kind, t, n) if t else None for n, t in row.items()})
    return tuple(rows)


def _expected(result: str) -> dict[str, int]:
    """Findings per severity from the start of a Result: ``1 high finding``, ``2 high and 1
    medium findings``, ``1 high finding, 2 medium findings``; free text may follow."""
    head = _RESULT_HEAD.match(result)
    if not head or not re.search(r"findings?$", head.group(0)):
        raise ValueError(
            f"a flagged Result starts with the findings by severity, like '1 high finding' or "
            f"'2 high and 1 medium findings', not {result!r}"
        )
    expected: dict[str, int] = {}
    for count, severity in re.findall(rf"(\d+) ({_SEVERITY_WORDS})", head.group(0)):
        if severity in expected:
            raise ValueError(f"severity {severity} is named twice in {head.group(0)!r}")
        expected[severity] = int(count)
    return expected


def _settings(text: str) -> dict[str, Any]:
    """``min_lines = 10, codes = "64492,64495"``: a TOML inline table without its braces."""
    try:
        return tomllib.loads(f"settings = {{ {text} }}")["settings"]
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"Settings: {text!r} is not 'key = value, ...' ({err})") from None


def parse_example(text: str) -> AuditExample:
    """Parse an audit docstring's Example section.

    The section reads (tables indented under their caption, everything else in the first
    column)::

        Optional prose, e.g. that each row stands for ``repeat`` identical lines.
        Settings: min_lines = 10                          (optional: the audit's settings)
        Authorizations on file: ...                       (optional side table, then its table)

            authorization_number | patient_id | approved_codes
            ...

        Flagged: what the lines show.

            claim_id | cpt   | modifiers
            ---------+-------+----------
            C1001    | 64493 |

        Result: 1 high finding. Free text after the first full stop.

        Not flagged: the corrected lines.

            claim_id | cpt   | modifiers
            ---------+-------+----------
            C1001    | 64493 | RT

    Table columns are claim-line columns (typed by their kind: ``RT,59`` for a list, ``yes``
    for a flag, ``2024-03-04`` for a date), plus ``repeat`` (see :func:`expand_repeats`); a
    blank cell is a value not given. The flagged block's Result states exactly how many
    findings of the audit, by severity, the lines raise; the not flagged block raises none (an
    optional Result says ``no findings``, or ``nothing to audit`` when its lines give the audit
    nothing to check).
    """
    note: list[str] = []
    settings: dict[str, Any] = {}
    side_rows: dict[str, list[dict[str, str]]] = {}
    blocks: dict[str, dict[str, Any]] = {}
    waiting: str | None = None  # the side table whose rows come next
    target = note  # where a line of prose goes: the note, a caption or a Result
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if line[:1].isspace() and "|" in line:  # a table: up to the next line in column one
            end = i + 1
            while end < len(lines) and (not lines[end].strip() or lines[end][:1].isspace()):
                end += 1
            rows = parse_table(lines[i:end])
            if waiting is not None:
                side_rows[waiting], waiting = rows, None
            elif blocks and "rows" not in (block := blocks[list(blocks)[-1]]):
                block["rows"] = rows
            else:
                raise ValueError(f"a table without its caption (Flagged:, ...): {stripped!r}")
            i = end
            continue
        key, colon, rest = stripped.partition(":")
        rest = rest.strip()
        side_name = next(
            (v for c, v in SIDE_TABLE_CAPTIONS.items() if stripped.startswith(c)), None
        )
        if colon and key in EXAMPLE_BLOCKS:
            if key in blocks:
                raise ValueError(f"two '{key}:' blocks")
            blocks[key] = {"caption": [rest], "result": []}
            target = blocks[key]["caption"]
        elif colon and key == "Result":
            if not blocks:
                raise ValueError("a Result line before the Flagged and Not flagged blocks")
            target = blocks[list(blocks)[-1]]["result"]
            target.append(rest)
        elif colon and (key == "Settings" or side_name is not None):
            if blocks:
                raise ValueError(f"'{key}:' comes before the Flagged and Not flagged blocks")
            if side_name is not None:
                waiting = side_name
                note.append(stripped)
            else:
                settings.update(_settings(rest))
            target = note
        elif stripped:
            target.append(stripped)
        i += 1
    if waiting is not None:
        raise ValueError(f"the {waiting} caption has no table under it")
    side_tables = {name: _side_rows(name, rows) for name, rows in side_rows.items()}

    cases = {}
    for key, flagged in EXAMPLE_BLOCKS.items():
        block = blocks.get(key)
        if block is None:
            raise ValueError(f"the Example has no '{key}:' block")
        if "rows" not in block:
            raise ValueError(f"the '{key}:' block has no table")
        result = " ".join(block["result"]).strip()
        expected = _expected(result) if flagged else {}
        nothing = result.lower().startswith("nothing to audit")
        if not flagged and result and not nothing and not result.lower().startswith("no find"):
            raise ValueError(
                f"a Not flagged Result says 'no findings' or 'nothing to audit', not {result!r}"
            )
        cases[key] = ExampleCase(
            flagged=flagged,
            caption=" ".join(block["caption"]).strip(),
            lines=tuple(expand_repeats(_claim_rows(block["rows"]))),
            expected=expected,
            result=result,
            nothing_to_audit=nothing,
        )
    return AuditExample(
        flagged=cases["Flagged"],
        not_flagged=cases["Not flagged"],
        settings=settings,
        side_tables=side_tables,
        note=" ".join(note).strip(),
    )
