"""The canonical claim-line contract and the README stay in step."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from auditkit import claims

ROOT = Path(__file__).resolve().parents[2]


def test_required_columns_are_the_issue_s_five() -> None:
    assert claims.REQUIRED == ("claim_id", "date_of_service", "rendering_provider", "payer", "cpt")


def test_every_column_kind_has_a_dtype() -> None:
    for col in claims.COLUMNS + claims.PROVENANCE:
        assert col.dtype in claims.KIND_DTYPES.values()


def test_readme_column_table_matches_the_code() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- columns:start -->\n(.*?)\n<!-- columns:end -->", readme, re.S)
    assert block, "README lost its column table markers"
    assert block.group(1).strip() == claims.columns_markdown().strip()


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [ln for ln in readme.splitlines() if ln.startswith("python3 -m venv")]
    assert len(commands) == 2, "the quick start must be exactly two commands"
    assert commands[1] in ci


def test_split_and_join_round_trip() -> None:
    values = pd.Series(["25,RT", "", None, "59"], dtype="string")
    assert claims.split_list(values).tolist() == [["25", "RT"], [], [], ["59"]]
    assert claims.join_list(["25", "", "RT"]) == "25,RT"


@pytest.mark.parametrize(
    ("item", "expected"),
    [("RT", [True, False, False, False]), (("RT", "59"), [True, False, False, True])],
)
def test_list_contains_matches_whole_items_only(item, expected) -> None:
    values = pd.Series(["25,RT", "RTX", None, "59"], dtype="string")
    assert claims.list_contains(values, item).tolist() == expected


def test_conform_casts_and_orders() -> None:
    frame = pd.DataFrame(
        {
            "extra": [1],
            "cpt": ["20552"],
            "date_of_service": ["2026-03-04 10:30"],
            "units": [2],
            "claim_id": ["C1"],
        }
    )
    out = claims.conform(frame)
    assert list(out.columns) == ["claim_id", "date_of_service", "cpt", "units", "extra"]
    assert out["date_of_service"].iloc[0] == pd.Timestamp("2026-03-04")
    assert str(out["units"].dtype) == "Float64"


def test_readme_lists_every_registered_audit() -> None:
    from auditkit.docs import audits_markdown

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- audits:start -->\n(.*?)\n<!-- audits:end -->", readme, re.S)
    assert block, "README lost its audit table markers"
    assert block.group(1).strip() == audits_markdown().strip()
