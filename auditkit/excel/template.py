"""Build the macro-enabled workbook billing managers run auditkit from (``auditkit excel-template``).

The workbook is made on any OS with XlsxWriter around the VBA project that ships inside the
installed xlwings package (``quickstart_standalone.xlsm``, BSD-licensed): its ``xlwings`` module
(``RunPython``, ``ImportPythonUDFs``, the settings reader) and ``Module1.SampleCall``, which runs
``import <workbook name>; <workbook name>.main()``. No VBA of our own is written: a VBA project
cannot be edited reliably outside Excel, and reusing xlwings' own project keeps the workbook's
VBA and the installed xlwings the same version (the VBA names xlwings' DLL by version).

So ``OUT.xlsm`` comes with ``OUT.py`` beside it: a three-line module whose ``main`` is
:func:`auditkit.excel.macro.main`. The *Run audit* button is bound to ``SampleCall``; the
*Import functions* button to xlwings' ``ImportPythonUDFs``. The name ``SampleCall`` is xlwings':
a macro named for what it does (or one calling ``RunPython "import auditkit.excel.macro; ..."``)
would mean editing the compiled ``vbaProject.bin`` outside Excel, which is not done reliably
(the ``xlwings.conf`` sheet has no setting for the command RunPython runs), so the button's
caption says what it does instead. Because the workbook's name is imported as a Python module,
it must be a valid module name that does not hide an installed module: :func:`build_template`
checks both; the Settings sheet says that renaming the workbook needs the ``.py`` renamed too.

Both buttons sit at the top left of the Settings sheet, above the instructions, so they are on
the first screen whatever the width of the help column.

Sheets: **Settings** (instructions, the settings with named input cells, the status cell, the
buttons and the list of spreadsheet functions) and **xlwings.conf** (the interpreter, ``UDF
Modules = auditkit.excel.udfs``, ...). Their code names are the VBA project's (``Sheet1``,
``Sheet2``), as Excel expects. XlsxWriter is needed at run time for this command.
"""

from __future__ import annotations

import importlib.util
import inspect
import io
import keyword
import sys
import zipfile
from pathlib import Path
from typing import Any

from auditkit import __version__
from auditkit.errors import OutputError
from auditkit.excel.package import check_target
from auditkit.excel.xl_settings import SETTINGS_SHEET, STATUS_NAME, all_settings
from auditkit.fileio import all_or_nothing, atomic_write_bytes
from auditkit.report.style import (
    FONT_NAME,
    FONT_SIZE,
    HEADER_LOOK,
    HEADING_LOOK,
    LABEL_LOOK,
    NOTE_LOOK,
    STATUS_LOOK,
    TEXT_LOOK,
    TITLE_LOOK,
    WARNING_LOOK,
    Look,
)

#: The macro the *Run audit* button runs (in the xlwings quickstart's ``Module1``). xlwings
#: names it; renaming it would mean editing the compiled VBA project, so it keeps its name and
#: the button's caption (:data:`RUN_CAPTION`) says what it does.
RUN_MACRO = "SampleCall"
#: Captions of the two buttons.
RUN_CAPTION = "Run audit"
IMPORT_CAPTION = "Import functions"
#: xlwings' macro that imports the UDF modules named in the ``xlwings.conf`` sheet.
IMPORT_MACRO = "ImportPythonUDFs"
#: The xlwings settings sheet (xlwings reads it by this name).
CONF_SHEET = "xlwings.conf"
#: The module holding the spreadsheet functions (the conf sheet's "UDF Modules").
UDF_MODULE = "auditkit.excel.udfs"
#: The installed xlwings file whose VBA project the template reuses.
QUICKSTART = "quickstart_standalone.xlsm"
#: First line of the module written beside the workbook (marks it as ours).
SHIM_MARK = "# auditkit: entry point of the workbook's Run audit button."
#: Fill of the cells the user types into.
INPUT_FILL = WARNING_LOOK.fill


def quickstart_vba() -> bytes:
    """``xl/vbaProject.bin`` of the installed xlwings' standalone quickstart workbook."""
    import xlwings

    source = Path(xlwings.__file__).parent / QUICKSTART
    try:
        with zipfile.ZipFile(source) as archive:
            return archive.read("xl/vbaProject.bin")
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise OutputError(
            f"cannot read the VBA project of the installed xlwings ({type(exc).__name__})",
            path=source,
            hint="reinstall xlwings (pip install --force-reinstall xlwings)",
        ) from exc


def default_interpreters() -> dict[str, str]:
    """Interpreter_Win / Interpreter_Mac for the conf sheet: this Python where it can run Excel."""
    if sys.platform.startswith("win"):
        return {"Interpreter_Win": sys.executable, "Interpreter_Mac": ""}
    if sys.platform == "darwin":
        return {"Interpreter_Win": "", "Interpreter_Mac": sys.executable}
    return {"Interpreter_Win": "", "Interpreter_Mac": ""}


def shim_source(stem: str) -> str:
    """The module written beside ``<stem>.xlsm``: SampleCall runs ``<stem>.main()``."""
    return (
        f"{SHIM_MARK}\n"
        f'"""{stem}.xlsm runs `import {stem}; {stem}.main()`: that is auditkit\'s macro."""\n'
        "try:\n"
        "    from auditkit.excel.macro import main  # noqa: F401\n"
        "except ImportError as exc:  # the workbook's Python has no auditkit\n"
        "    raise SystemExit(\n"
        '        f"auditkit cannot be imported ({exc}): install it for the Python named on the "\n'
        '        "xlwings.conf sheet (Interpreter_Win / Interpreter_Mac)"\n'
        "    ) from None\n"
    )


def _check_module_name(target: Path, shim: Path) -> None:
    stem = target.stem
    if not stem.isidentifier() or keyword.iskeyword(stem):
        raise OutputError(
            "the workbook's name must work as a Python module name (letters, digits and _, "
            "not starting with a digit): its Run audit button imports it",
            path=target,
            hint=f"e.g. {_suggest(stem)}.xlsm",
        )
    try:
        spec = importlib.util.find_spec(stem)
    except (ImportError, ValueError):
        spec = None
    origin = Path(spec.origin).resolve() if spec is not None and spec.origin else None
    if spec is not None and origin != shim.resolve():
        raise OutputError(
            f"the workbook's name '{stem}' is also an installed Python module, which its Run "
            "audit button would import instead of auditkit's macro",
            path=target,
            hint=f"choose another name, e.g. {stem}_audit.xlsm",
        )


def _suggest(stem: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in stem).strip("_") or "audit"
    return cleaned if cleaned[0].isalpha() else "audit_" + cleaned


def build_template(
    path: str | Path,
    *,
    interpreters: dict[str, str] | None = None,
    force: bool = False,
) -> tuple[Path, Path]:
    """Write the macro workbook ``path`` (.xlsm) and its entry module beside it.

    ``interpreters`` fills the conf sheet's ``Interpreter_Win`` / ``Interpreter_Mac`` (default:
    :func:`default_interpreters`). An existing workbook (or a module that is not auditkit's) is
    only replaced with ``force``; a read-only one never (see :mod:`auditkit.fileio`). The two
    files are written together or not at all. Returns ``(workbook, module)``. Raises
    OutputError.
    """
    target = Path(path)
    if target.suffix.lower() != ".xlsm":
        raise OutputError(
            "a macro workbook must end in .xlsm", path=target, hint=f"use {target.stem}.xlsm"
        )
    shim = target.with_suffix(".py")
    _check_module_name(target, shim)
    check_target(target)
    if target.exists() and not force:
        raise OutputError(
            "already exists (it may hold earlier results)",
            path=target,
            hint="choose another name, or pass --force to replace it",
        )
    if shim.exists() and not force and not shim.read_text(errors="replace").startswith(SHIM_MARK):
        raise OutputError(
            "already exists and is not auditkit's entry module",
            path=shim,
            hint="choose another workbook name, or pass --force to replace it",
        )
    data = template_bytes(target.stem, interpreters or default_interpreters())
    with all_or_nothing():  # the two files work only together: both or neither
        atomic_write_bytes(target, data)
        atomic_write_bytes(shim, shim_source(target.stem).encode("utf-8"))
    return target, shim


# -- the workbook ------------------------------------------------------------------------------


class _Formats:
    """XlsxWriter formats for the report palette's looks, made once each."""

    def __init__(self, workbook: Any) -> None:
        self.workbook = workbook
        self._made: dict[tuple, Any] = {}

    def __call__(self, look: Look | None = None, **extra: Any) -> Any:
        key = (look, tuple(sorted(extra.items())))
        if key not in self._made:
            spec: dict[str, Any] = {"font_name": FONT_NAME, "font_size": FONT_SIZE}
            if look is not None:
                spec.update(
                    font_color="#" + look.font,
                    bold=look.bold,
                    italic=look.italic,
                    font_size=look.size or FONT_SIZE,
                )
                if look.fill:
                    spec["bg_color"] = "#" + look.fill
            spec.update(extra)
            self._made[key] = self.workbook.add_format(spec)
        return self._made[key]


def template_bytes(stem: str, interpreters: dict[str, str]) -> bytes:
    """The macro workbook as bytes (see the module docstring for what it holds)."""
    import xlsxwriter

    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    workbook.set_properties(
        {"title": "auditkit billing audit", "author": f"auditkit {__version__}"}
    )
    workbook.add_vba_project(io.BytesIO(quickstart_vba()), is_stream=True)
    workbook.set_vba_name("ThisWorkbook")
    formats = _Formats(workbook)
    settings = workbook.add_worksheet(SETTINGS_SHEET)
    settings.set_vba_name("Sheet1")
    conf = workbook.add_worksheet(CONF_SHEET)
    conf.set_vba_name("Sheet2")
    _settings_sheet(workbook, settings, formats, stem)
    _conf_sheet(conf, formats, interpreters)
    settings.activate()
    workbook.close()
    return out.getvalue()


def _steps(stem: str) -> list[str]:
    return [
        "1. Once per computer: install Python 3.11 or later (python.org) and, into it, auditkit "
        r"from the folder or wheel (.whl) file your practice was given: pip install C:\path\to"
        r"\auditkit (or the .whl file). Not from the internet: the 'auditkit' on PyPI is another "
        "program. On macOS also run `xlwings runpython install`. Step by step: 'Use auditkit "
        "inside Excel' in auditkit's README and docs/excel.md.",
        "2. On the xlwings.conf sheet, set Interpreter_Win (Windows) or Interpreter_Mac "
        f"(macOS) to that Python. Keep this workbook next to {stem}.py (its Run audit macro).",
        "3. Below, type the path of this month's export (or its folder) in the yellow cell, "
        "and the practice and period.",
        "4. Press Run audit (top left). Excel's status bar shows progress; the Status cell says "
        "when it is done, or what went wrong.",
        "5. The Summary and one colour-coded sheet per audit appear; running again replaces "
        "them and leaves your own sheets alone.",
        "6. Windows: press Import functions once, then use the functions listed at the bottom "
        "in any sheet. It needs Excel's Trust Center to trust access to the VBA project object "
        "model (File > Options > Trust Center > Trust Center Settings > Macro Settings); Run "
        "audit does not, so it works where IT locks that setting.",
    ]


def _rename_notes(stem: str) -> list[str]:
    return [
        f"Run audit runs the Python file named like this workbook, beside it ({stem}.py). "
        "Renaming the workbook, or Save As under another name, breaks the button: Excel then "
        'says "No module named ...". Moving it to another folder: move the .py with it.',
        "To fix it, rename the .py file the same way (NEW_NAME.xlsm needs NEW_NAME.py beside "
        "it; letters, digits and _ only), or make a new workbook with "
        "`auditkit excel-template NEW_NAME.xlsm` and copy your settings over.",
    ]


def _signature(func: Any) -> str:
    parts = []
    for parameter in inspect.signature(func).parameters.values():
        name = parameter.name
        parts.append(f"[{name}]" if parameter.default is not inspect.Parameter.empty else name)
    return f"{func.__name__}({', '.join(parts)})"


#: Row (0-based) of the Settings sheet holding both buttons, side by side in column A.
BUTTON_ROW = 2


def _settings_sheet(workbook: Any, ws: Any, fmt: _Formats, stem: str) -> None:
    from auditkit.excel.udfs import FUNCTIONS

    ws.set_column("A:A", 42)
    ws.set_column("B:B", 44)
    ws.set_column("C:C", 12)
    ws.set_column("D:D", 90)
    ws.hide_gridlines(2)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_row(0, 24)
    ws.write_string(0, 0, "auditkit: billing audit", fmt(TITLE_LOOK))
    ws.write_string(
        1,
        0,
        "Fill in the yellow cells below and press Run audit: the findings appear as new sheets "
        "in this workbook.",
        fmt(NOTE_LOOK),
    )
    # The buttons: top left, in column A (about 300 pixels wide), on the first screen.
    ws.set_row(BUTTON_ROW, 36)
    ws.insert_button(
        BUTTON_ROW,
        0,
        {
            "macro": RUN_MACRO,
            "caption": RUN_CAPTION,
            "width": 150,
            "height": 40,
            "x_offset": 4,
            "y_offset": 4,
        },
    )
    ws.insert_button(
        BUTTON_ROW,
        0,
        {
            "macro": IMPORT_MACRO,
            "caption": IMPORT_CAPTION,
            "width": 130,
            "height": 40,
            "x_offset": 164,
            "y_offset": 4,
        },
    )
    ws.merge_range(
        BUTTON_ROW,
        1,
        BUTTON_ROW,
        3,
        "Run audit: reads the settings below, audits the export and adds the findings sheets. "
        "Import functions (Windows, once): adds the spreadsheet functions listed at the bottom.",
        fmt(NOTE_LOOK, text_wrap=True, valign="vcenter"),
    )
    row = BUTTON_ROW + 1
    status = STATUS_LOOK["neutral"]
    ws.write_string(row, 0, "Status", fmt(LABEL_LOOK, valign="top"))
    ws.merge_range(row, 1, row, 3, "Not run yet.", fmt(status, text_wrap=True, valign="top"))
    ws.set_row(row, 45)
    workbook.define_name(STATUS_NAME, f"='{SETTINGS_SHEET}'!$B${row + 1}")

    row += 2
    ws.write_string(row, 0, "How to use", fmt(HEADING_LOOK))
    for step in _steps(stem):
        row += 1
        _paragraph(ws, fmt, row, step)

    row += 2
    ws.write_string(row, 0, "Renaming or moving this workbook", fmt(HEADING_LOOK))
    for note in _rename_notes(stem):
        row += 1
        _paragraph(ws, fmt, row, note)

    row += 2
    ws.write_string(row, 0, "Settings", fmt(HEADING_LOOK))
    row += 1
    header_row = row
    for col, text in enumerate(("Setting", "Value", "Default", "What it means")):
        ws.write_string(row, col, text, fmt(HEADER_LOOK))
    for setting in all_settings():
        row += 1
        ws.write_string(row, 0, setting.label, fmt(LABEL_LOOK))
        ws.write_blank(row, 1, None, fmt(None, bg_color="#" + INPUT_FILL, border=1))
        if setting.default is not None:
            default = setting.default
            if isinstance(default, bool):
                ws.write_string(row, 2, "yes" if default else "no", fmt(NOTE_LOOK))
            elif isinstance(default, int | float):
                ws.write_number(row, 2, default, fmt(NOTE_LOOK, align="left"))
            else:
                ws.write_string(row, 2, str(default), fmt(NOTE_LOOK))
        ws.write_string(row, 3, setting.help, fmt(NOTE_LOOK))
        if setting.kind == "bool":
            ws.data_validation(row, 1, row, 1, {"validate": "list", "source": ["yes", "no"]})
        workbook.define_name(setting.key, f"='{SETTINGS_SHEET}'!$B${row + 1}")

    row += 2
    ws.write_string(row, 0, "Spreadsheet functions (Windows)", fmt(HEADING_LOOK))
    row += 1
    ws.write_string(
        row,
        0,
        "Category auditkit in the function wizard (fx). Ranges may hold blanks, dates and "
        "numbers stored as text; errors show as a message in the cell.",
        fmt(NOTE_LOOK),
    )
    row += 1
    ws.merge_range(row, 0, row, 1, "Function", fmt(HEADER_LOOK))
    ws.merge_range(row, 2, row, 3, "What it gives", fmt(HEADER_LOOK))
    for func in FUNCTIONS:
        row += 1
        ws.merge_range(row, 0, row, 1, _signature(func), fmt(LABEL_LOOK))
        doc = (func.__doc__ or "").strip().splitlines()[0]
        ws.merge_range(row, 2, row, 3, doc, fmt(TEXT_LOOK))
    ws.set_first_sheet()
    ws.select()
    first_input = header_row + 1
    ws.set_selection(first_input, 1, first_input, 1)


#: Characters of body text per line across columns A:C (98 character widths of Calibri 11).
_LINE_CHARS = 110


def _paragraph(ws: Any, fmt: _Formats, row: int, text: str) -> None:
    """``text`` wrapped across columns A:C, its row tall enough (Excel does not fit merged rows)."""
    ws.merge_range(row, 0, row, 2, text, fmt(TEXT_LOOK, text_wrap=True, valign="top"))
    lines = -(-len(text) // _LINE_CHARS)
    if lines > 1:
        ws.set_row(row, 15 * lines)


def _conf_sheet(ws: Any, fmt: _Formats, interpreters: dict[str, str]) -> None:
    """xlwings' settings, A1 down to the first blank row (xlwings stops reading there)."""
    rows: list[tuple[str, Any]] = [
        ("Interpreter_Win", interpreters.get("Interpreter_Win", "")),
        ("Interpreter_Mac", interpreters.get("Interpreter_Mac", "")),
        ("PYTHONPATH", ""),
        ("Conda Path", ""),
        ("Conda Env", ""),
        ("UDF Modules", UDF_MODULE),
        ("Debug UDFs", False),
        ("Use UDF Server", False),
        ("Show Console", False),
    ]
    ws.set_column("A:A", 18)
    ws.set_column("B:B", 60)
    for r, (key, value) in enumerate(rows):
        ws.write_string(r, 0, key, fmt(None))
        if isinstance(value, bool):
            ws.write_boolean(r, 1, value, fmt(None))
        elif value:
            ws.write_string(r, 1, value, fmt(None))
    notes = [
        "These settings tell xlwings which Python runs this workbook's macro and functions; "
        "they start in A1 and end at the first blank row.",
        "Interpreter_Win / Interpreter_Mac: full path of the Python that has auditkit "
        r"(e.g. C:\Users\you\auditkit\Scripts\python.exe). Blank: 'python' on the PATH.",
        "UDF Modules: the module Import functions reads (auditkit's functions).",
        "Conda Path / Conda Env: only if that Python is a conda environment.",
        "They override xlwings.conf files beside this workbook and in your user folder.",
    ]
    for offset, note in enumerate(notes):
        ws.write_string(len(rows) + 2 + offset, 0, note, fmt(NOTE_LOOK))
