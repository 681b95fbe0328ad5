"""The packaged pain-procedure PTP default (ncci_ptp_default.csv). Units have one packaged
default, unit_limits.csv (read by units-exceed-limit when no CMS MUE file is given)."""

from __future__ import annotations

import pandas as pd

from auditkit.reference import ncci, procedures

IMAGING = {"77002", "77003", "77012", "76942", "72275"}


def _known_codes() -> set[str]:
    return set(procedures()["code"]) | IMAGING


def test_default_ptp_is_a_typed_pain_subset() -> None:
    table = ncci.default_ptp()
    assert table.default
    assert table.table.schema.names == [*ncci.PTP_SCHEMA.names, "source", "confidence"]
    assert table.table.select(ncci.PTP_SCHEMA.names).schema.equals(ncci.PTP_SCHEMA)
    frame = table.frame()
    assert len(frame) > 50
    assert set(frame["column1"]) | set(frame["column2"]) <= _known_codes()
    assert not frame.duplicated(["column1", "column2"]).any()
    assert (frame["column1"] != frame["column2"]).all()
    assert set(frame["modifier_indicator"]) <= {0, 1}
    assert frame["deletion"].isna().all()
    assert (frame["effective"] <= pd.Timestamp("2026-01-01")).all()
    assert set(frame["confidence"]) <= {"C", "S", "V"}
    assert (frame["source"].str.len() > 20).all()
    # imaging guidance is the column 2 code of the procedure that includes it
    assert {("64483", "77003"), ("62323", "77012"), ("20611", "76942")} <= set(
        zip(frame["column1"], frame["column2"], strict=True)
    )


def test_defaults_filter_to_codes_and_say_what_they_are() -> None:
    table = ncci.default_ptp(codes=["64483", "77003", "64479"])
    pairs = set(zip(table.frame()["column1"], table.frame()["column2"], strict=True))
    assert pairs == {("64483", "77003"), ("64479", "77003")}
    (source,) = table.sources
    assert source.file == "ncci_ptp_default.csv"
    assert source.quarter == ncci.DEFAULT_QUARTER
    assert source.kept == 2 and source.rows > 50
    text = table.describe()
    assert "packaged default" in text and ncci.CURRENT_FILES_HELP in text
    about = table.about()
    assert about["default"] is True
    assert about["rows"] == 2
    assert about["how_to_update"] == ncci.CURRENT_FILES_HELP


def test_where_to_get_the_files_is_plain_text() -> None:
    text = ncci.CURRENT_FILES_HELP
    assert "http" not in text
    for words in ("Practitioner PTP Edits", "Practitioner Services MUE", "f1 to f4"):
        assert words in text
