"""Packaged reference data and its loaders."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from auditkit import reference
from auditkit.engine.runner import run_audits
from auditkit.errors import ConfigError


@pytest.mark.parametrize(
    ("code", "family"),
    [
        ("20552", "trigger point"),
        ("20553", "trigger point"),
        ("20600", "joint"),
        ("20611", "joint"),
        ("62320", "epidural"),
        ("62327", "epidural"),
        ("64483", "epidural"),  # inside the nerve-block range, but an epidural
        ("0230T", "epidural"),
        ("64493", "facet"),  # inside the nerve-block range, but a facet code
        ("64636", "facet"),
        ("64405", "nerve block"),
        ("64530", "nerve block"),
        ("64531", "other"),
        ("63650", "neurostimulation"),
        ("63688", "neurostimulation"),
        ("G3002", "chronic pain management"),
        ("G3003", "chronic pain management"),
        ("99202", "E/M"),
        ("99215", "E/M"),
        ("99221", "other"),
        ("77003", "other"),
        (" 64483 ", "epidural"),
        ("g3003", "chronic pain management"),
        ("2055", "other"),
        (None, "other"),
    ],
)
def test_procedure_family(code: str | None, family: str) -> None:
    codes = pd.Series([code, "99213"], index=[10, 20], dtype="string")
    got = reference.procedure_family(codes)
    assert got.loc[10] == family and got.loc[20] == "E/M"
    assert list(got.index) == [10, 20]


def test_every_family_is_known_and_every_row_has_a_source() -> None:
    procedures = reference.procedures()
    assert set(procedures["family"]) <= set(reference.FAMILIES)
    assert procedures["code"].is_unique
    assert set(procedures["confidence"]) <= {"C", "S", "V"}
    for table in (procedures, reference.family_ranges(), reference.carcs()):
        assert (table["source"].str.len() > 5).all()
    addons = procedures.loc[procedures["addon_to"] != "", "addon_to"].str.split(";").explode()
    assert set(addons) <= set(procedures["code"]), "an add-on points to listed primary codes"


def test_carc_info_accepts_group_prefix() -> None:
    assert reference.carc_info("CO-197") == {
        "code": "197",
        "group": "CO",
        "meaning": "prior authorization absent",
        "root_cause": "authorization",
        "source": reference.carcs().set_index("code").loc["197", "source"],
    }
    assert reference.carc_info("4")["root_cause"] == "modifier"
    assert reference.carc_info("pr1")["group"] == "PR"
    assert reference.carc_info("B7")["root_cause"] == "credentialing"
    assert reference.carc_info("CO-999") is None
    got = reference.carc_reason(pd.Series(["CO-197", "PR1", "OA:23", "B7", None], dtype="string"))
    assert got.tolist()[:4] == ["197", "1", "23", "B7"]


def test_user_reference_file_overrides_families(tmp_path: Path) -> None:
    own = reference.procedures()
    own.loc[own["code"] == "20610", "family"] = "nerve block"
    path = tmp_path / "mine.csv"
    own.to_csv(path, index=False)
    table = reference.procedures(path)
    got = reference.procedure_family(pd.Series(["20610", "20611"]), table)
    assert got.tolist() == ["nerve block", "joint"]

    (tmp_path / "auditkit.toml").write_text('[reference]\nprocedures = "mine.csv"\n')
    lines = pd.DataFrame(
        {
            "claim_id": ["A", "B"],
            "date_of_service": ["2024-01-02", "2024-01-03"],
            "rendering_provider": ["Dr. Lee", "Dr. Lee"],
            "payer": ["Acme", "Acme"],
            "cpt": ["20610", "99213"],
            "status": ["paid", "denied"],
        }
    )
    result = run_audits(lines, config=tmp_path / "auditkit.toml")
    families = result.tables["clean_claim_rate_by_provider_family"]
    assert set(families["family"]) == {"nerve block", "E/M"}


def test_bad_user_reference_file_names_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "code,family,description,side_specific,bilateral_allowed,addon_to,imaging_included,"
        "source,confidence\n20610,joint,x,yes,yes,,no,me,S\n20611,knees,x,yes,yes,,no,me,S\n"
    )
    with pytest.raises(ConfigError) as err:
        reference.procedures(path)
    assert str(err.value).startswith(f"{path}, row 3, column 'family': unknown family 'knees'")
    path.write_text("code,family\n20610,joint\n")
    with pytest.raises(ConfigError, match="lacks column\\(s\\) description"):
        reference.procedures(path)


def test_kpi_benchmarks_are_sourced_data_with_consistent_thresholds() -> None:
    from auditkit.measures.kpis import BENCHMARKS, KPI_COLUMNS

    table = reference.kpi_benchmarks()
    assert list(table["kpi"]) == list(KPI_COLUMNS)  # one row per summary KPI, in order
    assert set(table["confidence"]) <= {"C", "S", "V"}
    for row in table.to_dict("records"):
        assert len(row["source"]) > 20 and "pain-billing-facts" not in row["source"]
        bench = BENCHMARKS[row["kpi"]]
        # "good" is the better end: above "fair" when higher is better, below it otherwise.
        assert (bench.good > bench.fair) == bench.higher_is_better, row["kpi"]
    assert BENCHMARKS["median_days_to_pay"].confidence == "V"  # no published benchmark
