"""`auditkit batch` when a client brings trouble (issue 18): a client whose process dies fails
alone and the index is still written; output names never clash; the index agrees with each
client's JSON; and client names are written to the index as text, never as formulas."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from auditkit import batch
from auditkit.cli import cli
from auditkit.errors import OutputError

runner = CliRunner()

HEADER = "Claim #,DOS,Rend Prov,Primary Ins,Proc Code,Mod 1,Units,Dx1,Chg Amt,Ins Paid,Status\n"


def export(lines: int, first: int = 1) -> str:
    """A clean charge export of ``lines`` lines (each its own claim)."""
    rows = [
        f"C{first + i},01/{5 + i % 20:02d}/2026,Dr. Clean,Aetna,99213,,1,M54.16,150.00,95.00,Paid"
        for i in range(lines)
    ]
    return HEADER + "\n".join(rows) + "\n"


def client(root: Path, name: str, lines: int = 3, file: str = "charges.csv") -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file).write_text(export(lines), encoding="utf-8")
    return folder


def run(*args: object):
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


def index(out: Path) -> list[dict[str, str]]:
    with open(out / "index.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def far_cell_workbook(path: Path) -> Path:
    """A workbook with one cell at XFD200000: calamine would abort the process reading it."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{main}" xmlns:r="{rels}"><sheets>'
            '<sheet name="Charges" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{package}"><Relationship Id="rId1" '
            f'Type="{rels}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{main}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
            'Claim #</t></is></c></row><row r="200000"><c r="XFD200000"><v>1</v></c></row>'
            "</sheetData></worksheet>",
        )
    return path


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_client_whose_process_aborts_fails_alone(
    jobs: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "clients"
    for name, lines in (("alpha", 3), ("boom", 4), ("cedar", 5)):
        client(root, name, lines)
    # the documented test hook: the audit of "boom" calls os.abort(), a real SIGABRT
    monkeypatch.setenv(batch.TEST_CRASH_ENV, "boom=abort")
    result = run("batch", root, "--out", tmp_path / "out", "--jobs", jobs)
    assert result.exit_code == 1, result.output
    rows = {r["client"]: r for r in index(tmp_path / "out")}
    assert list(rows) == ["alpha", "boom", "cedar"]
    assert rows["alpha"]["status"] == rows["cedar"]["status"] == "ok"
    assert (rows["alpha"]["lines"], rows["cedar"]["lines"]) == ("3", "5")
    boom = rows["boom"]
    assert boom["status"] == "error" and boom["workbook"] == ""
    assert "the process auditing this client died (stopped by SIGABRT)" in boom["error"]
    assert "\n" not in boom["error"]
    assert not (tmp_path / "out" / "boom.json").exists()
    assert (tmp_path / "out" / "cedar.xlsx").is_file()
    assert (tmp_path / "out" / "index.xlsx").is_file()
    assert "2 client(s) audited, 1 failed" in result.output


def test_a_client_that_runs_out_of_memory_fails_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "clients"
    client(root, "alpha")
    client(root, "heavy")
    monkeypatch.setenv(batch.TEST_CRASH_ENV, "heavy=memory")
    result = run("batch", root, "--out", tmp_path / "out", "--jobs", "2")
    assert result.exit_code == 1, result.output
    rows = {r["client"]: r for r in index(tmp_path / "out")}
    assert rows["alpha"]["status"] == "ok"
    assert rows["heavy"]["error"].startswith("ran out of memory while auditing this client")


def test_a_crafted_workbook_fails_its_client_with_one_line(tmp_path: Path) -> None:
    root = tmp_path / "clients"
    client(root, "alpha")
    folder = root / "beacon"
    folder.mkdir()
    crafted = far_cell_workbook(folder / "charges.xlsx")
    result = run("batch", root, "--out", tmp_path / "out", "--jobs", "2")
    assert result.exit_code == 1, result.output
    rows = {r["client"]: r for r in index(tmp_path / "out")}
    assert rows["alpha"]["status"] == "ok"
    error = rows["beacon"]["error"]
    assert error.startswith(f"{crafted}: sheet 'Charges' reaches cell XFD200000")
    assert "refusing to open it" in error


def test_names_that_clean_alike_get_distinct_outputs(tmp_path: Path) -> None:
    root = tmp_path / "clients"
    # each client a different size, so whose file is whose can be told apart
    client(root, "a b", 2)
    client(root, "a_b", 3)
    client(root, "A_B", 4)
    client(root, "index", 5)  # the batch index is index.xlsx
    (root / "a-b.csv").write_text(export(6), encoding="utf-8")  # a loose export file
    result = run("batch", root, "--out", tmp_path / "out", "--jobs", "2")
    assert result.exit_code == 0, result.output
    first = index(tmp_path / "out")
    outputs = {r["client"]: (r["workbook"], r["json"], r["lines"]) for r in first}
    assert outputs == {
        "a b": ("a_b.xlsx", "a_b.json", "2"),
        "A_B": ("A_B-2.xlsx", "A_B-2.json", "4"),
        "a_b": ("a_b-3.xlsx", "a_b-3.json", "3"),
        "a-b": ("a-b.xlsx", "a-b.json", "6"),
        "index": ("index-2.xlsx", "index-2.json", "5"),
    }
    for workbook, document, lines in outputs.values():
        assert (tmp_path / "out" / workbook).is_file()
        summary = json.loads((tmp_path / "out" / document).read_text(encoding="utf-8"))
        assert summary["summary"]["lines"] == int(lines)
    # the batch index is still the index
    assert openpyxl.load_workbook(tmp_path / "out" / "index.xlsx").sheetnames == ["Clients"]
    # deterministic: a second run gives every client the same names
    run("batch", root, "--out", tmp_path / "again", "--jobs", "1")
    again = {r["client"]: (r["workbook"], r["json"]) for r in index(tmp_path / "again")}
    assert again == {name: names[:2] for name, names in outputs.items()}


def test_index_counts_match_each_clients_json(tmp_path: Path) -> None:
    root = tmp_path / "clients"
    client(root, "alpha", 7)
    beacon = client(root, "beacon", 4)
    (beacon / "more.csv").write_text(export(5, first=100), encoding="utf-8")
    client(root, "cedar", 2)
    (root / "cedar" / "auths.csv").write_text(
        "Auth #,Patient Acct,Payer,CPT,Units Authorized,Start,End\n", encoding="utf-8"
    )
    result = run("batch", root, "--out", tmp_path / "out", "--jobs", "2")
    assert result.exit_code in (0, 1), result.output
    rows = index(tmp_path / "out")
    assert [r["client"] for r in rows] == ["alpha", "beacon", "cedar"]
    for row in rows:
        if row["status"] != "ok":
            continue
        document = json.loads((tmp_path / "out" / row["json"]).read_text(encoding="utf-8"))
        exports = [i for i in document["inputs"] if "auth" not in Path(i["path"]).name]
        assert int(row["lines"]) == document["summary"]["lines"]
        assert int(row["lines"]) == sum(i["rows"] for i in exports)
        assert int(row["files"]) == len(exports)
        assert int(row["claims"]) == document["summary"]["claims"]
    by_name = {r["client"]: r for r in rows}
    assert (by_name["alpha"]["lines"], by_name["beacon"]["lines"]) == ("7", "9")


FORMULA_NAMES = [
    '=HYPERLINK("https:evil.example","y")',
    "+cmd|' -C calc'!A0",
    "@SUM(1)",
    "-2+3",
]


def test_client_names_are_text_in_the_index_never_formulas(tmp_path: Path) -> None:
    root = tmp_path / "clients"
    for name in FORMULA_NAMES[:3]:
        client(root, name)
    (root / FORMULA_NAMES[3]).mkdir()  # no exports: its error starts with its name
    (root / "=1+2.csv").write_text(export(2), encoding="utf-8")  # a loose file
    result = run("batch", root, "--out", tmp_path / "out", "--jobs", "2")
    assert result.exit_code == 1, result.output
    names = [*FORMULA_NAMES, "=1+2"]
    rows = index(tmp_path / "out")
    # CSV: a leading apostrophe, so a spreadsheet opening the CSV shows the text
    assert sorted(r["client"] for r in rows) == sorted("'" + n for n in names)
    failed = next(r for r in rows if r["client"] == "'-2+3")
    assert failed["error"].startswith("'-2+3: no export files")
    for row in rows:
        for value in (row["workbook"], row["json"]):
            assert value == "" or value[0].isalnum()
    # workbook: the same names, as string cells
    sheet = openpyxl.load_workbook(tmp_path / "out" / "index.xlsx")["Clients"]
    header = [c.value for c in sheet[1]]
    cells = [row[header.index("client")] for row in sheet.iter_rows(min_row=2)]
    assert sorted(c.value for c in cells) == sorted(names)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
    errors = [row[header.index("error")] for row in sheet.iter_rows(min_row=2)]
    assert any(str(c.value).startswith("-2+3: no export files") for c in errors)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_dask_worker_that_dies_fails_its_client_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dask = pytest.importorskip("dask", reason="the cluster extra is not installed")
    distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed")
    root = tmp_path / "clients"
    client(root, "alpha", 3)
    client(root, "boom", 4)
    client(root, "cedar", 5)
    # worker processes start after this, so they see the hook
    monkeypatch.setenv(batch.TEST_CRASH_ENV, "boom=abort")
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
    ):
        result = run(
            "batch", root, "--out", tmp_path / "out", "--scheduler", cluster.scheduler_address
        )
    assert result.exit_code == 1, result.output
    rows = {r["client"]: r for r in index(tmp_path / "out")}
    assert {k: r["status"] for k, r in rows.items()} == {
        "alpha": "ok",
        "boom": "error",
        "cedar": "ok",
    }
    assert "Dask gave up on it: KilledWorker" in rows["boom"]["error"]
    assert (tmp_path / "out" / "cedar.xlsx").is_file()


@pytest.mark.parametrize("jobs", [1, 2])
def test_fail_fast_stops_and_still_writes_the_index(jobs: int, tmp_path: Path) -> None:
    root = tmp_path / "clients"
    (root / "a_empty").mkdir(parents=True)  # no exports: fails at once
    for name in ("b", "c", "d"):
        client(root, name)
    result = run("batch", root, "--out", tmp_path / "out", "--jobs", jobs, "--fail-fast")
    assert result.exit_code == 1, result.output
    rows = index(tmp_path / "out")
    assert rows[0]["client"] == "a_empty" and rows[0]["status"] == "error"
    assert len(rows) <= jobs  # the clients running when it failed, none started after
    assert "stopped at the first failure" in result.output


# --------------------------------------------------------------------------------------------
# the index is written whole: index.csv and index.xlsx both, or neither


def _snapshot(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def test_index_csv_is_kept_when_index_xlsx_cannot_be_written(tmp_path: Path) -> None:
    root = tmp_path / "clients"
    client(root, "alder", 2)
    out = tmp_path / "out"
    assert run("batch", root, "--out", out, "--jobs", "1").exit_code == 0
    before = _snapshot(out)
    assert index(out)[0]["lines"] == "2"
    # The next run has other data; index.xlsx turns read-only while the clients are audited
    # (after the preflight, as when someone opens it in a program that locks it).
    (root / "alder" / "charges.csv").write_text(export(4), encoding="utf-8")
    xlsx = out / "index.xlsx"

    def lock(outcome: batch.ClientOutcome, done: int, total: int) -> None:
        xlsx.chmod(0o444)

    try:
        with pytest.raises(OutputError) as caught:
            batch.run_batch(root, out, jobs=1, notify=lock)
    finally:
        xlsx.chmod(0o644)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{xlsx}: is read-only"), message
    # neither index file was replaced (the client's own files were: they are written as it runs)
    after = _snapshot(out)
    assert after["index.csv"] == before["index.csv"]
    assert after["index.xlsx"] == before["index.xlsx"]
    assert after["alder.json"] != before["alder.json"]
    assert not [name for name in after if name.startswith(".")]  # no temporary file left


def test_read_only_index_xlsx_is_refused_before_any_work(tmp_path: Path) -> None:
    root = tmp_path / "clients"
    client(root, "birch", 2)
    out = tmp_path / "out"
    assert run("batch", root, "--out", out, "--jobs", "1").exit_code == 0
    before = _snapshot(out)
    (root / "birch" / "charges.csv").write_text(export(5), encoding="utf-8")
    (out / "index.xlsx").chmod(0o444)
    try:
        result = run("batch", root, "--out", out, "--jobs", "1")
    finally:
        (out / "index.xlsx").chmod(0o644)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "index.xlsx: is read-only" in lines[0], result.output
    assert _snapshot(out) == before


def test_batch_help_says_how_output_names_are_made(tmp_path: Path) -> None:
    shown = " ".join(run("batch", "--help").output.split())
    assert "CLIENT is the folder's name (a loose file's name without its extension)" in shown
    assert "made '_' ('a b' -> a_b)" in shown
    assert "Clients are taken in name order" in shown
    assert "gets -2, -3, ... (a_b-2.xlsx)" in shown
    # and the example in it is what a batch does
    root = tmp_path / "clients"
    client(root, "a b")
    client(root, "a_b")
    result = run("batch", root, "--out", tmp_path / "out", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert {r["client"]: r["workbook"] for r in index(tmp_path / "out")} == {
        "a b": "a_b.xlsx",
        "a_b": "a_b-2.xlsx",
    }
