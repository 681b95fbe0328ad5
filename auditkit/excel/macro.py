"""The *Run audit* button of the macro workbook: read Settings, audit, write the sheets back.

The button (``auditkit excel-template``) runs xlwings' ``RunPython``, which calls :func:`main`
in a fresh Python process with the calling workbook available as ``xw.Book.caller()``. The
entry point is a thin shell: it reads the Settings sheet (:func:`read_settings`), runs the same
job as the command line (:func:`auditkit.pipeline.audit`), builds the same report model
(:func:`auditkit.report.build_report`) and renders it into the calling workbook with
:func:`auditkit.excel.xlwings_writer.write_report`.

Nothing is lost: progress shows in Excel's status bar; the outcome, or the error as one line,
goes into the Settings sheet's status cell (coloured like a KPI: green done, red error), and an
error also opens a message box. Only when even the status cell cannot be written does the
process end with the message (xlwings then shows it in a message box).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import xlwings as xw

from auditkit.config import Config
from auditkit.engine.settings import load_settings
from auditkit.errors import AuditkitError, ConfigError, InputError
from auditkit.excel.xl_settings import STATUS_NAME, Setting, all_settings
from auditkit.excel.xlwings_writer import QUOTE, previous_worklist, write_report
from auditkit.ingest.formats import EXPORT_SUFFIXES
from auditkit.report.style import STATUS_LOOK


@dataclass
class MacroSettings:
    """What the Settings sheet asks for, checked."""

    inputs: list[Path]
    mapping: Path | None = None
    config: Config = field(default_factory=Config)
    practice: str | None = None
    period: str | None = None
    prepared_by: str | None = None
    with_lines: bool = False


def main(book: xw.Book | None = None) -> None:
    """Entry point of the *Run audit* button (``RunPython``); ``book`` is for tests."""
    book = book if book is not None else xw.Book.caller()
    status = Status(book)
    try:
        status.show("Running: reading the settings ...", "neutral")
        message = run(book, progress=status.progress)
    except AuditkitError as exc:
        status.fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - the user must see a message, not lose the error
        detail = " ".join(str(exc).split())[:300]
        status.fail(
            f"internal error ({type(exc).__name__}: {detail}); please report it with the "
            "auditkit version from the About sheet"
        )
    else:
        status.show(message, "good")
    finally:
        status.progress_done()


def run(book: xw.Book, progress: Any = None) -> str:
    """Audit the exports named on the Settings sheet and write the sheets; return a summary."""
    from auditkit import pipeline
    from auditkit.report import build_report

    settings = read_settings(book)
    job = pipeline.audit(
        [str(p) for p in settings.inputs],
        mapping=str(settings.mapping) if settings.mapping else None,
        config=settings.config,
        progress=progress or (lambda stage, detail: None),
    )
    if progress:
        progress("writing", "the audit sheets")
    report = build_report(
        job.result,
        job.lines,
        practice=settings.practice,
        period=settings.period,
        with_lines=settings.with_lines,
        prepared_by=settings.prepared_by,
        # what people typed on the Work list stays on the same claims
        previous_worklist=previous_worklist(book),
    )
    sheets = write_report(report, book)
    return _summary(job, len(sheets))


def _summary(job: Any, n_sheets: int) -> str:
    summary = job.result.summary
    by_sev = summary.get("findings_by_severity") or {}
    counts = ", ".join(f"{by_sev.get(k, 0)} {k}" for k in ("high", "medium", "low", "info"))
    lines = int(summary.get("lines") or len(job.lines.frame))
    unread = sum(len(r.problems) for r in job.lines.inputs)
    note = f"; {unread:,} rows could not be read (see About)" if unread else ""
    return (
        f"Done {datetime.now():%Y-%m-%d %H:%M}: {lines:,} claim lines, "
        f"{summary.get('findings', 0)} findings ({counts}) on {n_sheets} sheets; "
        f"start with the Summary sheet{note}."
    )


# -- the Settings sheet ------------------------------------------------------------------------


def _cell(book: xw.Book, setting: Setting) -> Any:
    """The value of a setting's input cell (None when blank or when the cell is gone)."""
    try:
        value = book.names[setting.key].refers_to_range.value
    except Exception as exc:  # Excel raises several kinds for a missing name
        if setting.required:
            raise ConfigError(
                f"the Settings sheet has no cell named {setting.key} ({setting.label})",
                hint="build a new workbook with `auditkit excel-template` and copy your values",
            ) from exc
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _folder(book: xw.Book) -> Path:
    full = str(book.fullname)
    if "://" in full:
        return Path.cwd()  # a workbook opened from the web: relative paths cannot be resolved
    return Path(full).parent


def _path(text: str, folder: Path, setting: Setting) -> Path:
    path = Path(os.path.expandvars(text.strip().strip('"'))).expanduser()
    path = path if path.is_absolute() else folder / path
    if not path.exists():
        raise InputError(
            f"{setting.label}: not found",
            path=path,
            hint="check the path on the Settings sheet (relative paths start at this "
            "workbook's folder)",
        )
    return path


def _exports(text: str, folder: Path, setting: Setting, book_path: Path) -> list[Path]:
    found: list[Path] = []
    for part in [p for p in str(text).split(";") if p.strip()]:
        path = _path(part, folder, setting)
        if path.is_dir():
            files = sorted(
                p
                for p in path.iterdir()
                if p.is_file()
                and p.suffix.lower() in EXPORT_SUFFIXES
                and not p.name.startswith((".", "~$"))
                and p.resolve() != book_path
            )
            if not files:
                raise InputError(
                    "the folder holds no exports (CSV, TXT, Excel, ODS or 835 files)",
                    path=path,
                    hint="name the export file, or put the exports in this folder",
                )
            found.extend(files)
        else:
            found.append(path)
    return found


def _typed(value: Any, setting: Setting) -> Any:
    """A threshold cell's value as the threshold's type (checked by the threshold itself)."""
    if setting.kind == "bool":
        return _flag(value, setting)
    if isinstance(value, str):
        text = value.replace(",", "").strip()
        try:
            number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            return value  # the threshold check names it
        value = number
    if setting.kind == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _flag(value: Any, setting: Setting) -> bool:
    if isinstance(value, bool):
        return value
    from auditkit.ingest.normalise import parse_bool

    parsed = parse_bool(pd.Series([value], dtype=object)).values.iloc[0]
    if parsed is pd.NA:
        raise ConfigError(f"Settings sheet, {setting.label}: expected yes or no, got {value!r}")
    return bool(parsed)


def read_settings(book: xw.Book) -> MacroSettings:
    """Read and check the Settings sheet (ConfigError / InputError naming the row)."""
    folder = _folder(book)
    book_path = Path(str(book.fullname)).resolve()
    values = {s.key: (s, _cell(book, s)) for s in all_settings()}
    export_setting, export = values["auditkit_export"]
    if export is None:
        raise ConfigError(
            f"Settings sheet: {export_setting.label} is empty",
            hint="type the path of this month's export (or its folder) next to it",
        )
    settings = MacroSettings(inputs=_exports(str(export), folder, export_setting, book_path))
    mapping_setting, mapping = values["auditkit_mapping"]
    if mapping is not None:
        settings.mapping = _path(str(mapping), folder, mapping_setting)
    config_setting, config_path = values["auditkit_config"]
    config = Config()
    if config_path is not None:
        config = load_settings(_path(str(config_path), folder, config_setting))
    for key, attribute in (
        ("auditkit_practice", "practice"),
        ("auditkit_period", "period"),
        ("auditkit_prepared_by", "prepared_by"),
    ):
        value = values[key][1]
        if value is not None:
            text = value.strftime("%B %Y") if isinstance(value, datetime) else str(value)
            setattr(settings, attribute, text)
    lines_setting, with_lines = values["auditkit_with_lines"]
    settings.with_lines = with_lines is not None and _flag(with_lines, lines_setting)
    settings.config = _with_thresholds(config, [v for v in values.values() if v[0].audit])
    return settings


def _with_thresholds(config: Config, rows: list[tuple[Setting, Any]]) -> Config:
    """The config with the thresholds typed on the Settings sheet put over it."""
    from auditkit.engine.registry import get

    for setting, value in rows:
        if value is None:
            continue
        assert setting.audit is not None and setting.threshold is not None
        declared = {t.name: t for t in get(setting.audit).thresholds}
        threshold = declared[setting.threshold]
        checked = threshold.check(_typed(value, setting), f"Settings sheet, {setting.label}")
        config.audits.setdefault(setting.audit, {})[setting.threshold] = checked
    return config


# -- telling the user --------------------------------------------------------------------------


class Status:
    """The Settings sheet's status cell, Excel's status bar and, for errors, a message box."""

    def __init__(self, book: xw.Book) -> None:
        self.book = book
        try:
            self.cell = book.names[STATUS_NAME].refers_to_range
        except Exception:  # noqa: BLE001 - no status cell: errors end the process instead
            self.cell = None

    def show(self, text: str, status: str) -> None:
        if self.cell is None:
            return
        look = STATUS_LOOK[status]
        self.cell.value = QUOTE + text
        self.cell.color = "#" + (look.fill or "FFFFFF")
        self.cell.font.color = "#" + look.font
        self.cell.font.bold = look.bold

    def fail(self, message: str) -> None:
        text = f"Error: {message}"
        if self.cell is None:
            # RunPython shows what the process printed when it ends with an error.
            raise SystemExit(f"auditkit: {text}")
        self.show(text, "poor")
        try:
            self.cell.sheet.activate()
            self.book.app.alert(text, title="auditkit", mode="critical")
        except Exception:  # noqa: BLE001 - the status cell already holds the message
            pass

    def progress(self, stage: str, detail: str) -> None:
        with contextlib.suppress(Exception):  # the status bar is a nicety
            self.book.app.status_bar = f"auditkit: {stage} {detail}"

    def progress_done(self) -> None:
        with contextlib.suppress(Exception):
            self.book.app.status_bar = False
