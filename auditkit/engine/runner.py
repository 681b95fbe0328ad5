"""Run the registered audits over claim lines and collect findings, KPIs and tables."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from auditkit import beside
from auditkit.beside import glibc as _glibc
from auditkit.claims import BLANK_MEANS_NONE, conform
from auditkit.config import Config
from auditkit.engine.context import Context, usable
from auditkit.engine.contract import Audit, NothingToAudit
from auditkit.engine.findingset import FindingSet
from auditkit.engine.money import settle
from auditkit.engine.registry import all_audits, get
from auditkit.engine.result import SEVERITIES, AuditResult, AuditRun, empty_findings
from auditkit.engine.settings import effective_settings, load_settings
from auditkit.errors import InputError
from auditkit.ingest.model import ClaimLines
from auditkit.ingest.side_tables import SPECS, SideTable, as_side_table
from auditkit.measures import kpis, revenue, trends
from auditkit.measures.worklist import run_work_list

# glibc mallopt() parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


@contextlib.contextmanager
def reuse_freed_memory() -> Iterator[None]:
    """Let the C allocator reuse the big arrays the audits free instead of handing each back to
    the system and faulting fresh pages in for the next one.

    An audit run allocates and frees arrays of one value per claim line again and again; with
    glibc's defaults most of them are mapped and unmapped each time, and zeroing new pages took
    a quarter of the run at a million lines. During the run freed blocks are kept for reuse,
    and pyarrow (pandas' text columns) allocates from the same tuned C allocator instead of its
    own pool, which gives freed pages back within milliseconds. Peak memory does not grow: it is
    set by what is alive at once. At the end the thresholds go back to glibc's adaptive
    ceilings, free memory is returned to the system, and pyarrow's pool is restored. Nothing
    happens on other C libraries. The writers (:func:`auditkit.pipeline.write_outputs`) run in
    it too: with Arrow and numpy in one allocator, what one frees the other reuses.
    """
    libc = _glibc()
    if libc is None:
        yield
        return
    with _TUNING["lock"]:  # runs in threads (a Dask worker) share one setting: first in sets it
        _TUNING["depth"] += 1
        if _TUNING["depth"] == 1:
            _TUNING["pool"] = pa.default_memory_pool()
            _TUNING["pool"].release_unused()  # what it freed before is the system's again
            libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
            libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
            pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        with _TUNING["lock"]:  # ... and the last out puts it back
            _TUNING["depth"] -= 1
            if _TUNING["depth"] == 0:
                pa.set_memory_pool(_TUNING["pool"])
                libc.mallopt(_M_MMAP_THRESHOLD, 32 * 2**20)
                libc.mallopt(_M_TRIM_THRESHOLD, 64 * 2**20)
                libc.malloc_trim(0)


_TUNING: dict[str, Any] = {"lock": threading.Lock(), "depth": 0, "pool": None}


def _hand_back_arrow_memory() -> None:
    """Give freed memory back to the system once the lines are let go: the lines' text (read
    before the run into pyarrow's own pool, whose free pages the C allocator the run uses
    cannot reuse) and the free pages the audits left in the C allocator's heap, so that what
    comes next does not add to them."""
    pool = _TUNING["pool"] or pa.default_memory_pool()
    pool.release_unused()
    libc = _glibc()
    if libc is not None:  # and the C allocator's free pages, which the audits left behind
        libc.malloc_trim(0)


#: Runs of at least this many lines split their work over two processes (where
#: :func:`auditkit.beside.can_fork`): a child makes the work list and runs
#: :data:`BESIDE_AUDITS` while this process runs the other audits. Below it, starting the
#: process costs more than it saves.
BESIDE_MIN_LINES = 50_000

#: The audits run in the child process on a split run. They look at claims, payers and
#: denials rather than at each line's coding (so they share little with the other audits
#: beyond what :meth:`Context.share` works out before the split), send back few findings
#: whatever the export (patterns, not lines), and with the work list take about as long as
#: the other audits take here (measured at 1,000,000 lines: docs/benchmarks.md).
BESIDE_AUDITS = frozenset({"paid-vs-denied", "modifier-payer-inconsistent", "denial-root-cause"})

#: During a run: blocks up to this size come from the heap (reused when freed), and free memory
#: at the top of the heap is handed back to the system beyond this much.
MMAP_THRESHOLD = 256 * 2**20
TRIM_THRESHOLD = 1024 * 2**20


def _frame(lines: ClaimLines | pd.DataFrame) -> pd.DataFrame:
    """The canonical frame, with a fresh 0..n-1 index (audits align masks on it)."""
    if isinstance(lines, ClaimLines):
        frame = lines.frame
    elif isinstance(lines, pd.DataFrame):
        try:
            frame = conform(lines)
        except (ValueError, TypeError) as exc:
            raise InputError(
                f"the claim-line table does not match the canonical column types ({exc})",
                hint="build it with auditkit.load() or see auditkit.claims.COLUMNS",
            ) from None
    else:
        raise TypeError(f"run_audits needs ClaimLines or a DataFrame, not {type(lines).__name__}")
    return frame.reset_index(drop=True)


def _selected(select: str | Iterable[str] | None) -> list[type[Audit]]:
    if select is None:
        return list(all_audits())
    if isinstance(select, str):
        select = [s for s in select.replace(" ", "").split(",") if s]
    wanted = {get(s).id for s in select}  # get() raises ConfigError naming the valid ids
    return [a for a in all_audits() if a.id in wanted]


def _missing(frame: pd.DataFrame, audit: type[Audit]) -> tuple[list[str], str]:
    if frame.empty:
        return [c for c in audit.columns if c not in frame.columns], "there are no claim lines"
    absent = [c for c in audit.columns if c not in frame.columns]
    empty = [
        c
        for c in audit.columns
        if c in frame.columns and not usable(frame, c) and c not in BLANK_MEANS_NONE
    ]
    parts = []
    if absent:
        parts.append(f"the data has no {', '.join(absent)} column{'s' if len(absent) > 1 else ''}")
    if empty:
        parts.append(f"{', '.join(empty)} {'are' if len(empty) > 1 else 'is'} empty on every line")
    return absent + empty, "; ".join(parts)


def _skip_hint(audit: type[Audit], missing: list[str]) -> str:
    """What to do so that an audit skipped for lack of columns runs."""
    if missing:
        return (
            f"Export {', '.join(missing)} with the claim lines, or map the export's header to it "
            "with a mapping file, then run again."
        )
    return "Check that the export holds claim lines for the period, then run again."


def _side_skip(absent: list[str]) -> tuple[str, str]:
    """The reason and hint of an audit skipped because a side table was not given."""
    specs = [SPECS[name] for name in absent]
    needs = " and ".join(f"{s.what} ({s.option})" for s in specs)
    hint = " ".join(
        f"Save {s.what} from the PM system or the payer portal and pass it with {s.option}."
        for s in specs
    )
    return f"it needs {needs}", hint + " Then run again."


def _run_one(
    audit_cls: type[Audit],
    frame: pd.DataFrame,
    config: Config,
    context: Context,
    side: Mapping[str, SideTable | None],
) -> tuple[AuditRun, pd.DataFrame]:
    """One audit over the lines: its run (status, reason, findings, seconds) and findings."""
    clock = time.perf_counter()
    run = AuditRun(audit_cls.id, audit_cls.title, "ran", why=audit_cls.why(), fix=audit_cls.fix())
    missing, reason = _missing(frame, audit_cls)
    absent = [name for name in audit_cls.side_tables if side.get(name) is None]
    # A skipped audit is not a finding: its reason and what to do are on its run.
    found = empty_findings()
    if reason:
        run.status, run.reason, run.missing_columns = "skipped", reason, missing
        run.hint = _skip_hint(audit_cls, missing)
    elif absent:
        run.status = "skipped"
        run.reason, run.hint = _side_skip(absent)
    else:
        try:
            found = audit_cls().run(frame, config.settings(audit_cls), context)
        except NothingToAudit as nothing:
            run.reason = str(nothing)
            found = empty_findings()
    run.findings = len(found)
    run.seconds = time.perf_counter() - clock
    return run, found


def _start_beside(
    chosen: list[type[Audit]],
    frame: pd.DataFrame,
    config: Config,
    context: Context,
    side: Mapping[str, SideTable | None],
    worklist_under: SimpleNamespace | None,
) -> tuple[beside.Beside | None, frozenset[str]]:
    """On a big run, the child process that runs :data:`BESIDE_AUDITS` of ``chosen`` and then
    makes the work list (with ``worklist_under``, the underpayment settings it reads; None: no
    work list), returning ``([(run, findings), ...], work list)``; and the ids of those audits.
    ``(None, empty)`` when everything runs here.

    What most audits read is worked out first (:meth:`Context.share`), so that both processes
    use the one copy. In the child, what its audits worked out is let go (and its memory handed
    back) before the work list is made: the child's memory adds to this process's while both
    live."""
    ids = frozenset(a.id for a in chosen if a.id in BESIDE_AUDITS)
    wanted = ids or worklist_under is not None
    if len(frame) < BESIDE_MIN_LINES or not wanted or not beside.can_fork():
        return None, frozenset()
    context.share()
    shared = context.mark()

    def in_the_child() -> tuple[list[tuple[AuditRun, pd.DataFrame]], pd.DataFrame | None]:
        done = [_run_one(a, frame, config, context, side) for a in chosen if a.id in ids]
        context.forget_since(shared)
        _hand_back_arrow_memory()
        if worklist_under is None:
            return done, None
        return done, run_work_list(context, worklist_under)

    job = beside.start(in_the_child)
    return job, ids if job is not None else frozenset()


def _finish(parts: list[pd.DataFrame], order: list[str]) -> FindingSet:
    """One set of findings: counted once (:func:`~auditkit.engine.money.settle`), sorted by
    severity, then dollars (largest first), then audit order."""
    found = FindingSet.build(parts)
    if not len(found):
        return found
    core = found.core
    core["counted"] = settle(core, order)
    sev = core["severity"].map({s: i for i, s in enumerate(SEVERITIES)}).astype("float64")
    dollars = -core["dollars_at_risk"].astype("float64")
    audit = core["audit"].map({a: i for i, a in enumerate(order)}).astype("float64")
    # A stable sort on the three keys (the last is the primary one); missing ranks go last.
    ranked = np.lexsort([np.asarray(k, dtype="float64") for k in (audit, dollars, sev)])
    del core, sev, dollars, audit
    found.reorder(ranked)
    return found


def run_audits(
    lines: ClaimLines | pd.DataFrame,
    select: str | Iterable[str] | None = None,
    config: str | Path | Mapping[str, Any] | Config | None = None,
    *,
    auths: SideTable | pd.DataFrame | None = None,
    fee_schedule: SideTable | pd.DataFrame | None = None,
    keep_columns: Sequence[str] | None = None,
    with_worklist: bool = True,
) -> AuditResult:
    """Run the registered audits (or the ids in ``select``) over canonical claim lines.

    ``lines`` is what :func:`auditkit.load` returns, or a DataFrame with canonical columns.
    ``config`` is a TOML path, an already-parsed mapping or a :class:`~auditkit.config.Config`.
    ``auths`` and ``fee_schedule`` are the side tables of the revenue audits (what
    :func:`auditkit.ingest.side_tables.read_authorizations` / ``read_fee_schedule`` return, or a
    DataFrame with their column names); an audit that needs one that is not given is skipped
    with an ``info`` note. An audit whose required columns are absent (or empty) is skipped with
    an ``info`` finding naming them. Raises ConfigError for an unknown audit id or a bad config.

    With ``keep_columns`` (and ``lines`` a :class:`ClaimLines`), the caller needs only those
    columns of the lines afterwards: ``lines.frame`` is cut to them once the audits and the
    line KPIs are done, before the findings are joined, so that the join does not share the
    memory with the whole claim-line table (at a million lines, a few hundred MB).

    The result's ``worklist`` is the work list of open money
    (:func:`auditkit.measures.worklist.run_work_list`); ``with_worklist=False`` leaves it None.
    """
    config = load_settings(config)
    chosen = _selected(select)
    # (``cleanup`` stops a child process of the run that is still working when the run fails.)
    with reuse_freed_memory(), contextlib.ExitStack() as cleanup:
        return _run(
            lines, chosen, config, auths, fee_schedule, keep_columns, with_worklist, cleanup
        )


def _run(
    lines: ClaimLines | pd.DataFrame,
    chosen: list[type[Audit]],
    config: Config,
    auths: SideTable | pd.DataFrame | None,
    fee_schedule: SideTable | pd.DataFrame | None,
    keep_columns: Sequence[str] | None = None,
    with_worklist: bool = True,
    cleanup: contextlib.ExitStack | None = None,
) -> AuditResult:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    frame = _frame(lines)
    side = {
        "auths": as_side_table(auths, "auths"),
        "fee_schedule": as_side_table(fee_schedule, "fee_schedule"),
    }
    context = Context(
        frame,
        config,
        auths=side["auths"].frame if side["auths"] is not None else None,
        fee_schedule=side["fee_schedule"].frame if side["fee_schedule"] is not None else None,
    )
    timings["prepare"] = time.perf_counter() - started
    clock = time.perf_counter()
    under_settings = config.settings(get("underpayment"))
    # On a big run a child process on the other core runs some of the audits and makes the
    # work list while the rest run here (see _start_beside and auditkit.beside).
    job, beside_ids = _start_beside(
        chosen, frame, config, context, side, under_settings if with_worklist else None
    )
    if job is not None and cleanup is not None:
        cleanup.callback(job.cancel)  # nothing once its result is taken
    done: dict[str, tuple[AuditRun, pd.DataFrame]] = {}
    for audit_cls in chosen:
        if audit_cls.id not in beside_ids:
            done[audit_cls.id] = _run_one(audit_cls, frame, config, context, side)
    worklist = None
    worklist_made = False
    if job is not None:
        try:
            theirs, worklist = job.result()
            done.update((run.id, (run, found)) for run, found in theirs)
            worklist_made = True
        except beside.BesideError:
            pass  # what the child was to do is done here
    for audit_cls in chosen:
        if audit_cls.id not in done:
            done[audit_cls.id] = _run_one(audit_cls, frame, config, context, side)
    runs = [done[a.id][0] for a in chosen]
    parts = [done[a.id][1] for a in chosen]
    del done
    timings["audits"] = time.perf_counter() - clock
    # The line findings per month of service, while the audits' line keys are alive (the rest
    # of what only the audits use goes first: at a million lines it is some 100 MB).
    context.release_audit_views(line_keys=False)
    clock = time.perf_counter()
    trend_findings = trends.finding_counts(context, parts)
    timings["trends"] = time.perf_counter() - clock
    context.release_audit_views()
    # What needs the lines comes first (the KPI tables, the summary's line figures), so that
    # they can be let go before the findings are joined.
    clock = time.perf_counter()
    tables = kpis.tables(context)
    under = revenue.underpayment_by_payer(context, config.settings(get("underpayment")))
    if under is not None:
        tables["underpayment_by_payer"] = under
    timings["tables"] = time.perf_counter() - clock
    clock = time.perf_counter()
    trend_table = trends.monthly(context, trend_findings)
    del trend_findings
    timings["trends"] += time.perf_counter() - clock
    clock = time.perf_counter()
    summary = kpis.line_summary(context, tables)
    summary["clean_claim_target"] = config.settings(get("clean-claim-rate")).target
    summary["audits_run"] = sum(r.status == "ran" for r in runs)
    summary["audits_skipped"] = sum(r.status == "skipped" for r in runs)
    timings["summary"] = time.perf_counter() - clock
    clock = time.perf_counter()
    if with_worklist and not worklist_made:
        worklist = run_work_list(context, under_settings)
    timings["worklist"] = time.perf_counter() - clock  # (0 when made beside the audits)
    edit_tables = [{**t.about(), "description": t.describe()} for t in context.edit_tables_used()]
    context.release()  # the run's shared arrays are freed now, not at the next collection
    if keep_columns is not None and isinstance(lines, ClaimLines):
        kept = [c for c in keep_columns if c in lines.frame.columns]
        lines.frame = lines.frame[kept].copy()
        del frame, context
        _hand_back_arrow_memory()
    clock = time.perf_counter()
    found = _finish(parts, [a.id for a in all_audits()])
    del parts
    kpis.add_finding_summary(summary, found.core)
    timings["findings"] = time.perf_counter() - clock
    timings["total"] = time.perf_counter() - started
    return AuditResult(
        found=found,
        summary=summary,
        audits=runs,
        tables=tables,
        config=effective_settings(config),
        timings=timings,
        edit_tables=edit_tables,
        worklist=worklist,
        trends=trend_table,
    )


__all__ = ["run_audits"]
