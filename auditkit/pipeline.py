"""One audit job from files to outputs: what the CLI, the batch mode and the Excel macro call.

The shells (``cli.py``, ``batch.py``, the xlwings macro) only parse their input, call
:func:`audit` and :func:`write_outputs`, and present the result.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from auditkit.engine.result import COVERS_SEP, SEVERITIES, AuditResult
from auditkit.fileio import atomic_write_bytes
from auditkit.ingest.model import ClaimLines

PathLike = str | os.PathLike[str]
#: Called with a short stage name ("reading", "auditing", "writing") and a detail.
Progress = Callable[[str, str], None]


@dataclass
class Job:
    """What one audit job read and found."""

    lines: ClaimLines
    result: AuditResult
    remit_report: Any | None = None
    notes: list[str] = field(default_factory=list)
    #: How the authorization export and fee schedule were read (FileReport each).
    side_inputs: list[Any] = field(default_factory=list)


def _quiet(stage: str, detail: str) -> None:
    return None


def audit(
    paths: Sequence[PathLike],
    *,
    mapping: PathLike | dict | None = None,
    config: PathLike | dict | None = None,
    select: Sequence[str] | None = None,
    remits: Sequence[PathLike] = (),
    auths: PathLike | None = None,
    fee_schedule: PathLike | None = None,
    ptp: Sequence[PathLike] = (),
    mue: Sequence[PathLike] = (),
    redact: bool = False,
    redactor: Any | None = None,
    progress: Progress = _quiet,
) -> Job:
    """Read the exports (remittances, authorizations, fee schedule), optionally redact, audit.

    With ``redact`` (or a ``redactor`` shared across a batch) patient names and ids are replaced
    by pseudonyms before anything is audited, in the claim lines and the authorization export
    alike, so authorizations still match their claims.
    """
    from auditkit.engine.runner import run_audits
    from auditkit.ingest import load
    from auditkit.ingest.side_tables import read_authorizations, read_fee_schedule

    progress("reading", f"{len(paths)} file(s)")
    lines = load(list(paths), mapping=mapping)
    notes: list[str] = []
    remit_report = None
    if remits:
        from auditkit.ingest.x12 import join_remits

        progress("reading", f"{len(remits)} remittance file(s)")
        remit_lines = load(list(remits))
        frame, remit_report = join_remits(lines.frame, remit_lines.frame)
        lines = ClaimLines(frame=frame, inputs=lines.inputs + remit_lines.inputs)
        notes.append(str(remit_report))
    auth_table = fee_table = None
    side_inputs = []
    if auths is not None:
        progress("reading", "authorizations")
        auth_table = read_authorizations(auths, mapping=None)
        side_inputs.append(auth_table.report)
    if fee_schedule is not None:
        progress("reading", "fee schedule")
        fee_table = read_fee_schedule(fee_schedule, mapping=None)
        side_inputs.append(fee_table.report)
    if redact or redactor is not None:
        from auditkit.ingest.side_tables import redact as redact_side
        from auditkit.redact import Redactor

        redactor = redactor or Redactor()
        lines = ClaimLines(frame=redactor.frame(lines.frame), inputs=lines.inputs)
        if auth_table is not None:
            auth_table = redact_side(auth_table, redactor)
    if ptp or mue:
        from auditkit.engine.settings import load_settings

        config = load_settings(config).with_edits(ptp=list(ptp), mue=list(mue))
    progress("auditing", f"{len(lines.frame):,} lines")
    result = run_audits(
        lines,
        select=list(select) if select else None,
        config=config,
        auths=auth_table,
        fee_schedule=fee_table,
    )
    return Job(
        lines=lines,
        result=result,
        remit_report=remit_report,
        notes=notes,
        side_inputs=side_inputs,
    )


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (pd.Timestamp,)):
        return None if pd.isna(value) else value.date().isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()
    if isinstance(value, float) and value != value:  # NaN
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def to_json(job: Job) -> dict[str, Any]:
    """The machine-readable result: the shape documented in the README."""
    from auditkit import __version__

    findings = job.result.findings
    records = []
    keep = ("audit", "severity", "scope", "provider", "payer", "cpt", "claim_id", "line")
    for row in findings.to_dict("records"):
        item = {k: _jsonable(row.get(k)) for k in keep}
        if item["line"] is not None:
            item["line"] = int(item["line"])
        item["dollars_at_risk"] = _jsonable(row.get("dollars_at_risk"))
        item["dollars_basis"] = str(row.get("dollars_basis") or "none")
        covers = str(row.get("covers") or "")
        item["covers"] = covers.split(COVERS_SEP) if covers else []
        item["counted"] = bool(row.get("counted"))
        item["message"] = str(row.get("message") or "")
        item["fix"] = str(row.get("fix") or "")
        item["evidence"] = _jsonable(row.get("evidence"))
        item["source_file"] = _jsonable(row.get("source_file"))
        source_row = _jsonable(row.get("source_row"))
        item["source_row"] = int(source_row) if source_row is not None else None
        records.append(item)
    return {
        "auditkit_version": __version__,
        "inputs": [{"path": r.path, "rows": int(r.rows)} for r in job.lines.inputs]
        + [{"path": r.path, "rows": int(r.rows)} for r in job.side_inputs],
        "summary": _jsonable(job.result.summary),
        "audits": [
            {
                "id": a.id,
                "status": a.status,
                "reason": a.reason,
                "hint": a.hint or None,
                "findings": int(a.findings),
            }
            for a in job.result.audits
        ],
        "edit_tables": _jsonable(job.result.edit_tables),
        "findings": records,
    }


def write_json(job: Job, path: PathLike) -> Path:
    data = json.dumps(to_json(job), indent=2, ensure_ascii=False).encode("utf-8")
    return atomic_write_bytes(path, data)


def write_outputs(
    job: Job,
    *,
    json_path: PathLike | None = None,
    out: PathLike | None = None,
    into: PathLike | None = None,
    template: PathLike | None = None,
    with_lines: bool = False,
    practice: str | None = None,
    period: str | None = None,
    prepared_by: str | None = None,
    progress: Progress = _quiet,
) -> list[Path]:
    """Write the JSON and/or the workbook; return the paths written.

    When the workbook already has a sheet of the user's with a name auditkit wants, auditkit's
    sheet gets another name and a line saying so is added to ``job.notes``.
    """
    written: list[Path] = []
    if json_path is not None:
        progress("writing", str(json_path))
        written.append(write_json(job, json_path))
    if out is not None or into is not None:
        from auditkit.excel.openpyxl_writer import rename_note, write_workbook

        def renamed(wanted: str, used: str) -> None:
            job.notes.append(rename_note(wanted, used))

        target = into if into is not None else out
        progress("writing", str(target))
        written.append(
            Path(
                write_workbook(
                    job.result,
                    target if out is not None else into,
                    lines=job.lines,
                    into=into,
                    template=template,
                    with_lines=with_lines,
                    practice=practice,
                    period=period,
                    prepared_by=prepared_by,
                    on_rename=renamed,
                )
            )
        )
    return written


def worst_severity(result: AuditResult) -> str | None:
    """The most serious severity among the findings, or None when there are none."""
    present = set(result.findings["severity"].dropna()) if len(result.findings) else set()
    for sev in SEVERITIES:
        if sev in present:
            return sev
    return None


def reaches_severity(worst: str | None, threshold: str) -> bool:
    """True when severity ``worst`` is at or above ``threshold``."""
    if worst is None:
        return False
    return SEVERITIES.index(worst) <= SEVERITIES.index(threshold)


def reaches(result: AuditResult, threshold: str) -> bool:
    """True when any finding is at or above ``threshold`` severity."""
    return reaches_severity(worst_severity(result), threshold)
