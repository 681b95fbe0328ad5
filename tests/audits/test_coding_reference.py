"""The coding-rule reference files: packaged content, sources, user replacements, bad files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from audit_helpers import make_lines

from auditkit import reference
from auditkit.config import REFERENCE_KEYS
from auditkit.engine.runner import run_audits
from auditkit.engine.settings import default_settings_toml, load_settings
from auditkit.errors import ConfigError

CODING_TABLES = (
    "imaging_bundles",
    "dx_groups",
    "unit_limits",
    "bilateral_styles",
    "spinal_sessions",
)


@pytest.mark.parametrize("name", CODING_TABLES)
def test_every_row_names_its_source_and_confidence(name: str) -> None:
    table = reference.table(name)
    assert len(table) >= 1
    assert (table["source"].str.len() > 10).all()
    assert set(table["confidence"]) <= {"C", "S", "V"}
    assert name in REFERENCE_KEYS, "every reference table can be replaced from the config"
    assert f"# {name} = " in default_settings_toml()


def test_packaged_facts_match_the_facts_file() -> None:
    limits = reference.table("unit_limits").set_index("code")
    assert limits.loc["20552", "max_units"] == "1" and limits.loc["62323", "max_units"] == "1"
    assert limits.loc["64483", "max_units"] == "2" and limits.loc["64484", "max_units"] == "2"
    assert limits.loc["20610", "confidence"] == "V"  # not in the facts file: a guess, marked so
    dx = reference.table("dx_groups")
    supporting = dx[(dx["family"] == "facet") & (dx["kind"] == "supporting")]
    assert supporting["code"].tolist() == ["M47.81"] and (supporting["confidence"] == "V").all()
    invalid = dx[dx["kind"] == "invalid"]
    assert set(invalid["code"]) == {"M54.5"} and set(invalid["from_date"]) == {"2021-10-01"}
    bundles = reference.table("imaging_bundles")
    pairs = bundles[(bundles["rule"] == "wrong_pair") & bundles["imaging"].isin(["77003", "76942"])]
    pairs = pairs.set_index("first_code")["use_instead"]
    assert pairs["20610"] == "20611" and pairs["62320"] == "62321" and pairs["62322"] == "62323"
    sessions = reference.table("spinal_sessions").set_index("code")
    assert sessions.loc["64484", ["kind", "region"]].tolist() == ["epidural", "lumbar-sacral"]
    procedures = reference.procedures().set_index("code")
    assert procedures.loc["G3003", "addon_window"] == "month"
    assert procedures.loc["64484", "addon_window"] == ""  # same day


def _write(path: Path, table: pd.DataFrame) -> Path:
    table.to_csv(path, index=False)
    return path


def test_config_replaces_unit_limits(tmp_path: Path) -> None:
    """A practice whose payer allows 3 units of 64483 raises the limit in its own file."""
    lines = make_lines([{"cpt": "64483", "units": 3, "modifiers": ["RT"]}])
    assert len(run_audits(lines, select="units-exceed-limit").findings) == 1
    own = reference.table("unit_limits")
    own.loc[own["code"] == "64483", "max_units"] = "3"
    _write(tmp_path / "limits.csv", own)
    (tmp_path / "auditkit.toml").write_text('[reference]\nunit_limits = "limits.csv"\n')
    result = run_audits(lines, select="units-exceed-limit", config=tmp_path / "auditkit.toml")
    assert result.findings.empty


def test_config_adds_a_payer_bilateral_style(tmp_path: Path) -> None:
    """One RT/LT service at a payer with no usual style yet: flagged only once configured."""
    lines = make_lines(
        [
            {
                "payer": "Acme Health",
                "per_line": [
                    {"cpt": "64493", "modifiers": ["RT"]},
                    {"cpt": "64493", "modifiers": ["LT"]},
                ],
            }
        ]
    )
    assert run_audits(lines, select="bilateral-style-inconsistent").findings.empty
    own = pd.DataFrame(
        [{"payer": "acme health", "style": "50", "source": "Acme policy 2024-7", "confidence": "C"}]
    )
    config = load_settings({"reference": {}})
    config.reference = {"bilateral_styles": _write(tmp_path / "styles.csv", own)}
    found = run_audits(lines, select="bilateral-style-inconsistent", config=config).findings
    assert found["severity"].tolist() == ["high"]
    assert (
        "Acme Health takes one line with modifier 50 and 1 unit (configured)"
        in found.iloc[0]["message"]
    )


def test_config_replaces_diagnosis_groups(tmp_path: Path) -> None:
    """A payer that accepts M54.51 (vertebrogenic pain) for facet procedures."""
    lines = make_lines([{"cpt": "64635", "diagnosis_codes": ["M54.51"], "modifiers": ["RT"]}])
    assert run_audits(lines, select="dx-linkage").findings["severity"].tolist() == ["medium"]
    own = reference.table("dx_groups")
    extra = own.iloc[[0]].assign(family="facet", code="M54.51", match="exact", confidence="C")
    _write(tmp_path / "dx.csv", pd.concat([own, extra]))
    (tmp_path / "auditkit.toml").write_text('[reference]\ndx_groups = "dx.csv"\n')
    result = run_audits(lines, select="dx-linkage", config=tmp_path / "auditkit.toml")
    assert result.findings.empty


@pytest.mark.parametrize(
    ("name", "column", "value", "message"),
    [
        ("unit_limits", "max_units", "two", "expected a number of units of at least 0, got 'two'"),
        ("bilateral_styles", "style", "both", "expected one of '50', 'rtlt', 'units', got 'both'"),
        ("dx_groups", "kind", "maybe", "expected one of 'supporting', 'axial', 'invalid'"),
        ("dx_groups", "from_date", "10/01/2021", "expected a date as YYYY-MM-DD or a blank"),
        ("imaging_bundles", "rule", "bundled", "expected one of 'included', 'not_billable'"),
        ("spinal_sessions", "region", "lumbar", "expected one of 'cervical-thoracic'"),
        ("unit_limits", "confidence", "X", "expected one of 'C', 'S', 'V', got 'X'"),
    ],
)
def test_bad_user_file_names_row_and_column(
    tmp_path: Path, name: str, column: str, value: str, message: str
) -> None:
    own = reference.table(name)
    own = pd.concat([own, own.iloc[[0]]], ignore_index=True)  # the bad value goes in a new last row
    own.loc[own.index[-1], column] = value
    path = _write(tmp_path / f"{name}.csv", own)
    with pytest.raises(ConfigError) as err:
        reference.table(name, path)
    text = str(err.value)
    row = len(own) + 1  # the header is row 1
    assert text.startswith(f"{path}, row {row}, column '{column}': ") and message in text
    assert "\n" not in text


def test_missing_column_and_unknown_table(tmp_path: Path) -> None:
    path = tmp_path / "limits.csv"
    path.write_text("code,max_units\n64483,2\n")
    with pytest.raises(ConfigError, match=r"lacks column\(s\) source, confidence"):
        reference.table("unit_limits", path)
    with pytest.raises(ValueError, match="unknown reference table"):
        reference.table("nope")
    with pytest.raises(ConfigError, match=r"\[reference\] unit_limits: file not found"):
        load_settings({"reference": {"unit_limits": str(tmp_path / "absent.csv")}})


def test_old_procedures_file_without_addon_window_still_loads(tmp_path: Path) -> None:
    own = reference.procedures().drop(columns=["addon_window"])
    table = reference.procedures(_write(tmp_path / "procedures.csv", own))
    assert (table["addon_window"] == "").all()
