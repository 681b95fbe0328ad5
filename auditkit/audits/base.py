"""The audit contract: what an audit declares, how it documents itself, how it builds findings.

An audit is a class in its own module::

    class TpiRatio(Audit):
        '''One-line summary.

        Why it matters
        --------------
        ...

        What is flagged
        ---------------
        ...

        How to fix
        ----------
        ...

        Columns needed
        --------------
        ...
        '''

        id = "tpi-ratio"
        title = "Trigger-point injections: 20552 versus 20553"
        severities = ("high", "medium")
        columns = ("cpt", "rendering_provider")       # skipped (with an info note) when absent
        optional_columns = ("muscles_treated",)        # used when present
        thresholds = (Threshold("min_lines", int, 20, "..."),)

        def run(self, lines, settings, context):
            ...  # whole-column pandas; return findings_frame(...) or line_findings(...)

and is listed once in :mod:`auditkit.audits.registry`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from auditkit.audits.result import FINDING_COLUMNS, SCOPES, SEVERITIES
from auditkit.config import Config, Threshold
from auditkit.reference import Reference, procedure_family

if TYPE_CHECKING:
    from auditkit.audits.kpis import CleanClaims

__all__ = [
    "DOC_SECTIONS",
    "Audit",
    "AuditDoc",
    "Context",
    "NothingToAudit",
    "Threshold",
    "findings_frame",
    "line_findings",
    "parse_doc",
]

#: The sections every audit docstring has, in this order, after the one-line summary.
DOC_SECTIONS: tuple[str, ...] = (
    "Why it matters",
    "What is flagged",
    "How to fix",
    "Columns needed",
)

#: Label used where a line has no rendering provider or payer.
BLANK = "(blank)"


class NothingToAudit(Exception):  # noqa: N818 - it is a signal, not an error
    """Raised inside ``run`` when the data has nothing for this audit (e.g. no trigger-point
    lines). The audit counts as run, with this reason and no findings."""


@dataclass(frozen=True)
class AuditDoc:
    """An audit docstring split into its summary and named sections."""

    summary: str
    sections: dict[str, str]

    def paragraph(self, name: str) -> str:
        """A section as one line of text (for the ``why`` and ``fix`` fields of findings)."""
        return " ".join(self.sections.get(name, "").split())


def parse_doc(doc: str | None) -> AuditDoc:
    """Split a docstring into summary and sections (a title line underlined with dashes)."""
    lines = inspect.cleandoc(doc or "").splitlines()
    summary = lines[0].strip() if lines else ""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    i = 1
    while i < len(lines):
        line = lines[i]
        underline = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if line.strip() and underline and set(underline) == {"-"}:
            current = sections.setdefault(line.strip(), [])
            i += 2
            continue
        if current is not None:
            current.append(line)
        i += 1
    return AuditDoc(summary, {k: "\n".join(v).strip() for k, v in sections.items()})


class Audit:
    """Base class of every audit. Subclasses set the class attributes and implement :meth:`run`."""

    id: ClassVar[str]
    title: ClassVar[str]
    #: Severities the audit can emit (a skipped audit's ``info`` note is always allowed).
    severities: ClassVar[tuple[str, ...]] = ()
    #: Canonical columns the audit needs; it is skipped with an ``info`` note when any is absent.
    columns: ClassVar[tuple[str, ...]] = ()
    #: Canonical columns the audit uses when present (extra rules or richer evidence).
    optional_columns: ClassVar[tuple[str, ...]] = ()
    #: The settings it reads, overridable in the config file under ``[<id>]``.
    thresholds: ClassVar[tuple[Threshold, ...]] = ()
    #: Side tables it needs besides the claim lines ("auths", "fee_schedule"); it is skipped
    #: with an ``info`` note naming the command-line option when one is not given.
    side_tables: ClassVar[tuple[str, ...]] = ()

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        """Return the findings (a frame made by :func:`findings_frame`) for these lines."""
        raise NotImplementedError

    @classmethod
    def doc(cls) -> AuditDoc:
        return _doc_of(cls)

    @classmethod
    def why(cls) -> str:
        return cls.doc().paragraph("Why it matters")

    @classmethod
    def fix(cls) -> str:
        return cls.doc().paragraph("How to fix")


@functools.cache
def _doc_of(cls: type[Audit]) -> AuditDoc:
    return parse_doc(cls.__doc__)


def _length(values: Sequence[Any]) -> int | None:
    for value in values:
        if isinstance(value, pd.Series | np.ndarray | list | pd.Index):
            return len(value)
    return None


def _column(value: Any, n: int) -> np.ndarray:
    """A value or a sequence as an object array of length n (missing values become None)."""
    if isinstance(value, pd.Series | pd.Index):
        arr = value.astype(object).to_numpy()
    elif isinstance(value, np.ndarray | list):
        arr = np.asarray(value, dtype=object)
    else:
        arr = np.empty(n, dtype=object)
        arr[:] = [value] * n
        return arr
    if len(arr) != n:
        raise ValueError(f"finding column of length {len(arr)}, expected {n}")
    missing = pd.isna(arr)
    if missing.any():
        arr = arr.copy()
        arr[missing] = None
    return arr


def findings_frame(
    audit: type[Audit] | Audit,
    *,
    severity: Any,
    scope: str,
    message: Any,
    provider: Any = None,
    payer: Any = None,
    cpt: Any = None,
    claim_id: Any = None,
    line: Any = None,
    dollars_at_risk: Any = 0.0,
    evidence: Any = None,
    why: Any = None,
    fix: Any = None,
    source_file: Any = None,
    source_row: Any = None,
) -> pd.DataFrame:
    """Build a findings frame (columns :data:`FINDING_COLUMNS`) from whole columns.

    Each argument is one value for every finding or a Series/array/list with one value per
    finding. ``evidence`` is a dict, a list/Series of dicts or a DataFrame (one dict per row).
    ``why`` and ``fix`` default to the audit's docstring sections.
    """
    values = [severity, message, provider, payer, cpt, claim_id, line, dollars_at_risk, evidence]
    values += [source_file, source_row]
    if isinstance(evidence, pd.DataFrame):
        evidence = evidence.to_dict("records")
    n = _length(values)
    n = 1 if n is None else n
    if isinstance(evidence, Mapping):
        evidence = [dict(evidence) for _ in range(n)]
    elif evidence is None:
        evidence = [{} for _ in range(n)]
    columns = {
        "audit": audit.id,
        "severity": severity,
        "scope": scope,
        "provider": provider,
        "payer": payer,
        "cpt": cpt,
        "claim_id": claim_id,
        "line": line,
        "dollars_at_risk": dollars_at_risk,
        "message": message,
        "why": audit.why() if why is None else why,
        "fix": audit.fix() if fix is None else fix,
        "evidence": list(evidence) if isinstance(evidence, pd.Series) else evidence,
        "source_file": source_file,
        "source_row": source_row,
    }
    frame = pd.DataFrame({name: _column(columns[name], n) for name in FINDING_COLUMNS})
    frame["dollars_at_risk"] = pd.to_numeric(frame["dollars_at_risk"]).astype("float64").fillna(0.0)
    bad_sev = set(frame["severity"]) - set(SEVERITIES)
    if bad_sev or scope not in SCOPES:
        raise ValueError(f"{audit.id}: bad severity {bad_sev} or scope {scope!r}")
    return frame


def line_findings(
    audit: type[Audit] | Audit,
    rows: pd.DataFrame,
    *,
    severity: Any,
    message: Any,
    dollars_at_risk: Any = 0.0,
    evidence: Any = None,
    fix: Any = None,
) -> pd.DataFrame:
    """Findings about individual claim lines: provider, payer, code, claim, line number and
    source position are taken from ``rows`` (a subset of the claim-line frame)."""

    def col(name: str) -> Any:
        return rows[name] if name in rows.columns else None

    return findings_frame(
        audit,
        severity=severity,
        scope="line",
        message=message,
        provider=col("rendering_provider"),
        payer=col("payer"),
        cpt=col("cpt"),
        claim_id=col("claim_id"),
        line=col("line_number"),
        dollars_at_risk=dollars_at_risk,
        evidence=evidence,
        fix=fix,
        source_file=col("source_file"),
        source_row=col("source_row"),
    )


def usable(lines: pd.DataFrame, column: str) -> bool:
    """True when the column is in the data and has at least one value."""
    return column in lines.columns and bool(lines[column].notna().any())


PAID_STATUSES = ("paid", "partially_paid")
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

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per run: for measures computed outside this class (revenue)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    @cached_property
    def reference(self) -> Reference:
        return Reference.load(self.config.reference)

    @cached_property
    def family(self) -> pd.Series:
        """Procedure family of every line ("other" everywhere when there is no cpt column)."""
        if "cpt" not in self.lines.columns:
            return pd.Series("other", index=self.lines.index, dtype="string")
        return procedure_family(
            self.lines["cpt"], self.reference.procedures, self.reference.families
        )

    @cached_property
    def status(self) -> pd.Series | None:
        """Lower-case status of every line, or None when the data has no status column."""
        if not usable(self.lines, "status"):
            return None
        return self.lines["status"].astype("string").str.strip().str.lower()

    @cached_property
    def provider(self) -> pd.Series:
        """Rendering provider of every line, ``(blank)`` where missing."""
        return self._text("rendering_provider")

    @cached_property
    def payer(self) -> pd.Series:
        """Payer of every line, ``(blank)`` where missing."""
        return self._text("payer")

    def _text(self, column: str) -> pd.Series:
        if column not in self.lines.columns:
            return pd.Series(BLANK, index=self.lines.index, dtype="string")
        values = self.lines[column].astype("string").str.strip()
        return values.mask(values.eq(""), pd.NA).fillna(BLANK)

    @cached_property
    def tpi_lines(self) -> pd.Series:
        """Mask of trigger-point lines (20552/20553) that reached the payer: rejected and voided
        lines are left out, so a claim sent twice is not counted twice."""
        mask = self.lines["cpt"].astype("string").isin(TPI_CODES)
        mask = mask.fillna(False).astype(bool)
        if self.status is not None:
            mask &= ~self.status.isin(("rejected", "voided")).fillna(False).astype(bool)
        return mask

    @cached_property
    def clean_claims(self) -> CleanClaims | None:
        """Claim-level clean/unclean flags (None without claim id, provider and status)."""
        from auditkit.audits import kpis

        return kpis.clean_claims(self)

    @cached_property
    def practice_paid_means(self) -> pd.DataFrame | None:
        """Mean paid per (cpt, payer) over paid lines, and per cpt over all payers."""
        lines = self.lines
        if not usable(lines, "paid"):
            return None
        paid_mask = lines["paid"].gt(0).fillna(False).astype(bool)
        if self.status is not None:
            paid_mask &= self.status.isin(PAID_STATUSES).fillna(False).astype(bool)
        sub = pd.DataFrame(
            {"cpt": lines["cpt"].astype("string"), "payer": self.payer, "paid": lines["paid"]}
        )[paid_mask]
        return sub.groupby(["cpt", "payer"], observed=True)["paid"].mean().rename("mean_paid")

    def fees(self, codes: pd.Series, payers: pd.Series) -> tuple[pd.Series, pd.Series]:
        """Expected payment for each (code, payer) and where it came from.

        The config's fee schedule first (a payer's own fee, then the general one), else the
        practice's mean paid amount for the code at that payer, else at all payers. Returns
        ``(fee, source)``; fee is NaN and source "none" when nothing is known.
        """
        codes = codes.astype("string").reset_index(drop=True)
        payers = payers.astype("string").fillna(BLANK).reset_index(drop=True)
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


def pct(rate: float) -> str:
    """0.934 -> '93%' (for messages)."""
    return "n/a" if rate is None or rate != rate else f"{rate * 100:.0f}%"


def pct_series(rates: pd.Series) -> pd.Series:
    """Vectorised :func:`pct`."""
    text = (rates.astype("float64") * 100).round().astype("Int64").astype("string") + "%"
    return text.fillna("n/a")


def money(amount: float) -> str:
    """1234.5 -> '$1,235' (for messages)."""
    return "$0" if amount is None or amount != amount else f"${amount:,.0f}"
