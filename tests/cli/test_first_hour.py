"""Issue 17, the first hour: the distribution name, no silent edges on the command line."""

from __future__ import annotations

import csv
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditkit.cli import cli

ROOT = Path(__file__).resolve().parents[2]
REMITS = ROOT / "tests" / "x12" / "fixtures" / "facet_co4.835"
runner = CliRunner()


def run(*args: object):
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_distribution_name_does_not_collide_and_the_command_stays() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "auditkit-pain"  # PyPI's "auditkit" is another project
    assert project["scripts"] == {"auditkit": "auditkit.cli:main"}
    # nothing reads the distribution's metadata (it would fail under the new name)
    for path in (ROOT / "auditkit").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "metadata.version(" not in text and "pkg_resources" not in text, path


def test_scheduler_hint_installs_the_extra_from_the_folder(
    clients: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the extra were not installed
    result = run("batch", clients, "--out", tmp_path / "o", "--scheduler", "tcp://x:8786")
    assert result.exit_code == 2
    assert "pip install '.[cluster]'" in result.output
    assert "auditkit[cluster]" not in result.output
    assert "--scheduler" in run("batch", "--help").output
    assert "auditkit[cluster]" not in run("batch", "--help").output


def test_readme_never_installs_auditkit_from_the_index() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "auditkit[cluster]" not in readme


def test_audit_without_an_output_says_so_and_exits_2(clean_csv: Path, tmp_path: Path) -> None:
    result = run("audit", clean_csv)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "nothing was written" in lines[0]
    assert all(option in lines[0] for option in ("--out", "--into", "--json"))


def test_template_without_out_exits_2(clean_csv: Path, tmp_path: Path) -> None:
    result = run(
        "audit", clean_csv, "--template", tmp_path / "t.xlsx", "--json", tmp_path / "a.json"
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "nothing was written" in lines[0] and "--out" in lines[0]
    assert not (tmp_path / "a.json").exists()


BAD_ROWS = """Claim #,DOS,Rend Prov,Primary Ins,Proc Code,Mod 1,Units,Dx1,Chg Amt,Ins Paid,Status
C1,01/05/2026,Dr. Clean,Aetna,99213,,1,M54.16,150.00,95.00,Paid
C2,SECRET-DOS,Dr. Clean,Aetna,99214,,1,M54.16,210.00,140.00,Paid
C3,01/07/2026,Dr. Clean,Aetna,99213,,SECRET-U1,M54.16,150.00,95.00,Paid
C4,01/07/2026,Dr. Clean,Aetna,99213,,SECRET-U2,M54.16,150.00,95.00,Paid
C5,01/07/2026,Dr. Clean,Aetna,99213,,1,M54.16,SECRET-AMT,95.00,Paid
C6,01/07/2026,Dr. Clean,Aetna,99213,,1,M54.16,150.00,95.00,Paid
"""


@pytest.mark.parametrize("output", ["--out", "--json"])
def test_unread_rows_are_named_without_their_values(tmp_path: Path, output: str) -> None:
    export = tmp_path / "export.csv"
    export.write_text(BAD_ROWS, encoding="utf-8")
    target = tmp_path / ("a.xlsx" if output == "--out" else "a.json")
    result = run("audit", export, output, target)
    assert result.exit_code == 0, result.output
    assert target.is_file()
    line = next(x for x in result.output.splitlines() if "could not be read" in x)
    assert "export.csv: 4 row(s) could not be read" in line
    assert "row 3 (column 'DOS'), row 4 (column 'Units'), row 5 (column 'Units')" in line
    assert "and 1 more" in line and "About sheet" in line
    assert "SECRET" not in line  # a cell can be patient data


def test_remits_that_match_nothing_do_not_say_joined(clean_csv: Path, tmp_path: Path) -> None:
    result = run("audit", clean_csv, "--remits", REMITS, "--json", tmp_path / "a.json")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("Remittances:"))
    assert "joined" not in line
    assert "none of the 5 remittance lines matched any of the 3 export lines" in line
    assert "nothing filled" in line


def test_remits_that_match_say_how_many_and_what_was_filled(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text(
        "Claim #,DOS,Rend Prov,Primary Ins,Proc Code,Mod 1,Units,Dx1,Chg Amt\n"
        "FAC1001,02/20/2024,Lee Anna,Medicare,64493,,1,M47.816,900.00\n"
        "FAC1001,02/20/2024,Lee Anna,Medicare,64494,,1,M47.816,450.00\n",
        encoding="utf-8",
    )
    result = run("audit", export, "--remits", REMITS, "--json", tmp_path / "a.json")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("Remittances:"))
    assert "2 of the 5 remittance lines matched an export line" in line
    assert "2 of the 2 export lines have a remittance" in line
    assert "filled from the remittances: paid on 2 lines" in line
    assert "nothing filled" not in line


def test_fail_fast_lists_every_client_that_finished(clients: Path, tmp_path: Path) -> None:
    # the broken client first, so it fails while the others are still running
    (clients / "cedar_clinic").rename(clients / "aaa_broken")
    out = tmp_path / "out"
    result = run("batch", clients, "--out", out, "--jobs", "2", "--fail-fast")
    assert result.exit_code == 1
    with open(out / "index.csv", encoding="utf-8") as handle:
        rows = {r["client"]: r for r in csv.DictReader(handle)}
    assert rows["aaa_broken"]["status"] == "error"
    written = {p.stem for p in out.glob("*.xlsx")} - {"index"}
    assert written, "the client running beside the broken one finishes"
    assert written <= set(rows)  # every workbook written is in the index
    assert all(rows[name]["status"] == "ok" and rows[name]["workbook"] for name in written)


def test_into_a_workbook_with_a_users_summary_names_the_sheet_it_used(
    clean_csv: Path, tmp_path: Path
) -> None:
    from openpyxl import Workbook, load_workbook

    book = tmp_path / "monthly.xlsx"
    wb = Workbook()
    wb.active.title = "Summary"
    wb.active["A1"] = "my own numbers"
    wb.active["B2"] = 42
    wb.save(book)
    result = run("audit", clean_csv, "--into", book)
    assert result.exit_code == 0, result.output
    lines = [x for x in result.stderr.splitlines() if "already has a sheet" in x]
    assert "already has a sheet" not in result.stdout  # stdout stays machine-readable
    assert lines == ["your workbook already has a sheet 'Summary'; auditkit's is 'Summary (2)'"]
    after = load_workbook(book)
    assert after["Summary"]["A1"].value == "my own numbers" and after["Summary"]["B2"].value == 42
    assert "Summary (2)" in after.sheetnames
    # a second run replaces auditkit's sheet and says the same again (the user's is still there)
    again = run("audit", clean_csv, "--into", book)
    assert again.exit_code == 0, again.output
    assert "auditkit's is 'Summary (2)'" in again.output
    assert load_workbook(book).sheetnames.count("Summary (2)") == 1
