"""Run the registered audits over claim lines and collect findings, KPIs and tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from auditkit.audits import kpis
from auditkit.audits.base import Audit, Context, NothingToAudit, findings_frame, usable
from auditkit.audits.registry import all_audits, get
from auditkit.audits.result import (
    FINDING_COLUMNS,
    SEVERITIES,
    AuditResult,
    AuditRun,
    empty_findings,
)
from auditkit.claims import conform
from auditkit.config import Config, load_config
from auditkit.errors import InputError
from auditkit.ingest.model import ClaimLines
from auditkit.ingest.side_tables import SPECS, SideTable, as_side_table


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
    empty = [c for c in audit.columns if c in frame.columns and not usable(frame, c)]
    parts = []
    if absent:
        parts.append(f"the data has no {', '.join(absent)} column{'s' if len(absent) > 1 else ''}")
    if empty:
        parts.append(f"{', '.join(empty)} {'are' if len(empty) > 1 else 'is'} empty on every line")
    return absent + empty, "; ".join(parts)


def _skip_note(audit: type[Audit], missing: list[str], reason: str) -> pd.DataFrame:
    fix = (
        f"Export {', '.join(missing)} with the claim lines, or map the export's header to it "
        "with a mapping file, then run again."
        if missing
        else "Check that the export holds claim lines for the period, then run again."
    )
    return findings_frame(
        audit,
        severity="info",
        scope="practice",
        message=f"{audit.id} was not run: {reason}. It needs {', '.join(audit.columns)}.",
        evidence={"missing_columns": missing},
        fix=fix,
    )


def _side_skip_note(audit: type[Audit], absent: list[str]) -> tuple[str, pd.DataFrame]:
    """The info note of an audit skipped because a side table was not given."""
    specs = [SPECS[name] for name in absent]
    needs = " and ".join(f"{s.what} ({s.option})" for s in specs)
    reason = f"it needs {needs}"
    note = findings_frame(
        audit,
        severity="info",
        scope="practice",
        message=f"{audit.id} was not run: {reason}.",
        evidence={"missing_side_tables": absent},
        fix=" ".join(
            f"Save {s.what} from the PM system or the payer portal and pass it with {s.option}."
            for s in specs
        )
        + " Then run again.",
    )
    return reason, note


def _finish(parts: list[pd.DataFrame], order: list[str]) -> pd.DataFrame:
    """One findings frame: sorted by severity, then dollars (largest first), then audit order."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_findings()
    findings = pd.concat(parts, ignore_index=True)
    sort_keys = pd.DataFrame(
        {
            "sev": findings["severity"].map({s: i for i, s in enumerate(SEVERITIES)}),
            "dollars": -findings["dollars_at_risk"].astype("float64"),
            "audit": findings["audit"].map({a: i for i, a in enumerate(order)}),
        }
    )
    findings = findings.loc[sort_keys.sort_values(["sev", "dollars", "audit"], kind="stable").index]
    findings = findings.reset_index(drop=True)
    for name in ("line", "source_row"):
        values = findings[name].to_numpy(dtype=object)
        findings[name] = pd.Series(
            [None if v is None else int(v) for v in values], dtype=object
        )  # a list over findings (not claim lines): gives plain ints for JSON
    findings["dollars_at_risk"] = findings["dollars_at_risk"].astype("float64")
    return findings[list(FINDING_COLUMNS)]


def run_audits(
    lines: ClaimLines | pd.DataFrame,
    select: str | Iterable[str] | None = None,
    config: str | Path | Mapping[str, Any] | Config | None = None,
    *,
    auths: SideTable | pd.DataFrame | None = None,
    fee_schedule: SideTable | pd.DataFrame | None = None,
) -> AuditResult:
    """Run the registered audits (or the ids in ``select``) over canonical claim lines.

    ``lines`` is what :func:`auditkit.load` returns, or a DataFrame with canonical columns.
    ``config`` is a TOML path, an already-parsed mapping or a :class:`~auditkit.config.Config`.
    ``auths`` and ``fee_schedule`` are the side tables of the revenue audits (what
    :func:`auditkit.ingest.side_tables.read_authorizations` / ``read_fee_schedule`` return, or a
    DataFrame with their column names); an audit that needs one that is not given is skipped
    with an ``info`` note. An audit whose required columns are absent (or empty) is skipped with
    an ``info`` finding naming them. Raises ConfigError for an unknown audit id or a bad config.
    """
    config = load_config(config)
    chosen = _selected(select)
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
    runs: list[AuditRun] = []
    parts: list[pd.DataFrame] = []
    for audit_cls in chosen:
        run = AuditRun(
            audit_cls.id, audit_cls.title, "ran", why=audit_cls.why(), fix=audit_cls.fix()
        )
        missing, reason = _missing(frame, audit_cls)
        absent = [name for name in audit_cls.side_tables if side.get(name) is None]
        if reason:
            run.status, run.reason, run.missing_columns = "skipped", reason, missing
            found = _skip_note(audit_cls, missing, reason)
        elif absent:
            run.status = "skipped"
            run.reason, found = _side_skip_note(audit_cls, absent)
        else:
            try:
                found = audit_cls().run(frame, config.settings(audit_cls), context)
            except NothingToAudit as nothing:
                run.reason = str(nothing)
                found = empty_findings()
        run.findings = len(found)
        runs.append(run)
        parts.append(found)
    findings = _finish(parts, [a.id for a in all_audits()])
    tables = kpis.tables(context)
    summary = kpis.summary(context, findings, tables)
    summary["clean_claim_target"] = config.settings(get("clean-claim-rate")).target
    summary["audits_run"] = sum(r.status == "ran" for r in runs)
    summary["audits_skipped"] = sum(r.status == "skipped" for r in runs)
    return AuditResult(
        findings=findings, summary=summary, audits=runs, tables=tables, config=config.effective()
    )


__all__ = ["run_audits"]
