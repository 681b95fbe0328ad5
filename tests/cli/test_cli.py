"""The command line, driven through click's runner: files written and exit codes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from auditkit.cli import cli

runner = CliRunner()


def run(*args: str):
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_help_has_example_and_exit_codes() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "Exit codes" in result.output
    assert "Example" in result.output
    # test_every_command_help_has_an_example covers every registered command: these among them.
    known = {"columns", "audit", "batch", "audits", "explain", "init", "excel-template"}
    assert known <= set(cli.commands)


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_help_has_an_example(command: str) -> None:
    sub = run(command, "--help")
    assert sub.exit_code == 0, command
    assert "Example" in sub.output, f"{command} --help has no example"


def test_columns_json_maps_every_sample(medirev, practiflow, clinicore) -> None:
    result = run("columns", medirev, practiflow, clinicore, "--json")
    assert result.exit_code == 0, result.output
    files = json.loads(result.output)["files"]
    assert len(files) == 3
    for entry in files:
        assert entry["missing_required"] == []
        assert entry["unmapped_headers"] == [], entry["path"]
        assert {"claim_id", "cpt", "payer", "rendering_provider", "date_of_service"} <= set(
            entry["mapping"]
        )


def test_audit_writes_json_in_the_documented_shape(medirev, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    result = run("audit", medirev, "--json", out, "--quiet")
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data) >= {"auditkit_version", "inputs", "summary", "audits", "findings"}
    assert data["inputs"][0]["rows"] >= 2000
    summary = data["summary"]
    assert summary["lines"] == data["inputs"][0]["rows"]
    for rate in ("clean_claim_rate", "denial_rate"):
        assert summary[rate] is None or 0 <= summary[rate] <= 1
    ids = {a["id"] for a in data["audits"]}
    assert {"tpi-ratio", "paid-vs-denied", "clean-claim-rate"} <= ids
    for audit in data["audits"]:
        assert audit["status"] in ("ran", "skipped")
    assert data["findings"], "the sample has planted patterns"
    keys = {"audit", "severity", "scope", "provider", "payer", "cpt", "claim_id", "line"}
    keys |= {"dollars_at_risk", "message", "fix"}
    for finding in data["findings"]:
        assert keys <= set(finding)
        assert finding["severity"] in ("high", "medium", "low", "info")


def test_fail_on_high_exits_1_on_planted_sample(medirev, tmp_path: Path) -> None:
    result = run("audit", medirev, "--json", tmp_path / "a.json", "--fail-on", "high", "-q")
    assert result.exit_code == 1


def test_fail_on_high_exits_0_when_clean(clean_csv, tmp_path: Path) -> None:
    result = run("audit", clean_csv, "--json", tmp_path / "a.json", "--fail-on", "high", "-q")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "a.json").read_text())["inputs"][0]["rows"] == 3


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Name,Amount\nx,1\n", encoding="utf-8")
    result = runner.invoke(cli, ["audit", str(bad), "--json", str(tmp_path / "o.json"), "-q"])
    assert result.exit_code == 2
    message = result.output.strip().splitlines()
    assert len(message) == 1 and "bad.csv" in message[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "o.json").exists()


def test_unknown_option_is_usage_error() -> None:
    assert runner.invoke(cli, ["audit", "--nope"]).exit_code == 2


def test_init_writes_a_config_that_audit_accepts(clean_csv, tmp_path: Path) -> None:
    config = tmp_path / "auditkit.toml"
    assert run("init", config).exit_code == 0
    text = config.read_text(encoding="utf-8")
    assert "[tpi-ratio]" in text and "#" in text
    assert run("init", config).exit_code == 2  # will not overwrite
    result = run("audit", clean_csv, "--config", config, "--json", tmp_path / "o.json", "-q")
    assert result.exit_code == 0, result.output


def test_config_with_unknown_key_names_it(clean_csv, tmp_path: Path) -> None:
    config = tmp_path / "auditkit.toml"
    config.write_text("[tpi-ratio]\nno_such_threshold = 3\n", encoding="utf-8")
    result = runner.invoke(
        cli, ["audit", str(clean_csv), "--config", str(config), "--json", str(tmp_path / "a.json")]
    )
    assert result.exit_code == 2
    assert "no_such_threshold" in result.output


def test_audits_and_explain() -> None:
    listing = run("audits")
    assert listing.exit_code == 0
    for audit_id in ("tpi-ratio", "paid-vs-denied", "clean-claim-rate"):
        assert audit_id in listing.output
    doc = run("explain", "tpi-ratio")
    assert doc.exit_code == 0
    assert "Why it matters" in doc.output
    assert runner.invoke(cli, ["explain", "no-such-audit"]).exit_code == 2


def _workbook_text(path: Path) -> str:
    wb = load_workbook(path)
    parts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            parts.extend(str(v) for v in row if v is not None)
    return "\n".join(parts)


def test_redact_leaves_no_patient_identifier(medirev, tmp_path: Path) -> None:
    from auditkit.ingest import load
    from auditkit.ingest.side_tables import read_authorizations
    from auditkit.redact import identifying_values

    auths = medirev.parent / "medirev_authorizations.csv"
    secrets = identifying_values(load(medirev).frame)
    secrets |= identifying_values(read_authorizations(auths).frame)
    assert len(secrets) > 50
    out, js = tmp_path / "r.xlsx", tmp_path / "r.json"
    args = ("--auths", auths, "--out", out, "--json", js, "--with-lines", "--redact", "-q")
    result = run("audit", medirev, *args)
    assert result.exit_code in (0, 1), result.output
    haystack = _workbook_text(out) + js.read_text(encoding="utf-8") + result.output
    leaked = sorted(s for s in secrets if s in haystack)
    assert not leaked, f"{len(leaked)} identifiers leaked"


def test_batch_goes_on_past_a_broken_client(clients: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("batch", clients, "--out", out, "--jobs", "2")
    assert result.exit_code == 1, result.output
    assert (out / "alpha_pain.xlsx").is_file() and (out / "beacon_spine.xlsx").is_file()
    assert (out / "alpha_pain.json").is_file()
    assert not (out / "cedar_clinic.xlsx").exists()
    with open(out / "index.csv", encoding="utf-8") as handle:
        rows = {r["client"]: r for r in csv.DictReader(handle)}
    assert rows["alpha_pain"]["status"] == "ok" and int(rows["alpha_pain"]["lines"]) >= 2000
    alpha = json.loads((out / "alpha_pain.json").read_text(encoding="utf-8"))
    ran = {a["id"] for a in alpha["audits"] if a["status"] == "ran"}
    assert {"auth-mismatch", "underpayment"} <= ran  # the folder's side tables were used
    assert rows["cedar_clinic"]["status"] == "error"
    assert "charges.xls" in rows["cedar_clinic"]["error"]
    index = load_workbook(out / "index.xlsx")["Clients"]
    assert index.max_row == 4
    assert "Clients" in index.tables


def test_batch_fail_fast_stops(clients: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("batch", clients, "--out", out, "--jobs", "1", "--fail-fast")
    assert result.exit_code == 1
    with open(out / "index.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[-1]["status"] == "error"  # stopped at the broken client (last in order)


def test_batch_per_file_clients_and_client_config(tmp_path: Path, clean_csv: Path) -> None:
    root = tmp_path / "in"
    (root / "solo").mkdir(parents=True)
    (root / "solo" / "clean.csv").write_text(clean_csv.read_text(), encoding="utf-8")
    (root / "solo" / "auditkit.toml").write_text("[tpi-ratio]\nbogus = 1\n", encoding="utf-8")
    (root / "loose.csv").write_text(clean_csv.read_text(), encoding="utf-8")
    result = run("batch", root, "--out", tmp_path / "o", "--jobs", "1")
    with open(tmp_path / "o" / "index.csv", encoding="utf-8") as handle:
        rows = {r["client"]: r for r in csv.DictReader(handle)}
    assert rows["loose"]["status"] == "ok"
    assert rows["solo"]["status"] == "error" and "bogus" in rows["solo"]["error"]
    assert result.exit_code == 1


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_batch_on_a_local_dask_cluster(clients: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        out = tmp_path / "out"
        result = run("batch", clients, "--out", out, "--scheduler", cluster.scheduler_address)
    assert result.exit_code == 1, result.output
    with open(out / "index.csv", encoding="utf-8") as handle:
        rows = {r["client"]: r["status"] for r in csv.DictReader(handle)}
    assert rows == {"alpha_pain": "ok", "beacon_spine": "ok", "cedar_clinic": "error"}


def test_console_plain_lines_when_not_a_terminal(capsys) -> None:
    from auditkit.cli import Console

    console = Console(tty=False)
    console.progress("reading", "2 file(s)")
    console.start_batch(3)
    console.client_done("[1/3] a: ok")
    console.stop()
    err = capsys.readouterr().err.splitlines()
    assert err == ["reading: 2 file(s)", "[1/3] a: ok"]


def test_console_live_display_on_a_terminal(capsys) -> None:
    from auditkit.cli import Console

    console = Console(tty=True)
    assert console._rich is not None
    console.progress("reading", "1 file(s)")
    assert console._status is not None  # a live spinner, not a plain line
    console.start_batch(2)
    console.client_done("[1/2] a: ok")
    assert console._bar is not None
    console.stop()
    assert console._status is None and console._bar is None
    assert "[1/2] a: ok" in capsys.readouterr().err


def test_quiet_console_prints_nothing(capsys) -> None:
    from auditkit.cli import Console

    console = Console(quiet=True, tty=True)
    console.progress("reading", "x")
    console.info("hello")
    console.stop()
    assert capsys.readouterr().err == ""


def test_config_is_found_in_the_current_folder(clean_csv, tmp_path: Path, monkeypatch) -> None:
    """Without --config, ./auditkit.toml is read (and its mistakes are reported)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "auditkit.toml").write_text("[clean-claim-rate]\nnot_a_key = 1\n", encoding="utf-8")
    result = runner.invoke(cli, ["audit", str(clean_csv), "--json", "o.json", "-q"])
    assert result.exit_code == 2
    assert "not_a_key" in result.output
    (tmp_path / "auditkit.toml").unlink()
    assert runner.invoke(cli, ["audit", str(clean_csv), "--json", "o.json", "-q"]).exit_code == 0


def test_a_bug_is_one_line_and_exit_3(monkeypatch, capsys, clean_csv, tmp_path: Path) -> None:
    """An unexpected exception never shows a traceback (it could carry export values)."""
    import auditkit.pipeline as pipeline
    from auditkit.cli import main

    def boom(*args, **kwargs):
        raise ValueError("value from a patient row")

    monkeypatch.setattr(pipeline, "audit", boom)
    monkeypatch.delenv("AUDITKIT_DEBUG", raising=False)
    with pytest.raises(SystemExit) as stop:
        main(["audit", str(clean_csv), "--json", str(tmp_path / "a.json"), "-q"])
    assert stop.value.code == 3
    err = capsys.readouterr().err
    assert "internal error (ValueError)" in err
    assert "patient row" not in err and "Traceback" not in err
