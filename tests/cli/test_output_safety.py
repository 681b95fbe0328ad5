"""No run loses a file of the user's: inputs are never outputs, a refused write writes nothing,
read-only files are refused, symlinks are followed.

Every input is a real file written here; the commands run through click's runner.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path

import pytest
import xlsxwriter
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from auditkit import fileio, pipeline
from auditkit.cli import cli
from auditkit.errors import OutputError
from auditkit.excel.template import SHIM_MARK

EXPORT = """Claim #,DOS,Rend Prov,Primary Ins,Proc Code,Mod 1,Units,Dx1,Chg Amt,Ins Paid,Status
C1,01/05/2026,Dr. Lee,Aetna,20553,,1,M79.18,180.00,0.00,Denied
C2,01/06/2026,Dr. Lee,Aetna,99214,,1,M54.16,210.00,140.00,Paid
C3,01/07/2026,Dr. Ortiz,Medicare,64483,RT,1,M54.16,900.00,610.00,Paid
"""
OLD_JSON = b'{"from": "last month"}\n'


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def refused(result, *words: str) -> str:
    """The one-line message of a refused run (exit 2), checked to contain ``words``."""
    assert result.exit_code == 2, result.output
    message = result.output.strip()
    assert message.startswith("auditkit: error: ") and "\n" not in message, message
    for word in words:
        assert word in message, message
    return message


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "charges.csv"
    path.write_text(EXPORT, encoding="utf-8")
    return path


def xlsx_export(path: Path) -> Path:
    wb = Workbook()
    for line in EXPORT.splitlines():
        wb.active.append(line.split(","))
    wb.save(path)
    return path


def png(width: int = 2, height: int = 2) -> bytes:
    """A real PNG image (grey pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def workbook_with(path: Path, extra) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Plan")
    sheet.write_row("A1", ["Month", "Collected"])
    sheet.write_row("A2", ["Jan", 96_500])
    extra(book, sheet, path)
    book.close()
    return path


def _picture(book, sheet, path: Path) -> None:
    image = path.with_suffix(".png")
    image.write_bytes(png())
    sheet.insert_image("D2", str(image))


def _data_bars(book, sheet, path: Path) -> None:
    # An Excel 2010 data bar: openpyxl would drop its extension while loading.
    sheet.conditional_format("B2:B2", {"type": "data_bar", "data_bar_2010": True})


# -- an output naming an input -------------------------------------------------------------------


def test_out_naming_the_export_is_refused(tmp_path):
    source = xlsx_export(tmp_path / "charges.xlsx")
    original = source.read_bytes()
    refused(run("audit", source, "--out", source), "--out names an input", "(the export)")
    (tmp_path / "sub").mkdir()
    other_spelling = tmp_path / "sub" / ".." / "charges.xlsx"
    refused(run("audit", source, "--out", other_spelling), "--out names an input")
    assert source.read_bytes() == original


SIDE_INPUTS = {
    "--remits": ("era.835", "ISA*00*          *00*          *ZZ*PAYER~", "a remittance"),
    "--auths": ("auths.csv", "Patient,Auth #,CPT\nA,1,64483\n", "the authorization export"),
    "--fee-schedule": ("fees.csv", "Payer,CPT,Allowed\nAetna,99214,120\n", "the fee schedule"),
    "--mapping": ("pm.toml", '[columns]\nclaim_id = "Claim #"\n', "the mapping"),
    "--config": ("auditkit.toml", "[tpi-ratio]\n", "the config"),
    "--ptp": ("ptp.txt", "Column 1\tColumn 2\n64483\t64493\n", "a PTP edit file"),
    "--mue": ("mue.txt", "HCPCS\tMUE\n64483\t1\n", "the MUE file"),
}


@pytest.mark.parametrize("option", sorted(SIDE_INPUTS))
def test_json_naming_any_input_is_refused(tmp_path, export, option):
    name, text, role = SIDE_INPUTS[option]
    side = tmp_path / name
    side.write_text(text, encoding="utf-8")
    original = side.read_bytes()
    refused(run("audit", export, option, side, "--json", side), f"({role})", "nothing was written")
    assert side.read_bytes() == original


def test_json_and_parquet_naming_the_export_are_refused(tmp_path, export):
    refused(run("audit", export, "--json", export), "--json names an input", "(the export)")
    refused(run("audit", export, "--findings-parquet", export), "--findings-parquet names")
    assert export.read_text(encoding="utf-8") == EXPORT


def test_out_naming_the_template_is_refused(tmp_path, export):
    template = tmp_path / "brand.xlsx"
    Workbook().save(template)
    original = template.read_bytes()
    refused(run("audit", export, "--template", template, "--out", template), "(the template)")
    assert template.read_bytes() == original


def test_output_reaching_an_input_through_a_symlink_is_refused(tmp_path, export):
    link = tmp_path / "audit.json"
    link.symlink_to(export)
    refused(run("audit", export, "--json", link), "(the export)")
    assert export.read_text(encoding="utf-8") == EXPORT and link.is_symlink()


def test_two_outputs_naming_one_file_are_refused(tmp_path, export):
    both = tmp_path / "audit.xlsx"
    refused(run("audit", export, "--json", both, "--out", both), "both --json and --out")
    assert not both.exists()
    existing = workbook_with(tmp_path / "monthly.xlsx", lambda *a: None)
    original = existing.read_bytes()
    refused(run("audit", export, "--json", existing, "--into", existing), "both --into and --json")
    assert existing.read_bytes() == original


# -- a refused write writes nothing -----------------------------------------------------------


def test_refused_into_before_the_audit_writes_no_json(tmp_path, export):
    pics = workbook_with(tmp_path / "pics.xlsx", _picture)
    original = pics.read_bytes()
    new_json = tmp_path / "new.json"
    refused(run("audit", export, "--json", new_json, "--into", pics), "pictures on sheet 'Plan'")
    assert not new_json.exists()
    old_json = tmp_path / "old.json"
    old_json.write_bytes(OLD_JSON)
    refused(run("audit", export, "--json", old_json, "--into", pics), "pictures")
    assert old_json.read_bytes() == OLD_JSON
    assert pics.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["charges.csv", "old.json", "pics.png", "pics.xlsx"]
    )  # no temporary file left behind


def test_refused_into_while_writing_replaces_no_other_output(tmp_path, export):
    """Data bars are found only when openpyxl loads the workbook, after the JSON and Parquet
    files were made: those stay in their temporary files and are thrown away."""
    bars = workbook_with(tmp_path / "bars.xlsx", _data_bars)
    original = bars.read_bytes()
    old_json = tmp_path / "audit.json"
    old_json.write_bytes(OLD_JSON)
    parquet = tmp_path / "findings.parquet"
    result = run(
        "audit", export, "--json", old_json, "--findings-parquet", parquet, "--into", bars, "-q"
    )
    refused(result, "extension", "nothing was written")
    assert old_json.read_bytes() == OLD_JSON
    assert not parquet.exists()
    assert bars.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.json", "bars.xlsx", "charges.csv"]


def test_a_target_made_read_only_during_the_run_stops_every_output(tmp_path, export):
    """The last check before anything is replaced sees each target as it is then."""
    job = pipeline.audit([export])
    old_json = tmp_path / "audit.json"
    old_json.write_bytes(OLD_JSON)
    book = tmp_path / "audit.xlsx"

    def progress(stage: str, detail: str) -> None:
        if detail == str(book):  # the JSON is written, the workbook is next
            old_json.chmod(0o444)

    with pytest.raises(OutputError, match="read-only"):
        pipeline.write_outputs(job, json_path=old_json, out=book, progress=progress)
    assert old_json.read_bytes() == OLD_JSON and not book.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.json", "charges.csv"]


def test_failed_replace_puts_back_the_outputs_already_replaced(tmp_path, export, monkeypatch):
    """A replace refused by the system at the last step (a file locked on Windows, which cannot
    be made to happen here, hence the patched os.replace) puts back what was replaced."""
    job = pipeline.audit([export])
    old_json = tmp_path / "audit.json"
    old_json.write_bytes(OLD_JSON)
    book = tmp_path / "audit.xlsx"
    real_replace = os.replace

    def locked(src, dst):
        if Path(dst).name == "audit.xlsx":
            raise PermissionError(13, "Permission denied")
        real_replace(src, dst)

    monkeypatch.setattr(fileio.os, "replace", locked)
    with pytest.raises(OutputError, match="permission denied") as caught:
        pipeline.write_outputs(job, json_path=old_json, out=book)
    assert "\n" not in str(caught.value) and "nor were the other outputs" in str(caught.value)
    assert old_json.read_bytes() == OLD_JSON and not book.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.json", "charges.csv"]


# -- read-only targets and symlinks --------------------------------------------------------------


@pytest.mark.parametrize("option", ["--json", "--out", "--into"])
def test_read_only_target_is_refused_and_unchanged(tmp_path, export, option):
    target = tmp_path / ("kept.json" if option == "--json" else "kept.xlsx")
    if option == "--json":
        target.write_bytes(OLD_JSON)
    else:
        workbook_with(target, lambda *a: None)
    original = target.read_bytes()
    target.chmod(0o444)
    message = refused(run("audit", export, option, target), "read-only", "make it writable")
    assert str(target) in message
    assert target.read_bytes() == original and target.stat().st_mode & 0o777 == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["charges.csv", target.name]


def test_symlinked_targets_update_the_files_they_point_to(tmp_path, export):
    shared = tmp_path / "shared"
    shared.mkdir()
    real_json = shared / "audit.json"
    real_json.write_bytes(OLD_JSON)
    real_book = workbook_with(shared / "monthly.xlsx", lambda *a: None)
    json_link = tmp_path / "latest.json"
    json_link.symlink_to(real_json)
    book_link = tmp_path / "monthly.xlsx"
    book_link.symlink_to(real_book)
    out_link = tmp_path / "new.xlsx"
    out_link.symlink_to(shared / "new.xlsx")  # a link to a file not made yet

    result = run("audit", export, "--json", json_link, "--into", book_link, "--quiet")
    assert result.exit_code == 0, result.output
    assert json_link.is_symlink() and book_link.is_symlink()
    assert json.loads(real_json.read_text(encoding="utf-8"))["findings"] is not None
    assert "Summary" in load_workbook(real_book).sheetnames
    result = run("audit", export, "--out", out_link, "--quiet")
    assert result.exit_code == 0, result.output
    assert out_link.is_symlink() and "About" in load_workbook(shared / "new.xlsx").sheetnames
    assert sorted(p.name for p in shared.iterdir()) == ["audit.json", "monthly.xlsx", "new.xlsx"]


# -- batch --------------------------------------------------------------------------------------


def test_batch_never_writes_over_a_client_export(tmp_path):
    clients = tmp_path / "clients"
    clients.mkdir()
    acme = xlsx_export(clients / "acme.xlsx")  # a loose export: client "acme" -> acme.xlsx
    original = acme.read_bytes()
    (clients / "beta.csv").write_text(EXPORT, encoding="utf-8")
    result = run("batch", clients, "--out", clients, "--jobs", "1", "--quiet")
    assert result.exit_code == 1, result.output  # one client failed, the batch went on
    assert acme.read_bytes() == original
    with open(clients / "index.csv", encoding="utf-8") as handle:
        rows = {r.split(",")[0]: r for r in handle.read().splitlines()[1:]}
    assert "names an input of this run (a file this batch reads)" in rows["acme"]
    assert rows["beta"].startswith("beta,ok")


def test_batch_whose_index_would_replace_an_export_is_refused(tmp_path):
    clients = tmp_path / "clients"
    clients.mkdir()
    index = clients / "index.csv"
    index.write_text(EXPORT, encoding="utf-8")
    refused(
        run("batch", clients, "--out", clients, "--jobs", "1"), "the batch index names an input"
    )
    assert index.read_text(encoding="utf-8") == EXPORT
    assert sorted(p.name for p in clients.iterdir()) == ["index.csv"]


def test_excel_template_writes_its_two_files_together_or_neither(tmp_path):
    module = tmp_path / "monthly.py"
    module.write_text(f"{SHIM_MARK}\n", encoding="utf-8")  # auditkit's, so it may be replaced
    module.chmod(0o444)
    refused(run("excel-template", tmp_path / "monthly.xlsm"), "monthly.py", "read-only")
    assert not (tmp_path / "monthly.xlsm").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["monthly.py"]
