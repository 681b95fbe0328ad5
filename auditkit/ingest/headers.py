"""Recognising export headers: synonyms, numbered list columns, the header row, near misses.

The synonym table lives in ``headers.toml`` next to this module. Matching compares *keys*: the
header lower-cased with everything but letters and digits removed, and ``#`` read as ``no``
(``"Claim #"``, ``"CLAIM NO."`` and ``"claim_no"`` are all ``claimno``).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import NamedTuple

from auditkit.claims import BY_NAME, LIST_COLUMNS
from auditkit.errors import ConfigError
from auditkit.ingest.mapping import AUXILIARY, ColumnMapping

#: How many rows from the top are searched for the header row.
HEADER_SCAN_ROWS = 30
#: A row needs at least this many recognised headers to count as the header row.
MIN_RECOGNISED = 2
#: Letters that may number list columns, per column (CMS-1500 diagnosis pointers run A..L).
_LETTERS = {"diagnosis_codes": "a-l", "modifiers": "a-d"}


def header_key(text: object) -> str:
    """The comparison key of a header: lower-case letters and digits only, ``#`` read as ``no``."""
    return re.sub(r"[^a-z0-9]", "", str(text).replace("#", "no").lower())


class Recognised(NamedTuple):
    """What one header was recognised as."""

    name: str  # canonical (or auxiliary) column
    order: int | None  # position among numbered source columns ("Dx 3" -> 3); None if whole
    priority: int  # index in the synonym list (lower wins)


@dataclass(frozen=True)
class SynonymTable:
    """The loaded synonym table."""

    whole: dict[str, tuple[str, int]]  # key -> (column, priority)
    numbered: tuple[tuple[str, re.Pattern[str]], ...]  # (column, pattern with stem and number)
    ignored: frozenset[str] = frozenset()  # keys of known headers auditkit does not read

    def is_ignored(self, header: object) -> bool:
        """True for a known header that has no canonical column (``"Proc Desc"``)."""
        return header_key(header) in self.ignored

    def recognise(self, header: object) -> Recognised | None:
        key = header_key(header)
        if not key:
            return None
        if key in self.whole:
            name, priority = self.whole[key]
            return Recognised(name, None, priority)
        for name, pattern in self.numbered:
            match = pattern.fullmatch(key)
            if match:
                suffix = match.group("n")
                order = int(suffix) if suffix.isdigit() else ord(suffix) - ord("a") + 1
                return Recognised(name, order, 0)
        return None

    def spellings(self, name: str) -> list[str]:
        """Keys that name column ``name`` (for near-miss suggestions)."""
        return [key for key, (col, _) in self.whole.items() if col == name]


@cache
def synonyms() -> SynonymTable:
    """The packaged synonym table (``headers.toml``), validated once."""
    raw = tomllib.loads(resources.files("auditkit.ingest").joinpath("headers.toml").read_text())
    known = set(BY_NAME) | set(AUXILIARY)
    whole: dict[str, tuple[str, int]] = {}
    for name, spellings in raw["columns"].items():
        if name not in known:
            raise ValueError(f"headers.toml: unknown column {name!r}")
        # the column's own name ("date_of_service") is always a spelling, ranked first
        for priority, spelling in enumerate([name, *spellings]):
            key = header_key(spelling)
            other = whole.get(key)
            if other is not None and other[0] != name:
                raise ValueError(f"headers.toml: {spelling!r} is listed for {other[0]} and {name}")
            whole.setdefault(key, (name, priority))
    numbered = []
    for name, stems in raw.get("numbered", {}).items():
        if name not in LIST_COLUMNS:
            raise ValueError(f"headers.toml: [numbered] {name} is not a list column")
        keys = sorted({header_key(s) for s in stems}, key=len, reverse=True)
        letters = _LETTERS.get(name)
        number = r"[1-9][0-9]?" + (f"|[{letters}]" if letters else "")
        pattern = re.compile("(?:" + "|".join(map(re.escape, keys)) + f")(?P<n>{number})")
        numbered.append((name, pattern))
    ignored = frozenset(header_key(h) for h in raw.get("ignored", {}).get("headers", []))
    clash = sorted(ignored & set(whole))
    if clash:
        raise ValueError(f"headers.toml: {clash} are both ignored and mapped")
    return SynonymTable(whole, tuple(numbered), ignored)


@dataclass
class HeaderMatch:
    """Which header positions feed which column, for one header row."""

    columns: dict[str, list[int]] = field(default_factory=dict)  # column -> positions, in order
    unmapped: list[int] = field(default_factory=list)
    ignored: list[int] = field(default_factory=list)  # known headers with no canonical column
    warnings: list[str] = field(default_factory=list)

    def as_report(self, headers: Sequence[str]) -> dict[str, str | list[str]]:
        """canonical -> header, or a list of headers when several feed a list column."""
        out: dict[str, str | list[str]] = {}
        for name, positions in self.columns.items():
            names = [headers[p] for p in positions]
            out[name] = names if len(names) > 1 else names[0]
        return out


def _find(headers: Sequence[str], wanted: str, used: set[int]) -> int | None:
    """Position of ``wanted`` among ``headers``: exact text first, then by key."""
    for pos, text in enumerate(headers):
        if pos not in used and text.strip() == wanted.strip():
            return pos
    key = header_key(wanted)
    for pos, text in enumerate(headers):
        if pos not in used and key and header_key(text) == key:
            return pos
    return None


def match_headers(
    headers: Sequence[str],
    mapping: ColumnMapping | None = None,
    *,
    where: str = "",
) -> HeaderMatch:
    """Map a header row to canonical columns: the mapping first, then the synonym table.

    ``where`` names the export (file, row) in errors. Raises :class:`ConfigError` when the
    mapping names a header the row does not have.
    """
    table = synonyms()
    result = HeaderMatch()
    used: set[int] = set()
    fixed: set[str] = set()
    if mapping is not None:
        for name, wanted_headers in mapping.columns.items():
            fixed.add(name)
            positions = []
            for wanted in wanted_headers:
                pos = _find(headers, wanted, used)
                if pos is None:
                    found = ", ".join(repr(h) for h in headers if h.strip()) or "none"
                    raise ConfigError(
                        f"[columns] {name} = {wanted!r}: {where} has no such header "
                        f"(headers found: {found})",
                        path=mapping.source,
                        hint="fix the header text in the mapping file",
                    )
                used.add(pos)
                positions.append(pos)
            if positions:
                result.columns[name] = positions

    whole: dict[str, list[tuple[int, int]]] = {}
    numbered: dict[str, list[tuple[int, int]]] = {}
    for pos, text in enumerate(headers):
        if pos in used:
            continue
        rec = table.recognise(text)
        if rec is None or rec.name in fixed:
            if rec is None and table.is_ignored(text):
                result.ignored.append(pos)
            elif text.strip():
                result.unmapped.append(pos)
            continue
        if rec.order is None:
            whole.setdefault(rec.name, []).append((rec.priority, pos))
        else:
            numbered.setdefault(rec.name, []).append((rec.order, pos))

    leftovers: list[tuple[str, int]] = []
    for name in dict.fromkeys([*whole, *numbered]):
        if name in whole:
            best = min(whole[name])
            result.columns[name] = [best[1]]
            leftovers += [(name, pos) for _, pos in whole[name] if pos != best[1]]
            leftovers += [(name, pos) for _, pos in numbered.get(name, [])]
        else:
            seen: set[int] = set()
            chosen = []
            for order, pos in sorted(numbered[name]):
                if order in seen:
                    leftovers.append((name, pos))
                else:
                    seen.add(order)
                    chosen.append(pos)
            result.columns[name] = chosen
    for name, pos in sorted(leftovers, key=lambda item: item[1]):
        result.unmapped.append(pos)
        taken = " + ".join(repr(headers[p]) for p in result.columns[name])
        result.warnings.append(
            f"header {headers[pos]!r} also looks like {name}; using {taken} "
            f"(name the one you want in a mapping file)"
        )
    result.unmapped.sort()
    return result


def mapping_keys(mapping: ColumnMapping | None) -> frozenset[str]:
    """Keys of the headers a mapping names (they count towards a header row's score)."""
    if mapping is None:
        return frozenset()
    return frozenset(header_key(h) for headers in mapping.columns.values() for h in headers)


def count_columns(
    cells: Sequence[str], table: SynonymTable, fixed_keys: Collection[str] = frozenset()
) -> int:
    """How many distinct columns a candidate header row names.

    A cell counts for the column ``table`` recognises it as; a cell whose key is one of
    ``fixed_keys`` (headers a mapping names) counts as a column of its own.
    """
    found: set[str] = set()
    for text in cells:
        key = header_key(text)
        if not key:
            continue
        if key in fixed_keys:
            found.add("mapped:" + key)
            continue
        rec = table.recognise(text)
        if rec is not None:
            found.add(rec.name)
    return len(found)


def best_header_row(
    grid: Sequence[Sequence[str]],
    table: SynonymTable,
    fixed_keys: Collection[str] = frozenset(),
) -> tuple[int, int]:
    """``(index, score)`` of the row among the top :data:`HEADER_SCAN_ROWS` of ``grid`` that
    names the most distinct columns (:func:`count_columns`); the earliest wins a tie.

    ``(-1, 0)`` when no row names any column. This is the one header-row search: claim exports
    use it with the packaged synonym table (:func:`find_header_row`), side tables with their
    own (:mod:`auditkit.ingest.side_tables`).
    """
    best, best_score = -1, 0
    for index, row in enumerate(grid[:HEADER_SCAN_ROWS]):
        score = count_columns(row, table, fixed_keys)
        if score > best_score:
            best, best_score = index, score
    return best, best_score


def score_row(cells: Sequence[str], mapping: ColumnMapping | None = None) -> int:
    """How many distinct claim columns a candidate header row names (mapping headers count)."""
    return count_columns(cells, synonyms(), mapping_keys(mapping))


def find_header_row(grid: Sequence[Sequence[str]], mapping: ColumnMapping | None = None) -> int:
    """Index (0-based) of the row in ``grid`` that best looks like a claim export's header row.

    The row naming the most known columns wins (the earliest on a tie). When no row names at
    least :data:`MIN_RECOGNISED` columns, the first of the fullest rows is taken, so that the
    caller can still report which required columns are missing.
    """
    best, best_score = best_header_row(grid, synonyms(), mapping_keys(mapping))
    if best_score >= MIN_RECOGNISED:
        return best
    filled = [sum(1 for c in row if str(c).strip()) for row in grid[:HEADER_SCAN_ROWS]]
    if not filled or max(filled) == 0:
        return -1
    return filled.index(max(filled))


def closest_headers(missing: str, headers: Sequence[str], limit: int = 3) -> list[str]:
    """Headers that look most like the column ``missing`` (for the missing-column error)."""
    table = synonyms()
    spellings = table.spellings(missing) or [header_key(missing)]
    scored = []
    for text in headers:
        key = header_key(text)
        if not key:
            continue
        ratio = max(difflib.SequenceMatcher(None, key, s).ratio() for s in spellings)
        if ratio >= 0.6:
            scored.append((-ratio, text))
    return [text for _, text in sorted(scored)[:limit]]
