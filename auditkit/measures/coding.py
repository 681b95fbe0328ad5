"""Shared building blocks of the coding-rule audits (modifiers, diagnoses, bundling, units, time).

Definitions every coding audit uses (each audit's docstring repeats the ones it relies on):

* **Patient**: ``patient_id`` when the export has it; otherwise (and on lines whose patient id
  is blank) the claim stands in for the patient, so rules about "the same patient" then only see
  lines of one claim.
* **Same day / session**: the same patient and date of service, across claims.
* **Billed lines**: lines that are not voided. **Counted lines** (used to add up units, sessions
  and rates): billed lines that were not rejected either, because a rejected claim is usually
  sent again and would otherwise count twice.
* **E/M**: an office visit code (family ``E/M`` in the reference data, 99202-99215).
* **Procedure**: a code of a procedure family (trigger point, joint, epidural, facet, nerve
  block, neurostimulation) or any code of the CPT surgery range 10000-69999.
* **Dollars at risk of a line**: the paid amount when the payer paid it (what an audit takes
  back), else the charge (what a denial costs), else 0.

Everything is computed once per audit run (:func:`coding_view` memoises it on the run's
:class:`~auditkit.engine.contract.Context`) and kept as numpy arrays over the claim lines, in the
frame's row order. Work that depends only on the code or on the modifier list is done once per
distinct value and broadcast back, so a million lines cost about as much as a few hundred codes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from auditkit.claims import LIST_SEP
from auditkit.engine.context import Context, usable
from auditkit.engine.contract import Audit, NothingToAudit
from auditkit.engine.findings import FINDING_SOURCE_COLUMNS, Message, line_findings, line_keys
from auditkit.engine.findingset import distinct_categories, stack_frames
from auditkit.engine.result import empty_findings
from auditkit.reference import FAMILIES

#: Reference families whose codes are procedures (for modifier 25 and the 59 rules).
PROCEDURE_FAMILIES: tuple[str, ...] = tuple(
    f for f in FAMILIES if f not in ("chronic pain management", "E/M", "other")
)
SIDE_MODIFIERS: tuple[str, ...] = ("RT", "LT", "50")
#: Modifier 59 and its more specific X{EPSU} subset.
DISTINCT_MODIFIERS: tuple[str, ...] = ("59", "XE", "XS", "XP", "XU")
#: Reference confidence -> severity of a finding that rests on that fact alone.
SEVERITY_BY_CONFIDENCE: dict[str, str] = {"C": "high", "S": "high", "V": "medium"}


def where_template(name: str = "where") -> str:
    """ "<cpt> on claim <claim id> (<date>)" as a message template over the fields
    :meth:`CodingView.where_fields` gives under ``name`` (the code as written and trimmed, else
    "(no code)"; the claim id, else "(no claim id)"; the date, else "no date")."""
    return f"{{{name}_cpt}} on claim {{{name}_claim}} ({{{name}_date}})"


#: How a line finding's message starts (:func:`where_template`).
WHERE = where_template()


def coding_view(lines: pd.DataFrame, context: Context) -> CodingView:
    """The shared arrays for this run (built on first use, then reused by every coding audit)."""
    # Kept on the run's context (not in a module-level table, whose entries would keep every
    # run's arrays alive: a view refers to its context).
    view = context._memo.get("coding.view")
    if view is None or view.lines is not lines:
        view = CodingView(lines, context)
        context._memo["coding.view"] = view
    return view


def factorize_text(
    values: pd.Series | None,
    normalise: bool = False,
    factorized: tuple[np.ndarray, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 for missing or blank) and the distinct values, as object array.

    ``factorized`` is ``pd.factorize(values)`` when already known (see ``Context.codes``)."""
    if factorized is None:
        factorized = pd.factorize(values, use_na_sentinel=True)
    codes, uniques = factorized
    uniq = pd.Series(np.asarray(uniques, dtype=object), dtype="string")
    if normalise:
        uniq = uniq.str.strip().str.upper()
    uniq = uniq.mask(uniq.eq(""), pd.NA)
    again, final = pd.factorize(uniq, use_na_sentinel=True)
    # An extra -1 slot: codes index it only where they are -1 (also when nothing is distinct).
    again = np.append(again, -1)
    codes = np.where(codes >= 0, again[codes], -1)
    return codes.astype(np.int64), np.asarray(final, dtype=object)


def group_codes(
    values: pd.Series | None, factorized: tuple[np.ndarray, Any] | None = None
) -> np.ndarray:
    """Integer codes of a text column for grouping (-1 for missing or blank); no normalising.

    ``factorized`` is ``pd.factorize(values)`` when already known (see ``Context.codes``)."""
    if factorized is None:
        factorized = pd.factorize(values, use_na_sentinel=True)
    codes, uniques = factorized
    codes = codes.astype(np.int64)  # a copy: blanks are marked in place below
    blank = np.flatnonzero(np.asarray(pd.Series(uniques, dtype="string").eq(""), dtype=bool))
    if len(blank):
        codes[codes == blank[0]] = -1
    return codes


def own_groups(codes: np.ndarray) -> np.ndarray:
    """Codes with every missing (-1) entry turned into a group of its own (never joined)."""
    missing = codes < 0
    if not missing.any():
        return codes
    out = codes.copy()
    top = int(codes.max()) + 1 if len(codes) else 0
    out[missing] = top + np.arange(int(missing.sum()))
    return out


def combine(*keys: np.ndarray) -> np.ndarray:
    """One group code per distinct combination of non-negative integer keys."""
    if not keys or len(keys[0]) == 0:
        return np.zeros(0 if not keys else len(keys[0]), dtype=np.int64)
    combined = np.asarray(keys[0], dtype=np.int64)
    for key in keys[1:]:
        combined = combined * (int(key.max()) + 1) + np.asarray(key, dtype=np.int64)
    if len(combined) and int(combined.max()) < 2**31:
        combined = combined.astype(np.int32)  # the same codes; 32-bit keys hash faster
    return pd.factorize(combined)[0].astype(np.int64, copy=False)


def group_sum(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per line: the sum of ``values`` over the line's group (keys are 0..K-1)."""
    if len(keys) == 0:
        return np.zeros(0)
    return np.bincount(keys, weights=np.asarray(values, dtype="float64"))[keys]


def group_any(keys: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per line: does any line of its group satisfy ``mask``?"""
    mask = np.asarray(mask)
    if mask.dtype != bool or len(keys) == 0:
        return group_sum(keys, mask) > 0
    hit = np.zeros(int(keys.max()) + 1, dtype=bool)
    hit[keys[mask]] = True
    return hit[keys]


def group_max(keys: np.ndarray, values: np.ndarray, initial: Any) -> np.ndarray:
    """Per line: the largest of ``values`` over the line's group (keys are 0..K-1)."""
    if len(keys) == 0:
        return np.asarray(values).copy()
    top = np.full(int(keys.max()) + 1, initial, dtype=np.asarray(values).dtype)
    np.maximum.at(top, keys, values)
    return top[keys]


def group_min(keys: np.ndarray, values: np.ndarray, initial: Any) -> np.ndarray:
    """Per line: the smallest of ``values`` over the line's group (keys are 0..K-1)."""
    if len(keys) == 0:
        return np.asarray(values).copy()
    low = np.full(int(keys.max()) + 1, initial, dtype=np.asarray(values).dtype)
    np.minimum.at(low, keys, values)
    return low[keys]


def excess_units(
    keys: np.ndarray, units: np.ndarray, allowed: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per line, adding units up per group in row order: the line's units beyond ``allowed``
    (the part of the line that takes the running total over), the share of the line's units
    that is, and the group's total units."""
    units = np.asarray(units, dtype="float64")
    limit = np.broadcast_to(np.asarray(allowed, dtype="float64"), units.shape)
    total = group_sum(keys, units)
    if len(units) and not (np.isnan(units).any() or np.isnan(limit).any()):
        # A running total never passes the group's positive units added in the same order, so
        # only groups where that bound passes a line's allowance can have excess units: the
        # running totals are worked out for those groups only (usually a small share).
        bound = group_sum(keys, np.maximum(units, 0.0))
        rows = np.flatnonzero(group_any(keys, bound > limit))
        running = pd.Series(units[rows]).groupby(keys[rows]).cumsum().to_numpy()
        excess = np.zeros(len(units))
        excess[rows] = np.clip(np.minimum(units[rows], running - limit[rows]), 0.0, None)
    else:
        running = pd.Series(units).groupby(keys).cumsum().to_numpy()
        excess = np.clip(np.minimum(units, running - limit), 0.0, None)
    share = excess / np.where(units > 0, units, 1.0)
    return excess, share, total


def member(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """``np.isin(keys, wanted)`` for integer group codes, by a lookup table over their range."""
    keys = np.asarray(keys)
    wanted = np.asarray(wanted)
    if len(keys) == 0 or len(wanted) == 0:
        return np.zeros(len(keys), dtype=bool)
    low = min(int(keys.min()), int(wanted.min()))
    size = max(int(keys.max()), int(wanted.max())) - low + 1
    if size > 32 * (len(keys) + len(wanted)) + (1 << 24):  # sparse keys: sort instead
        return np.isin(keys, wanted)
    table = np.zeros(size, dtype=bool)
    table[wanted - low] = True
    return table[keys - low]


def join_groups(frame: pd.DataFrame, most: int = 16) -> pd.Series:
    """``frame.groupby("key", sort=False)["text"].agg(", ".join)``: the texts of each key joined
    in row order. Built a rank at a time with whole-column string operations (groups hold a
    few lines each); a frame with bigger groups goes through ``groupby`` instead."""
    if frame.empty:
        return frame.groupby("key", sort=False)["text"].agg(", ".join)
    rank = frame.groupby("key", sort=False).cumcount().to_numpy()
    if rank.max() >= most:
        return frame.groupby("key", sort=False)["text"].agg(", ".join)
    keys = frame["key"].to_numpy()
    texts = frame["text"].to_numpy(dtype=object)
    first = rank == 0
    joined = pd.Series(texts[first], index=pd.Index(keys[first], name="key"), dtype=object)
    for r in range(1, int(rank.max()) + 1):
        at = rank == r
        more = pd.Series(texts[at], index=keys[at], dtype=object)
        joined.loc[more.index] = joined.loc[more.index].to_numpy() + ", " + more.to_numpy()
    return joined


def dates_text(values: pd.Series) -> pd.Series:
    """Dates as YYYY-MM-DD text ("no date" where missing)."""
    return values.dt.strftime("%Y-%m-%d").astype("string").fillna("no date")


# -- message templates (see auditkit.engine.findingset): text built once per distinct wording --


def literal(text: str) -> str:
    """Text as a template fragment that renders as itself (braces escaped)."""
    return str(text).replace("{", "{{").replace("}", "}}")


def pick(codes: np.ndarray, texts: Sequence[str]) -> pd.Categorical:
    """``texts[codes]`` as a categorical (texts that repeat are made one category; a code of
    -1 is the last text)."""
    again, final = pd.factorize(pd.Series(list(texts), dtype=object))
    codes = np.asarray(codes, dtype=np.int64)
    # Object categories: turning the codes back into texts then costs a pointer per row.
    return pd.Categorical.from_codes(again[codes], categories=pd.Index(final, dtype=object))


def combination(func: Callable[..., str], *columns: Any) -> pd.Categorical:
    """Per row, ``func`` of the row's values of ``columns``, called once per distinct
    combination of values: a categorical (a small code per row, a few texts)."""
    factorized = [pd.factorize(np.asarray(c), use_na_sentinel=False) for c in columns]
    ids = combine(*[np.asarray(k, dtype=np.int64) for k, _ in factorized])
    first = np.unique(ids, return_index=True)[1]  # ids are 0..K-1: one row per id
    texts = [func(*(u[k[i]] for k, u in factorized)) for i in first]
    return pick(ids, texts)


def choose(values: Any, texts: Mapping[Any, str] | Callable[[Any], str]) -> pd.Categorical:
    """Per row a text picked by its value: ``texts[value]`` (or ``texts(value)``), looked up
    once per distinct value. A message fragment for :func:`template`."""
    return combination(texts if callable(texts) else texts.__getitem__, values)


def template(*pieces: str | pd.Categorical) -> str | pd.Categorical:
    """Pieces joined in order, each a text (the same for every row) or a categorical (e.g. from
    :func:`choose`): a message template, or any text that takes a few forms (a fix). The text
    of each distinct combination is built once; the result is a categorical or, when every
    piece is text, one text."""
    chosen = [p for p in pieces if not isinstance(p, str)]
    if not chosen:
        return "".join(pieces)  # type: ignore[arg-type]
    codes = [np.asarray(p.codes, dtype=np.int64) for p in chosen]

    def join(*at: int) -> str:
        found = iter(at)
        return "".join(p if isinstance(p, str) else str(p.categories[next(found)]) for p in pieces)

    return combination(join, *codes)


def arrow_text(values: Any) -> pd.Series:
    """Text as a Series of Arrow strings (whole-array conversions only)."""
    return pd.Series(values).astype("string[pyarrow]").reset_index(drop=True)


def _as_string(values: pd.Series) -> pd.Series:
    """Values as ``string`` text, nothing else changed (distinct values stay distinct)."""
    return values.astype("string")


#: The dollar bases of a line's :attr:`CodingView.dollars`, in the order of their codes.
_LINE_BASES = pd.Index(["paid amount", "expected payment", "charge", "none"], dtype=object)


class CodingView:
    """Arrays over the claim lines that the coding audits share (see the module docstring)."""

    def __init__(self, lines: pd.DataFrame, context: Context) -> None:
        self.lines = lines
        self.context = context
        self.n = len(lines)
        self._has: dict[tuple[str, ...], np.ndarray] = {}
        self._fields: dict[str, Any] = {}

    def factorized(self, column: str, keep: bool = True) -> tuple[np.ndarray, Any]:
        """``pd.factorize`` of a column, shared with the run's other audits when possible."""
        if self.lines is self.context.lines:
            return self.context.codes(column, keep=keep)
        if column.startswith("ctx."):
            source = getattr(self.context, column[4:])
        else:
            source = self.lines[column]
        codes, uniques = pd.factorize(source, use_na_sentinel=True)
        return codes.astype(np.int64, copy=False), uniques

    # -- codes ---------------------------------------------------------------------------------

    @cached_property
    def _cpt(self) -> tuple[np.ndarray, np.ndarray]:
        if "cpt" not in self.lines.columns:
            return np.full(self.n, -1, dtype=np.int64), np.array([], dtype=object)
        return factorize_text(None, normalise=True, factorized=self.factorized("cpt"))

    @property
    def code_ids(self) -> np.ndarray:
        """Integer id of each line's code (-1 where blank)."""
        return self._cpt[0]

    @property
    def code_values(self) -> np.ndarray:
        """The distinct normalised codes (index = code id)."""
        return self._cpt[1]

    def by_code(self, mapping: Mapping[str, Any] | pd.Series, default: Any = None) -> np.ndarray:
        """Per line: ``mapping[code]`` (``default`` for unknown or blank codes)."""
        return self.per_code(mapping, default)[self.code_ids]

    def per_code(self, mapping: Mapping[str, Any] | pd.Series, default: Any = None) -> np.ndarray:
        """Per distinct code (index = code id, one more slot for a blank code, id -1):
        ``mapping[code]``, ``default`` for unknown or blank codes."""
        table = pd.Series(self.code_values, dtype=object).map(mapping)
        per_code = np.asarray(table.where(table.notna(), default), dtype=object)
        return np.append(per_code, np.array([default], dtype=object))  # slot for -1

    def code_in(self, codes: Iterable[str]) -> np.ndarray:
        """Per line: is the code one of ``codes``?"""
        wanted = set(codes)
        per_code = np.array([c in wanted for c in self.code_values] + [False], dtype=bool)
        return per_code[self.code_ids]

    def code_between(self, first: str, last: str) -> np.ndarray:
        """Per distinct code: is it within first..last (codes of five characters compare as text
        in their numeric order, as in the reference ranges)?"""
        return np.array([len(c) == 5 and first <= c <= last for c in self.code_values], dtype=bool)

    @cached_property
    def procedures(self) -> pd.DataFrame:
        """The reference procedure table, one row per code."""
        return self.context.reference.procedures.drop_duplicates("code").set_index("code")

    def procedure_is(self, column: str, value: str, default: str = "") -> np.ndarray:
        """Per line: is the reference procedure table's ``column`` for its code ``value``?
        Compared once per code; codes not in the table take ``default``."""
        per_code = self.per_code(self.procedures[column], default)
        return np.asarray(per_code == value, dtype=bool)[self.code_ids]

    @cached_property
    def family_ids(self) -> np.ndarray:
        """Per line: index of its procedure family in ``reference.FAMILIES``."""
        ids, uniques = self.factorized("ctx.family")
        index = np.array([FAMILIES.index(str(f)) for f in uniques] + [-1], dtype=np.int64)
        return index[ids]

    def in_family(self, *families: str) -> np.ndarray:
        """Per line: is the code's family one of ``families``?"""
        wanted = [FAMILIES.index(f) for f in families if f in FAMILIES]
        return np.isin(self.family_ids, wanted)

    @cached_property
    def is_em(self) -> np.ndarray:
        return self.in_family("E/M")

    @cached_property
    def is_procedure(self) -> np.ndarray:
        surgery = np.array(
            [c.isdigit() and 10000 <= int(c) <= 69999 for c in self.code_values] + [False]
        )
        return self.in_family(*PROCEDURE_FAMILIES) | surgery[self.code_ids]

    # -- modifiers -----------------------------------------------------------------------------

    @cached_property
    def _mods(self) -> tuple[np.ndarray, list[tuple[str, ...]]]:
        if "modifiers" not in self.lines.columns:
            return np.full(self.n, -1, dtype=np.int64), []
        ids, values = factorize_text(None, normalise=True, factorized=self.factorized("modifiers"))
        items = [tuple(m.strip() for m in str(v).split(LIST_SEP) if m.strip()) for v in values]
        return ids, items

    def has(self, *modifiers: str) -> np.ndarray:
        """Per line: does the modifier list hold any of ``modifiers``?"""
        if modifiers not in self._has:
            ids, items = self._mods
            wanted = set(modifiers)
            per_value = np.array([bool(wanted & set(i)) for i in items] + [False], dtype=bool)
            self._has[modifiers] = per_value[ids]
        return self._has[modifiers].copy()  # a copy: callers may combine masks in place

    def count(self, *modifiers: str) -> np.ndarray:
        """Per line: how many of the line's modifiers are among ``modifiers``."""
        ids, items = self._mods
        wanted = set(modifiers)
        per_value = np.array([sum(m in wanted for m in i) for i in items] + [0], dtype=np.int64)
        return per_value[ids]

    @cached_property
    def modifier_names(self) -> list[str]:
        """Every modifier that occurs in the data."""
        return sorted({m for items in self._mods[1] for m in items})

    @cached_property
    def modifier_text(self) -> np.ndarray:
        """Per line: the modifiers as text ("none" where there are none)."""
        ids, items = self._mods
        text = np.array([", ".join(i) or "none" for i in items] + ["none"], dtype=object)
        return text[ids]

    # -- who, when, status ---------------------------------------------------------------------

    @cached_property
    def status(self) -> np.ndarray:
        status = self.context.status
        if status is None:
            return np.full(self.n, "", dtype=object)
        return np.asarray(status.fillna(""), dtype=object)

    @cached_property
    def billed(self) -> np.ndarray:
        """Lines that are not voided."""
        return ~self._status_is("voided")

    @cached_property
    def counted(self) -> np.ndarray:
        """Lines that are neither voided nor rejected."""
        return ~self._status_is("voided", "rejected")

    def _status_is(self, *statuses: str) -> np.ndarray:
        if self.lines is self.context.lines:
            return self.context.status_is(*statuses)
        return np.isin(self.status, statuses)

    @cached_property
    def claim(self) -> np.ndarray:
        if not usable(self.lines, "claim_id"):
            return np.arange(self.n, dtype=np.int64)
        return own_groups(group_codes(None, self.factorized("claim_id")))

    @cached_property
    def patient_column(self) -> str:
        """``patient_id`` when the export has it, else ``claim_id``."""
        return "patient_id" if usable(self.lines, "patient_id") else "claim_id"

    @cached_property
    def patient(self) -> np.ndarray:
        """Group code of the patient; a line without a patient id stands for its claim."""
        if self.patient_column == "claim_id":
            return self.claim
        ids = group_codes(None, self.factorized("patient_id", keep=False))
        missing = ids < 0
        if missing.any():
            ids = np.where(missing, ids.max() + 1 + self.claim, ids)
        return ids

    @cached_property
    def day(self) -> np.ndarray:
        """Days since 1970-01-01 (-1 where the date is missing)."""
        return self._date_units("D")

    @cached_property
    def month(self) -> np.ndarray:
        """Months since 1970-01 (-1 where the date is missing)."""
        return self._date_units("M")

    def _date_units(self, unit: str) -> np.ndarray:
        if "date_of_service" not in self.lines.columns:
            return np.full(self.n, -1, dtype=np.int64)
        days = self.lines["date_of_service"].to_numpy(dtype="datetime64[D]")
        out = days.astype(f"datetime64[{unit}]").astype(np.int64)
        out[np.isnat(days)] = -1
        return out

    @cached_property
    def session(self) -> np.ndarray:
        """Group code of (patient, date of service); a line without a date is its own group."""
        return own_groups(np.where(self.day >= 0, combine(self.patient, self.day + 1), -1))

    @cached_property
    def session_provider(self) -> np.ndarray:
        """Group code of (patient, date of service, rendering provider)."""
        return combine(self.session, self.provider)

    @cached_property
    def patient_month(self) -> np.ndarray:
        return own_groups(np.where(self.month >= 0, combine(self.patient, self.month + 1), -1))

    @cached_property
    def provider(self) -> np.ndarray:
        return group_codes(None, self.factorized("ctx.provider"))

    @cached_property
    def units(self) -> np.ndarray:
        """Units billed (1 where the export has no units or the cell is blank)."""
        if "units" not in self.lines.columns:
            return np.ones(self.n)
        units = self.lines["units"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        return np.where(np.isnan(units), 1.0, units)

    def money(self, column: str) -> np.ndarray:
        """A money column as floats (0 where blank or absent)."""
        if column not in self.lines.columns:
            return np.zeros(self.n)
        return self.lines[column].fillna(0.0).to_numpy(dtype="float64")

    @cached_property
    def _paid(self) -> np.ndarray:
        return self.money("paid")

    @cached_property
    def _charge(self) -> np.ndarray:
        return self.money("charge")

    @cached_property
    def _expected(self) -> np.ndarray:
        """Expected payment of each line (fee schedule, else the practice's mean paid for the
        code at the payer), never above the line's charge; NaN when unknown."""
        fee = self.context.line_fees()
        charge = self._charge
        return np.where((charge > 0) & (fee > charge), charge, fee)

    @cached_property
    def dollars(self) -> np.ndarray:
        """Dollars at risk of each line when a coding rule flags it: what was paid (it can be
        taken back on audit); on a line not paid, its expected payment; else its charge."""
        paid = self._paid
        expected = self._expected
        unpaid = np.where(np.isnan(expected), np.maximum(self._charge, 0.0), expected)
        return np.where(paid > 0, paid, unpaid)

    def basis_at(self, pos: np.ndarray) -> pd.Categorical:
        """What each line's :attr:`dollars` are (a dollar basis), at ``pos`` only: a
        categorical (a byte per line, not the words)."""
        paid = self._paid[pos]
        expected = ~np.isnan(self._expected[pos])
        has_charge = self._charge[pos] > 0
        codes = np.where(paid > 0, 0, np.where(expected, 1, np.where(has_charge, 2, 3)))
        return pd.Categorical.from_codes(codes.astype(np.int8), categories=_LINE_BASES)

    # -- text for messages (only ever built for the flagged lines) ------------------------------

    def _label(
        self, column: str, tidy: Callable[[pd.Series], pd.Series], missing: str
    ) -> tuple[np.ndarray, np.ndarray, pd.CategoricalDtype]:
        """A text column as messages show it, per distinct value: the line codes
        (``pd.factorize``), a table from code to label (its last slot for a missing value, code
        -1) and the labels as a categorical dtype. Each distinct value is tidied once."""
        codes, uniques = self.factorized(column)
        texts = tidy(pd.Series(uniques)).astype("string")
        if (
            tidy is _as_string
            and isinstance(getattr(uniques, "dtype", None), pd.StringDtype)
            and not texts.isna().any()
            and not texts.eq(missing).any()
        ):
            # Distinct values stay distinct as strings: the labels are the values, then the
            # missing one (no second factorize of a run's hundreds of thousands of claim ids).
            labels = pd.concat([texts, pd.Series([missing], dtype="string")], ignore_index=True)
            table = np.arange(len(labels), dtype=np.int64)
            return codes, table, distinct_categories(pd.Index(labels))
        texts = pd.concat([texts, pd.Series([missing], dtype="string")], ignore_index=True)
        table, labels = pd.factorize(texts.fillna(missing))
        return codes, table.astype(np.int64), distinct_categories(pd.Index(labels))

    @cached_property
    def _cpt_label(self) -> tuple[np.ndarray, np.ndarray, pd.CategoricalDtype]:
        if "cpt" not in self.lines.columns:
            return self._constant_label("(no code)")
        return self._label("cpt", lambda t: t.astype("string").str.strip(), "(no code)")

    @cached_property
    def _claim_label(self) -> tuple[np.ndarray, np.ndarray, pd.CategoricalDtype]:
        if "claim_id" not in self.lines.columns:
            return self._constant_label("(no claim id)")
        return self._label("claim_id", _as_string, "(no claim id)")

    @cached_property
    def _date_label(self) -> tuple[np.ndarray, np.ndarray, pd.CategoricalDtype]:
        if "date_of_service" not in self.lines.columns:
            return self._constant_label("no date")
        codes, uniques = pd.factorize(self.lines["date_of_service"], use_na_sentinel=True)
        codes = codes.astype(np.int32 if len(uniques) < 2**31 else np.int64)
        texts = dates_text(pd.Series(uniques, dtype=self.lines["date_of_service"].dtype))
        texts = pd.concat([texts, pd.Series(["no date"], dtype="string")], ignore_index=True)
        table, labels = pd.factorize(texts)
        return codes, table.astype(np.int64), distinct_categories(pd.Index(labels))

    def _constant_label(self, text: str) -> tuple[np.ndarray, np.ndarray, pd.CategoricalDtype]:
        codes = np.full(self.n, -1, dtype=np.int8)
        return codes, np.zeros(1, dtype=np.int64), pd.CategoricalDtype(pd.Index([text]))

    @staticmethod
    def _labels_at(
        label: tuple[np.ndarray, np.ndarray, pd.CategoricalDtype], pos: np.ndarray
    ) -> pd.Categorical:
        codes, table, dtype = label
        # A missing value's code is -1: the table's last slot.
        return pd.Categorical.from_codes(table[codes[pos]], dtype=dtype)

    def where_fields(self, pos: np.ndarray, name: str = "where") -> dict[str, pd.Categorical]:
        """The fields of :func:`where_template` (``name``) for the lines at ``pos``:
        categoricals over the run's distinct codes, claim ids and dates (a small integer per
        finding, no text)."""
        pos = np.asarray(pos, dtype=np.int64)
        return {
            f"{name}_cpt": self._labels_at(self._cpt_label, pos),
            f"{name}_claim": self._labels_at(self._claim_label, pos),
            f"{name}_date": self._labels_at(self._date_label, pos),
        }

    def cpt_field(self, pos: np.ndarray) -> pd.Categorical:
        """:meth:`cpt_text` as a categorical (the field ``{where_cpt}`` of :data:`WHERE`)."""
        return self._labels_at(self._cpt_label, np.asarray(pos, dtype=np.int64))

    def modifier_field(self, pos: np.ndarray) -> pd.Categorical:
        """:attr:`modifier_text` of the lines at ``pos`` as a categorical (one text per distinct
        modifier list)."""
        ids, items = self._mods
        texts = [", ".join(i) or "none" for i in items] + ["none"]
        return pick(ids[np.asarray(pos, dtype=np.int64)], texts)

    def column_field(
        self, column: str, pos: np.ndarray, tidy: Callable[[pd.Series], pd.Series], missing: str
    ) -> pd.Categorical:
        """A claim-line column as a message shows it, for the lines at ``pos``: ``tidy`` applied
        to each distinct value once (a Series of them), ``missing`` for a missing value."""
        key = f"coding.field.{column}"
        label = self._fields.get(key)
        if label is None:
            label = self._fields[key] = self._label(column, tidy, missing)
        return self._labels_at(label, np.asarray(pos, dtype=np.int64))

    def message(self, pos: np.ndarray, tail: Any = "", **fields: Any) -> Message:
        """The message "<cpt> on claim <id> (<date>)" + ``tail`` for the lines at ``pos``, as a
        :class:`~auditkit.engine.findingset.Message`: ``tail`` is a template fragment (one text,
        or one per finding as from :func:`template`) or a ``Message`` (its template follows
        :data:`WHERE`; its fields are added), and ``fields`` the values the tail names."""
        if isinstance(tail, Message):
            fields = {**tail.fields, **fields}
            tail = tail.template
        if isinstance(tail, str):
            whole: Any = WHERE + tail
        else:
            tail = tail if isinstance(tail, pd.Categorical) else pd.Categorical(np.asarray(tail))
            whole = tail.rename_categories([WHERE + str(t) for t in tail.categories])
        return Message(whole, **self.where_fields(pos), **fields)

    def cpt_arrow(self, pos: np.ndarray) -> pd.Series:
        """:meth:`cpt_text` as Arrow strings, from the distinct codes (no text per line built
        in Python)."""
        return arrow_text(self._labels_at(self._cpt_label, np.asarray(pos, dtype=np.int64)))

    def claim_arrow(self, pos: np.ndarray) -> pd.Series:
        """:meth:`claim_text` as Arrow strings, from the distinct claim ids."""
        return arrow_text(self._labels_at(self._claim_label, np.asarray(pos, dtype=np.int64)))

    def cpt_text(self, pos: np.ndarray) -> pd.Series:
        if "cpt" not in self.lines.columns:
            return pd.Series("(no code)", index=range(len(pos)), dtype="string")
        cpt = self.lines["cpt"].iloc[pos].astype("string").str.strip().fillna("(no code)")
        return cpt.reset_index(drop=True)

    def claim_text(self, pos: np.ndarray) -> pd.Series:
        if "claim_id" not in self.lines.columns:
            return pd.Series("(no claim id)", index=range(len(pos)), dtype="string")
        ids = self.lines["claim_id"].iloc[pos].astype("string").fillna("(no claim id)")
        return ids.reset_index(drop=True)

    def date_text(self, pos: np.ndarray) -> pd.Series:
        if "date_of_service" not in self.lines.columns:
            return pd.Series("no date", index=range(len(pos)), dtype="string")
        return dates_text(self.lines["date_of_service"].iloc[pos]).reset_index(drop=True)

    def where(self, pos: np.ndarray) -> pd.Series:
        """'<cpt> on claim <id> (<date>)' for each position."""
        return (
            self.cpt_text(pos)
            + " on claim "
            + self.claim_text(pos)
            + " ("
            + self.date_text(pos)
            + ")"
        )

    def listing(
        self, keys: np.ndarray, mask: np.ndarray, wanted: np.ndarray, *, codes: bool = True
    ) -> list[str]:
        """For each group code in ``wanted``: its lines under ``mask`` as "20552 on claim C1,
        64405 on claim C2" (or only the claim ids). Built for the flagged groups only."""
        return [str(t) for t in self.listing_text(keys, mask, wanted, codes=codes).tolist()]

    def listing_text(
        self, keys: np.ndarray, mask: np.ndarray, wanted: np.ndarray, *, codes: bool = True
    ) -> pd.Series:
        """:meth:`listing` as a Series of Arrow strings (one per entry of ``wanted``), built with
        whole-array Arrow operations: each distinct group's text once, then repeated. A group's
        lines are joined in row order, each distinct text once."""
        wanted = np.asarray(wanted)
        groups, inverse = np.unique(wanted, return_inverse=True)
        pos = np.flatnonzero(mask & member(keys, groups)) if len(groups) else np.zeros(0, int)
        text = self.claim_arrow(pos)
        if codes:
            text = self.cpt_arrow(pos) + " on claim " + text
        slot = np.searchsorted(groups, keys[pos])
        # Each (group, text) once, at its first line.
        text_id = pd.factorize(text)[0]
        keep = ~pd.Series(combine(slot, text_id.astype(np.int64))).duplicated().to_numpy()
        slot, text = slot[keep], text[keep]
        order = np.argsort(slot, kind="stable")
        counts = np.bincount(slot, minlength=len(groups))
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        values = pa.array(text.array)
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        values = values.cast(pa.large_string()).take(pa.array(order))
        joined = pc.binary_join(
            pa.LargeListArray.from_arrays(offsets, values), pa.scalar(", ", pa.large_string())
        )
        return pd.Series(pd.arrays.ArrowStringArray(joined.take(inverse).cast(pa.large_string())))

    def rule_findings(self, audit: type[Audit] | Audit, rules: Iterable[Rule]) -> pd.DataFrame:
        """Line findings of several rules, each a (mask, severity, message tail, fix). The tail
        follows "<cpt> on claim <id> (<date>)" (:data:`WHERE`): plain text; a
        :class:`~auditkit.engine.findingset.Message` (a template fragment and its fields); or a
        function of the flagged positions giving either one, or one text per line."""
        parts = []
        for mask, severity, tail, fix in rules:
            pos = np.flatnonzero(mask)
            if len(pos):
                said = tail(pos) if callable(tail) else tail
                if isinstance(said, str):
                    message: Any = self.message(pos, literal(said))
                elif isinstance(said, Message):
                    message = self.message(pos, said)
                else:  # one text per line (the old way: text held per finding)
                    message = self.message(pos, "{rule_tail}", rule_tail=arrow_text(said))
                parts.append(self.findings(audit, pos, severity=severity, message=message, fix=fix))
        return concat(parts)

    def line_keys_at(self, pos: np.ndarray) -> pd.Series:
        """The ``covers`` key of each line at positions ``pos`` (Arrow strings): taken from the
        run's keys, worked out once (:attr:`Context.line_keys`), not built again per audit."""
        pos = np.asarray(pos, dtype=np.int64)
        if self.lines is self.context.lines:
            keys = self.context.line_keys.take(pa.array(pos))
            return pd.Series(pd.arrays.ArrowStringArray(keys))
        return line_keys(self.lines.iloc[pos]).astype("string[pyarrow]").reset_index(drop=True)

    def findings(
        self,
        audit: type[Audit] | Audit,
        pos: np.ndarray,
        *,
        severity: Any,
        message: Any,
        dollars: Any = None,
        dollars_basis: Any = None,
        evidence: Any = None,
        fix: Any = None,
    ) -> pd.DataFrame:
        """Line findings for the lines at positions ``pos``: dollars default to each line's
        (:attr:`dollars`), and their basis to the line's (:meth:`basis_at`)."""
        pos = np.asarray(pos, dtype=np.int64)
        if not len(pos):
            return empty_findings()
        used = [c for c in FINDING_SOURCE_COLUMNS if c in self.lines.columns]
        rows = self.lines[used].iloc[pos]  # only the columns line findings read
        if dollars is None:
            dollars = self.dollars[pos]
        dollars = np.round(np.asarray(dollars, dtype="float64"), 2)
        if dollars_basis is None:
            dollars_basis = self.basis_at(pos)
        message = message.to_numpy() if isinstance(message, pd.Series) else message
        # Each line's key, worked out once for the run (not per audit, as text per line).
        covers = self.line_keys_at(pos).set_axis(rows.index)
        return line_findings(
            audit,
            rows,
            severity=severity,
            message=message,
            dollars_at_risk=dollars,
            dollars_basis=dollars_basis,
            evidence=evidence,
            fix=fix,
            covers=covers,
        )


#: One rule of an audit for :meth:`CodingView.rule_findings`: the lines it flags, their
#: severity, what follows "<cpt> on claim <id> (<date>)" in the message (text, a ``Message``, or
#: a function of the flagged positions giving one of those or one text per line), and the fix
#: (None: the audit's own).
Rule = tuple[
    np.ndarray, str, "str | Message | Callable[[np.ndarray], pd.Series | Message]", "str | None"
]


def concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Findings of several rules as one frame. A column that is a categorical in every part
    stays one (over the union of the parts' categories), so a few texts (templates, fixes)
    are never spelled out per finding."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_findings()
    if len(parts) > 1:
        parts = _shared_categories(parts)
    return stack_frames(parts)


def _shared_categories(parts: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """The parts with each column that is categorical in all of them given one set of
    categories (a column a part lacks is added to it as missing values)."""
    names = list(dict.fromkeys(c for p in parts for c in p.columns))
    changed: dict[int, dict[str, Any]] = {i: {} for i in range(len(parts))}
    for name in names:
        present = [p[name] for p in parts if name in p.columns]
        if not all(isinstance(c.dtype, pd.CategoricalDtype) for c in present):
            continue
        first = present[0].dtype
        # (Equal dtypes usually share one categories index, so comparing them is quick.)
        same = all(c.dtype == first for c in present[1:])
        if same and len(present) == len(parts):
            continue  # already one dtype: kept by concat
        categories = first.categories
        if not same:
            if len({c.dtype.categories.dtype for c in present}) > 1:
                categories = categories.astype(object)
            for c in present[1:]:
                more = c.cat.categories
                if more.equals(categories):
                    continue
                known = pd.Index(categories).get_indexer(more) >= 0
                categories = categories.append(more[~known])
            if not categories.is_unique:
                continue
        dtype = pd.CategoricalDtype(categories)
        for i, p in enumerate(parts):
            if name in p.columns:
                if p[name].dtype != dtype:
                    changed[i][name] = p[name].cat.set_categories(categories)
            else:
                missing = np.full(len(p), -1, dtype=np.int8)
                changed[i][name] = pd.Categorical.from_codes(missing, dtype=dtype)
    out = []
    for i, p in enumerate(parts):
        if changed[i]:
            p = p.copy(deep=False)
            for name, values in changed[i].items():
                p[name] = values
        out.append(p)
    return out


def units_text(values: np.ndarray) -> pd.Series:
    """Numbers as text without a needless decimal (2.0 -> '2', 1.5 -> '1.5', NaN -> 'no'),
    each distinct number formatted once. (In a message template, ``{name:g}`` says the same of
    a number that is never missing.)"""
    # Factorized by bit pattern, so -0.0 and 0.0 keep their own text.
    bits = np.ascontiguousarray(values, dtype="float64").view(np.int64)
    codes, uniques = pd.factorize(bits, use_na_sentinel=False)
    numbers = np.asarray(uniques, dtype=np.int64).view("float64")
    texts = pd.array([f"{u:g}" if u == u else "no" for u in numbers], dtype="string")
    return pd.Series(texts.take(codes), dtype="string")


def parse_codes(text: str) -> tuple[str, ...]:
    """'RT, LT,50' -> ('RT', 'LT', '50') (a setting that lists codes or modifiers)."""
    return tuple(t.strip().upper() for t in text.replace(";", ",").split(",") if t.strip())


def modifier_25_of_lines(view: CodingView) -> np.ndarray:
    """Per line: the reference procedure table's ``modifier_25`` for its code (``required``,
    ``allowed``, ``no``; ``""`` for a code the table does not list or gives no value)."""
    values = view.procedures.get("modifier_25")
    if values is None or not values.ne("").any():
        raise NothingToAudit(
            "the procedures reference table gives no global period (global_days) or modifier_25 "
            "for any code: add them to your procedures file (see the packaged procedures.csv)"
        )
    return np.asarray(view.by_code(values, ""), dtype=object)
