"""CMS's own edit files through the command line and the config: --ptp/--mue and
[reference] ptp/mue, what the About sheet and the JSON say about them, and the errors."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from auditkit.engine.settings import load_settings
from auditkit.errors import ConfigError
from auditkit.synth.ncci_files import mue_values, write_mue_zip, write_ptp_set


@pytest.fixture
def cms_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Path], Path]:
    monkeypatch.setenv("AUDITKIT_CACHE_DIR", str(tmp_path / "cache"))
    ptp = write_ptp_set(tmp_path / "ptp", 3000, include_codes=["64493", "64494", "20552", "64405"])
    mue = write_mue_zip(tmp_path / "mue", mue_values(["20552", "64493", "64483"]))
    return ptp, mue


def run(args: list[str]) -> object:
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def test_cli_reads_the_cms_files_and_says_which_it_used(
    tmp_path: Path, medirev: Path, cms_files: tuple[list[Path], Path]
) -> None:
    ptp, mue = cms_files
    args = ["audit", str(medirev), "--json", str(tmp_path / "a.json"), "--out"]
    args += [str(tmp_path / "a.xlsx"), "--mue", str(mue)]
    for path in ptp:
        args += ["--ptp", str(path)]
    done = run(args)
    assert done.exit_code in (0, 1), done.output
    data = json.loads((tmp_path / "a.json").read_text())
    used = {t["table"]: t for t in data["edit_tables"]}
    ptp_used = used["CMS practitioner PTP edits"]
    assert ptp_used["default"] is False and ptp_used["quarters"] == ["2026 Q3"]
    assert sorted(s["file"] for s in ptp_used["sources"])[0].startswith("medicare-ncci-2026q3")
    about = openpyxl.load_workbook(tmp_path / "a.xlsx")["About"]
    texts = [c.value for row in about.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("CMS practitioner PTP edits" in t and "2026 Q3" in t for t in texts)


def test_without_files_the_packaged_default_is_named_with_how_to_update(
    tmp_path: Path, medirev: Path
) -> None:
    done = run(["audit", str(medirev), "--json", str(tmp_path / "a.json")])
    assert done.exit_code in (0, 1), done.output
    data = json.loads((tmp_path / "a.json").read_text())
    defaults = [t for t in data["edit_tables"] if t["default"]]
    assert defaults and all(t["how_to_update"] for t in defaults)


def test_config_names_the_files_relative_to_itself(
    tmp_path: Path, cms_files: tuple[list[Path], Path]
) -> None:
    ptp, mue = cms_files
    config = tmp_path / "auditkit.toml"
    listed = ", ".join(f'"ptp/{p.name}"' for p in ptp)
    config.write_text(f'[reference]\nptp = [{listed}]\nmue = "mue/{mue.name}"\n')
    loaded = load_settings(config)
    assert loaded.edits["ptp"] == tuple(ptp) and loaded.edits["mue"] == (mue,)
    # The command line's files take the place of the config's.
    assert load_settings(config).with_edits(mue=[str(ptp[0])]).edits["mue"] == (ptp[0],)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('ptp = "absent.zip"', "[reference] ptp: file not found"),
        ("mue = []", "[reference] mue: expected a file path or a list of them"),
        ("ptp = 5", "[reference] ptp: expected a file path or a list of them, got 5"),
    ],
)
def test_bad_edit_file_settings_name_the_key(tmp_path: Path, body: str, message: str) -> None:
    config = tmp_path / "auditkit.toml"
    config.write_text(f"[reference]\n{body}\n")
    with pytest.raises(ConfigError) as err:
        load_settings(config)
    assert message in str(err.value)


def test_a_claim_export_given_as_ptp_is_one_line_exit_2(tmp_path: Path, medirev: Path) -> None:
    done = CliRunner().invoke(
        cli, ["audit", str(medirev), "--json", str(tmp_path / "a.json"), "--ptp", str(medirev)]
    )
    assert done.exit_code == 2
    message = done.output.strip().splitlines()[-1]
    assert "medirev_charges.csv" in message and "Traceback" not in done.output
