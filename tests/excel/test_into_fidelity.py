"""``--into`` keeps what openpyxl would flatten, or refuses and leaves the workbook as it was.

Each workbook is a real file: made with openpyxl or XlsxWriter, and where a program that is not
available here (Excel) writes parts those libraries do not, those parts are added to the package
by hand, as Excel writes them.
"""

from __future__ import annotations

import posixpath
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
import xlsxwriter
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.chart import BarChart, Reference

from auditkit.cli import cli

EXPORT = """Claim #,DOS,Rend Prov,Primary Ins,Proc Code,Mod 1,Units,Dx1,Chg Amt,Ins Paid,Status
C1,01/05/2026,Dr. Lee,Aetna,20553,,1,M79.18,180.00,0.00,Denied
C2,01/06/2026,Dr. Lee,Aetna,99214,,1,M54.16,210.00,140.00,Paid
C3,01/07/2026,Dr. Ortiz,Medicare,64483,RT,1,M54.16,900.00,610.00,Paid
"""
RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "charges.csv"
    path.write_text(EXPORT, encoding="utf-8")
    return path


def into(export: Path, workbook: Path, *more: str):
    return CliRunner().invoke(
        cli, ["audit", str(export), "--into", str(workbook), "--quiet", *more]
    )


def _rels(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, target part) of ``part``."""
    folder, name = posixpath.split(part)
    root = ElementTree.fromstring(archive.read(f"{folder}/_rels/{name}.rels"))
    found = {}
    for rel in root.iter(f"{RELS}Relationship"):
        target = rel.get("Target")
        target = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join(folder, target))
        )
        found[rel.get("Id")] = (rel.get("Type").rsplit("/", 1)[1], target)
    return found


def _sheet_part(archive: zipfile.ZipFile, title: str) -> str:
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rid = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    (sheet,) = [s for s in book.iter(f"{main}sheet") if s.get("name") == title]
    return _rels(archive, "xl/workbook.xml")[sheet.get(rid)][1]


def drawing_tree(path: Path, title: str) -> dict[str, bytes]:
    """The drawing of sheet ``title`` and every part it uses, by relationship path (names of
    parts may differ between files; what each relationship leads to must not)."""
    with zipfile.ZipFile(path) as archive:
        sheet = _sheet_part(archive, title)
        ((drawing,),) = [[t for kind, t in _rels(archive, sheet).values() if kind == "drawing"]]
        found = {"drawing": archive.read(drawing)}

        def follow(part: str, key: str) -> None:
            folder, name = posixpath.split(part)
            if f"{folder}/_rels/{name}.rels" not in archive.namelist():
                return
            for rid, (kind, target) in sorted(_rels(archive, part).items()):
                found[f"{key}/{rid}:{kind}"] = archive.read(target)
                follow(target, f"{key}/{rid}")

        follow(drawing, "drawing")
    return found


def content_types(path: Path) -> dict[str, str]:
    """Part name -> content type, for every part of the package."""
    ns = "{http://schemas.openxmlformats.org/package/2006/content-types}"
    with zipfile.ZipFile(path) as archive:
        root = ElementTree.fromstring(archive.read("[Content_Types].xml"))
        names = [n for n in archive.namelist() if not n.endswith("/")]
    overrides = {
        e.get("PartName").lstrip("/"): e.get("ContentType") for e in root.iter(f"{ns}Override")
    }
    defaults = {e.get("Extension"): e.get("ContentType") for e in root.iter(f"{ns}Default")}
    return {n: overrides.get(n) or defaults.get(n.rsplit(".", 1)[-1]) for n in names}


# -- rich text ----------------------------------------------------------------------------------


def _runs(value) -> list[tuple]:
    """A rich text value as (text, bold, italic, underline, colour, size, font) per run."""
    assert isinstance(value, CellRichText), f"flattened to {type(value).__name__}: {value!r}"
    runs = []
    for block in value:
        if isinstance(block, str):
            runs.append((block, None, None, None, None, None, None))
            continue
        f = block.font
        colour = f.color.rgb if f.color is not None else None
        runs.append((block.text, f.b, f.i, f.u, colour, f.sz, f.rFont))
    return runs


def test_rich_text_made_by_openpyxl_is_kept(tmp_path, export):
    path = tmp_path / "notes.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "Notes"
    ws["A1"] = CellRichText(
        TextBlock(InlineFont(b=True, color="FFC00000", rFont="Arial", sz=12), "Denials: "),
        "call Aetna ",
        TextBlock(InlineFont(i=True, u="single"), " before the 15th  "),
    )
    ws["A2"] = "plain text stays plain"
    wb.save(path)
    before = load_workbook(path, rich_text=True)["Notes"]
    expected = _runs(before["A1"].value)

    result = into(export, path)
    assert result.exit_code == 0, result.output
    after = load_workbook(path, rich_text=True)
    assert _runs(after["Notes"]["A1"].value) == expected
    assert after["Notes"]["A2"].value == "plain text stays plain"
    assert "Summary" in after.sheetnames


def test_rich_text_in_shared_strings_is_kept_on_every_run(tmp_path, export):
    """Excel and XlsxWriter keep rich text in the shared strings part, with every run's font."""
    path = tmp_path / "plan.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Plan")
    red = book.add_format({"bold": True, "font_color": "#C00000", "font_name": "Arial"})
    small = book.add_format({"italic": True, "font_size": 8, "underline": 1})
    sheet.write_rich_string("B2", red, "Goal ", "20552 share ", small, "(below 60%)")
    sheet.write_rich_string("B3", "Owner: ", red, "J. Analyst")
    book.close()
    with zipfile.ZipFile(path) as archive:
        assert b"<r><rPr>" in archive.read("xl/sharedStrings.xml")
    original = load_workbook(path, rich_text=True)["Plan"]
    expected = {ref: _runs(original[ref].value) for ref in ("B2", "B3")}

    for _ in range(2):  # the second run rewrites a workbook auditkit wrote into before
        result = into(export, path)
        assert result.exit_code == 0, result.output
        after = load_workbook(path, rich_text=True)["Plan"]
        assert {ref: _runs(after[ref].value) for ref in ("B2", "B3")} == expected


def test_phonetic_guides_are_refused_naming_the_sheet(tmp_path, export):
    """openpyxl drops phonetic guides (furigana) even when it keeps rich text: refuse."""
    plain = tmp_path / "plain.xlsx"
    book = xlsxwriter.Workbook(str(plain))
    book.add_worksheet("Staff").write("A1", "Tanaka")
    book.add_worksheet("Other").write("A1", "other")
    book.close()
    path = tmp_path / "staff.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/sharedStrings.xml":
                data = data.replace(
                    b"<si><t>Tanaka</t></si>",
                    b'<si><t>Tanaka</t><rPh sb="0" eb="6"><t>tanaka</t></rPh>'
                    b'<phoneticPr fontId="1"/></si>',
                )
                assert b"<rPh" in data
            out.writestr(info, data)
    original = path.read_bytes()
    result = into(export, path)
    assert result.exit_code == 2
    message = result.output.strip()
    assert "phonetic guides on sheet 'Staff'" in message and "nothing was written" in message
    assert "\n" not in message
    assert path.read_bytes() == original


def _note_parts(path: Path, title: str) -> tuple[bytes, bytes]:
    """The notes part of sheet ``title`` and the VML drawing that shows them."""
    with zipfile.ZipFile(path) as archive:
        rels = _rels(archive, _sheet_part(archive, title)).values()
        found = {kind: archive.read(target) for kind, target in rels}
    return found["comments"], found["vmlDrawing"]


def test_notes_keep_their_fonts_size_and_visibility(tmp_path, export):
    """openpyxl re-creates a note as plain text in a default, hidden box."""
    path = tmp_path / "review.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Review")
    sheet.write("A1", "Denials")
    sheet.write_comment(
        "A1",
        "Closed on the 5th",
        {"author": "Pat", "font_name": "Arial", "font_size": 12, "visible": True, "width": 300},
    )
    book.close()
    comments, vml = _note_parts(path, "Review")
    assert b'<rFont val="Arial"/>' in comments and b"<x:Visible/>" in vml

    for _ in range(2):
        result = into(export, path)
        assert result.exit_code == 0, result.output
        assert _note_parts(path, "Review") == (comments, vml)
    note = load_workbook(path)["Review"]["A1"].comment
    assert note.text == "Closed on the 5th" and note.author == "Pat"


# -- charts ---------------------------------------------------------------------------------------


def _openpyxl_chart_book(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Trend"
    ws.append(["Month", "Collected"])
    for month, amount in (("Jan", 96_500), ("Feb", 90_000), ("Mar", 99_800)):
        ws.append([month, amount])
    chart = BarChart()
    chart.title = "Collections"
    chart.style = 12
    chart.roundedCorners = True
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=4), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=4))
    ws.add_chart(chart, "D2")
    wb.save(path)
    return path


def test_chart_made_by_openpyxl_keeps_its_style(tmp_path, export):
    path = _openpyxl_chart_book(tmp_path / "trend.xlsx")
    before = drawing_tree(path, "Trend")
    ((chart,),) = [[v for k, v in before.items() if k.endswith(":chart")]]
    assert b'<style val="12"' in chart and b'<roundedCorners val="1"' in chart

    for _ in range(2):
        result = into(export, path)
        assert result.exit_code == 0, result.output
        assert drawing_tree(path, "Trend") == before
    wb = load_workbook(path)
    assert len(wb["Trend"]._charts) == 1 and wb["Summary"]._charts  # auditkit's own charts too


def _excel_2013_chart_book(path: Path) -> Path:
    """A chart as Excel 2013+ saves it: a chart part with its own style and colour parts.

    XlsxWriter writes the workbook and the chart; the style and colour parts (which only Excel
    writes) are added as Excel adds them. The chart part is named chart3.xml, a name the saved
    workbook gives one of auditkit's own charts, so keeping it means renaming it.
    """
    plain = path.with_name("plain_" + path.name)
    book = xlsxwriter.Workbook(str(plain))
    sheet = book.add_worksheet("Dashboard")
    sheet.write_row("A1", ["Payer", "Denied"])
    for row, (payer, rate) in enumerate((("Aetna", 0.12), ("Medicare", 0.05)), start=1):
        sheet.write_row(row, 0, [payer, rate])
    chart = book.add_chart({"type": "column"})
    chart.add_series({"categories": "=Dashboard!$A$2:$A$3", "values": "=Dashboard!$B$2:$B$3"})
    chart.set_style(26)
    sheet.insert_chart("D2", chart, {"description": "Denial rate by payer"})
    book.close()
    style = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<cs:chartStyle xmlns:cs="http://schemas.microsoft.com/office/drawing/2012/chartStyle" '
        b'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" id="286">'
        b'<cs:axisTitle><cs:lnRef idx="0"/><cs:fillRef idx="0"/><cs:effectRef idx="0"/>'
        b'<cs:fontRef idx="minor"><a:schemeClr val="tx1"/></cs:fontRef>'
        b'<cs:defRPr sz="1000" b="1"/></cs:axisTitle></cs:chartStyle>'
    )
    colors = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<cs:colorStyle xmlns:cs="http://schemas.microsoft.com/office/drawing/2012/chartStyle" '
        b'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" meth="withinLinear" '
        b'id="14"><a:schemeClr val="accent2"/></cs:colorStyle>'
    )
    chart_rels = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId2" Type="http://schemas.microsoft.com/office/2011/relationships/'
        b'chartColorStyle" Target="colors1.xml"/>'
        b'<Relationship Id="rId1" Type="http://schemas.microsoft.com/office/2011/relationships/'
        b'chartStyle" Target="style1.xml"/></Relationships>'
    )
    overrides = (
        b'<Override PartName="/xl/charts/style1.xml" '
        b'ContentType="application/vnd.ms-office.chartstyle+xml"/>'
        b'<Override PartName="/xl/charts/colors1.xml" '
        b'ContentType="application/vnd.ms-office.chartcolorstyle+xml"/></Types>'
    )
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            name = info.filename
            if name == "xl/charts/chart1.xml":
                name = "xl/charts/chart3.xml"
            elif name == "xl/drawings/_rels/drawing1.xml.rels":
                data = data.replace(b"charts/chart1.xml", b"charts/chart3.xml")
            elif name == "[Content_Types].xml":
                data = data.replace(b"/xl/charts/chart1.xml", b"/xl/charts/chart3.xml")
                data = data.replace(b"</Types>", overrides)
            out.writestr(name, data)
        out.writestr("xl/charts/_rels/chart3.xml.rels", chart_rels)
        out.writestr("xl/charts/style1.xml", style)
        out.writestr("xl/charts/colors1.xml", colors)
    plain.unlink()
    return path


def test_excel_chart_keeps_its_style_and_colour_parts(tmp_path, export):
    path = _excel_2013_chart_book(tmp_path / "dashboard.xlsx")
    before = drawing_tree(path, "Dashboard")
    assert sorted(k.rsplit(":", 1)[-1] for k in before) == [
        "chart",
        "chartColorStyle",
        "chartStyle",
        "drawing",
    ]
    assert b'descr="Denial rate by payer"' in before["drawing"]  # alt text, in the frame
    for _ in range(2):
        result = into(export, path)
        assert result.exit_code == 0, result.output
        assert drawing_tree(path, "Dashboard") == before
        types = content_types(path)
        assert None not in types.values()  # every part has a content type
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            assert archive.testzip() is None
        assert len({n.lower() for n in names}) == len(names)  # no part twice
        kinds = sorted(t for n, t in types.items() if n.startswith("xl/charts/"))
        assert kinds.count("application/vnd.ms-office.chartstyle+xml") == 1
        assert kinds.count("application/vnd.ms-office.chartcolorstyle+xml") == 1
        # the kept chart, auditkit's three Summary charts, and nothing openpyxl left behind
        charts = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
        assert kinds.count(charts) == 4
    wb = load_workbook(path)
    assert len(wb["Dashboard"]._charts) == 1


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_kept_chart_opens_in_libreoffice(tmp_path, export):
    """LibreOffice reads the workbook and finds the kept chart with its style."""
    path = _excel_2013_chart_book(tmp_path / "dashboard.xlsx")
    assert into(export, path).exit_code == 0
    out = tmp_path / "converted"
    done = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (chart,) = load_workbook(out / path.name)["Dashboard"]._charts
    (series,) = chart.series
    assert series.val.numRef.f.replace("'", "") == "Dashboard!$B$2:$B$3"


def test_shapes_are_refused_naming_the_sheet(tmp_path, export):
    path = tmp_path / "plan.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Data").write("A1", 1)
    book.add_worksheet("Plan").insert_textbox("B2", "Call the payer")
    book.close()
    original = path.read_bytes()
    result = into(export, path)
    assert result.exit_code == 2
    assert "shapes or text boxes on sheet 'Plan'" in result.output
    assert path.read_bytes() == original
