"""The context of one audit run: shared, computed-once data that several audits read.

Derived columns (payer, provider, status, family) as integer codes, reference tables, the
expected payment of each line. Audits and the practice measures share one :class:`Context`
per run, so a column is factorised and a reference table is read once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from auditkit.claims import NOT_SENT_STATUSES, PAID_STATUSES
from auditkit.engine.findings import line_keys
from auditkit.engine.result import COVERS_SEP
from auditkit.reference import Reference, families_of_distinct
from auditkit.reference.ncci import (
    EditTable,
    MueTable,
    PtpTable,
    default_ptp,
    read_mue,
    read_ptp,
)

if TYPE_CHECKING:
    from auditkit.config import Config

__all__ = ["BLANK", "TPI_CODES", "Context", "dense_unique", "usable"]

#: Label used where a line has no rendering provider or payer.
BLANK = "(blank)"
#: Columns the context derives from a claim-line column: key -> (name, value where missing).
_DERIVED: dict[str, tuple[str, Any]] = {
    "ctx.payer": ("payer", BLANK),
    "ctx.provider": ("rendering_provider", BLANK),
    "ctx.status": ("status", pd.NA),
    "ctx.family": ("family", "other"),
}


def usable(lines: pd.DataFrame, column: str) -> bool:
    """True when the column is in the data and has at least one value."""
    return column in lines.columns and bool(lines[column].notna().any())


def dense_unique(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` for non-negative integer keys.

    When the keys span a small range (at most a few times their number) the distinct keys are
    found by counting, which needs no sort; otherwise this falls back to ``np.unique``.
    """
    keys = np.asarray(keys)
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.intp)
    top = int(keys.max()) + 1
    if keys.min() < 0 or top > max(4 * len(keys), 1 << 16):
        return np.unique(keys, return_inverse=True)
    present = np.bincount(keys, minlength=top) > 0
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present).astype(keys.dtype, copy=False), rank[keys]


#: The two trigger-point injection codes.
TPI_CODES = ("20552", "20553")


class Context:
    """Shared, computed-once data for one audit run: derived columns, reference tables, fees."""

    def __init__(
        self,
        lines: pd.DataFrame,
        config: Config,
        *,
        auths: pd.DataFrame | None = None,
        fee_schedule: pd.DataFrame | None = None,
    ) -> None:
        self.lines = lines
        self.config = config
        #: Side tables (see :mod:`auditkit.ingest.side_tables`), None when not given.
        self.auths = auths
        self.fee_schedule = fee_schedule
        self._memo: dict[str, Any] = {}

    def release(self) -> None:
        """Drop everything computed for the run (codes, derived columns, shared measures), so
        the memory is free for what comes next without waiting for the garbage collector."""
        self._memo.clear()
        for name in [k for k, v in vars(type(self)).items() if isinstance(v, cached_property)]:
            self.__dict__.pop(name, None)

    #: What only the audits use: let go once they have all run, before the findings are joined
    #: (at a million lines the coding view alone is a few hundred MB).
    AUDIT_ONLY: tuple[str, ...] = ("coding.view",)

    def release_audit_views(self, line_keys: bool = True) -> None:
        """Drop what only the audits use (the coding view and, unless ``line_keys`` is False,
        each line's key); the key indicators computed after the audits do not read them."""
        for key in self.AUDIT_ONLY:
            self._memo.pop(key, None)
        if line_keys:
            self.__dict__.pop("line_keys", None)

    #: The codes most audits group by: :meth:`share` works them out up front.
    SHARED_CODES: tuple[str, ...] = (
        "claim_id",
        "cpt",
        "ctx.payer",
        "ctx.status",
        "ctx.provider",
        "ctx.family",
    )

    def share(self) -> None:
        """Work out now what audits in both processes of a split run read (the codes of
        :data:`SHARED_CODES`, each line's fee), so that it is computed once and its memory is
        shared by the child (see :mod:`auditkit.beside`) instead of made twice."""
        for column in self.SHARED_CODES:
            if column in _DERIVED or column in self.lines.columns:
                self.codes(column)
        if "cpt" in self.lines.columns:
            self.line_fees()

    def mark(self) -> frozenset[str]:
        """What has been worked out so far (for :meth:`forget_since`)."""
        return frozenset(self._memo) | frozenset(self.__dict__)

    def forget_since(self, mark: frozenset[str]) -> None:
        """Drop what was worked out after :meth:`mark` gave ``mark``: in a child process, what
        its first piece of work made and the next one does not need."""
        for key in [k for k in self._memo if k not in mark]:
            del self._memo[key]
        for name in [k for k, v in vars(type(self)).items() if isinstance(v, cached_property)]:
            if name not in mark:
                self.__dict__.pop(name, None)

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per run: for measures computed outside this class (revenue)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def codes(self, column: str, keep: bool = True) -> tuple[np.ndarray, Any]:
        """``pd.factorize`` of a claim-line column (or of ``payer``/``provider``/``status``/
        ``family`` derived here when ``column`` starts with ``ctx.``), worked out once per run.

        Integer codes (-1 for missing) in order of first appearance, and the distinct values.
        Every audit that groups by a column shares the one pass over it; ``keep=False`` (for a
        column one audit reads once) hands the codes over without holding them for the run.
        """

        def compute() -> tuple[np.ndarray, Any]:
            if column in _DERIVED:
                return self._derived(column)
            codes, uniques = pd.factorize(self.lines[column], use_na_sentinel=True)
            return codes.astype(np.int64, copy=False), uniques

        if not keep and f"codes.{column}" not in self._memo:
            return compute()
        return self.cached(f"codes.{column}", compute)

    def group_agg(
        self,
        by: Mapping[str, str],
        rows: np.ndarray | None,
        values: Mapping[str, Any],
        agg: Mapping[str, tuple[str, str]],
    ) -> pd.DataFrame:
        """``frame.groupby(list(by), sort=True, observed=True).agg(**agg)`` for the frame of the
        lines at ``rows`` (a mask; None for all) with text columns ``by`` (output name -> a
        name for :meth:`codes`) and ``values`` (name -> array over all lines).

        The grouping runs on integer codes in row order, so sums and means add up the same
        numbers in the same order as grouping the text would; the groups are then labelled
        with their text and sorted. Lines where a ``by`` column is missing are left out, as
        grouping drops missing keys.
        """
        keep = np.ones(len(self.lines), dtype=bool) if rows is None else np.asarray(rows, bool)
        parts = [self.codes(source) for source in by.values()]
        for codes, _ in parts:
            keep = keep & (codes >= 0)
        pos = np.flatnonzero(keep)
        key = np.zeros(len(pos), dtype=np.int64)
        for codes, uniques in parts:
            key = key * len(uniques) + codes[pos]
        used = {column for column, _ in agg.values()}
        frame = pd.DataFrame(
            {
                name: v[pos] if isinstance(v, np.ndarray) else pd.Series(v).array.take(pos)
                for name, v in values.items()
                if name in used
            }
        )
        out = frame.groupby(key, sort=False).agg(**agg)
        rest = out.index.to_numpy()
        labels = []
        for _, uniques in reversed(parts):
            labels.append(pd.Index(uniques).astype("string").take(rest % len(uniques)))
            rest = rest // len(uniques)
        names = list(by)
        if len(names) == 1:
            out.index = pd.Index(labels[0], name=names[0])
        else:
            out.index = pd.MultiIndex.from_arrays(labels[::-1], names=names)
        return out.sort_index()

    def status_is(self, *statuses: str) -> np.ndarray:
        """Per line: is the (lower-case) status one of ``statuses``? All False without status.

        Worked out once per distinct status, then spread over the lines.
        """
        if not self.has_status:
            return np.zeros(len(self.lines), dtype=bool)

        def compute() -> np.ndarray:
            codes, uniques = self.codes("ctx.status")
            per_value = np.asarray(pd.Index(uniques).isin(statuses), dtype=bool)
            return np.append(per_value, False)[codes]

        # A copy: callers combine masks in place.
        return self.cached("status_is." + "|".join(statuses), compute).copy()

    @cached_property
    def reference(self) -> Reference:
        return Reference.load(self.config.reference)

    @cached_property
    def family(self) -> pd.Series:
        """Procedure family of every line ("other" everywhere when there is no cpt column)."""
        if "cpt" not in self.lines.columns:
            return pd.Series("other", index=self.lines.index, dtype="string")
        return self._whole("ctx.family", "family")

    def family_of(self, codes: pd.Index | pd.Series) -> pd.Series:
        """The procedure family of each raw ``cpt`` value in ``codes`` (as in :attr:`family`)."""
        self.codes("ctx.family")  # works out the family of every distinct code
        per_code = self._memo.get("family.per_code", {})
        values = [per_code.get(c, "other") for c in codes]
        return pd.Series(values, index=getattr(codes, "index", None), dtype="string")

    @cached_property
    def has_status(self) -> bool:
        """Whether the data has a status on at least one line (:attr:`status` is not None)."""
        return usable(self.lines, "status")

    @cached_property
    def status(self) -> pd.Series | None:
        """Lower-case status of every line, or None when the data has no status column."""
        if not self.has_status:
            return None
        return self._whole("ctx.status", "status")

    @cached_property
    def provider(self) -> pd.Series:
        """Rendering provider of every line, ``(blank)`` where missing."""
        if "rendering_provider" not in self.lines.columns:
            return pd.Series(BLANK, index=self.lines.index, dtype="string")
        return self._whole("ctx.provider", "rendering_provider")

    @cached_property
    def payer(self) -> pd.Series:
        """Payer of every line, ``(blank)`` where missing."""
        if "payer" not in self.lines.columns:
            return pd.Series(BLANK, index=self.lines.index, dtype="string")
        return self._whole("ctx.payer", "payer")

    def text(self, key: str, rows: Any = None) -> pd.Series:
        """The lines at ``rows`` (a mask or positions; None for all) of a column derived here
        (``ctx.payer``, ``ctx.provider``, ``ctx.status``, ``ctx.family``), as the matching
        property gives them, without spelling out the text of every line."""
        codes, uniques = self.codes(key)
        index = self.lines.index
        if rows is not None:
            rows = np.asarray(rows)
            at = np.flatnonzero(rows) if rows.dtype == bool else rows
            codes, index = codes[at], index[at]
        table = pd.array([*np.asarray(uniques, dtype=object), pd.NA], dtype="string")
        values = table.take(np.where(codes < 0, len(table) - 1, codes))
        return pd.Series(values, index=index, dtype="string", name=_DERIVED[key][0])

    def _whole(self, key: str, name: str) -> pd.Series:
        out = self.text(key)
        out.name = name
        return out

    def _derived(self, key: str) -> tuple[np.ndarray, Any]:
        """``pd.factorize`` of a derived column (payer, provider, status, family) worked out from
        the raw column's codes: each distinct raw value is tidied once, and the derived values
        are numbered in order of first appearance, as factorizing the derived column would."""
        column, missing = _DERIVED[key]
        raw_column = "cpt" if key == "ctx.family" else column
        if raw_column not in self.lines.columns:  # a constant column
            value = "other" if key == "ctx.family" else BLANK
            constant = pd.Series(value, index=self.lines.index, dtype="string")
            codes, uniques = pd.factorize(constant, use_na_sentinel=True)
            return codes.astype(np.int64, copy=False), uniques
        # The code and provider columns are grouped on elsewhere too: their codes are kept.
        raw, uniques = self.codes(raw_column, keep=key in ("ctx.family", "ctx.provider"))
        distinct = pd.Series(np.asarray(uniques, dtype=object), dtype="string")
        if key == "ctx.family":
            per_value = families_of_distinct(
                uniques, self.reference.procedures, self.reference.families
            )
            self._memo["family.per_code"] = dict(
                zip(np.asarray(uniques, dtype=object), per_value, strict=True)
            )
        else:
            self._memo[f"distinct.{raw_column}"] = len(uniques)
            if key == "ctx.status":
                per_value = distinct.str.strip().str.lower().tolist()
            else:
                tidy = distinct.str.strip()
                per_value = tidy.mask(tidy.eq(""), pd.NA).fillna(BLANK).tolist()
        table = pd.array([*per_value, missing], dtype="string")
        slot = np.where(raw < 0, len(per_value), raw)
        # Raw codes count distinct values in order of first appearance; put the missing slot
        # where the first missing line is, then number the derived values in that order.
        order = np.arange(len(per_value) + 1)
        absent = np.flatnonzero(raw < 0)
        if len(absent):
            before = int(raw[: absent[0]].max()) + 1 if absent[0] else 0
            order = np.concatenate([order[:before], [len(per_value)], order[before:-1]])
        else:
            order = order[:-1]
        ranked, derived = pd.factorize(pd.Series(table.take(order)), use_na_sentinel=True)
        code_of_slot = np.full(len(per_value) + 1, -1, dtype=np.int64)
        code_of_slot[order] = ranked
        return code_of_slot[slot], derived

    @cached_property
    def tpi_lines(self) -> pd.Series:
        """Mask of trigger-point lines (20552/20553) that reached the payer: rejected and voided
        lines are left out, so a claim sent twice is not counted twice."""
        mask = self.code_is("cpt", TPI_CODES)
        if self.has_status:
            mask &= ~self.status_is(*NOT_SENT_STATUSES)
        return pd.Series(mask, index=self.lines.index)

    def code_is(self, column: str, values: Sequence[str]) -> np.ndarray:
        """Per line: is the text of ``column`` one of ``values`` (exact match)? Worked out once
        per distinct value."""
        codes, uniques = self.codes(column)
        text = pd.Series(np.asarray(uniques, dtype=object), dtype="string")
        per_value = text.isin(list(values)).fillna(False).to_numpy(dtype=bool)
        return np.append(per_value, False)[codes]

    def month_text(self, column: str = "date_of_service") -> np.ndarray:
        """Per line: the month of a date column as "YYYY-MM" (NaN where the date is missing),
        as ``dt.strftime("%Y-%m").to_numpy()`` gives, formatted once per distinct date."""

        def compute() -> np.ndarray:
            codes, uniques = self.codes(column, keep=False)
            text = np.asarray(pd.DatetimeIndex(uniques).strftime("%Y-%m"), dtype=object)
            return np.append(text, np.nan)[codes]

        return self.cached(f"month_text.{column}", compute)

    def billed_codes(self) -> list[str]:
        """The distinct procedure codes of the run (upper case), to read only the edits that
        can apply to them."""
        if "cpt" not in self.lines.columns:
            return []
        _, uniques = self.codes("cpt")
        return sorted({str(c).strip().upper() for c in np.asarray(uniques, dtype=object)})

    @cached_property
    def ptp(self) -> PtpTable:
        """CMS's practitioner PTP code-pair edits for the run's codes: from the files the config
        or the command line names (``[reference] ptp``, ``--ptp``), read once and cached by
        file hash, else auditkit's packaged pain-procedure subset."""
        paths = self.config.edits.get("ptp")
        codes = self.billed_codes()
        return read_ptp(paths, codes) if paths else default_ptp(codes)

    @cached_property
    def mue(self) -> MueTable | None:
        """CMS's practitioner MUEs for the run's codes from ``[reference] mue`` / ``--mue``;
        None when no file is given (the packaged unit-limit table applies)."""
        paths = self.config.edits.get("mue")
        return read_mue(paths, self.billed_codes()) if paths else None

    def edit_tables_used(self) -> list[EditTable]:
        """The CMS edit tables this run read (for the About sheet and the JSON)."""
        return [t for t in (self.__dict__.get("ptp"), self.__dict__.get("mue")) if t is not None]

    @cached_property
    def line_keys(self) -> pa.Array:
        """The key of every line (:func:`auditkit.engine.findings.line_keys`), for ``covers``:
        Arrow strings, worked out once for the audits that name lines."""
        keys = line_keys(self.lines).astype("string[pyarrow]").array.__arrow_array__()
        if isinstance(keys, pa.ChunkedArray):
            keys = keys.combine_chunks()
        return keys.cast(pa.large_string())

    def covers_of(self, groups: np.ndarray, n_groups: int) -> np.ndarray:
        """For a label per line (0..n_groups-1; -1 for lines in no group), the ``covers`` text
        of each group: the keys of its lines joined by ``|`` in row order (empty for a group of
        no line). Claim and session findings name the lines whose money they count this way."""
        groups = np.asarray(groups)
        at = np.flatnonzero(groups >= 0)
        if not len(at):
            return np.full(n_groups, "", dtype=object)
        order = at[np.argsort(groups[at], kind="stable")]  # by group, lines in row order
        counts = np.bincount(groups[order], minlength=n_groups)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        keys = self.line_keys.take(pa.array(order))
        joined = pc.binary_join(
            pa.LargeListArray.from_arrays(offsets, keys), pa.scalar(COVERS_SEP, pa.large_string())
        )
        return joined.to_numpy(zero_copy_only=False)

    @cached_property
    def practice_paid_means(self) -> pd.DataFrame | None:
        """Mean paid per (cpt, payer) over paid lines, and per cpt over all payers."""
        lines = self.lines
        if not usable(lines, "paid"):
            return None
        paid = lines["paid"].to_numpy(dtype="float64", na_value=np.nan)
        paid_mask = paid > 0
        if self.has_status:
            paid_mask &= self.status_is(*PAID_STATUSES)
        # Grouped on integer codes (in row order, as a grouping of the text columns would add
        # them up), then labelled and sorted by code and payer text.
        cpt_codes, cpts = self.codes("cpt")
        payer_codes, payers = self.codes("ctx.payer")
        paid_mask &= cpt_codes >= 0
        key = cpt_codes[paid_mask] * len(payers) + payer_codes[paid_mask]
        means = pd.Series(paid[paid_mask]).groupby(key).mean()
        at = means.index.to_numpy()
        index = pd.MultiIndex.from_arrays(
            [
                pd.Index(cpts).astype("string").take(at // len(payers)),
                pd.Index(payers).take(at % len(payers)),
            ],
            names=["cpt", "payer"],
        )
        return pd.Series(means.to_numpy(), index=index, name="mean_paid").sort_index()

    def fees(self, codes: pd.Series, payers: pd.Series) -> tuple[pd.Series, pd.Series]:
        """Expected payment for each (code, payer) and where it came from.

        The config's fee schedule first (a payer's own fee, then the general one), else the
        practice's mean paid amount for the code at that payer, else at all payers. Returns
        ``(fee, source)``; fee is NaN and source "none" when nothing is known.
        """
        codes = codes.astype("string").reset_index(drop=True)
        payers = payers.astype("string").fillna(BLANK).reset_index(drop=True)
        if len(codes) > 1:
            # Each distinct (code, payer) pair is priced once, then spread over the lines.
            code_ids, code_values = pd.factorize(codes, use_na_sentinel=True)
            payer_ids, payer_values = pd.factorize(payers, use_na_sentinel=True)
            width = len(payer_values) + 1
            pairs, inverse = dense_unique((code_ids + 1) * width + (payer_ids + 1))
            fee, source = self._priced(
                _take_or_na(code_values, pairs // width - 1, codes.name),
                _take_or_na(payer_values, pairs % width - 1, payers.name),
            )
            return (
                pd.Series(fee.to_numpy()[inverse], name=fee.name, dtype="float64"),
                pd.Series(source.array.take(inverse), name=source.name, dtype="string"),
            )
        return self._priced(codes, payers)

    def line_fees(self) -> np.ndarray:
        """``fees(lines["cpt"], payer)[0]`` for every line as an array, worked out once per
        distinct (code, payer) pair from the run's codes."""

        def compute() -> np.ndarray:
            cpt_codes, cpts = self.codes("cpt")
            payer_codes, payers = self.codes("ctx.payer")
            width = len(payers)
            pairs, inverse = dense_unique((cpt_codes + 1) * width + payer_codes)
            fee, _ = self._priced(
                _take_or_na(cpts, pairs // width - 1, "cpt"),
                _take_or_na(payers, pairs % width, "payer"),
            )
            return fee.to_numpy(dtype="float64")[inverse]

        return self.cached("line_fees", compute).copy()

    def _priced(self, codes: pd.Series, payers: pd.Series) -> tuple[pd.Series, pd.Series]:
        """:meth:`fees` worked out line by line (string Series with a 0..n-1 index)."""
        fee = self.config.fee_schedule.lookup(codes, payers)
        source = pd.Series(np.where(fee.notna(), "fee schedule", "none"), dtype="string")
        means = self.practice_paid_means
        if means is not None:
            keys = pd.MultiIndex.from_arrays([codes, payers], names=["cpt", "payer"])
            by_payer = pd.Series(means.reindex(keys).to_numpy(), dtype="float64")
            by_code = means.groupby(level="cpt").mean()
            any_payer = pd.Series(codes.map(by_code).to_numpy(), dtype="float64")
            practice = by_payer.fillna(any_payer)
            use = fee.isna() & practice.notna()
            fee = fee.where(~use, practice)
            source = source.mask(use, "practice mean paid")
        return fee, source


def _take_or_na(values: Any, at: np.ndarray, name: Any) -> pd.Series:
    """``values[at]`` as a string Series, missing where ``at`` is -1."""
    table = pd.array([*np.asarray(values, dtype=object), pd.NA], dtype="string")
    return pd.Series(table.take(np.where(at < 0, len(table) - 1, at)), name=name, dtype="string")
