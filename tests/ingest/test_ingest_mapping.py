"""Mapping files (TOML or dict) that complete or override header detection."""

from __future__ import annotations

import pytest
from ingest_helpers import write_text

from auditkit.errors import ConfigError
from auditkit.ingest import inspect, load
from auditkit.ingest.mapping import load_mapping

ODD_HEADER = [
    "Ticket",
    "Svc",
    "Doc",
    "Plan Co",
    "Code X",
    "Mod A",
    "Mod B",
    "Dx Codes",
    "St",
    "Rsn",
    "Grp",
]
ODD_ROWS = [
    ["T1", "03/04/2024", "Lee", "Aetna", "20553", "25", "59", "M79.18 M54.16", "PD", "", ""],
    ["T2", "03/05/2024", "Kim", "UHC", "64483", "RT", "", "M5416", "DN", "197", "CO"],
]
MAPPING_TOML = """
[columns]
claim_id = "Ticket"
date_of_service = "Svc"
rendering_provider = "Doc"
payer = "Plan Co"
cpt = "Code X"
modifiers = ["Mod A", "Mod B"]
diagnosis_codes = "Dx Codes"
status = "St"
denial_codes = "Rsn"
denial_group = "Grp"

[status]
"PD" = "paid"
"DN" = "denied"
"""


@pytest.fixture
def odd_export(tmp_path):
    return write_text(tmp_path / "odd.csv", [ODD_HEADER, *ODD_ROWS])


def test_mapping_file_maps_unrecognised_headers(tmp_path, odd_export, checksums):
    mapping = tmp_path / "map.toml"
    mapping.write_text(MAPPING_TOML)
    checksums(odd_export, mapping)
    frame = load(odd_export, mapping=mapping).frame
    assert frame["claim_id"].tolist() == ["T1", "T2"]
    assert frame["modifiers"].tolist() == ["25,59", "RT"]
    assert frame["diagnosis_codes"].tolist() == ["M79.18,M54.16", "M54.16"]
    assert frame["status"].tolist() == ["paid", "denied"]
    assert frame["denial_codes"].tolist() == ["", "CO-197"]


def test_mapping_dict_same_shape(odd_export):
    import tomllib

    frame = load(odd_export, mapping=tomllib.loads(MAPPING_TOML)).frame
    assert frame["payer"].tolist() == ["Aetna", "UHC"]


def test_without_mapping_required_columns_are_missing(odd_export):
    report = inspect(odd_export)[0]
    assert "cpt" in report.missing_required and "payer" in report.missing_required
    assert "Code X" in report.unmapped_headers and "Plan Co" in report.unmapped_headers


def test_mapping_completes_detection(tmp_path):
    path = write_text(
        tmp_path / "x.csv",
        [
            ["Ticket", "DOS", "Provider", "Payer", "CPT"],
            ["T1", "01/02/2024", "Lee", "Aetna", "20552"],
        ],
    )
    report = inspect(path, mapping={"columns": {"claim_id": "ticket"}})[0]  # case-insensitive
    assert report.mapping["claim_id"] == "Ticket" and not report.missing_required


def test_mapping_empty_string_turns_detection_off(tmp_path):
    path = write_text(
        tmp_path / "x.csv",
        [
            ["Claim #", "DOS", "Provider", "Payer", "CPT", "Plan"],
            ["C1", "01/02/2024", "L", "A", "20552", "PPO"],
        ],
    )
    frame = load(path, mapping={"columns": {"payer_plan": ""}}).frame
    assert "payer_plan" not in frame.columns


@pytest.mark.parametrize(
    ("mapping", "fragment"),
    [
        ({"columns": {"claim_number": "Ticket"}}, "claim_number"),
        ({"columns": {"source_row": "Row"}}, "source_row"),
        ({"columns": {"claim_id": ["A", "B"]}}, "claim_id: takes one header"),
        ({"columns": {"claim_id": 3}}, "claim_id: expected a header name"),
        ({"status": {"PD": "settled"}}, "'PD': 'settled' is not a status"),
        ({"colums": {}}, "unknown section [colums]"),
    ],
)
def test_mapping_errors_name_the_key(mapping, fragment):
    with pytest.raises(ConfigError) as info:
        load_mapping(mapping)
    assert fragment in str(info.value)


def test_mapping_header_not_in_file(tmp_path, odd_export):
    mapping = tmp_path / "map.toml"
    mapping.write_text(MAPPING_TOML.replace('"Ticket"', '"Ticket No"'))
    with pytest.raises(ConfigError) as info:
        load(odd_export, mapping=mapping)
    message = str(info.value)
    assert str(mapping) in message and "claim_id = 'Ticket No'" in message
    assert str(odd_export) in message and "no such header" in message
    assert "\n" not in message


def test_mapping_file_problems(tmp_path, odd_export):
    broken = tmp_path / "broken.toml"
    broken.write_text("[columns\nclaim_id = 'x'")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(odd_export, mapping=broken)
    with pytest.raises(ConfigError, match="does not exist"):
        load(odd_export, mapping=tmp_path / "nope.toml")
