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
    "dx_regions",
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
    rule = bundles.set_index(["imaging", "first_code"])[["rule", "confidence"]]
    assert rule.loc[("72275", "62323")].tolist() == ["included", "S"]
    assert rule.loc[("76942", "20606")].tolist() == ["included", "S"]
    assert rule.loc[("76942", "27096")].tolist() == ["not_billable", "S"]
    assert rule.loc[("77003", "27096")].tolist() == ["included", "C"]
    ablation = bundles[bundles["first_code"] == "64633"]  # descriptors name fluoroscopy or CT
    assert set(ablation["imaging"]) == {"77002", "77003", "77012", "76942"}
    assert set(ablation.loc[ablation["imaging"] != "77002", "confidence"]) == {"C"}
    for free in ("64405", "64450", "20610"):  # codes that do not include imaging
        inside = (bundles["first_code"] <= free) & (bundles["last_code"] >= free)
        assert set(bundles.loc[inside, "rule"]) <= {"wrong_pair"}, free
    regions = reference.table("dx_regions").set_index("code")["region"]
    assert regions["M54.16"] == "lumbar" and regions["M47.812"] == "cervical"
    assert regions["M54.15"] == "thoracolumbar" and regions["M47.817"] == "lumbosacral"
    assert reference.DX_REGION_SPANS["thoracolumbar"] == ("cervical-thoracic", "lumbar-sacral")
    assert reference.DX_REGION_SPANS["lumbosacral"] == ("lumbar-sacral",)
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


def test_dx_regions_rows_are_sourced_and_replaceable(tmp_path: Path) -> None:
    """dx_regions is a reference table like the others (the settings template does not list it
    yet: config.py); a practice that marks a region row unverified gets a medium finding."""
    table = reference.table("dx_regions")
    assert (table["source"].str.len() > 10).all() and "dx_regions" in REFERENCE_KEYS
    assert set(table["region"]) <= set(reference.DX_REGION_SPANS)
    lines = make_lines([{"cpt": "64479", "diagnosis_codes": ["M54.16"], "modifiers": ["RT"]}])
    assert run_audits(lines, select="dx-linkage").findings["severity"].tolist() == ["high"]
    own = table.copy()
    own.loc[own["code"] == "M54.16", "confidence"] = "V"
    _write(tmp_path / "regions.csv", own)
    (tmp_path / "auditkit.toml").write_text('[reference]\ndx_regions = "regions.csv"\n')
    found = run_audits(lines, select="dx-linkage", config=tmp_path / "auditkit.toml").findings
    assert found["severity"].tolist() == ["medium"]
    assert found.iloc[0]["evidence"]["confidence"] == "V"


@pytest.mark.parametrize(
    ("name", "column", "value", "message"),
    [
        ("unit_limits", "max_units", "two", "expected a number of units of at least 0, got 'two'"),
        ("bilateral_styles", "style", "both", "expected one of '50', 'rtlt', 'units', got 'both'"),
        ("dx_groups", "kind", "maybe", "expected one of 'supporting', 'axial', 'invalid'"),
        ("dx_groups", "from_date", "10/01/2021", "expected a date as YYYY-MM-DD or a blank"),
        ("imaging_bundles", "rule", "bundled", "expected one of 'included', 'not_billable'"),
        ("spinal_sessions", "region", "lumbar", "expected one of 'cervical-thoracic'"),
        ("dx_regions", "region", "low back", "expected one of 'occipito-atlanto-axial'"),
        ("unit_limits", "confidence", "X", "expected one of 'C', 'S', 'V', got 'X'"),
        ("procedures", "global_days", "30", "expected one of '000', '010', '090', 'XXX'"),
        ("procedures", "modifier_25", "maybe", "expected one of 'required', 'allowed', 'no'"),
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


def test_code_pair_edits_was_replaced_by_ptp(tmp_path: Path) -> None:
    """An old config naming the retired code_pair_edits file says what replaced it."""
    old = tmp_path / "my_code_pair_edits.csv"
    old.write_text("column1,column2,modifier_indicator,source,confidence\n64405,20552,1,x,V\n")
    with pytest.raises(ConfigError, match="code_pair_edits was replaced by ptp") as raised:
        load_settings({"reference": {"code_pair_edits": str(old)}})
    assert "[reference] ptp" in (raised.value.hint or "")
    assert "code_pair_edits" not in default_settings_toml()
    assert not (Path(reference.__file__).parent / "code_pair_edits.csv").exists()


def test_old_procedures_file_without_addon_window_still_loads(tmp_path: Path) -> None:
    own = reference.procedures().drop(columns=["addon_window"])
    table = reference.procedures(_write(tmp_path / "procedures.csv", own))
    assert (table["addon_window"] == "").all()


def test_every_procedure_has_a_sourced_global_period() -> None:
    """global_days and modifier_25 on every row, with their own source and confidence; the
    modifier 25 rule follows the global period (0/10 days: needed; 90: allowed; an add-on: as
    its primary) except for the XXX services a separate visit is told apart from with 25."""
    table = reference.procedures().set_index("code")
    assert set(table["global_days"]) <= set(reference.GLOBAL_DAYS) - {""}
    assert set(table["global_confidence"]) <= {"C", "S", "V"}
    assert (table["global_source"].str.len() > 20).all()
    by_rule = {
        g: table.loc[table["global_days"] == g, "modifier_25"] for g in ("000", "010", "090")
    }
    assert (by_rule["000"] == "required").all() and (by_rule["010"] == "required").all()
    assert (by_rule["090"] == "allowed").all()
    addons = table[(table["global_days"] == "ZZZ") & (table["addon_to"] != "")]
    first_primary = addons["addon_to"].str.split(";").str[0]
    assert (addons["modifier_25"] == table.loc[first_primary, "modifier_25"].to_numpy()).all()
    xxx = table.loc[table["global_days"] == "XXX", "modifier_25"]
    assert set(xxx[xxx == "allowed"].index) == {"96372", "95970", "95971", "95972"}
    assert table.loc["20552", "global_days"] == "000" and table.loc["64493", "global_days"] == "010"
    assert table.loc["63655", "global_days"] == "090" and table.loc["99213", "global_days"] == "XXX"
    assert table.loc["64494", "addon_to"] == "64493;64490"
    assert table.loc["64421", "addon_to"] == "64420" and table.loc["64462", "addon_to"] == "64461"


def test_procedures_file_is_normalised_as_a_spreadsheet_leaves_it(tmp_path: Path) -> None:
    """A global period saved as a number loses its zeros (10); a blank modifier_25 is worked out
    from the global period (an add-on's from its primary); primaries may be listed with commas
    or spaces."""
    own = reference.procedures()
    own.loc[own["code"] == "64493", ["global_days", "modifier_25"]] = ["10", ""]
    own.loc[own["code"] == "64494", ["modifier_25", "addon_to"]] = ["", "64493, 64490"]
    own.loc[own["code"] == "63655", "modifier_25"] = ""
    table = reference.procedures(_write(tmp_path / "procedures.csv", own)).set_index("code")
    assert table.loc["64493", ["global_days", "modifier_25"]].tolist() == ["010", "required"]
    assert table.loc["64494", ["addon_to", "modifier_25"]].tolist() == ["64493;64490", "required"]
    assert table.loc["63655", "modifier_25"] == "allowed"


def test_procedures_file_without_global_periods(tmp_path: Path) -> None:
    """An older procedures file loads; the modifier 25 audits then say they have nothing to go
    on instead of flagging every visit (or none) silently."""
    new = ["global_days", "modifier_25", "global_source", "global_confidence"]
    own = reference.procedures().drop(columns=new)
    table = reference.procedures(_write(tmp_path / "procedures.csv", own))
    assert (table[new] == "").all().all()
    (tmp_path / "auditkit.toml").write_text('[reference]\nprocedures = "procedures.csv"\n')
    lines = make_lines([{"per_line": [{"cpt": "99213", "modifiers": ["25"]}, {"cpt": "20552"}]}])
    result = run_audits(
        lines,
        select=["modifier-25-missing", "modifier-25-unsupported"],
        config=tmp_path / "auditkit.toml",
    )
    assert result.findings.empty
    for run in result.audits:
        assert run.status == "ran" and "no global period (global_days)" in (run.reason or "")
