"""Audit many client practices in one go: one workbook and one JSON per client, plus an index.

Layout of the input folder: one client per subfolder (all export files in it are combined), or,
when the folder holds export files directly, one client per file. A client folder may hold its own
``auditkit.toml`` (thresholds) and ``mapping.toml`` (or ``*.mapping.toml``, header mapping); they
take precedence over the batch-wide ``--config`` and ``--mapping``. A file whose name contains
"auth" is the client's authorization export, one named like "fee_schedule" its contract fee
schedule (for the auth-mismatch and underpayment audits).

Outputs: ``CLIENT.xlsx`` and ``CLIENT.json`` per client, where CLIENT is the folder's (or the
loose file's) name cleaned for a file name: every run of characters other than letters, digits,
``.``, ``-`` and ``_`` becomes ``_`` (``a b`` -> ``a_b``). Two clients whose names clean to the
same output name (``a b`` and ``a_b``, or ``Alpha`` and ``alpha`` on a disk that ignores case)
get distinct ones: clients are taken in name order and the second gets ``-2``, the third ``-3``
(``a_b.xlsx`` for ``a b``, ``a_b-2.xlsx`` for ``a_b``); so does a client named ``index``, whose
output would otherwise be the batch index. The ``workbook`` and ``json`` columns of the index
name each client's files. Names and errors are written to ``index.xlsx`` as text cells, never
formulas; in ``index.csv`` a value that a spreadsheet would read as a formula (starting with
``=``, ``+``, ``-``, ``@``, tab or carriage return) is prefixed with an apostrophe.
``index.csv`` and ``index.xlsx`` are replaced together or not at all, so they never describe
different runs.

Every client is audited in a process of its own (several at once, ``jobs``), so a client that
kills its process (a crash in native code, the system's out-of-memory killer) fails that client
only: the index says the process died and how, and the batch goes on. On a Dask cluster
(a scheduler address given) clients run as tasks; a client whose worker dies is retried by Dask
and then failed the same way. A failing client never stops the others unless ``fail_fast`` is
set; its error goes into the index.

Test hook (for auditkit's own tests only, documented here so it is no surprise): when the
environment variable ``AUDITKIT_TEST_CRASH`` is ``NAME=abort`` or ``NAME=memory``, the audit of
the client called NAME aborts its process (SIGABRT) or raises MemoryError, as a crash in native
code or an exhausted machine would.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import re
import signal
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from auditkit.errors import AuditkitError, InputError
from auditkit.fileio import check_outputs
from auditkit.ingest.formats import EXPORT_SUFFIXES

#: File endings read as exports or remittances.
CONFIG_NAME = "auditkit.toml"
MAPPING_RE = re.compile(r"(^|\.)mapping\.toml$", re.IGNORECASE)
#: Side tables in a client folder, recognised by name: "*auth*" and "*fee*schedule*".
AUTHS_RE = re.compile(r"auth", re.IGNORECASE)
FEES_RE = re.compile(r"fee.*schedule", re.IGNORECASE)
#: How to get the cluster extra. Never from the package index: "auditkit" there is another
#: project (ours is distributed as "auditkit-pain" and installed from its folder or a wheel).
CLUSTER_HINT = (
    "in the auditkit folder run pip install '.[cluster]', or from a wheel built there: "
    "pip install 'auditkit_pain-VERSION-py3-none-any.whl[cluster]'; "
    "the name auditkit on the package index is another project"
)

INDEX_COLUMNS = (
    "client",
    "status",
    "error",
    "files",
    "lines",
    "claims",
    "clean_claim_rate",
    "denial_rate",
    "dollars_at_risk",
    "high",
    "medium",
    "low",
    "info",
    "top_finding",
    "workbook",
    "json",
)


@dataclass
class Client:
    """One client practice of a batch."""

    name: str
    inputs: list[str]
    config: str | None = None
    mapping: str | None = None
    auths: str | None = None
    fee_schedule: str | None = None
    #: The client's folder as the user gave it (for hints); ``None`` for a loose export file.
    folder: str | None = None
    #: The name of its outputs without the ending, unique in the batch (see the module doc);
    #: empty: the cleaned ``name``.
    stem: str = ""


@dataclass
class ClientOutcome:
    """One row of the index."""

    client: str
    status: str  # "ok" or "error"
    error: str = ""
    files: int = 0
    lines: int | None = None
    claims: int | None = None
    clean_claim_rate: float | None = None
    denial_rate: float | None = None
    dollars_at_risk: float | None = None
    high: int = 0
    medium: int = 0
    low: int = 0
    info: int = 0
    top_finding: str = ""
    workbook: str = ""
    json: str = ""
    worst: str | None = None
    #: The client's output name (:attr:`Client.stem`): unique, unlike ``client``.
    stem: str = ""


@dataclass
class BatchResult:
    outcomes: list[ClientOutcome] = field(default_factory=list)
    index_csv: Path | None = None
    index_xlsx: Path | None = None
    stopped_early: bool = False

    @property
    def failed(self) -> list[ClientOutcome]:
        return [o for o in self.outcomes if o.status != "ok"]


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^\w.-]+", "_", name).strip("._")
    return cleaned or "client"


#: Output names a client cannot have: the batch index, and names Windows reserves for devices.
RESERVED_STEMS = frozenset(
    {"index", "con", "prn", "aux", "nul"}
    | {f"{port}{n}" for port in ("com", "lpt") for n in range(1, 10)}
)


def _assign_stems(clients: Sequence[Client]) -> None:
    """Give every client an output name no other client of the batch has (case-insensitively,
    since Windows and macOS disks ignore case): the second of a clash gets ``-2``, and so on.
    ``clients`` must be in a fixed order (discovery sorts them by name) so reruns agree."""
    taken: set[str] = set()
    for client in clients:
        base = _safe_name(client.name)
        stem, number = base, 1
        while stem.casefold() in taken or stem.casefold() in RESERVED_STEMS:
            number += 1
            stem = f"{base}-{number}"
        taken.add(stem.casefold())
        client.stem = stem


def _is_export(path: Path) -> bool:
    return (
        path.is_file()
        and path.suffix.lower() in EXPORT_SUFFIXES
        and not path.name.startswith((".", "~$"))
    )


def discover_clients(input_dir: str | os.PathLike[str]) -> list[Client]:
    """Find the clients in ``input_dir`` (see the module docstring for the layout)."""
    root = Path(input_dir)
    if not root.is_dir():
        raise InputError("not a folder", path=root, hint="give the folder that holds the clients")
    clients: list[Client] = []
    # name order, exact name breaking ties: the order output names are given in (_assign_stems)
    for entry in sorted(root.iterdir(), key=lambda p: (p.name.lower(), p.name)):
        if entry.is_dir() and not entry.name.startswith("."):
            files = sorted(p for p in entry.iterdir() if _is_export(p))
            auths = [p for p in files if AUTHS_RE.search(p.stem)]
            fees = [p for p in files if FEES_RE.search(p.stem)]
            files = [p for p in files if p not in auths and p not in fees]
            config = entry / CONFIG_NAME
            mappings = sorted(
                p for p in entry.iterdir() if p.is_file() and MAPPING_RE.search(p.name)
            )
            clients.append(
                Client(
                    name=entry.name,
                    inputs=[str(p) for p in files],
                    config=str(config) if config.is_file() else None,
                    mapping=str(mappings[0]) if mappings else None,
                    auths=str(auths[0]) if auths else None,
                    fee_schedule=str(fees[0]) if fees else None,
                    folder=str(entry),
                )
            )
        elif _is_export(entry):
            clients.append(Client(name=entry.stem, inputs=[str(entry)]))
    if not clients:
        raise InputError(
            "no clients found: expected subfolders or export files",
            path=root,
            hint="put each client's exports in its own subfolder",
        )
    _assign_stems(clients)
    return clients


def run_client(
    client: Client,
    out_dir: str,
    config: str | None = None,
    mapping: str | None = None,
    select: Sequence[str] | None = None,
    redact_key: bytes | None = None,
    with_lines: bool = False,
    protected: Sequence[str] = (),
    strict_x12: bool = False,
    as_of: str | None = None,
) -> ClientOutcome:
    """Audit one client and write its workbook and JSON. Never raises for a user's mistake.

    ``protected``: every input of the batch; no output of this client may replace one.
    ``strict_x12``: refuse an 835 whose trailer counts or control numbers do not match.
    ``as_of``: the date A/R ages and the work list's days left are counted to (``--as-of``)."""
    from auditkit import pipeline

    outcome = ClientOutcome(
        client=client.name,
        status="ok",
        files=len(client.inputs),
        stem=client.stem or _safe_name(client.name),
    )
    if not client.inputs:
        outcome.status, outcome.error = "error", f"{client.name}: no export files in the folder"
        return outcome
    try:
        _crash_for_tests(client.name)
        redactor = None
        if redact_key is not None:
            from auditkit.redact import Redactor

            redactor = Redactor(redact_key)
        job = pipeline.audit(
            client.inputs,
            mapping=client.mapping or mapping,
            config=client.config or config,
            select=select,
            auths=client.auths,
            fee_schedule=client.fee_schedule,
            redactor=redactor,
            keep_lines=with_lines,
            strict_x12=strict_x12,
            as_of=as_of,
        )
        stem = Path(out_dir) / outcome.stem
        pipeline.write_outputs(
            job,
            json_path=f"{stem}.json",
            out=f"{stem}.xlsx",
            with_lines=with_lines,
            practice=client.name,
            inputs={"a file this batch reads": [*protected, *_client_files(client)]},
        )
    except AuditkitError as exc:
        _name_client_mapping(exc, client, mapping)
        outcome.status, outcome.error = "error", str(exc)
        return outcome
    except MemoryError:
        outcome.status = "error"
        outcome.error = (
            "ran out of memory while auditing this client (MemoryError); audit it alone, "
            "or split its exports into shorter date ranges"
        )
        return outcome
    except Exception as exc:  # noqa: BLE001 - one client's crash must not stop the batch
        outcome.status = "error"
        outcome.error = (
            f"internal error ({type(exc).__name__}); re-run this client alone with --verbose"
        )
        return outcome
    summary = job.result.summary
    outcome.lines = int(summary.get("lines") or len(job.lines.frame))
    outcome.claims = summary.get("claims")
    outcome.clean_claim_rate = summary.get("clean_claim_rate")
    outcome.denial_rate = summary.get("denial_rate")
    outcome.dollars_at_risk = summary.get("dollars_at_risk")
    by_sev = summary.get("findings_by_severity") or {}
    outcome.high = int(by_sev.get("high", 0))
    outcome.medium = int(by_sev.get("medium", 0))
    outcome.low = int(by_sev.get("low", 0))
    outcome.info = int(by_sev.get("info", 0))
    findings = job.result.findings
    if len(findings):
        top = findings.iloc[0]  # the engine sorts by severity, then dollars at risk
        outcome.top_finding = f"[{top['severity']}] {top['message']}"
    outcome.worst = pipeline.worst_severity(job.result)
    outcome.workbook = f"{stem.name}.xlsx"
    outcome.json = f"{stem.name}.json"
    return outcome


#: See the module docstring: a test hook only auditkit's own tests set.
TEST_CRASH_ENV = "AUDITKIT_TEST_CRASH"


def _crash_for_tests(name: str) -> None:
    """Die as a native crash would, or run out of memory, when the test hook names this client."""
    wanted = os.environ.get(TEST_CRASH_ENV)
    if not wanted:
        return
    client, _, how = wanted.rpartition("=")
    if client != name:
        return
    if how == "abort":
        os.abort()
    if how == "memory":
        raise MemoryError


_MISSING_COLUMNS = "no column found for required"
_EXAMPLE_RE = re.compile(r"\[columns\] (\w+) =")


def _name_client_mapping(exc: AuditkitError, client: Client, mapping: str | None) -> None:
    """Point a missing-required-columns hint at the mapping file this client uses or should use.

    The generic hint says "pass it with --mapping"; in a batch each client folder has its own
    ``mapping.toml``, so the hint names that file (to edit, or where to add one).
    """
    if _MISSING_COLUMNS not in exc.message:
        return
    found = _EXAMPLE_RE.search(exc.hint or "")
    example = f'[columns] {found.group(1) if found else "claim_id"} = "Header"'
    listing = "; `auditkit columns FILE` lists what was recognised"
    if client.mapping:
        shown = Path(client.folder or ".") / Path(client.mapping).name
        exc.hint = f"edit {shown} to map the missing columns, e.g. {example}{listing}"
    elif client.folder:
        shown = Path(client.folder) / "mapping.toml"
        also = f" (it takes precedence over {mapping})" if mapping else ""
        exc.hint = f"add {shown}{also} to map the missing columns, e.g. {example}{listing}"
    elif mapping:
        exc.hint = f"edit {mapping} (--mapping) to map the missing columns, e.g. {example}"
    else:
        exc.hint = (
            "put this export in a folder of its own with a mapping.toml, or pass --mapping, "
            f"to map the missing columns, e.g. {example}{listing}"
        )


def _write_index(outcomes: list[ClientOutcome], out_dir: Path) -> tuple[Path, Path]:
    """Write ``index.csv`` and ``index.xlsx`` together: both are replaced or neither is (an
    index.xlsx that cannot be written leaves the previous index.csv too, so the two never
    describe different runs); the error is the one-line OutputError of the file at fault."""
    from auditkit.excel.index_writer import write_index_workbook
    from auditkit.fileio import all_or_nothing, atomic_write_bytes

    rows = [{k: asdict(o)[k] for k in INDEX_COLUMNS} for o in outcomes]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=INDEX_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _csv_text(v) for k, v in row.items()} for row in rows)
    with all_or_nothing():
        csv_path = atomic_write_bytes(out_dir / "index.csv", text.getvalue().encode("utf-8"))
        xlsx_path = write_index_workbook(rows, INDEX_COLUMNS, out_dir / "index.xlsx")
    return csv_path, xlsx_path


def _csv_text(value: object) -> object:
    """A CSV value a spreadsheet will not run: text that starts like a formula (a client folder
    named ``=HYPERLINK(...)``) gets a leading apostrophe, which Excel shows as text."""
    from auditkit.textsafe import looks_like_formula

    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value


def _client_files(client: Client) -> list[str]:
    """Every file a client's audit reads."""
    files = [*client.inputs, client.config, client.mapping, client.auths, client.fee_schedule]
    return [f for f in files if f]


Notify = Callable[[ClientOutcome, int, int], None]


def run_batch(
    input_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    jobs: int | None = None,
    config: str | None = None,
    mapping: str | None = None,
    select: Sequence[str] | None = None,
    fail_fast: bool = False,
    scheduler: str | None = None,
    redact: bool = False,
    with_lines: bool = False,
    strict_x12: bool = False,
    as_of: str | None = None,
    notify: Notify | None = None,
    on_start: Callable[[int], None] | None = None,
) -> BatchResult:
    """Audit every client in ``input_dir``; write per-client outputs and the index to ``out_dir``."""
    clients = discover_clients(input_dir)
    if on_start:
        on_start(len(clients))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    key = os.urandom(32) if redact else None
    # No output (a client's, or the index) may replace an input of the batch.
    protected = sorted(
        {str(Path(f).resolve()) for c in clients for f in _client_files(c)}
        | {str(Path(f).resolve()) for f in (config, mapping) if f}
    )
    check_outputs(
        {"the batch index": out / "index.csv", "the batch index workbook": out / "index.xlsx"},
        inputs={"a file this batch reads": protected},
    )
    kwargs: dict[str, Any] = {
        "out_dir": str(out),
        "config": config,
        "mapping": mapping,
        "select": list(select) if select else None,
        "redact_key": key,
        "with_lines": with_lines,
        "strict_x12": strict_x12,
        "as_of": as_of,
        "protected": protected,
    }
    if scheduler:
        # Workers run elsewhere, in another current folder: give them absolute paths only.
        kwargs["out_dir"] = str(out.resolve())
        for name in ("config", "mapping"):
            if kwargs[name]:
                kwargs[name] = str(Path(kwargs[name]).resolve())
        shared = [str(Path(input_dir).resolve()), kwargs["out_dir"]]
        outcomes, stopped = _run_dask(
            [_absolute(c) for c in clients], scheduler, kwargs, fail_fast, notify, shared
        )
    else:
        outcomes, stopped = _run_local(
            clients, jobs or os.cpu_count() or 1, kwargs, fail_fast, notify
        )
    order = {c.stem: i for i, c in enumerate(clients)}  # stems are unique, names may not be
    outcomes.sort(key=lambda o: order.get(o.stem, len(order)))
    csv_path, xlsx_path = _write_index(outcomes, out)
    return BatchResult(outcomes, csv_path, xlsx_path, stopped)


def _run_local(
    clients: list[Client], jobs: int, kwargs: dict[str, Any], fail_fast: bool, notify: Notify | None
) -> tuple[list[ClientOutcome], bool]:
    """Audit each client in a process of its own, ``jobs`` at a time.

    A process that dies without an outcome (a crash in native code, the out-of-memory killer)
    becomes that client's failed outcome; the others go on. With ``fail_fast``, clients already
    running when one fails finish (their files are written) and are listed; the rest never start.
    """
    context = _process_context()
    waiting = list(clients)
    running: dict[Any, _Running] = {}  # the pipe's receiving end -> the client's process
    outcomes: list[ClientOutcome] = []
    stopped = False
    try:
        while running or (waiting and not stopped):
            while waiting and not stopped and len(running) < max(jobs, 1):
                started = _start(context, waiting.pop(0), kwargs)
                running[started.pipe] = started
            ready = set(wait([*running, *(r.process.sentinel for r in running.values())]))
            for entry in [r for r in running.values() if {r.pipe, r.process.sentinel} & ready]:
                del running[entry.pipe]
                outcome = entry.finish()
                outcomes.append(outcome)
                if notify:
                    notify(outcome, len(outcomes), len(clients))
                if fail_fast and outcome.status != "ok":
                    stopped = True
    finally:
        for entry in running.values():  # interrupted: no client process outlives the batch
            entry.process.kill()
            entry.process.join()
    return outcomes, stopped


#: Modules the fork server imports once, so that each client's process starts warm.
_PRELOAD = ["auditkit.pipeline", "auditkit.ingest", "auditkit.engine.runner", "pandas"]


def _process_context() -> Any:
    """A fork server where the system has one (Linux, macOS): a clean process per client in
    milliseconds, safe although this process runs threads (progress display); else spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


@dataclass
class _Running:
    client: Client
    process: Any
    pipe: Any

    def finish(self) -> ClientOutcome:
        """The outcome the process sent, or, when it died without one, a failed outcome that
        says how it died."""
        outcome = None
        try:
            if self.pipe.poll():
                outcome = self.pipe.recv()
        except (EOFError, OSError):
            outcome = None
        finally:
            self.pipe.close()
        self.process.join()
        if isinstance(outcome, ClientOutcome):
            return outcome
        return _died(self.client, self.process.exitcode)


def _start(context: Any, client: Client, kwargs: dict[str, Any]) -> _Running:
    receive, send = context.Pipe(duplex=False)
    # The fork server's environment is the one it started with: pass the test hook along.
    process = context.Process(
        target=_client_process,
        args=(send, client, kwargs, os.environ.get(TEST_CRASH_ENV)),
        name=f"auditkit client {client.stem or client.name}",
    )
    process.start()
    send.close()
    return _Running(client, process, receive)


def _client_process(send: Any, client: Client, kwargs: dict[str, Any], crash: str | None) -> None:
    """Run in the client's own process: audit it and send the outcome back."""
    if crash:
        os.environ[TEST_CRASH_ENV] = crash
    else:
        os.environ.pop(TEST_CRASH_ENV, None)
    send.send(run_client(client, **kwargs))
    send.close()


def _died(client: Client, how: int | str | None) -> ClientOutcome:
    """The failed outcome of a client whose process died before it could report."""
    if isinstance(how, int) and how < 0:
        try:
            cause = f"stopped by {signal.Signals(-how).name}"
        except ValueError:
            cause = f"stopped by signal {-how}"
        if -how == getattr(signal, "SIGKILL", 9):
            cause += ", often the system's out-of-memory killer"
    elif isinstance(how, int):
        cause = f"exit code {how}"
    else:
        cause = str(how)
    return ClientOutcome(
        client=client.name,
        status="error",
        error=(
            f"the process auditing this client died ({cause}), so its outputs were not written; "
            "the other clients were not affected. Audit it alone (auditkit audit FILES --out "
            "X.xlsx --verbose) to see where, and report the file if it happens again"
        ),
        files=len(client.inputs),
        stem=client.stem or _safe_name(client.name),
    )


def _absolute(client: Client) -> Client:
    """The client with every file path absolute (its display ``folder`` stays as given)."""

    def resolve(path: str | None) -> str | None:
        return str(Path(path).resolve()) if path else None

    return replace(
        client,
        inputs=[str(Path(p).resolve()) for p in client.inputs],
        config=resolve(client.config),
        mapping=resolve(client.mapping),
        auths=resolve(client.auths),
        fee_schedule=resolve(client.fee_schedule),
    )


def _missing_paths(paths: Sequence[str]) -> list[str]:
    """Run on a worker: the paths it cannot see."""
    return [p for p in paths if not Path(p).exists()]


SHARED_HINT = (
    "the folder must be shared (mounted) at the same path on every Dask worker, "
    "with auditkit installed there too"
)


def check_workers_see(dask: Any, paths: Sequence[str]) -> None:
    """Raise :class:`InputError` naming the first path a connected worker cannot see."""
    missing_by_worker = dask.run(_missing_paths, list(paths))
    for worker, missing in sorted(missing_by_worker.items()):
        if missing:
            raise InputError(
                f"not found on Dask worker {worker}",
                path=missing[0],
                hint=SHARED_HINT,
            )


def _run_dask(
    clients: list[Client],
    address: str,
    kwargs: dict[str, Any],
    fail_fast: bool,
    notify: Notify | None,
    shared: Sequence[str] = (),
) -> tuple[list[ClientOutcome], bool]:
    try:
        from distributed import Client as DaskClient
        from distributed import as_completed
    except ImportError as exc:
        raise InputError(
            "--scheduler needs the cluster extra",
            hint=CLUSTER_HINT,
        ) from exc
    try:
        dask = DaskClient(address, timeout="10s")
    except OSError as exc:
        raise InputError(
            f"cannot reach the Dask scheduler at {address}",
            hint="check the address and that it runs",
        ) from exc
    outcomes: list[ClientOutcome] = []
    stopped = False
    collected: set[str] = set()  # keys of the futures whose outcome is in ``outcomes``
    try:
        check_workers_see(dask, shared)
        futures = [
            dask.submit(
                run_client, c, pure=False, key=f"auditkit-{_safe_name(c.name)}-{i}", **kwargs
            )
            for i, c in enumerate(clients)
        ]
        by_key = {f.key: c for f, c in zip(futures, clients, strict=True)}
        for future in as_completed(futures):
            outcome = _dask_outcome(future, by_key[future.key])
            collected.add(future.key)
            outcomes.append(outcome)
            if notify:
                notify(outcome, len(outcomes), len(clients))
            if fail_fast and outcome.status != "ok":
                stopped = True
                break
        if stopped:
            # Clients that finished meanwhile are in the index too; the others are cancelled.
            for other in futures:
                if other.key in collected:
                    continue
                if other.status in ("finished", "error"):
                    outcome = _dask_outcome(other, by_key[other.key])
                    outcomes.append(outcome)
                    if notify:
                        notify(outcome, len(outcomes), len(clients))
                else:
                    other.cancel()
    finally:
        dask.close()
    return outcomes, stopped


def _dask_outcome(future: Any, client: Client) -> ClientOutcome:
    """A finished task's outcome; a task that failed (its worker died again and again, so Dask
    gave up: ``KilledWorker``) fails its client only."""
    try:
        outcome = future.result()
    except Exception as exc:  # noqa: BLE001 - one client's lost worker must not stop the batch
        return _died(client, f"Dask gave up on it: {type(exc).__name__}")
    return outcome
