"""Config files: thresholds over defaults, and one-line errors naming file, table and key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest

from auditkit.config import Config, FeeSchedule
from auditkit.engine import registry
from auditkit.engine.contract import Threshold
from auditkit.engine.settings import (
    default_settings_toml,
    effective_settings,
    load_settings,
    settings_tables,
)
from auditkit.errors import ConfigError


def write(tmp_path: Path, text: str, name: str = "auditkit.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_values_override_defaults_and_the_rest_stay(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[tpi-ratio]\nmin_lines = 10\nmin_gap = 1\n[practice]\nname = "Valley Pain"\n'
    )
    config = load_settings(path)
    settings = vars(config.settings(registry.get("tpi-ratio")))
    assert settings == {
        "min_lines": 10,
        "min_gap": 1.0,
        "high_gap": 0.40,
        "alpha": 0.05,
        "expected_20553_share": 0.45,
    }
    assert isinstance(settings["min_gap"], float)  # an integer is accepted where a number is asked
    assert config.practice == {"name": "Valley Pain"}
    assert effective_settings(config)["clean-claim-rate"]["min_claims"] == 30
    assert effective_settings(config)["kpis"]["as_of"] == ""


def test_none_and_mapping_and_config_are_accepted() -> None:
    assert load_settings(None).audits == {}
    assert load_settings({"tpi-ratio": {"alpha": 0.01}}).audits == {"tpi-ratio": {"alpha": 0.01}}
    config = Config()
    assert load_settings(config) is config


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[tpi-ratio]\nmin_lines = 'ten'\n",
            "auditkit.toml: [tpi-ratio] min_lines: expected an integer, got 'ten'",
        ),
        (
            "[tpi-ratio]\nmin_lines = true\n",
            "auditkit.toml: [tpi-ratio] min_lines: expected an integer, got true",
        ),
        (
            "[tpi-ratio]\nmin_lines = 2.5\n",
            "auditkit.toml: [tpi-ratio] min_lines: expected an integer, got 2.5",
        ),
        (
            "[tpi-ratio]\nmin_gap = 1.5\n",
            "auditkit.toml: [tpi-ratio] min_gap: expected a number from 0 to 1, got 1.5",
        ),
        (
            "[tpi-ratio]\nmin_lines = 0\n",
            "auditkit.toml: [tpi-ratio] min_lines: expected an integer of at least 1, got 0",
        ),
        (
            "[kpis]\nedited_counts_as_unclean = 'no'\n",
            "auditkit.toml: [kpis] edited_counts_as_unclean: expected true or false, got 'no'",
        ),
        (
            "[ar-aging]\nas_of = '2024-12-31'\n",
            "auditkit.toml: [ar-aging] as_of: this setting has moved",
        ),
        ("[tpi-ratio]\nmin_line = 5\n", "auditkit.toml: [tpi-ratio] min_line: unknown setting"),
        ("[tpi-ration]\nmin_lines = 5\n", "auditkit.toml: unknown table [tpi-ration]"),
        ("tpi-ratio = 5\n", "auditkit.toml: tpi-ratio: expected a table [tpi-ratio], got 5"),
        ("[practice]\nowner = 'x'\n", "auditkit.toml: [practice] owner: unknown setting"),
        (
            "[fee_schedule]\n\"20552\" = 'cheap'\n",
            "[fee_schedule] 20552: expected a fee in dollars",
        ),
        ('[fee_schedule]\n"20552" = -1\n', "[fee_schedule] 20552: expected a fee of at least 0"),
        ("[fee_schedule]\nknee = 80.0\n", "[fee_schedule] knee: 'knee' is not a procedure code"),
        ("[reference]\nprocedures = 'nope.csv'\n", "[reference] procedures: file not found"),
        ("[reference]\ncodes = 'x.csv'\n", "[reference] codes: unknown file"),
        ("[tpi-ratio\n", "auditkit.toml: not valid TOML"),
    ],
)
def test_mistakes_are_one_line_config_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings("auditkit.toml")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_keys_list_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, "[tpi-ratio]\nmin_line = 5\n"))
    assert "valid: min_lines, min_gap, high_gap, alpha" in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, "[tpi-ration]\n"))
    assert (
        "practice, fee_schedule, reference, deadlines, kpis, worklist, tpi-ratio, paid-vs-denied"
        in str(err.value)
    )


def test_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "absent.toml")
    assert "config file not found" in str(err.value) and "auditkit init" in str(err.value)


def test_fee_schedule_general_and_per_payer(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[fee_schedule]\n"20552" = 60\n"20553" = 80.5\n'
        '[fee_schedule."Keystone Health"]\n"20553" = 70\ng3002 = 75\n',
    )
    fees = load_settings(path).fee_schedule
    assert fees.default == {"20552": 60.0, "20553": 80.5}
    assert fees.by_payer == {"Keystone Health": {"20553": 70.0, "G3002": 75.0}}
    codes = pd.Series(["20553", "20553", "20552", "99213", "G3002"])
    payers = pd.Series(["Keystone Health", "Acme", "Keystone Health", "Acme", "Keystone Health"])
    got = fees.lookup(codes, payers).tolist()
    assert got[:3] == [70.0, 80.5, 60.0] and pd.isna(got[3]) and got[4] == 75.0
    assert not FeeSchedule()


def test_reference_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "carcs.csv").write_text(
        "code,meaning,root_cause,source\n", encoding="utf-8"
    )
    config = load_settings(write(tmp_path / "sub", '[reference]\ncarcs = "carcs.csv"\n'))
    assert config.reference == {"carcs": tmp_path / "sub" / "carcs.csv"}


def test_default_config_round_trips_to_the_defaults() -> None:
    text = default_settings_toml()
    data = tomllib.loads(text)
    for table in settings_tables():
        assert data[table.id] == {t.name: t.default for t in table.thresholds}
        for t in table.thresholds:
            assert f"# {t.help}" in text  # each setting carries its help as a comment
    assert effective_settings(load_settings(data)) == effective_settings(Config())
    assert '# "20552" = 62.50' in text and "[fee_schedule]" in text and "[reference]" in text


def test_threshold_check_converts_numbers() -> None:
    t = Threshold("x", float, 0.5, "help", min=0, max=1)
    assert t.check(1, "[a] x") == 1.0 and isinstance(t.check(1, "[a] x"), float)
    with pytest.raises(ConfigError, match=r"\[a\] x: expected a number, got 'a'"):
        t.check("a", "[a] x")
    with pytest.raises(ConfigError, match="expected a finite number"):
        t.check(float("nan"), "[a] x")
