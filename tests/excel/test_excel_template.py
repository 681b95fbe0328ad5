"""The macro workbook from ``build_template``: a real .xlsm whose buttons run macros it holds.

Excel is not here; the file is checked as a package (content types, the VBA project read with
olefile and vba_project.py), read back with openpyxl, and opened by LibreOffice headless, which also
reports which macro each button is bound to.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import xlwings
from openpyxl import load_workbook
from vba_project import modules, public_procedures

from auditkit.errors import OutputError
from auditkit.excel import macro
from auditkit.excel.template import (
    CONF_SHEET,
    IMPORT_CAPTION,
    IMPORT_MACRO,
    RUN_CAPTION,
    RUN_MACRO,
    SHIM_MARK,
    UDF_MODULE,
    build_template,
    quickstart_vba,
)
from auditkit.excel.udfs import FUNCTIONS
from auditkit.excel.xl_settings import SETTINGS_SHEET, STATUS_NAME, all_settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "excel.md"
MACRO_WORKBOOK = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
XLWINGS_KEYS = {
    "INTERPRETER_WIN", "INTERPRETER_MAC", "PYTHONPATH", "CONDA PATH", "CONDA ENV",
    "UDF MODULES", "DEBUG UDFS", "USE UDF SERVER", "SHOW CONSOLE",
}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("template")
    interpreters = {"Interpreter_Win": r"C:\audit\Scripts\python.exe", "Interpreter_Mac": ""}
    return build_template(folder / "monthly_audit.xlsm", interpreters=interpreters)


def _part(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def test_macro_enabled_package(built):
    workbook, _ = built
    types = _part(workbook, "[Content_Types].xml").decode()
    assert MACRO_WORKBOOK in types
    assert 'Extension="bin" ContentType="application/vnd.ms-office.vbaProject"' in types
    # the VBA project is xlwings' own, byte for byte (no VBA of another project)
    assert _part(workbook, "xl/vbaProject.bin") == quickstart_vba()
    with zipfile.ZipFile(Path(xlwings.__file__).parent / "quickstart_standalone.xlsm") as qs:
        assert qs.read("xl/vbaProject.bin") == quickstart_vba()


def test_vba_project_holds_the_macros_the_buttons_run(built):
    workbook, _ = built
    source = modules(_part(workbook, "xl/vbaProject.bin"))
    assert {"ThisWorkbook", "Sheet1", "Sheet2", "Module1", "xlwings"} <= set(source)
    assert RUN_MACRO in public_procedures(source["Module1"])
    assert IMPORT_MACRO in public_procedures(source["xlwings"])
    # SampleCall imports the module named like the workbook and calls its main()
    assert re.search(r'RunPython "import " & mymodule & ";" & mymodule & "\.main\(\)"',
                     source["Module1"])  # fmt: skip
    # the project calls the DLL of the installed xlwings
    assert f'XLWINGS_VERSION As String = "{xlwings.__version__}"' in source["xlwings"]
    drawing = _part(workbook, "xl/drawings/vmlDrawing1.vml").decode()
    bound = re.findall(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", drawing)
    assert sorted(bound) == sorted([RUN_MACRO, IMPORT_MACRO])
    every = set().union(*(public_procedures(text) for text in source.values()))
    assert set(bound) <= every
    # sheets carry the code names of the project's sheet modules
    xml = _part(workbook, "xl/workbook.xml").decode()
    assert 'codeName="ThisWorkbook"' in xml
    for number in (1, 2):
        sheet = _part(workbook, f"xl/worksheets/sheet{number}.xml").decode()
        assert f'codeName="Sheet{number}"' in sheet


def test_settings_sheet(built):
    workbook, _ = built
    wb = load_workbook(workbook)
    assert wb.sheetnames == [SETTINGS_SHEET, CONF_SHEET]
    ws = wb[SETTINGS_SHEET]
    names = wb.defined_names
    for setting in all_settings():
        ((sheet, address),) = names[setting.key].destinations
        assert sheet.strip("'") == SETTINGS_SHEET and address.startswith("$B$")
        row = int(address.split("$")[-1])
        assert ws.cell(row, 1).value == setting.label
        assert ws.cell(row, 2).value is None  # blank: the default applies
    ((_, address),) = names[STATUS_NAME].destinations
    assert ws[address.replace("$", "")].value == "Not run yet."
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    assert "How to use" in text and "Run audit" in text
    for func in FUNCTIONS:
        assert f"{func.__name__}(" in text


def _settings_text(workbook: Path) -> str:
    ws = load_workbook(workbook)[SETTINGS_SHEET]
    return " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)


def test_buttons_are_on_the_first_screen(built):
    workbook, _ = built
    drawing = _part(workbook, "xl/drawings/vmlDrawing1.vml").decode()
    shapes = re.findall(r"<v:shape .*?</v:shape>", drawing, re.S)
    found = {}
    for shape in shapes:
        macro_name = re.search(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", shape).group(1)
        caption = re.sub(r"<[^>]+>", "", re.search(r"<v:textbox.*?</v:textbox>", shape, re.S)[0])
        anchor = [
            int(n) for n in re.search(r"<x:Anchor>(.*?)</x:Anchor>", shape, re.S)[1].split(",")
        ]
        found[macro_name] = (caption.strip(), anchor)
    assert set(found) == {RUN_MACRO, IMPORT_MACRO}
    assert found[RUN_MACRO][0] == RUN_CAPTION and found[IMPORT_MACRO][0] == IMPORT_CAPTION
    ws = load_workbook(workbook)[SETTINGS_SHEET]
    settings_header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Setting")
    for _, (col, _dx, row, _dy, col2, _dx2, row2, _dy2) in found.values():
        # anchors are 0-based: both buttons in the first columns, above the settings table
        assert col <= 1 and col2 <= 1
        assert row <= 4 and row2 <= 4 and row2 + 1 < settings_header
    # the width of the columns the buttons span stays within about eight default columns
    widths = [ws.column_dimensions[letter].width for letter in "AB"]
    assert sum(widths[: max(a[4] for _, a in found.values()) + 1]) <= 8 * 8.43 + 1


def test_nothing_says_to_install_auditkit_from_the_index(built):
    workbook, shim = built
    with zipfile.ZipFile(workbook) as archive:
        text = " ".join(
            archive.read(name).decode("utf-8", "replace")
            for name in archive.namelist()
            if not name.endswith(".bin")
        )
    text += shim.read_text() + DOCS.read_text(encoding="utf-8")
    flat = " ".join(text.lower().split())
    assert "pip install auditkit" not in flat
    assert "pip install 'auditkit" not in flat and 'pip install "auditkit' not in flat
    # and says where auditkit comes from instead
    assert r"pip install C:\path\to\auditkit" in _settings_text(workbook)


def test_settings_sheet_says_renaming_breaks_the_macro(built):
    workbook, _ = built
    text = _settings_text(workbook)
    assert "Renaming the workbook" in text and "breaks the button" in text
    assert "monthly_audit.py" in text  # the module the button runs, by name
    assert "rename the .py file the same way" in text
    assert "auditkit excel-template" in text


def test_docs_say_why_the_macro_keeps_its_name():
    docs = DOCS.read_text(encoding="utf-8")
    assert RUN_MACRO in docs and "vbaProject.bin" in docs
    assert "py -3 " in docs and "py -3." not in docs  # no pinned minor version
    assert "Trust access to the VBA project object model" in docs


def test_xlwings_conf_sheet(built):
    workbook, _ = built
    ws = load_workbook(workbook)[CONF_SHEET]
    keys = []
    row = 1
    while ws.cell(row, 1).value:  # xlwings reads A1 down to the first blank cell
        keys.append(str(ws.cell(row, 1).value))
        row += 1
    upper = [k.upper() for k in keys]
    assert len(set(upper)) == len(upper)  # a duplicate key is an error in xlwings
    assert set(upper) == XLWINGS_KEYS
    values = {k.upper(): ws.cell(i + 1, 2).value for i, k in enumerate(keys)}
    assert values["UDF MODULES"] == UDF_MODULE
    assert values["INTERPRETER_WIN"] == r"C:\audit\Scripts\python.exe"
    assert values["USE UDF SERVER"] is False  # RunPython starts a fresh Python each time


def test_entry_module_runs_the_macro(built):
    workbook, shim = built
    assert shim == workbook.with_suffix(".py")
    source = shim.read_text()
    assert source.startswith(SHIM_MARK)
    namespace: dict = {}
    exec(compile(source, str(shim), "exec"), namespace)  # what `import monthly_audit` runs
    assert namespace["main"] is macro.main


def test_entry_module_explains_a_missing_auditkit(built, tmp_path):
    _, shim = built
    # a Python without auditkit: run the module with an empty path and no site packages
    result = subprocess.run(
        [sys.executable, "-S", "-I", "-c", f"exec(open({str(shim)!r}).read())"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "auditkit cannot be imported" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("monthly audit.xlsm", "must work as a Python module name"),
        ("2025-10.xlsm", "must work as a Python module name"),
        ("pandas.xlsm", "is also an installed Python module"),
        ("auditkit.xlsm", "is also an installed Python module"),
        ("audit.xlsx", "must end in .xlsm"),
    ],
)
def test_names_that_cannot_work_are_refused(tmp_path, name, message):
    with pytest.raises(OutputError, match=message):
        build_template(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_workbook_is_kept_unless_forced(tmp_path):
    workbook, _ = build_template(tmp_path / "audit_book.xlsm", interpreters={})
    workbook.write_bytes(b"the user's results")
    with pytest.raises(OutputError, match="already exists"):
        build_template(workbook, interpreters={})
    assert workbook.read_bytes() == b"the user's results"
    build_template(workbook, interpreters={}, force=True)
    assert _part(workbook, "xl/vbaProject.bin") == quickstart_vba()


def test_a_foreign_module_beside_it_is_kept(tmp_path):
    (tmp_path / "audit_book.py").write_text("print('mine')\n")
    with pytest.raises(OutputError, match="not auditkit's entry module"):
        build_template(tmp_path / "audit_book.xlsm", interpreters={})
    assert (tmp_path / "audit_book.py").read_text() == "print('mine')\n"


def test_opens_in_libreoffice(built, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    workbook, _ = built
    profile = (tmp_path / "profile").as_uri()
    for target in ("pdf", "fods"):
        subprocess.run(
            [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", target,
             "--outdir", str(tmp_path), str(workbook)],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    pdf = tmp_path / "monthly_audit.pdf"
    assert pdf.stat().st_size > 5_000
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "auditkit: billing audit" in text and "Export file or folder" in text
    # LibreOffice resolves each button to a macro of the document's VBA project
    flat = (tmp_path / "monthly_audit.fods").read_text(encoding="utf-8")
    bound = set(re.findall(r"vnd\.sun\.star\.script:VBAProject\.(\w+\.\w+)\?", flat))
    assert bound == {f"Module1.{RUN_MACRO}", f"xlwings.{IMPORT_MACRO}"}
