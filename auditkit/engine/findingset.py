"""Findings kept as typed columns from the audit to the writers.

A run on a messy million-line export finds more problems than it has lines. Holding each
finding as Python objects (a message string, a dict of evidence) costs kilobytes a finding;
this module keeps them as columns instead:

* the **core** columns every finding has (audit, severity, scope, provider, payer, code, claim,
  line, dollars and their basis, the lines it covers, whether it is counted, where it came
  from), typed: categories for the few-valued ones, Arrow strings, nullable integers;
* the **message** as a *template* (a category: one copy per wording) plus the values it names,
  rendered when a writer asks for a slice of findings (:func:`render`), never held per row;
* the **evidence** as typed columns, one frame per audit (audits name different things), with
  each finding's evidence keys (a category) so the JSON says exactly what the audit said.

An audit builds its findings with :func:`auditkit.engine.findings.findings_frame`: one frame
holding the core columns, ``template``, ``ev_keys``, and value columns named ``m.NAME``
(a value only the message uses) and ``ev.NAME`` (an evidence value). Audits filter and concat
those frames as before. :meth:`FindingSet.build` splits the audits' frames into the core
(sorted and counted by the runner) and each audit's value frame; writers read them a slice at
a time: :meth:`FindingSet.slices`, :meth:`FindingSet.frame` (the classic one-row-per-finding
frame with ``message`` and an ``evidence`` dict, for small runs and the Python API),
:meth:`FindingSet.json_lines`.

Templates use ``str.format`` fields: ``{name}`` or ``{name:spec}``, looked up as ``m.name``,
then ``ev.name``, then a core column (``cpt``, ``claim_id``, ...). A spec is applied with
Python's ``format`` to each distinct value (so ``{dollars:,.2f}`` reads as it would in an
f-string); a missing value renders as empty text.
"""

from __future__ import annotations

import contextlib
import json
import math
import string
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Prefix of a value column only a message uses.
MESSAGE_PREFIX = "m."
#: Prefix of an evidence column.
EVIDENCE_PREFIX = "ev."
#: Separator of the evidence key names in ``ev_keys``.
KEYS_SEP = "\x1f"

#: Columns of the classic findings frame (``AuditResult.findings``), in order. ``evidence`` holds a dict (counts, rates,
#: sample claim ids); ``source_file``/``source_row`` point line findings back to the export
#: (None for findings about a provider, payer, code or the practice, or when not known).
#:
#: Money: ``dollars_at_risk`` is an amount of the kind ``dollars_basis`` names (see
#: :data:`DOLLAR_BASES`); ``covers`` lists the claim lines whose money it counts, as
#: ``"CLAIM_ID:LINE"`` keys joined by :data:`COVERS_SEP` (empty for money on no line, like an
#: unbilled month of care management); ``counted`` says whether the amount is in the summary's
#: total. A line's money is counted in at most one finding, and a roll-up whose dollars are its
#: parts' is never counted (see :func:`auditkit.engine.money.settle`).
FINDING_COLUMNS: tuple[str, ...] = (
    "audit",
    "severity",
    "scope",
    "provider",
    "payer",
    "cpt",
    "claim_id",
    "line",
    "dollars_at_risk",
    "dollars_basis",
    "covers",
    "counted",
    "message",
    "why",
    "fix",
    "evidence",
    "source_file",
    "source_row",
)


#: Columns every finding has in the core (see :data:`auditkit.engine.result.FINDING_COLUMNS`
#: for the classic frame, which adds ``message`` and ``evidence``).
CORE_COLUMNS: tuple[str, ...] = (
    *(c for c in FINDING_COLUMNS if c not in ("message", "evidence")),
    "template",
    "ev_keys",
)
#: Core columns held as categories (few distinct values).
CATEGORY_COLUMNS: tuple[str, ...] = (
    "audit",
    "severity",
    "scope",
    "provider",
    "payer",
    "cpt",
    "dollars_basis",
    "template",
    "why",
    "fix",
    "ev_keys",
    "source_file",
)
#: Core columns of whole numbers (missing allowed).
INTEGER_COLUMNS: tuple[str, ...] = ("line", "source_row")

#: Rows a writer renders at once.
SLICE_ROWS = 50_000


class Message:
    """A message as a template and the values it names: ``Message("{cpt} billed {units:g}
    units", units=array)``. ``template`` is one text or one per finding; each field is one
    value or one per finding. Fields that are also evidence need not be repeated: a template
    may name ``ev.`` values and core columns."""

    def __init__(self, template: Any, **fields: Any) -> None:
        self.template = template
        self.fields = fields


class Evidence(dict):
    """Evidence as columns: name -> one value per finding (array, Series, list) or one value
    for every finding. (A plain dict passed as evidence is the same dict on every finding.)"""


# -- typing columns ------------------------------------------------------------------------------


def _broadcast(value: Any, n: int) -> pd.Series:
    """One scalar as a column of ``n``."""
    if value is None or (isinstance(value, float) and value != value):
        return pd.Series([None] * n, dtype=object)
    if isinstance(value, str):
        return pd.Series(pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), [value]))
    if isinstance(value, bool | np.bool_):
        return pd.Series(np.full(n, bool(value)))
    if isinstance(value, int | np.integer):
        return pd.Series(np.full(n, int(value), dtype=np.int64))
    if isinstance(value, float | np.floating):
        return pd.Series(np.full(n, float(value)))
    if isinstance(value, pd.Timestamp):
        return _broadcast(value.date().isoformat(), n)
    arr = np.empty(n, dtype=object)
    arr[:] = [jsonable(value)] * n
    return pd.Series(arr)


def typed(value: Any, n: int) -> pd.Series:
    """``value`` (a scalar, or one value per finding) as a typed column of ``n`` values with a
    0..n-1 index: numbers stay numbers, text becomes Arrow strings, dates ISO text; values JSON
    cannot hold (lists, dicts) stay objects, made JSON-ready."""
    if not isinstance(
        value, pd.Series | pd.Index | np.ndarray | list | tuple | pd.api.extensions.ExtensionArray
    ):
        return _broadcast(value, n)
    if len(value) != n:
        raise ValueError(f"finding column of length {len(value)}, expected {n}")
    series = pd.Series(value.to_numpy() if isinstance(value, pd.Index) else value)
    series = series.reset_index(drop=True) if isinstance(value, pd.Series) else series
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return series
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _iso_dates(series)
    if dtype.kind in "iu":  # nullable, so a frame joined with one lacking it stays whole
        return series.astype("Int64")
    if dtype.kind == "b":
        return series.astype("boolean")
    if dtype is not np.dtype(object):
        return series
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind == "string":
        return series.astype("string[pyarrow]")
    if kind == "integer":
        return series.astype("Int64")
    if kind in ("floating", "mixed-integer-float", "integer-na"):
        return pd.to_numeric(series).astype("float64")
    if kind == "boolean":
        return series.astype("boolean")
    if kind in ("datetime64", "datetime", "date"):
        return _iso_dates(pd.to_datetime(series, errors="coerce"))
    if kind == "empty":
        return pd.Series([None] * n, dtype=object)
    return pd.Series([jsonable(v) for v in series], dtype=object)


def _iso_dates(series: pd.Series) -> pd.Series:
    text = series.dt.strftime("%Y-%m-%d")
    return text.astype("string[pyarrow]")


def jsonable(value: Any) -> Any:
    """A value as JSON holds it: numpy scalars as Python, NaN, infinities and NA as None
    (JSON has no such numbers), dates as ISO text, containers element by element, anything
    else as its text."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date().isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def evidence_columns(evidence: Any, n: int) -> tuple[dict[str, pd.Series], pd.Series]:
    """Evidence given the ways audits give it, as typed ``ev.`` columns and each finding's key
    names (joined by :data:`KEYS_SEP`)."""
    if evidence is None:
        return {}, _broadcast("", n)
    if isinstance(evidence, pd.DataFrame):
        evidence = Evidence({str(c): evidence[c].to_numpy() for c in evidence.columns})
    if isinstance(evidence, Evidence):
        columns = {EVIDENCE_PREFIX + str(k): typed(v, n) for k, v in evidence.items()}
        return columns, _broadcast(KEYS_SEP.join(str(k) for k in evidence), n)
    if isinstance(evidence, Mapping):  # the same dict on every finding
        columns = {
            EVIDENCE_PREFIX + str(k): _broadcast(jsonable(v), n) for k, v in evidence.items()
        }
        return columns, _broadcast(KEYS_SEP.join(str(k) for k in evidence), n)
    records = list(evidence)
    if len(records) != n:
        raise ValueError(f"evidence for {len(records)} findings, expected {n}")
    records = [r if isinstance(r, Mapping) else {} for r in records]
    keys = pd.Series([KEYS_SEP.join(str(k) for k in r) for r in records], dtype="category")
    names: dict[str, None] = {}
    for r in records:
        names.update(dict.fromkeys(str(k) for k in r))
    columns = {}
    for name in names:
        values = [r.get(name) for r in records]
        columns[EVIDENCE_PREFIX + name] = typed(np.asarray(values + [None], dtype=object)[:-1], n)
    return columns, keys


def message_columns(message: Any, n: int) -> tuple[pd.Series, dict[str, pd.Series]]:
    """A message (a :class:`Message`, text, or one text per finding) as its template column and
    ``m.`` value columns."""
    if isinstance(message, Message):
        template = message.template
        if isinstance(template, str):
            templates = _broadcast(template, n)
        elif isinstance(template, pd.Categorical) or (
            isinstance(template, pd.Series) and isinstance(template.dtype, pd.CategoricalDtype)
        ):
            templates = pd.Series(template).reset_index(drop=True)
        else:
            templates = pd.Series(np.asarray(template, dtype=object)).astype("category")
        values = {MESSAGE_PREFIX + k: typed(v, n) for k, v in message.fields.items()}
        return templates, values
    if isinstance(message, str):  # a fixed text: the template itself, braces escaped
        return _broadcast(message.replace("{", "{{").replace("}", "}}"), n), {}
    return _broadcast("{message}", n), {MESSAGE_PREFIX + "message": typed(message, n)}


# -- rendering -------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def parse_template(template: str) -> tuple[tuple[str, str | None, str], ...]:
    """``(literal, field or None, spec)`` pieces of a template."""
    pieces = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        if conversion:
            raise ValueError(f"template {template!r}: conversions (!r, !s) are not supported")
        pieces.append((literal, name, spec or ""))
    return tuple(pieces)


def field_text(values: pd.Series, spec: str) -> pd.Series:
    """A column as text for a message: each distinct value formatted once (``format(value,
    spec)``), missing values as empty text."""
    return pd.Series(_text_array(values, spec).to_pandas(types_mapper=_STRING_TYPES.get))


_STRING_TYPES = {
    pa.large_string(): pd.StringDtype("pyarrow"),
    pa.string(): pd.StringDtype("pyarrow"),
}


def _text_array(values: pd.Series, spec: str) -> pa.Array:
    """:func:`field_text` as an Arrow array."""
    if not len(values):
        return pa.array([], type=pa.large_string())
    if not spec and (pd.api.types.is_string_dtype(values.dtype) and values.dtype != object):
        arrow = pa.chunked_array([values.astype("string[pyarrow]").array.__arrow_array__()])
        return pc.fill_null(arrow.combine_chunks().cast(pa.large_string()), "")
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = np.asarray(uniques, dtype=object)
    if not spec and pd.api.types.infer_dtype(distinct, skipna=False) == "string":
        # Text as it is (what format(value, "") gives): converted in one call, not one by one.
        table = pa.array(np.append(distinct, ""), type=pa.large_string())
    else:
        texts = [_format(v, spec) for v in distinct] + [""]
        table = pa.array(texts, type=pa.large_string())
    return table.take(pa.array(np.where(codes < 0, len(table) - 1, codes)))


def _at(values: pd.Series, where: np.ndarray) -> pd.Series:
    """The values of the rows at positions ``where`` (``values`` is indexed by position and
    may hold only some rows: a row without one is missing)."""
    index = values.index
    n = len(index)
    every = n == 0 or (
        index[0] == 0 and index[-1] == n - 1 and index.is_monotonic_increasing and index.is_unique
    )
    if every and (len(where) == 0 or int(where.max()) < n):  # labels are positions
        return values.iloc[where]
    return values.reindex(where)


def _format(value: Any, spec: str) -> str:
    value = jsonable(value) if not isinstance(value, pd.Timestamp) else value
    if value is None:
        return ""
    return format(value, spec)


#: Up to this many findings, a set renders all its messages once and keeps them (about 100
#: bytes each): the JSON and the workbook then share them.
RENDER_ONCE_ROWS = 250_000


def render(templates: pd.Series, lookup: Any) -> pd.Series:
    """Each row's template filled from ``lookup(name)`` (a column of the same rows): per
    template, its fields are formatted for its rows and joined with its literal text in one
    Arrow call."""
    n = len(templates)
    if not n:
        return pd.Series(pd.array([], dtype="string[pyarrow]"))
    columns: dict[str, pd.Series] = {}
    cats = templates.astype("category")
    codes = cats.cat.codes.to_numpy()
    texts, places = [], []
    for code, template in enumerate(cats.cat.categories):
        where = np.flatnonzero(codes == code)
        if not len(where):
            continue
        pieces: list[Any] = []
        for literal, name, spec in parse_template(str(template)):
            if literal:
                pieces.append(literal)
            if name is not None:
                if name not in columns:
                    columns[name] = lookup(name)
                pieces.append(_text_array(_at(columns[name], where), spec))
        arrays = [p for p in pieces if not isinstance(p, str)]
        if not arrays:
            text = pa.array(["".join(pieces)] * len(where), type=pa.large_string())
        elif len(pieces) == 1:
            text = arrays[0]
        else:
            text = pc.binary_join_element_wise(
                *(pa.scalar(p, pa.large_string()) if isinstance(p, str) else p for p in pieces),
                pa.scalar("", pa.large_string()),
            )
        texts.append(text.cast(pa.large_string()))
        places.append(where)
    order = np.argsort(np.concatenate(places), kind="stable")
    joined = pa.concat_arrays(texts).take(pa.array(order))
    return pd.Series(joined.to_pandas(types_mapper=_STRING_TYPES.get))


# -- the set -------------------------------------------------------------------------------------


def normalise(part: pd.DataFrame) -> pd.DataFrame:
    """An audit's findings frame in the columnar layout (a classic frame with ``message`` text
    and an ``evidence`` dict per row is converted)."""
    part = part.reset_index(drop=True)
    n = len(part)
    if "template" not in part.columns:
        templates, m_values = message_columns(
            part["message"] if "message" in part.columns else "", n
        )
        ev_values, keys = evidence_columns(
            part["evidence"] if "evidence" in part.columns else None, n
        )
        # Older results kept a line's source position in its evidence only.
        for name in ("source_file", "source_row"):
            given = ev_values.get(EVIDENCE_PREFIX + name)
            if given is not None:
                own = part[name] if name in part.columns else pd.Series(None, index=part.index)
                part[name] = own.astype(object).where(own.notna(), given.astype(object).to_numpy())
        drop = [c for c in ("message", "evidence") if c in part.columns]
        part = pd.concat(
            [
                part.drop(columns=drop),
                pd.DataFrame({"template": templates, "ev_keys": keys, **m_values, **ev_values}),
            ],
            axis=1,
        )
    for name in CORE_COLUMNS:
        if name not in part.columns:
            part[name] = None
    return part


def stack(pieces: Sequence[pd.Series]) -> pd.Series:
    """``pd.concat(pieces)``, but pieces that are categoricals of one dtype are joined by their
    codes. (pandas checks that the categories match by hashing them, every time: with a run's
    claim ids as categories that is a tenth of a second per join.)"""
    first = pieces[0].dtype if len(pieces) else None
    if not isinstance(first, pd.CategoricalDtype) or not all(
        _same_categories(p.dtype, first) for p in pieces[1:]
    ):
        return pd.concat(pieces)
    codes = np.concatenate([np.asarray(p.cat.codes) for p in pieces])
    index = pieces[0].index.append([p.index for p in pieces[1:]])
    values = pd.Categorical.from_codes(codes, dtype=first, validate=False)
    return pd.Series(values, index=index, name=pieces[0].name)


def _same_categories(dtype: Any, first: pd.CategoricalDtype) -> bool:
    """Whether ``dtype`` is ``first``: the same categories in the same order (compared
    element by element, never hashed), and the same ordering flag."""
    if dtype is first:
        return True
    if not isinstance(dtype, pd.CategoricalDtype) or dtype.ordered != first.ordered:
        return False
    mine, theirs = dtype.categories, first.categories
    return mine is theirs or (mine.dtype == theirs.dtype and mine.equals(theirs))


def stack_frames(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """``pd.concat(parts, ignore_index=True)``, but a column that every part has as a
    categorical of one dtype is joined by :func:`stack` (by its codes)."""
    if len(parts) < 2:
        return pd.concat(parts, ignore_index=True)
    names = list(dict.fromkeys(c for p in parts for c in p.columns))
    by_codes = [
        name
        for name in names
        if all(name in p.columns for p in parts)
        and isinstance(parts[0][name].dtype, pd.CategoricalDtype)
        and all(_same_categories(p[name].dtype, parts[0][name].dtype) for p in parts[1:])
    ]
    out = pd.concat([p.drop(columns=by_codes) for p in parts], ignore_index=True)
    for name in by_codes:
        out[name] = stack([p[name] for p in parts]).reset_index(drop=True)
    return out[names]


def distinct_categories(labels: pd.Index) -> pd.CategoricalDtype:
    """A categorical dtype over ``labels`` known to be distinct and never missing (what
    ``pd.factorize`` gives). pandas' own constructor checks both by hashing every label: for a
    run's claim ids, a third of a second spent proving what is known. Where pandas has no
    unchecked constructor, the checked one is used."""
    unchecked = getattr(pd.CategoricalDtype, "_from_fastpath", None)
    if unchecked is None:
        return pd.CategoricalDtype(labels)
    return unchecked(labels, ordered=False)


def categorical(values: pd.Series) -> pd.Series:
    """Text as a category whose categories are ``string`` (so categories of several audits'
    frames can be joined)."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype("string").astype("category")
    cats = values.cat.categories
    if cats.dtype != pd.StringDtype():
        values = values.cat.rename_categories(pd.Index(cats.astype("string")))
    return values


@dataclass
class FindingSet:
    """The findings of a run as columns (see the module docstring).

    ``core`` holds :data:`CORE_COLUMNS` plus ``part`` and ``row``, which locate each finding's
    values in ``values[part]`` (the ``m.``/``ev.`` columns of the audit frame it came from),
    and ``key_hash``/``key_seq``, each finding's stable key (:meth:`keys` gives it as text).
    """

    core: pd.DataFrame
    values: list[pd.DataFrame] = field(default_factory=list)
    #: Every finding's message, once rendered (small sets only, see RENDER_ONCE_ROWS).
    _rendered: pd.Series | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def empty(cls) -> FindingSet:
        return cls.build([])

    @classmethod
    def build(cls, parts: Sequence[pd.DataFrame]) -> FindingSet:
        """One set from the audits' frames (columnar or classic), in the order given. A list
        given is emptied as it is read, so each audit's frame is let go once its columns are
        taken (at a million findings the frames and the set would not fit side by side)."""
        cores, values = [], []
        pending = parts if isinstance(parts, list) else list(parts)
        while pending:
            given = pending.pop(0)
            if given is None or not len(given):
                continue
            i = len(cores)
            part = normalise(given)
            del given
            keep = [c for c in part.columns if c.startswith((MESSAGE_PREFIX, EVIDENCE_PREFIX))]
            values.append(part[keep].copy(deep=True))  # not a view keeping the frame alive
            core = part[list(CORE_COLUMNS)].copy(deep=True)
            del part
            core["part"] = np.full(len(core), i, dtype=np.int32)
            core["row"] = np.arange(len(core), dtype=np.int64)
            cores.append(core)
        if not cores:
            frame = pd.DataFrame({c: pd.Series(dtype=object) for c in CORE_COLUMNS})
            frame["part"] = pd.Series(dtype=np.int32)
            frame["row"] = pd.Series(dtype=np.int64)
            return cls(_typed_core(frame), []).with_keys()
        cats = {
            name: pd.api.types.union_categoricals(
                [categorical(c[name]) for c in cores], ignore_order=True
            )
            for name in CATEGORY_COLUMNS
        }
        plain = pd.concat(
            [c.drop(columns=list(CATEGORY_COLUMNS)) for c in cores], ignore_index=True
        )
        for name, values_ in cats.items():
            plain[name] = pd.Series(values_, index=plain.index)
        return cls(_typed_core(plain), values).with_keys()

    def with_keys(self) -> FindingSet:
        """The set with each finding's stable key in the core (``key_hash``, a 64-bit hash of
        where the finding is, and ``key_seq``, its occurrence number among findings of one
        place; see :mod:`auditkit.engine.keys`), computed once, when the set is built."""
        from auditkit.engine.keys import hashes, occurrences

        core = self.core
        h = hashes(core)

        def tiebreak(where: np.ndarray) -> pd.Series:
            part = core.iloc[where]
            text = part["template"].astype("string").fillna("").reset_index(drop=True)
            covers = part["covers"].astype("string").fillna("").reset_index(drop=True)
            return text + KEYS_SEP + covers + KEYS_SEP + self.evidence_json(part)

        core["key_hash"] = h
        core["key_seq"] = occurrences(h, tiebreak)
        return self

    def keys(self, core: pd.DataFrame | None = None) -> pd.Series:
        """The key text of the findings in ``core`` (all when None): 16 hex digits, ``-N`` for
        the N-th finding of one place (see :mod:`auditkit.engine.keys`)."""
        from auditkit.engine.keys import key_text

        core = self.core if core is None else core
        return key_text(core["key_hash"].to_numpy(), core["key_seq"].to_numpy())

    def __len__(self) -> int:
        return len(self.core)

    def reorder(self, order: np.ndarray) -> None:
        """Put this set's findings in another order (or keep a subset), in place, one column at
        a time: each column in the old order is let go as soon as its new one is made, so the
        whole table is never held twice (at 1.7 million findings that is 150 MB less at the
        moment a run's memory peaks)."""
        core = self.core
        taken: dict[str, Any] = {}
        for name in list(core.columns):
            taken[name] = core[name].take(order).reset_index(drop=True)
            del core[name]
        self.core = pd.DataFrame(taken, copy=False)
        self._rendered = None

    # -- values of a slice ------------------------------------------------------------------

    def lookup(self, core: pd.DataFrame) -> Any:
        """A function giving a template field's column for the findings in ``core``: each
        finding's own audit frame is searched (``m.NAME``, then ``ev.NAME``), then the core, so
        two audits may use one name for different things."""
        parts = core["part"].to_numpy()
        rows = core["row"].to_numpy()
        present = np.unique(parts)

        def find(name: str) -> pd.Series:
            pieces = []
            for part in present:
                frame = self.values[int(part)]
                where = np.flatnonzero(parts == part)
                for column in (MESSAGE_PREFIX + name, EVIDENCE_PREFIX + name):
                    if column in frame.columns:
                        pieces.append(frame[column].take(rows[where]).set_axis(where))
                        break
                else:
                    if name in core.columns:
                        pieces.append(core[name].iloc[where].set_axis(where))
            if not pieces:
                raise KeyError(f"a message template names {name!r}, which no column holds")
            if len(pieces) == 1:
                return pieces[0]
            if len({str(p.dtype) for p in pieces}) > 1:
                # Audits that hold the name with other types keep their own values (a whole
                # number of one audit must not become 1.0 because another's are decimals).
                pieces = [p.astype(object) for p in pieces]
            # Indexed by position; rows of an audit without the name are not there (their
            # templates do not name it).
            return stack(pieces)

        return find

    def messages(self, core: pd.DataFrame) -> pd.Series:
        """The rendered message of each finding in ``core``. Up to :data:`RENDER_ONCE_ROWS`
        findings the whole set is rendered once and kept, since the JSON and the workbook both
        show every message; above it each call renders its own rows (no text held per
        finding)."""
        at = self._positions(core) if len(self.core) <= RENDER_ONCE_ROWS else None
        if at is None:
            return render(core["template"].reset_index(drop=True), self.lookup(core))
        if self._rendered is None:
            self._rendered = render(
                self.core["template"].reset_index(drop=True), self.lookup(self.core)
            )
        return self._rendered.take(at).reset_index(drop=True)

    def _positions(self, core: pd.DataFrame) -> np.ndarray | None:
        """Where the rows of ``core`` are in :attr:`core` (its index, checked against each
        row's ``part`` and ``row``), or None when ``core`` is not rows of it."""
        whole = self.core
        if not isinstance(whole.index, pd.RangeIndex) or whole.index.start != 0:
            return None
        if whole.index.step != 1 or not pd.api.types.is_integer_dtype(core.index.dtype):
            return None
        at = np.asarray(core.index, dtype=np.int64)
        if len(at) and (at.min() < 0 or at.max() >= len(whole)):
            return None
        for name in ("part", "row"):
            if not np.array_equal(whole[name].to_numpy()[at], core[name].to_numpy()):
                return None
        return at

    def evidence_groups(
        self, core: pd.DataFrame
    ) -> Iterator[tuple[np.ndarray, list[str], pd.DataFrame]]:
        """Per audit part and set of evidence keys among the findings in ``core``: their
        positions in ``core``, the key names in the audit's order, and the values (columns named
        by the keys, one row per position)."""
        parts = core["part"].to_numpy()
        rows = core["row"].to_numpy()
        keys = core["ev_keys"].astype("category")
        codes = keys.cat.codes.to_numpy()
        names = list(keys.cat.categories)
        combined = parts.astype(np.int64) * (len(names) + 1) + codes
        for value in np.unique(combined):
            where = np.flatnonzero(combined == value)
            part, code = divmod(int(value), len(names) + 1)
            text = names[code] if 0 <= code < len(names) else ""
            wanted = [k for k in str(text).split(KEYS_SEP) if k]
            frame = self.values[part]
            data = {
                k: frame[EVIDENCE_PREFIX + k].take(rows[where]).reset_index(drop=True)
                for k in wanted
                if EVIDENCE_PREFIX + k in frame.columns
            }
            yield where, wanted, pd.DataFrame(data, index=pd.RangeIndex(len(where)))

    def evidence_json(self, core: pd.DataFrame) -> pd.Series:
        """Each finding's evidence as a JSON object (text)."""
        out = np.full(len(core), "{}", dtype=object)
        for where, _keys, values in self.evidence_groups(core):
            if not values.shape[1]:
                continue
            text = values.to_json(
                orient="records", lines=True, force_ascii=False, double_precision=15
            )
            out[where] = text.rstrip("\n").split("\n")
        return pd.Series(out, dtype="string[pyarrow]")

    def slices(self, rows: int = SLICE_ROWS) -> Iterator[pd.DataFrame]:
        """The core a slice at a time."""
        for start in range(0, len(self.core), rows):
            yield self.core.iloc[start : start + rows]

    def frame(self, core: pd.DataFrame | None = None) -> pd.DataFrame:
        """The classic findings frame (one row per finding, ``message`` text, ``evidence`` a dict)
        of the findings in ``core`` (all when None). For small runs and the Python API: it
        builds Python objects per finding."""
        core = self.core if core is None else core
        if not len(core):
            return pd.DataFrame({c: pd.Series(dtype="object") for c in FINDING_COLUMNS})
        out = core.reset_index(drop=True)
        data: dict[str, Any] = {}
        for name in FINDING_COLUMNS:
            if name == "message":
                data[name] = self.messages(core).to_numpy(dtype=object)
            elif name == "evidence":
                data[name] = [json.loads(t) for t in self.evidence_json(core)]
            elif name in INTEGER_COLUMNS:
                values = out[name].to_numpy(dtype=object, na_value=None)
                data[name] = pd.Series(
                    [None if v is None else int(v) for v in values], dtype=object
                )
            elif name in ("dollars_at_risk",):
                data[name] = out[name].astype("float64")
            elif name == "counted":
                data[name] = out[name].astype(bool)
            elif name in ("covers",):
                data[name] = out[name].astype("str")
            else:
                data[name] = out[name].astype(object).where(out[name].notna(), None)
        return pd.DataFrame(data)


def _typed_core(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame  # built for the set: typed in place
    for name in CATEGORY_COLUMNS:
        out[name] = categorical(out[name])
    for name in INTEGER_COLUMNS:
        out[name] = pd.to_numeric(out[name], errors="coerce").astype("Int64")
    out["claim_id"] = out["claim_id"].astype("string[pyarrow]")
    out["covers"] = out["covers"].fillna("").astype("string[pyarrow]")
    out["dollars_at_risk"] = pd.to_numeric(out["dollars_at_risk"]).astype("float64").fillna(0.0)
    out["counted"] = out["counted"].fillna(False).astype(bool)
    return out[[*CORE_COLUMNS, "part", "row"]]
