"""One audit job from files to outputs: what the CLI, the batch mode and the Excel macro call.

The shells (``cli.py``, ``batch.py``, the xlwings macro) only parse their input, call
:func:`audit` and :func:`write_outputs`, and present the result.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from auditkit.beside import BesideError, can_fork
from auditkit.engine.findingset import FINDING_COLUMNS, FindingSet, jsonable
from auditkit.engine.result import COVERS_SEP, SEVERITIES, AuditResult
from auditkit.fileio import (
    all_or_nothing,
    atomic_write,
    check_outputs,
    start_atomic_write,
)
from auditkit.ingest.model import ClaimLines
from auditkit.measures.worklist import WORKLIST_COLUMNS

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
    keep_lines: bool = True,
    strict_x12: bool = False,
    as_of: str | None = None,
    worklist_only: bool = False,
) -> Job:
    """Read the exports (remittances, authorizations, fee schedule), optionally redact, audit.

    ``as_of`` (``YYYY-MM-DD``, ``--as-of``) replaces ``[kpis] as_of``: the date the A/R ages
    and the work list's days left are counted to. ``worklist_only`` runs no audit, only the
    key indicators and the work list (``auditkit worklist``).

    X12 835 files (as exports or ``remits``) whose trailer counts or control numbers do not
    match are read with a warning; ``strict_x12`` refuses them (``--strict-x12``).

    With ``redact`` (or a ``redactor`` shared across a batch) patient names and ids and claim
    ids are replaced by pseudonyms after the remittances are joined and before anything is
    audited, in the claim lines and the authorization export alike, so authorizations still
    match their claims; the inputs' problems and warnings and the join's note are scrubbed of
    them and quote no cell (see :mod:`auditkit.redact`).

    With ``keep_lines=False`` (the caller writes no Claim lines sheet) the claim-line table is
    let go once audited, keeping only what the workbook shows of it (the billing provider): at
    a million lines that is most of the memory the writers would otherwise share with it.
    """
    from auditkit.engine.runner import run_audits
    from auditkit.ingest import load
    from auditkit.ingest.side_tables import read_authorizations, read_fee_schedule

    progress("reading", f"{len(paths)} file(s)")
    lines = load(list(paths), mapping=mapping, strict_x12=strict_x12)
    notes: list[str] = []
    remit_report = None
    remit_frames: list[pd.DataFrame] = []  # what redaction must know of the remittances
    if remits:
        from auditkit.ingest.x12 import join_remits

        progress("reading", f"{len(remits)} remittance file(s)")
        remit_lines = load(list(remits), strict_x12=strict_x12)
        frame, remit_report = join_remits(lines.frame, remit_lines.frame)
        remit_frames.append(remit_lines.frame)
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
        # every input's patients and claims first, so that every message is scrubbed of them
        auth_frames = [auth_table.frame] if auth_table is not None else []
        redactor.learn(lines.frame, *remit_frames, *auth_frames)
        lines = redactor.lines(lines)
        if auth_table is not None:
            auth_table = redact_side(auth_table, redactor)
        side_inputs = [redactor.report(r) for r in side_inputs]
        if remit_report is not None:
            remit_report = redactor.join_report(remit_report)
        notes = [redactor.text(n) for n in notes]
    if ptp or mue:
        from auditkit.engine.settings import load_settings

        config = load_settings(config).with_edits(ptp=list(ptp), mue=list(mue))
    if as_of is not None:
        config = with_as_of(config, as_of)
    if not keep_lines:
        lines.frame = _lean(lines.frame)
    progress("auditing", f"{len(lines.frame):,} lines")
    result = run_audits(
        lines,
        select=[] if worklist_only else list(select) if select else None,
        config=config,
        auths=auth_table,
        fee_schedule=fee_table,
        # Without a Claim lines sheet the workbook shows only the billing provider of them:
        # the run lets the rest go before it joins the findings.
        keep_columns=None if keep_lines else ("billing_provider",),
    )
    lines.side_inputs = side_inputs
    return Job(
        lines=lines,
        result=result,
        remit_report=remit_report,
        notes=notes,
        side_inputs=side_inputs,
    )


def as_of_date(text: str) -> str:
    """``--as-of`` checked: the ``YYYY-MM-DD`` date it names, or an
    :class:`~auditkit.errors.InputError` saying how to write it."""
    from auditkit.errors import InputError

    value = str(text).strip()
    try:
        when = pd.Timestamp(value) if len(value) == 10 else pd.NaT
    except (TypeError, ValueError):
        when = pd.NaT
    if pd.isna(when):
        raise InputError(
            f"--as-of: {text!r} is not a date", hint="write it as YYYY-MM-DD, e.g. 2026-11-30"
        )
    return when.date().isoformat()


def with_as_of(config: PathLike | dict | Any | None, as_of: str) -> Any:
    """``config`` (a path, mapping or Config) as a Config whose ``[kpis] as_of`` is ``as_of``
    (checked by :func:`as_of_date`)."""
    from dataclasses import replace

    from auditkit.engine.settings import load_settings

    text = as_of_date(as_of)
    loaded = load_settings(config)
    audits = {**loaded.audits, "kpis": {**loaded.audits.get("kpis", {}), "as_of": text}}
    return replace(loaded, audits=audits)


#: Columns no audit reads, dropped when no Claim lines sheet is written (redaction, which
#: needs them, is done by then).
_UNAUDITED = ("patient_name",)
#: Columns with few distinct values that audits read only as whole values (never as text to
#: take apart), held as categories when no Claim lines sheet is written: at a million lines
#: each is some 25 MB as text, under 1 MB as a category.
_FEW_VALUES = ("billing_provider", "source_file")


def _lean(frame: pd.DataFrame) -> pd.DataFrame:
    """The claim lines with what no audit needs dropped and repeated text as categories."""
    frame = frame.drop(columns=[c for c in _UNAUDITED if c in frame.columns])
    for name in _FEW_VALUES:
        if name in frame.columns and not isinstance(frame[name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].astype("category")
    return frame


#: The keys of one finding in the JSON, in order: its stable ``key`` (the same problem in the
#: same place has the same key in the next run; see :mod:`auditkit.engine.keys`), then the
#: classic frame's columns but ``why`` (the audit's own text, given once per audit in the docs,
#: not per finding).
FINDING_KEYS: tuple[str, ...] = ("key", *(c for c in FINDING_COLUMNS if c != "why"))
_EVIDENCE_MARK = "\u0001evidence\u0001"
#: Findings rendered at once for the JSON (about 1 KB of text each, copied a few times).
JSON_SLICE_ROWS = 10_000


def _head(job: Job) -> dict[str, Any]:
    """The JSON document without its findings."""
    from auditkit import __version__
    from auditkit.measures import trends

    return {
        "auditkit_version": __version__,
        "inputs": [{"path": r.path, "rows": int(r.rows)} for r in job.lines.inputs]
        + [{"path": r.path, "rows": int(r.rows)} for r in job.side_inputs],
        "warnings": job.lines.warnings(),
        "summary": jsonable(job.result.summary),
        # Month by month of service: the practice (provider and payer null), each physician,
        # each payer (auditkit.measures.trends).
        "trends": trends.records(getattr(job.result, "trends", None)),
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
        "edit_tables": jsonable(job.result.edit_tables),
    }


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").reset_index(drop=True)


def finding_columns(found: FindingSet, core: pd.DataFrame) -> pd.DataFrame:
    """The findings in ``core`` (a slice of ``found.core``) as the JSON shows them, one column
    per key of :data:`FINDING_KEYS`, ``evidence`` as JSON text (covers as text joined by
    ``|``)."""
    return pd.DataFrame(
        {
            "key": found.keys(core).reset_index(drop=True),
            **{k: _text(core[k]) for k in ("audit", "severity", "scope", "provider", "payer")},
            "cpt": _text(core["cpt"]),
            "claim_id": _text(core["claim_id"]),
            "line": core["line"].reset_index(drop=True),
            "dollars_at_risk": core["dollars_at_risk"].reset_index(drop=True),
            "dollars_basis": _text(core["dollars_basis"]).fillna("none"),
            "covers": _text(core["covers"]).fillna(""),
            "counted": core["counted"].reset_index(drop=True),
            "message": found.messages(core),
            "fix": _text(core["fix"]).fillna(""),
            "evidence": found.evidence_json(core),
            "source_file": _text(core["source_file"]),
            "source_row": core["source_row"].reset_index(drop=True),
        }
    )


def covers_lists(covers: pd.Series) -> Any:
    """The ``covers`` text of each finding (line keys joined by ``|``) as an Arrow list of line
    keys, empty where it covers no line (whole columns; no Python list per finding)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.chunked_array([covers.astype("string[pyarrow]").fillna("").array.__arrow_array__()])
    text = text.combine_chunks()
    split = pc.split_pattern(text, COVERS_SEP)
    return pc.if_else(pc.equal(text, ""), pa.scalar([], split.type), split)


def json_records(found: FindingSet, core: pd.DataFrame) -> list[str]:
    """One JSON object (text) per finding in ``core``, keys as :data:`FINDING_KEYS`."""
    if not len(core):
        return []
    view = finding_columns(found, core)
    view["covers"] = covers_lists(view["covers"]).to_pandas()
    evidence = view["evidence"]
    view["evidence"] = _EVIDENCE_MARK
    text = view.to_json(orient="records", lines=True, force_ascii=False, double_precision=15)
    lines = pd.Series(text.rstrip("\n").split("\n"), dtype="string[pyarrow]")
    mark = json.dumps(_EVIDENCE_MARK)
    halves = lines.str.split(mark, n=1, regex=False, expand=True)
    joined = halves[0] + evidence.to_numpy() + halves[1]
    return joined.tolist()


#: The keys of one work-list item in the JSON, in order (the work list's columns but ``pos``,
#: the line's place in this run's table).
WORKLIST_KEYS: tuple[str, ...] = tuple(c for c in WORKLIST_COLUMNS if c != "pos")


def worklist_records(items: pd.DataFrame) -> list[str]:
    """One JSON object (text) per work-list item in ``items`` (dates as ``YYYY-MM-DD``)."""
    if not len(items):
        return []
    view = items[list(WORKLIST_KEYS)].reset_index(drop=True).copy()
    for name in ("date_of_service", "deadline"):
        view[name] = pd.to_datetime(view[name]).dt.strftime("%Y-%m-%d").astype("string")
    text = view.to_json(orient="records", lines=True, force_ascii=False, double_precision=15)
    return text.rstrip("\n").split("\n")


def _worklist_slices(job: Job) -> Iterable[pd.DataFrame]:
    items = job.result.worklist
    if items is None:
        return
    for start in range(0, len(items), JSON_SLICE_ROWS):
        yield items.iloc[start : start + JSON_SLICE_ROWS]


def to_json(job: Job) -> dict[str, Any]:
    """The machine-readable result as one dict: the shape documented in the README (builds
    every finding as Python objects; :func:`write_json` streams instead)."""
    head = _head(job)
    found = job.result.found
    head["findings"] = [json.loads(r) for core in found.slices() for r in json_records(found, core)]
    head["worklist"] = [
        json.loads(r) for part in _worklist_slices(job) for r in worklist_records(part)
    ]
    return head


def write_json(job: Job, path: PathLike) -> Path:
    """The JSON document, written a slice of findings at a time (never the whole text in
    memory): the head as ``json.dumps`` indents it, then one finding per line, then one
    work-list item per line (``worklist``, in rank order; empty when it was not made)."""
    return atomic_write(path, _json_writer(job))


def _json_writer(job: Job) -> Callable[[BinaryIO], None]:
    """What :func:`write_json` does with the open file."""
    found = job.result.found

    def array(handle: Any, name: str, parts: Iterable[list[str]]) -> None:
        handle.write(f',\n  "{name}": ['.encode())
        first = True
        for records in parts:
            if not records:
                continue
            lead = b"\n    " if first else b",\n    "
            handle.write(lead + ",\n    ".join(records).encode("utf-8"))
            first = False
        handle.write(b"]" if first else b"\n  ]")

    def write(handle: Any) -> None:
        head = json.dumps(_head(job), indent=2, ensure_ascii=False, allow_nan=False)
        handle.write(head[: head.rindex("}")].rstrip().encode("utf-8"))
        array(handle, "findings", (json_records(found, c) for c in found.slices(JSON_SLICE_ROWS)))
        array(handle, "worklist", (worklist_records(p) for p in _worklist_slices(job)))
        handle.write(b"\n}\n")

    return write


def write_findings_parquet(job: Job, path: PathLike) -> Path:
    """The findings as a Parquet table, one row group per slice: the JSON's keys as columns,
    ``covers`` as a list of line keys and ``evidence`` as JSON text (audits name different
    things), for people who load findings into their own tools."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    found = job.result.found
    schema = pa.schema(
        [
            ("key", pa.string()),
            ("audit", pa.string()),
            ("severity", pa.string()),
            ("scope", pa.string()),
            ("provider", pa.string()),
            ("payer", pa.string()),
            ("cpt", pa.string()),
            ("claim_id", pa.string()),
            ("line", pa.int64()),
            ("dollars_at_risk", pa.float64()),
            ("dollars_basis", pa.string()),
            ("covers", pa.list_(pa.string())),
            ("counted", pa.bool_()),
            ("message", pa.string()),
            ("fix", pa.string()),
            ("evidence", pa.string()),
            ("source_file", pa.string()),
            ("source_row", pa.int64()),
        ]
    )

    def write(handle: Any) -> None:
        with pq.ParquetWriter(handle, schema, compression="zstd") as writer:
            for core in found.slices():
                view = finding_columns(found, core)
                covers = covers_lists(view["covers"])
                table = pa.Table.from_pandas(view.drop(columns="covers"), preserve_index=False)
                table = table.append_column("covers", covers)
                writer.write_table(table.select(schema.names).cast(schema))
            if not len(found):
                writer.write_table(schema.empty_table())

    return atomic_write(path, write)


#: Up to this many findings the JSON is written in a child process while the workbook is
#: written here (where :func:`auditkit.beside.can_fork`). Above it the two writers' working
#: memory, which grows with the findings, would add up beyond the run's own peak (at 1.7
#: million findings: 1.55 GB together against 1.44 GB for the audits), so they take turns.
BESIDE_MAX_FINDINGS = 500_000


def write_outputs(
    job: Job,
    *,
    json_path: PathLike | None = None,
    parquet_path: PathLike | None = None,
    out: PathLike | None = None,
    into: PathLike | None = None,
    template: PathLike | None = None,
    with_lines: bool = False,
    practice: str | None = None,
    period: str | None = None,
    prepared_by: str | None = None,
    inputs: Mapping[str, Iterable[PathLike | None]] | None = None,
    progress: Progress = _quiet,
    worklist_only: bool = False,
    baseline: PathLike | None = None,
) -> list[Path]:
    """Write the JSON and/or the workbook; return the paths written.

    All or nothing: every target is checked first (:func:`auditkit.fileio.check_outputs`: none
    may be an input, read-only or named twice), then each output is written to a temporary file
    and all are put in place together only once every one was written; when one is refused
    (say ``into`` holds something auditkit cannot keep) none of the files is touched.
    ``inputs``: what each input is (``"the export"``) -> the files the job read, which no output
    may replace; the job's exports, side inputs and ``template`` are always among them.

    When the workbook already has a sheet of the user's with a name auditkit wants, auditkit's
    sheet gets another name and a line saying so is added to ``job.notes``.

    ``worklist_only``: the workbook holds the Work list and About sheets only (``auditkit
    worklist``).

    ``baseline``: an earlier run's audit JSON (``--baseline``): the workbook gets a Comparison
    sheet of this run against it (:mod:`auditkit.compare`; InputError when it is not one).
    """
    read = {role: list(paths) for role, paths in (inputs or {}).items()}
    read["an input file"] = [r.path for r in job.lines.inputs + job.side_inputs]
    read["the template"] = [template]
    read["the baseline"] = [baseline]
    check_outputs(
        {"--json": json_path, "--findings-parquet": parquet_path, "--out": out},
        updated={"--into": into},
        inputs=read,
    )
    from auditkit.engine.runner import reuse_freed_memory

    workbook = out is not None or into is not None

    def rest() -> None:
        """The outputs after the JSON: the Parquet file, the workbook."""
        if parquet_path is not None:
            progress("writing", str(parquet_path))
            written.append(write_findings_parquet(job, parquet_path))
        if workbook:
            from auditkit.excel.openpyxl_writer import rename_note, write_workbook

            def renamed(wanted: str, used: str) -> None:
                job.notes.append(rename_note(wanted, used))

            comparison = None
            if baseline is not None:
                from auditkit.compare import compare, read_run, run_from_result

                progress("reading", str(baseline))
                after = run_from_result(job.result, _head(job), json_records=json_records)
                comparison = compare(read_run(baseline), after)
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
                        worklist_only=worklist_only,
                        **({"comparison": comparison} if comparison is not None else {}),
                    )
                )
            )

    written: list[Path] = []
    # The writers allocate and free a slice at a time, with Arrow and numpy alike: one
    # allocator for both (see reuse_freed_memory) keeps a million findings' peak down.
    with reuse_freed_memory(), all_or_nothing():
        beside = None
        if json_path is not None:
            progress("writing", str(json_path))
            if workbook and can_fork() and len(job.result.found) <= BESIDE_MAX_FINDINGS:
                # The JSON in a child process while this one writes the workbook: two cores.
                beside = start_atomic_write(json_path, _json_writer(job))
            if beside is None:
                written.append(write_json(job, json_path))
        try:
            rest()
        except BaseException:
            if beside is not None:
                beside.abandon()
            raise
        if beside is not None:
            try:
                written.insert(0, beside.finish())
            except BesideError:  # the child hung: the JSON is written here after all
                written.insert(0, write_json(job, json_path))
    return written


def worst_severity(result: AuditResult) -> str | None:
    """The most serious severity among the findings, or None when there are none."""
    core = result.found.core
    counts = core["severity"].value_counts() if len(core) else pd.Series(dtype=int)
    present = {str(k) for k, v in counts.items() if v}
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
