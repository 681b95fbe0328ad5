"""The ``auditkit`` command line: thin commands over the library.

Exit codes: 0 success; 1 findings at or above ``--fail-on``, or some clients of a batch failed;
2 usage or input error (a message on one line, no traceback).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from auditkit import __version__
from auditkit.engine.result import SEVERITIES
from auditkit.errors import AuditkitError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 findings at or above --fail-on, or some batch clients failed; "
    "2 usage or input error; 3 internal error (a bug: please report it)."
)


class Console:
    """Where progress and messages go: stderr, so stdout stays machine-readable.

    On a terminal, long steps show a live spinner and a batch shows a progress bar (rich); when
    stderr is not a terminal (a scheduler, a pipe, a log file) the same events are plain lines.
    """

    def __init__(self, quiet: bool = False, verbose: bool = False, tty: bool | None = None) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.tty = sys.stderr.isatty() if tty is None else tty
        self._rich = None
        self._status = None
        self._bar = None
        if self.tty and not quiet:
            from rich.console import Console as RichConsole

            self._rich = RichConsole(stderr=True, highlight=False)

    def info(self, text: str) -> None:
        if self.quiet:
            return
        if self._rich is not None:
            self._rich.print(text, markup=False)
        else:
            click.echo(text, err=True)

    def detail(self, text: str) -> None:
        if self.verbose:
            self.info(text)

    def progress(self, stage: str, detail: str) -> None:
        """A long step starts: 'reading', 'auditing', 'writing'."""
        if self.quiet:
            return
        if self._rich is None:
            click.echo(f"{stage}: {detail}", err=True)
            return
        text = f"{stage} {detail} ..."
        if self._status is None:
            self._status = self._rich.status(text)
            self._status.start()
        else:
            self._status.update(text)

    def start_batch(self, total: int) -> None:
        if self._rich is None or self.quiet:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self._bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self._rich,
        )
        self._bar.start()
        self._task = self._bar.add_task("clients", total=total)

    def client_done(self, line: str) -> None:
        if self._bar is not None:
            self._bar.console.print(line, markup=False)
            self._bar.advance(self._task)
        else:
            self.info(line)

    def stop(self) -> None:
        """End any live display (before the final summary lines)."""
        if self._status is not None:
            self._status.stop()
            self._status = None
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _fail(message: str) -> None:
    click.echo(f"auditkit: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _split_select(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def _default_config(config: str | None) -> str | None:
    if config:
        return config
    here = Path("auditkit.toml")
    return str(here) if here.is_file() else None


common_quiet = click.option("--quiet", "-q", is_flag=True, help="Print only errors.")


def _check_as_of(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--as-of`` checked before anything is read."""
    if value is None:
        return None
    from auditkit.pipeline import as_of_date

    try:
        return as_of_date(value)
    except AuditkitError as exc:
        _fail(str(exc))
    return None


as_of_option = click.option(
    "--as-of",
    callback=_check_as_of,
    metavar="YYYY-MM-DD",
    help="Count A/R ages and the work list's days left to this date (default: [kpis] as_of, "
    "else the latest date in the data).",
)
common_verbose = click.option("--verbose", "-v", is_flag=True, help="Print more detail.")


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES_HELP,
)
@click.version_option(__version__, prog_name="auditkit")
def cli() -> None:
    """Audit pain-management billing exports and write colour-coded findings to Excel.

    \b
    Example:
      auditkit audit sample_exports/medirev_charges.csv --out audit.xlsx
    """


@cli.command()
@click.argument("exports", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--mapping", type=click.Path(dir_okay=False), help="Mapping file (TOML) for headers.")
@click.option("--json", "as_json", is_flag=True, help="Print the mapping as JSON.")
def columns(exports: Sequence[str], mapping: str | None, as_json: bool) -> None:
    """Show how each export's headers map to auditkit's columns.

    \b
    Example:
      auditkit columns sample_exports/practiflow_charge_detail.xlsx
      auditkit columns export.csv --mapping mypm.toml --json
    """
    from auditkit.ingest import inspect

    try:
        reports = inspect(list(exports), mapping=mapping)
    except AuditkitError as exc:
        _fail(str(exc))
    if as_json:
        payload = {
            "files": [
                {
                    "path": r.path,
                    "sheet": r.sheet,
                    "header_row": r.header_row,
                    "mapping": r.mapping,
                    "missing_required": r.missing_required,
                    "unmapped_headers": r.unmapped_headers,
                    "ignored_headers": r.ignored_headers,
                }
                for r in reports
            ]
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    for r in reports:
        where = f"header on row {r.header_row}" if r.header_row else "no header found"
        if r.sheet:
            where += f", sheet '{r.sheet}'"
        click.echo(f"{r.path} ({where})")
        width = max((len(k) for k in r.mapping), default=10)
        for canonical, header in r.mapping.items():
            shown = ", ".join(header) if isinstance(header, list) else header
            click.echo(f"  {canonical:<{width}}  <- {shown}")
        if r.missing_required:
            click.echo(f"  missing required: {', '.join(r.missing_required)}")
        if r.ignored_headers:
            click.echo(f"  known, not used: {', '.join(r.ignored_headers)}")
        if r.unmapped_headers:
            click.echo(f"  not recognised: {', '.join(r.unmapped_headers)}")
    if any(r.missing_required for r in reports):
        sys.exit(EXIT_USAGE)


#: Rows named on the terminal when some could not be read (the About sheet lists the rest).
PROBLEMS_SHOWN = 3


def _problems_line(report, workbook: bool = True) -> str:
    """ "N row(s) could not be read" with the first few rows and columns named.

    Only the file, the row and the column are printed: a problem keeps the cell (its value)
    it could not read, and a cell can be patient data.
    """
    problems = report.problems
    shown = []
    for problem in problems[:PROBLEMS_SHOWN]:
        where = f"row {problem.row}"
        if problem.column:
            where += f" (column {problem.column!r})"
        shown.append(where)
    text = f"{report.path}: {len(problems)} row(s) could not be read: {', '.join(shown)}"
    more = len(problems) - len(shown)
    if more > 0:
        where = (
            "see the About sheet"
            if workbook
            else "a workbook (--out) lists them on its About sheet"
        )
        text += f", and {more} more, {where}"
    return text


def _check_outputs(
    outputs: dict[str, str | None],
    *,
    into: str | None = None,
    template: str | None = None,
    inputs: dict[str, Sequence[str | None]],
) -> None:
    """Refuse before any work is done (one-line OutputError) an output that would replace one of
    the run's ``inputs`` (role -> paths), two outputs naming one file, a read-only target, and
    a workbook to write into (or a template) holding content auditkit cannot keep."""
    from auditkit.excel.openpyxl_writer import check_base
    from auditkit.fileio import check_outputs

    check_outputs(outputs, updated={"--into": into}, inputs=inputs)
    if into is not None:
        check_base(into)
    elif template is not None and outputs.get("--out") is not None:
        check_base(template, target=outputs["--out"])


def _print_summary(job, console: Console, workbook: bool = True) -> None:
    s = job.result.summary
    lines = s.get("lines", len(job.lines.frame))
    console.info(f"{lines:,} claim lines, {s.get('claims', 0):,} claims")

    def pct(key: str) -> str:
        value = s.get(key)
        return "n/a" if value is None else f"{value:.1%}"

    console.info(f"clean-claim rate {pct('clean_claim_rate')}, denial rate {pct('denial_rate')}")
    by_sev = s.get("findings_by_severity") or {}
    counts = ", ".join(f"{by_sev.get(k, 0)} {k}" for k in SEVERITIES)
    risk = s.get("dollars_at_risk")
    console.info(f"findings: {counts}" + (f"; ${risk:,.0f} at risk" if risk else ""))
    for run in job.result.audits:
        if run.status != "ran":
            console.detail(f"  skipped {run.id}: {run.reason}")
    for report in job.lines.inputs:
        if report.problems:
            console.info(_problems_line(report, workbook))
    for item in job.lines.warnings():
        # On stderr without --verbose; --quiet silences it (the JSON keeps it).
        console.info(f"warning: {item['file']}: {item['warning']}")


@cli.command()
@click.argument("exports", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--mapping", type=click.Path(dir_okay=False), help="Mapping file (TOML) for headers.")
@click.option(
    "--config", type=click.Path(dir_okay=False), help="Thresholds (TOML). Default: ./auditkit.toml."
)
@click.option("--select", help="Comma-separated audit ids to run (default: all).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write results as JSON.")
@click.option(
    "--findings-parquet",
    "parquet_path",
    type=click.Path(dir_okay=False),
    help="Also write the findings as a Parquet table (for your own tools).",
)
@click.option("--out", type=click.Path(dir_okay=False), help="Write a new audit workbook (.xlsx).")
@click.option(
    "--into",
    type=click.Path(dir_okay=False),
    help="Write the audit sheets into an existing .xlsx/.xlsm (other sheets are kept).",
)
@click.option("--template", type=click.Path(dir_okay=False), help="Start --out from this template.")
@click.option("--with-lines", is_flag=True, help="Add the normalised claim lines sheet.")
@click.option("--practice", help="Practice name for the Summary/cover sheet.")
@click.option("--period", help="Period audited, e.g. 'Oct 2026'.")
@click.option("--prepared-by", help="Name for the cover sheet.")
@click.option(
    "--remits",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="X12 835 remittance file(s) to join to the export (repeatable).",
)
@click.option(
    "--auths",
    type=click.Path(dir_okay=False),
    help="Authorization export (for auth-mismatch).",
)
@click.option(
    "--fee-schedule",
    type=click.Path(dir_okay=False),
    help="Contract fee schedule: payer, code, modifier, allowed (for underpayment).",
)
@click.option(
    "--ptp",
    multiple=True,
    type=click.Path(exists=True),
    help="CMS practitioner PTP edit file(s) as downloaded: zip, .txt, .xlsx, .csv or a folder "
    "(repeatable; give f1 to f4). Default: auditkit's packaged pain-procedure subset.",
)
@click.option(
    "--mue",
    multiple=True,
    type=click.Path(exists=True),
    help="CMS practitioner services MUE file as downloaded (zip, .txt, .xlsx or .csv). "
    "Default: auditkit's packaged unit limits.",
)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    help="Exit 1 when any finding is at or above this severity.",
)
@click.option(
    "--redact",
    is_flag=True,
    help="Replace patient names, patient ids and claim ids with pseudonyms everywhere, and "
    "quote no cell in messages.",
)
@click.option(
    "--strict-x12",
    is_flag=True,
    help="Refuse an 835 whose SE/GE/IEA counts or control numbers do not match (default: read "
    "it, with a warning).",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False),
    help="An earlier run's --json: add a Comparison sheet (new, resolved, persisting findings) "
    "to the workbook.",
)
@as_of_option
@common_quiet
@common_verbose
def audit(
    exports: Sequence[str],
    mapping: str | None,
    config: str | None,
    select: str | None,
    json_path: str | None,
    parquet_path: str | None,
    out: str | None,
    into: str | None,
    template: str | None,
    with_lines: bool,
    practice: str | None,
    period: str | None,
    prepared_by: str | None,
    remits: Sequence[str],
    auths: str | None,
    fee_schedule: str | None,
    ptp: Sequence[str],
    mue: Sequence[str],
    fail_on: str | None,
    redact: bool,
    strict_x12: bool,
    baseline: str | None,
    as_of: str | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Run the audits on one or more exports (or X12 835 files).

    \b
    Examples:
      auditkit audit sample_exports/medirev_charges.csv --out audit.xlsx
      auditkit audit jan.csv feb.csv --json audit.json --fail-on high
      auditkit audit export.csv --findings-parquet findings.parquet
      auditkit audit export.xlsx --into monthly.xlsm --practice "Valley Pain"
      auditkit audit export.csv --auths auths.csv --fee-schedule fees.csv --out audit.xlsx
      auditkit audit export.csv --ptp ptp_f1.zip --ptp ptp_f2.zip --mue mue.zip --out audit.xlsx
      auditkit audit export.csv --remits era.835 --strict-x12 --out audit.xlsx
      auditkit audit export.csv --baseline last_quarter.json --out audit.xlsx --json audit.json
    """
    from auditkit import pipeline

    console = Console(quiet, verbose)
    if baseline and not (out or into):
        _fail("--baseline adds a Comparison sheet to the workbook: add --out audit.xlsx")
    if out and into:
        _fail("use either --out (new workbook) or --into (existing workbook), not both")
    if template and not out:
        _fail(
            "nothing was written: --template starts a new workbook, so add --out audit.xlsx "
            "(or leave out --template)"
        )
    if not (out or into or json_path or parquet_path):
        _fail(
            "nothing was written: add --out audit.xlsx (a new workbook), "
            "--into WORKBOOK.xlsx (an existing one), --json audit.json or "
            "--findings-parquet findings.parquet"
        )
    read = {
        "the export": list(exports),
        "a remittance": list(remits),
        "the authorization export": [auths],
        "the fee schedule": [fee_schedule],
        "the mapping": [mapping],
        "the config": [_default_config(config)],
        "the template": [template],
        "a PTP edit file": list(ptp),
        "the MUE file": list(mue),
        "the baseline": [baseline],
    }
    try:
        _check_outputs(
            {"--json": json_path, "--findings-parquet": parquet_path, "--out": out},
            into=into,
            template=template,
            inputs=read,
        )
        job = pipeline.audit(
            exports,
            mapping=mapping,
            config=_default_config(config),
            select=_split_select(select),
            remits=remits,
            auths=auths,
            fee_schedule=fee_schedule,
            ptp=ptp,
            mue=mue,
            redact=redact,
            strict_x12=strict_x12,
            progress=console.progress,
            keep_lines=with_lines,
            as_of=as_of,
        )
        written = pipeline.write_outputs(
            job,
            json_path=json_path,
            parquet_path=parquet_path,
            out=out,
            into=into,
            template=template,
            with_lines=with_lines,
            practice=practice,
            period=period,
            prepared_by=prepared_by,
            inputs=read,
            progress=console.progress,
            baseline=baseline,
        )
    except AuditkitError as exc:
        console.stop()
        _fail(str(exc))
    console.stop()
    _print_summary(job, console, workbook=bool(out or into))
    for note in job.notes:
        console.info(note)
    for path in written:
        console.info(f"wrote {path}")
    if fail_on and pipeline.reaches(job.result, fail_on):
        console.info(f"findings at or above '{fail_on}': exit 1")
        sys.exit(EXIT_FINDINGS)


@cli.command("worklist")
@click.argument("exports", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), help="Write a new workbook (.xlsx).")
@click.option(
    "--into",
    type=click.Path(dir_okay=False),
    help="Write the Work list into an existing .xlsx/.xlsm, keeping what people typed in it.",
)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write it as JSON.")
@click.option("--mapping", type=click.Path(dir_okay=False), help="Mapping file (TOML) for headers.")
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    help='Settings (TOML), with [deadlines."Payer"] overrides. Default: ./auditkit.toml.',
)
@click.option(
    "--remits",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="X12 835 remittance file(s) to join to the export (repeatable).",
)
@click.option(
    "--fee-schedule",
    type=click.Path(dir_okay=False),
    help="Contract fee schedule: payer, code, modifier, allowed (finds underpaid lines).",
)
@click.option("--practice", help="Practice name for the workbook.")
@click.option(
    "--redact",
    is_flag=True,
    help="Replace patient names, patient ids and claim ids with pseudonyms everywhere.",
)
@click.option(
    "--strict-x12",
    is_flag=True,
    help="Refuse an 835 whose SE/GE/IEA counts or control numbers do not match.",
)
@as_of_option
@common_quiet
@common_verbose
def worklist(
    exports: Sequence[str],
    out: str | None,
    into: str | None,
    json_path: str | None,
    mapping: str | None,
    config: str | None,
    remits: Sequence[str],
    fee_schedule: str | None,
    practice: str | None,
    redact: bool,
    strict_x12: bool,
    as_of: str | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Only the work list: open money ranked by what it is worth and how long is left.

    Denied, rejected, underpaid, partly paid, overdue and unsubmitted lines, each with its
    amount, reason, next action and deadline (see: auditkit explain worklist). With --into, what
    people typed in Owner, Work status, Follow-up date and Notes stays on the same claims.

    \b
    Examples:
      auditkit worklist export.csv --out worklist.xlsx
      auditkit worklist export.csv --remits era.835 --into monthly.xlsx --as-of 2026-11-30
      auditkit worklist export.csv --json worklist.json
    """
    from auditkit import pipeline

    console = Console(quiet, verbose)
    if out and into:
        _fail("use either --out (new workbook) or --into (existing workbook), not both")
    if not (out or into or json_path):
        _fail(
            "nothing was written: add --out worklist.xlsx (a new workbook), --into "
            "WORKBOOK.xlsx (an existing one) or --json worklist.json"
        )
    read = {
        "the export": list(exports),
        "a remittance": list(remits),
        "the fee schedule": [fee_schedule],
        "the mapping": [mapping],
        "the config": [_default_config(config)],
    }
    try:
        _check_outputs({"--json": json_path, "--out": out}, into=into, inputs=read)
        job = pipeline.audit(
            exports,
            mapping=mapping,
            config=_default_config(config),
            remits=remits,
            fee_schedule=fee_schedule,
            redact=redact,
            strict_x12=strict_x12,
            progress=console.progress,
            keep_lines=False,
            as_of=as_of,
            worklist_only=True,
        )
        written = pipeline.write_outputs(
            job,
            json_path=json_path,
            out=out,
            into=into,
            practice=practice,
            inputs=read,
            progress=console.progress,
            worklist_only=True,
        )
    except AuditkitError as exc:
        console.stop()
        _fail(str(exc))
    console.stop()
    _print_worklist(job, console)
    for report in job.lines.inputs:
        if report.problems:
            console.info(_problems_line(report, bool(out or into)))
    for item in job.lines.warnings():
        console.info(f"warning: {item['file']}: {item['warning']}")
    for note in job.notes:
        console.info(note)
    for path in written:
        console.info(f"wrote {path}")


def _print_worklist(job, console: Console) -> None:
    """The work list in three lines: what is open and worth, what is past its deadline."""
    items = job.result.worklist
    as_of = job.result.summary.get("as_of")
    if items is None:
        console.info("no work list: the export has no status column (or no dates)")
        return
    passed = items["action"].eq("write_off_review").to_numpy(dtype=bool)
    open_items = items[~passed]
    console.info(
        f"work list as of {as_of}: {len(open_items):,} open item(s), "
        f"${open_items['amount'].sum():,.2f} to collect (each line's amount once)"
    )
    if len(open_items):
        by_action = open_items.groupby("action", sort=False)["amount"].agg(["size", "sum"])
        console.info(
            "  "
            + "; ".join(
                f"{a}: {int(r['size']):,} (${r['sum']:,.2f})" for a, r in by_action.iterrows()
            )
        )
    if passed.any():
        console.info(
            f"{int(passed.sum()):,} item(s) past their deadline, "
            f"${items.loc[passed, 'amount'].sum():,.2f}, for write-off review"
        )


@cli.command()
@click.argument("input_dir", type=click.Path(file_okay=False))
@click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output folder."
)
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), help="Parallel processes (default: CPUs)."
)
@click.option(
    "--config", type=click.Path(dir_okay=False), help="Thresholds for every client (TOML)."
)
@click.option("--mapping", type=click.Path(dir_okay=False), help="Header mapping for every client.")
@click.option("--select", help="Comma-separated audit ids to run (default: all).")
@click.option("--fail-fast", is_flag=True, help="Stop at the first client that fails.")
@click.option(
    "--scheduler",
    help="Dask scheduler address (needs the cluster extra: pip install '.[cluster]' run in the "
    "auditkit folder).",
)
@click.option("--with-lines", is_flag=True, help="Add the claim lines sheet to each workbook.")
@click.option(
    "--redact",
    is_flag=True,
    help="Replace patient names, patient ids and claim ids with pseudonyms everywhere, and "
    "quote no cell in messages.",
)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    help="Also exit 1 when any client has a finding at or above this severity.",
)
@click.option(
    "--strict-x12",
    is_flag=True,
    help="Refuse an 835 whose SE/GE/IEA counts or control numbers do not match (default: read "
    "it, with a warning).",
)
@as_of_option
@common_quiet
@common_verbose
def batch(
    input_dir: str,
    out_dir: str,
    jobs: int | None,
    config: str | None,
    mapping: str | None,
    select: str | None,
    fail_fast: bool,
    scheduler: str | None,
    with_lines: bool,
    redact: bool,
    fail_on: str | None,
    strict_x12: bool,
    as_of: str | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Audit many clients: one subfolder (or one file) per client.

    Writes CLIENT.xlsx and CLIENT.json per client, plus index.xlsx and index.csv. A client
    folder may hold its own auditkit.toml and mapping.toml.

    CLIENT is the folder's name (a loose file's name without its extension) with every run of
    characters other than letters, digits, '.', '-' and '_' made '_' ('a b' -> a_b). Clients
    are taken in name order; one whose CLIENT matches an earlier one's (ignoring case), or is
    'index' or a Windows device name (con, nul, ...), gets -2, -3, ... (a_b-2.xlsx), and the
    index's workbook and json columns name each client's files.

    \b
    Example:
      auditkit batch clients/ --out audits/ --jobs 4
      auditkit batch clients/ --out audits/ --scheduler tcp://10.0.0.5:8786
    """
    from auditkit.batch import run_batch
    from auditkit.pipeline import reaches_severity

    console = Console(quiet, verbose)

    def notify(outcome, done: int, total: int) -> None:
        state = "ok" if outcome.status == "ok" else f"error: {outcome.error}"
        console.client_done(f"[{done}/{total}] {outcome.client}: {state}")

    try:
        result = run_batch(
            input_dir,
            out_dir,
            jobs=jobs,
            config=_default_config(config),
            mapping=mapping,
            select=_split_select(select),
            fail_fast=fail_fast,
            scheduler=scheduler,
            redact=redact,
            with_lines=with_lines,
            strict_x12=strict_x12,
            as_of=as_of,
            notify=notify,
            on_start=console.start_batch,
        )
    except AuditkitError as exc:
        console.stop()
        _fail(str(exc))
    console.stop()
    ok = len(result.outcomes) - len(result.failed)
    console.info(f"{ok} client(s) audited, {len(result.failed)} failed; index: {result.index_xlsx}")
    if result.stopped_early:
        console.info("stopped at the first failure (--fail-fast)")
    if result.failed:
        sys.exit(EXIT_FINDINGS)
    if fail_on and any(reaches_severity(o.worst, fail_on) for o in result.outcomes):
        console.info(f"findings at or above '{fail_on}': exit 1")
        sys.exit(EXIT_FINDINGS)


@cli.command("compare")
@click.argument("before", type=click.Path(dir_okay=False))
@click.argument("after", type=click.Path(dir_okay=False))
@click.option(
    "--out", type=click.Path(dir_okay=False), help="Write the comparison workbook (.xlsx)."
)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write it as JSON.")
@common_quiet
def compare_runs(
    before: str, after: str, out: str | None, json_path: str | None, quiet: bool
) -> None:
    """Compare two runs' --json: findings new, resolved and persisting, key indicators side by
    side, and a one-sentence summary for the client.

    Findings match by their key (the same problem in the same place). Dollars add only findings
    counted in their run's total. Runs made with --redact cannot match line or claim findings
    (claim pseudonyms change on every run).

    \b
    Examples:
      auditkit compare october.json january.json
      auditkit compare october.json january.json --out changes.xlsx --json changes.json
    """
    from auditkit.compare import compare, read_run, write_compare_json

    console = Console(quiet, False)
    try:
        _check_outputs(
            {"--json": json_path, "--out": out}, inputs={"a run compared": [before, after]}
        )
        cmp = compare(read_run(before), read_run(after))
        written = []
        if json_path:
            written.append(write_compare_json(cmp, json_path))
        if out:
            from datetime import datetime

            from auditkit import __version__
            from auditkit.excel.openpyxl_writer import write_report
            from auditkit.report.build import _sanitise_blocks
            from auditkit.report.compare_sheets import compare_sheets
            from auditkit.report.model import Report

            report = Report(
                sheets=compare_sheets(cmp),
                title="Audit comparison",
                generated_at=datetime.now().replace(microsecond=0),
                version=__version__,
            )
            _sanitise_blocks(report)
            written.append(Path(write_report(report, out)))
    except AuditkitError as exc:
        _fail(str(exc))
    console.info(cmp.sentence)
    for note in cmp.notes:
        console.info(f"note: {note}")
    for path in written:
        console.info(f"wrote {path}")


@cli.command("audits")
def list_audits() -> None:
    """List every audit: id, title, severities and the columns it needs.

    \b
    Example:
      auditkit audits
    """
    from auditkit.engine.registry import all_audits

    for spec in all_audits():
        sev = "/".join(spec.severities)
        click.echo(f"{spec.id:<30} {spec.title}")
        click.echo(f"{'':<30} severities: {sev}; needs: {', '.join(spec.columns)}")


@cli.command()
@click.argument("audit_id")
def explain(audit_id: str) -> None:
    """Print an audit's documentation (or the work list's: auditkit explain worklist; the
    chart-pull review's: auditkit explain sample).

    \b
    Example:
      auditkit explain tpi-ratio
      auditkit explain worklist
      auditkit explain sample
    """
    from auditkit.engine.registry import docs

    try:
        if audit_id.strip().lower() in ("worklist", "work-list"):
            from auditkit.measures.worklist import worklist_docs

            click.echo(worklist_docs(), nl=False)
            return
        if audit_id.strip().lower() in ("sample", "score", "review"):
            from auditkit.measures.review_score import sample_docs

            click.echo(sample_docs(), nl=False)
            return
        click.echo(docs(audit_id))
    except AuditkitError as exc:
        _fail(str(exc))


@cli.command()
@click.argument("path", default="auditkit.toml", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: str, force: bool) -> None:
    """Write a commented auditkit.toml with every threshold and its default.

    \b
    Example:
      auditkit init            # writes ./auditkit.toml
      auditkit init client/auditkit.toml
    """
    from auditkit.engine.settings import default_settings_toml
    from auditkit.fileio import atomic_write_bytes

    target = Path(path)
    if target.exists() and not force:
        _fail(f"{target} already exists (use --force to overwrite it)")
    try:
        atomic_write_bytes(target, default_settings_toml().encode("utf-8"))
    except AuditkitError as exc:
        _fail(str(exc))
    click.echo(f"wrote {target}")


@cli.command("excel-template")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option(
    "--interpreter-win",
    metavar="PATH",
    help="python.exe the workbook runs on Windows (default: this Python, when run on Windows).",
)
@click.option(
    "--interpreter-mac",
    metavar="PATH",
    help="python the workbook runs on macOS (default: this Python, when run on a Mac).",
)
@click.option("--force", is_flag=True, help="Replace an existing workbook.")
def excel_template(
    out: str, interpreter_win: str | None, interpreter_mac: str | None, force: bool
) -> None:
    """Make a macro workbook that runs the audits from Excel (a Run audit button).

    Writes OUT (.xlsm) and OUT's entry module (.py) beside it: keep the two together. See
    "Use auditkit inside Excel" in the README.

    \b
    Example:
      auditkit excel-template monthly_audit.xlsm
    """
    from auditkit.excel.template import build_template, default_interpreters

    interpreters = default_interpreters()
    if interpreter_win:
        interpreters["Interpreter_Win"] = interpreter_win
    if interpreter_mac:
        interpreters["Interpreter_Mac"] = interpreter_mac
    try:
        workbook, module = build_template(out, interpreters=interpreters, force=force)
    except AuditkitError as exc:
        _fail(str(exc))
    click.echo(f"wrote {workbook} and {module} (keep them together)")


def _check_day(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--from``/``--to`` checked before anything is read: a YYYY-MM-DD date."""
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        option = "--from" if param.name == "date_from" else "--to"
        _fail(f"{option}: {value!r} is not a date (write it as YYYY-MM-DD, e.g. 2026-03-31)")
    return None


@cli.command("sample")
@click.argument("exports", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="The review workbook (.xlsx)."
)
@click.option(
    "--by",
    default="provider,family",
    show_default=True,
    help="Strata: comma-separated keys among provider (rendering physician), family "
    "(procedure family) and payer.",
)
@click.option(
    "--per-stratum",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Lines drawn per stratum (all lines of a smaller stratum): 5-10 for a probe, 30 or "
    "more for a sample to project from.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    help="Seed of the draw: the same seed and data give the same sample (default: a new one, "
    "printed and stored in the workbook).",
)
@click.option(
    "--from", "date_from", callback=_check_day, metavar="YYYY-MM-DD", help="First date of service."
)
@click.option(
    "--to", "date_to", callback=_check_day, metavar="YYYY-MM-DD", help="Last date of service."
)
@click.option(
    "--only",
    type=click.Choice(["all", "denied", "paid"]),
    default="all",
    show_default=True,
    help="denied: denied or rejected lines; paid: paid or partially paid (voided lines are "
    "never sampled).",
)
@click.option("--mapping", type=click.Path(dir_okay=False), help="Mapping file (TOML) for headers.")
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    help="Settings (TOML): its fee schedule prices the lines. Default: ./auditkit.toml.",
)
@common_quiet
def sample(
    exports: Sequence[str],
    out: str,
    by: str,
    per_stratum: int,
    seed: int | None,
    date_from: str | None,
    date_to: str | None,
    only: str,
    mapping: str | None,
    config: str | None,
    quiet: bool,
) -> None:
    """Draw a stratified random sample of claim lines for a chart-pull review.

    Writes a workbook for the reviewer: a Review sheet (one row per sampled line, with
    Supported, Correct code, Correct units, Correct modifiers and Notes to fill in), the Frame
    (each stratum's lines and charges) and About. Score it with auditkit score. See: auditkit
    explain sample.

    \b
    Examples:
      auditkit sample export.csv --out probe.xlsx --per-stratum 5
      auditkit sample export.csv --out review.xlsx --per-stratum 30 --from 2026-01-01 \\
          --to 2026-03-31 --only paid --seed 20260401
    """
    from auditkit.engine.settings import load_settings
    from auditkit.excel.review_book import write_review
    from auditkit.ingest import load
    from auditkit.measures.sampling import draw_sample

    console = Console(quiet)
    config = _default_config(config)
    read = {"the export": list(exports), "the mapping": [mapping], "the config": [config]}
    try:
        _check_outputs({"--out": out}, inputs=read)
        console.progress("reading", f"{len(exports)} file(s)")
        lines = load(list(exports), mapping=mapping)
        drawn = draw_sample(
            lines.frame,
            by=_split_select(by) or [],
            per_stratum=per_stratum,
            seed=seed,
            date_from=date_from,
            date_to=date_to,
            only=only,
            config=load_settings(config),
        )
        console.progress("writing", out)
        written = write_review(drawn, out, inputs=lines.inputs, config_source=config)
    except AuditkitError as exc:
        console.stop()
        _fail(str(exc))
    console.stop()
    for report in lines.inputs:
        if report.problems:
            console.info(_problems_line(report, workbook=False))
    console.info(
        f"{len(drawn.sample):,} lines drawn from {len(drawn.frame):,} strata of "
        f"{drawn.frame_lines:,} lines"
    )
    console.info(f"seed {drawn.seed} (draw the same sample again with --seed {drawn.seed})")
    console.info(f"wrote {written}")


@cli.command("score")
@click.argument("workbook", type=click.Path(dir_okay=False))
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False), help="Write the results as JSON."
)
@click.option(
    "--out", type=click.Path(dir_okay=False), help="Write a copy with a Results sheet (.xlsx)."
)
@click.option(
    "--into",
    type=click.Path(dir_okay=False),
    help="Add (or replace) the Results sheet in this workbook (normally WORKBOOK itself).",
)
@click.option(
    "--method",
    type=click.Choice(["wilson", "exact"]),
    default="wilson",
    show_default=True,
    help="Interval of the error rates: Wilson score, or exact (Clopper-Pearson).",
)
@common_quiet
def score(
    workbook: str,
    json_path: str | None,
    out: str | None,
    into: str | None,
    method: str,
    quiet: bool,
) -> None:
    """Score a filled-in review workbook: error rates, projected dollars, lower bound.

    Per stratum and overall: lines reviewed, errors, the error rate with its 90% interval,
    the dollar differences projected to the frame with their 90% interval, and the one-sided
    90% lower bound. Unanswered lines are left out; a workbook whose sampled columns were
    edited is refused. Without --json, --out or --into the JSON goes to stdout.

    \b
    Examples:
      auditkit score review.xlsx --json results.json --into review.xlsx
      auditkit score review.xlsx --out scored.xlsx
    """
    from auditkit.excel.review_book import read_review, write_score_outputs
    from auditkit.measures.review_score import review_json, score_review

    console = Console(quiet)
    if out and into:
        _fail("use either --out (a new workbook) or --into (the review workbook), not both")
    try:
        _check_outputs(
            {"--json": json_path, "--out": out},
            into=into,
            inputs={"the review workbook": [workbook]},
        )
        scored = score_review(read_review(workbook), method=method)
        written = write_score_outputs(scored, workbook, json_path=json_path, out=out, into=into)
    except AuditkitError as exc:
        _fail(str(exc))
    if not (json_path or out or into):
        click.echo(json.dumps(review_json(scored), indent=2, ensure_ascii=False))
    _print_score(scored, console)
    for path in written:
        console.info(f"wrote {path}")


def _print_score(scored, console: Console) -> None:
    """The overall figures in three lines, and what to know about them."""
    o = scored.overall

    def dollars(value: float) -> str:
        return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"

    console.info(
        f"{o['reviewed']:,} of {o['sample_lines']:,} sampled lines reviewed, "
        f"{o['errors']:,} error(s)"
    )
    if o["error_rate"] is not None:
        level = f"{scored.confidence:.0%}"
        console.info(
            f"error rate {o['error_rate']:.1%} ({level} interval {o['ci_low']:.1%} to "
            f"{o['ci_high']:.1%})"
        )
        if o["projected_low"] is not None:
            console.info(
                f"projected {dollars(o['projected_dollars'])} over "
                f"{o['projected_frame_lines']:,} lines ({level} interval "
                f"{dollars(o['projected_low'])} to {dollars(o['projected_high'])}); one-sided "
                f"{level} lower bound {dollars(o['lower_bound'])}"
            )
        else:
            console.info(
                f"projected {dollars(o['projected_dollars'])} over "
                f"{o['projected_frame_lines']:,} lines (no interval: see the warnings)"
            )
    for warning in scored.warnings:
        console.info(f"warning: {warning}")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the console script.

    A bug in auditkit (not a user's mistake, which is always an AuditkitError) prints one line
    and exits 3, without a traceback: exception texts can carry values from an export, which is
    patient data. ``AUDITKIT_DEBUG=1`` shows the traceback for a developer.
    """
    import os

    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="auditkit")
    except KeyboardInterrupt:
        click.echo("auditkit: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # the last line of defence, see the docstring
        if os.environ.get("AUDITKIT_DEBUG"):
            raise
        click.echo(
            f"auditkit: internal error ({type(exc).__name__}); please report it. "
            "Run again with AUDITKIT_DEBUG=1 to see the details.",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
