"""The work list from the command line: ``auditkit worklist``, the ``worklist`` array of the audit
JSON, ``--as-of``, ``[deadlines."Payer"]`` and ``[worklist]`` in the config file, and
``auditkit explain worklist``. Hand-written exports; each expected date is worked out from the
rule it cites."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditkit import pipeline
from auditkit.cli import cli
from auditkit.errors import ConfigError
from auditkit.measures.worklist import WORKLIST_COLUMNS

runner = CliRunner()

#: Keys the issue asks every item to have, at least.
REQUIRED = (
    "claim_id",
    "line",
    "payer",
    "provider",
    "cpt",
    "date_of_service",
    "amount",
    "reason",
    "action",
    "deadline_kind",
    "deadline",
    "days_left",
    "rank",
)

EXPORT = """\
Claim #,Line,DOS,Rend Prov,Primary Ins,Proc Code,Chg Amt,Ins Paid,Status,Denial Codes,Paid Date,Submitted Date,Patient ID
M1,1,2026-03-02,Dr. Lee,Medicare,64483,800.00,0,Denied,CO-50,2026-04-01,2026-03-05,P-100
K1,1,2026-03-02,Dr. Lee,Keystone Health,64493,600.00,0,Denied,CO-197,2026-04-10,2026-03-05,P-101
A1,1,2026-05-04,Dr. Ruiz,Aetna,20553,300.00,0,Denied,CO-4,2026-05-20,2026-05-06,P-102
A2,1,2026-05-04,Dr. Ruiz,Aetna,20553,300.00,210.00,Paid,,2026-06-15,2026-05-25,P-102
P1,1,2026-04-01,Dr. Ruiz,Cigna,62323,900.00,0,Pending,,,2026-04-03,P-103
OK1,1,2026-05-01,Dr. Lee,Cigna,99213,120.00,96.00,Paid,,2026-05-20,2026-05-02,P-104
"""


def write_export(tmp_path: Path) -> Path:
    path = tmp_path / "export.csv"
    path.write_text(EXPORT, encoding="utf-8")
    return path


def run(*args: str):
    return runner.invoke(cli, list(args), catch_exceptions=False)


def by_claim(document: dict) -> dict[str, dict]:
    return {item["claim_id"]: item for item in document["worklist"]}


def test_worklist_command_writes_the_ranked_list_as_json(tmp_path: Path) -> None:
    export = write_export(tmp_path)
    out = tmp_path / "w.json"
    result = run("worklist", str(export), "--json", str(out), "--as-of", "2026-06-30")
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    items = document["worklist"]
    for item in items:
        assert set(REQUIRED) <= set(item)
        assert "pos" not in item  # a position in this run's table means nothing outside it
    assert [i["rank"] for i in items] == list(range(1, len(items) + 1))
    got = by_claim(document)
    # A1 (CO-4, a modifier problem) was paid under a new claim, A2, for the same service and
    # patient day: it is not open. OK1 is paid in full.
    assert "A1" not in got and "OK1" not in got and "A2" not in got
    # 42 CFR 405.942(a): 120 days from receipt, receipt presumed 5 days after the notice:
    # 2026-04-01 + 5 = 2026-04-06, + 120 days = 2026-08-04; 35 days after 2026-06-30.
    medicare = got["M1"]
    assert medicare["action"] == "appeal" and medicare["deadline_kind"] == "redetermination"
    assert medicare["deadline"] == "2026-08-04" and medicare["days_left"] == 35
    assert medicare["date_of_service"] == "2026-03-02" and medicare["line"] == 1
    # Commercial default, deadlines.csv: appeal 180 days from the remittance:
    # 2026-04-10 + 180 days = 2026-10-07.
    assert got["K1"]["deadline"] == "2026-10-07" and got["K1"]["action"] == "appeal"
    # Cigna pending since 2026-04-03: past the 30-day default usual time to pay; filing limit
    # (commercial default) 90 days from the date of service: 2026-04-01 + 90 = 2026-06-30.
    assert got["P1"]["action"] == "follow_up" and got["P1"]["deadline"] == "2026-06-30"
    assert got["P1"]["days_left"] == 0
    # The terminal says what the list is worth, each line once.
    total = sum(i["amount"] for i in items if i["action"] != "write_off_review")
    assert f"${total:,.2f} to collect" in result.output


def test_as_of_moves_days_left_by_the_difference(tmp_path: Path) -> None:
    export = write_export(tmp_path)
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert (
        run("worklist", str(export), "--json", str(first), "--as-of", "2026-06-30").exit_code == 0
    )
    assert (
        run("worklist", str(export), "--json", str(second), "--as-of", "2026-07-10").exit_code == 0
    )
    a, b = by_claim(json.loads(first.read_text())), by_claim(json.loads(second.read_text()))
    assert a["M1"]["days_left"] - b["M1"]["days_left"] == 10
    assert json.loads(first.read_text())["summary"]["as_of"] == "2026-06-30"
    # Past its filing deadline on 2026-07-10, but submitted on 2026-04-03, within it: the payer
    # had the claim in time, so it is followed up, not written off.
    assert b["P1"]["action"] == "follow_up" and b["P1"]["days_left"] == -10
    assert "proof of timely filing" in b["P1"]["reason"]


def test_a_bad_as_of_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    result = run(
        "worklist", str(tmp_path / "missing.csv"), "--json", "x.json", "--as-of", "30/06/26"
    )
    assert result.exit_code == 2
    assert "--as-of" in result.output and "YYYY-MM-DD" in result.output
    assert "Traceback" not in result.output


def test_payer_override_from_the_config_file(tmp_path: Path) -> None:
    export = write_export(tmp_path)
    config = tmp_path / "auditkit.toml"
    config.write_text(
        '[deadlines."Keystone Health"]\nappeal = 60\n\n[deadlines."cigna"]\ntimely_filing = 180\n',
        encoding="utf-8",
    )
    out = tmp_path / "w.json"
    result = run(
        "worklist",
        str(export),
        "--json",
        str(out),
        "--as-of",
        "2026-06-30",
        "--config",
        str(config),
    )
    assert result.exit_code == 0, result.output
    got = by_claim(json.loads(out.read_text()))
    # 2026-04-10 + 60 days = 2026-06-09: passed on 2026-06-30, for write-off review.
    assert got["K1"]["deadline"] == "2026-06-09" and got["K1"]["action"] == "write_off_review"
    assert "override" in got["K1"]["deadline_rule"]
    # Payer names match without case: 2026-04-01 + 180 days = 2026-09-28.
    assert got["P1"]["deadline"] == "2026-09-28"
    assert got["M1"]["deadline"] == "2026-08-04"  # other payers keep the table's rules


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('[deadlines."Aetna"]\nappeal = "sixty"\n', ['[deadlines."Aetna"] appeal', "whole number"]),
        ('[deadlines."Aetna"]\nfiling = 90\n', ['[deadlines."Aetna"] filing', "unknown key"]),
        ('[deadlines."Aetna"]\npayer_class = "hmo"\n', ["payer_class", "medicare"]),
        ("[deadlines]\nAetna = 90\n", ["[deadlines] Aetna", "table per payer"]),
        ("[worklist]\nfollow_up_days = 0\n", ["[worklist] follow_up_days", "from 1 to 365"]),
    ],
)
def test_bad_deadline_settings_are_one_line_errors(tmp_path: Path, body: str, words: list) -> None:
    export = write_export(tmp_path)
    config = tmp_path / "auditkit.toml"
    config.write_text(body, encoding="utf-8")
    result = run(
        "worklist", str(export), "--json", str(tmp_path / "w.json"), "--config", str(config)
    )
    assert result.exit_code == 2
    errors = [x for x in result.output.splitlines() if x.startswith("auditkit: error:")]
    assert len(errors) == 1 and "Traceback" not in result.output
    line = errors[0]
    assert str(config) in line
    for word in words:
        assert word in line


def test_follow_up_days_setting(tmp_path: Path) -> None:
    export = write_export(tmp_path)
    config = tmp_path / "auditkit.toml"
    config.write_text("[worklist]\nfollow_up_days = 120\n", encoding="utf-8")
    out = tmp_path / "w.json"
    args = ["worklist", str(export), "--json", str(out), "--as-of", "2026-06-30"]
    assert run(*args, "--config", str(config)).exit_code == 0
    # 88 days since submission is within a 120-day usual time: not yet followed up.
    assert "P1" not in by_claim(json.loads(out.read_text()))


def test_audit_json_has_the_worklist_after_the_findings(tmp_path: Path) -> None:
    export = write_export(tmp_path)
    out = tmp_path / "audit.json"
    result = run("audit", str(export), "--json", str(out), "--as-of", "2026-06-30")
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    document = json.loads(text)
    assert list(document)[-2:] == ["findings", "worklist"]
    assert text.index('"findings"') < text.index('"worklist"')
    assert by_claim(document)["M1"]["deadline"] == "2026-08-04"
    # The streamed document and the one built in memory agree.
    job = pipeline.audit([export], as_of="2026-06-30")
    assert pipeline.to_json(job)["worklist"] == document["worklist"]
    assert set(WORKLIST_COLUMNS) - {"pos"} == set(document["worklist"][0])


def test_an_export_without_status_has_no_worklist(tmp_path: Path) -> None:
    bare = tmp_path / "bare.csv"
    bare.write_text(
        "Claim #,DOS,Rend Prov,Primary Ins,Proc Code,Chg Amt\nB1,2026-01-05,Dr. Lee,Aetna,99213,100\n",
        encoding="utf-8",
    )
    out = tmp_path / "w.json"
    result = run("worklist", str(bare), "--json", str(out))
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["worklist"] == []
    assert "no work list" in result.output


def test_explain_worklist_states_the_formula_and_the_sources() -> None:
    result = run("explain", "worklist")
    assert result.exit_code == 0
    assert "priority = amount / sqrt(max(days_left, 1))" in result.output
    assert "42 CFR 405.942" in result.output and "42 CFR 424.44" in result.output
    assert "follow_up_days" in result.output and "DEFAULT" in result.output
    assert "``" not in result.output


def test_config_deadlines_are_checked_when_loaded() -> None:
    from auditkit.engine.settings import load_settings

    loaded = load_settings({"deadlines": {"Medicare of Ohio": {"redetermination": 120}}})
    assert loaded.deadlines == {"Medicare of Ohio": {"redetermination": 120}}
    with pytest.raises(ConfigError):
        load_settings({"deadlines": {"Aetna": {"appeal": 0}}})


def test_batch_counts_every_client_to_one_as_of_date(tmp_path: Path) -> None:
    clients = tmp_path / "clients"
    for name in ("north", "south"):
        (clients / name).mkdir(parents=True)
        write_export(clients / name)
    out = tmp_path / "out"
    result = run("batch", str(clients), "--out", str(out), "--jobs", "1", "--as-of", "2026-06-30")
    assert result.exit_code == 0, result.output
    for name in ("north", "south"):
        document = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
        assert document["summary"]["as_of"] == "2026-06-30"
        assert by_claim(document)["M1"]["days_left"] == 35


def test_typing_survives_a_worklist_then_audit_rerun_into_the_workbook(tmp_path: Path) -> None:
    """The round trip through the command line: auditkit worklist --out, people type with
    Excel (openpyxl here), auditkit audit --into the same workbook after the export changed:
    the typing stays on its claims and the item that closed keeps its typing elsewhere."""
    from openpyxl import load_workbook

    export = write_export(tmp_path)
    book = tmp_path / "monthly.xlsx"
    args = ["--as-of", "2026-06-30"]
    assert run("worklist", str(export), "--out", str(book), *args).exit_code == 0

    def table(ws):
        (found,) = ws.tables.values()
        rows = list(ws[found.ref])
        headers = [c.value for c in rows[0]]
        return headers, rows[1:]

    wb = load_workbook(book)
    headers, rows = table(wb["Work list"])
    col = {h: i for i, h in enumerate(headers)}
    by_claim = {r[col["Claim"]].value: r for r in rows}
    assert {"M1", "K1", "P1"} <= set(by_claim)
    by_claim["M1"][col["Owner"]].value = "Dana"
    by_claim["M1"][col["Work status"]].value = "Appealed"
    by_claim["P1"][col["Notes"]].value = "@Cigna called, ref 77"
    wb.save(book)

    # P1 got paid since: the export says so.
    export.write_text(
        export.read_text(encoding="utf-8").replace(
            "P1,1,2026-04-01,Dr. Ruiz,Cigna,62323,900.00,0,Pending,,,2026-04-03",
            "P1,1,2026-04-01,Dr. Ruiz,Cigna,62323,900.00,630.00,Paid,,2026-07-01,2026-04-03",
        ),
        encoding="utf-8",
    )
    result = run("audit", str(export), "--into", str(book), "--as-of", "2026-07-05")
    assert result.exit_code == 0, result.output
    wb = load_workbook(book)
    assert "Summary" in wb.sheetnames and "Closed since last run" in wb.sheetnames
    headers, rows = table(wb["Work list"])
    col = {h: i for i, h in enumerate(headers)}
    by_claim = {r[col["Claim"]].value: r for r in rows}
    assert by_claim["M1"][col["Owner"]].value == "Dana"
    assert by_claim["M1"][col["Work status"]].value == "Appealed"
    assert "P1" not in by_claim
    headers, rows = table(wb["Closed since last run"])
    col = {h: i for i, h in enumerate(headers)}
    (closed,) = [r for r in rows if r[col["Claim"]].value == "P1"]
    notes = closed[col["Notes"]]
    assert notes.value == "@Cigna called, ref 77" and notes.data_type == "s"
    assert notes.quotePrefix  # text that looks like a formula stays text in Excel


def test_worklist_into_an_audited_workbook_replaces_only_the_work_list(tmp_path: Path) -> None:
    """auditkit worklist --into a workbook an audit wrote: the Work list is new, the Summary,
    the audit sheets and About from the audit stay as they were."""
    from openpyxl import load_workbook

    export = write_export(tmp_path)
    book = tmp_path / "monthly.xlsx"
    assert run("audit", str(export), "--out", str(book), "--as-of", "2026-06-30").exit_code == 0
    before = load_workbook(book)
    names = before.sheetnames
    summary = [[c.value for c in row] for row in before["Summary"].iter_rows()]
    assert "Summary" in names and "Work list" in names and len(names) > 3
    charts = sorted(n for n in zipfile.ZipFile(book).namelist() if n.startswith("xl/charts/chart"))
    assert charts  # the Summary's charts
    result = run("worklist", str(export), "--into", str(book), "--as-of", "2026-07-10")
    assert result.exit_code == 0, result.output
    after = load_workbook(book)
    assert after.sheetnames == names
    assert [[c.value for c in row] for row in after["Summary"].iter_rows()] == summary
    kept = sorted(n for n in zipfile.ZipFile(book).namelist() if n.startswith("xl/charts/chart"))
    assert len(kept) == len(charts)
    ws = after["Work list"]
    facts = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, 10)}
    assert str(facts["As of"]).startswith("2026-07-10")
