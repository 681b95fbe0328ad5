"""Claim lines from a grid of cell values (a pasted range): read exactly as a workbook sheet."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from ingest_helpers import HEADER, ROWS, typed_rows, write_xlsx

import auditkit.ingest
from auditkit.errors import ConfigError, InputError
from auditkit.ingest import claim_lines_from_grid, load, recognised_columns
from auditkit.ingest.grid import GRID_SOURCE, grid_rows

SAMPLES = Path(__file__).resolve().parents[2] / "sample_exports"
TOTAL = ["Total", None, None, None, None, None, None, None, None, None, 1425.0]


def _without_source_file(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[[c for c in frame.columns if c != "source_file"]]


def test_public_from_the_package():
    assert "claim_lines_from_grid" in auditkit.ingest.__all__
    assert "recognised_columns" in auditkit.ingest.__all__


def test_grid_reads_like_the_same_cells_in_a_workbook(tmp_path):
    rows = [["Acme Pain Clinic - Charges"], [], HEADER, *typed_rows(), [], TOTAL]
    from_book = load(write_xlsx(tmp_path / "report.xlsx", {"Charges": rows}))
    from_grid = claim_lines_from_grid(rows)
    pd.testing.assert_frame_equal(
        _without_source_file(from_grid.frame), _without_source_file(from_book.frame)
    )
    grid_report, book_report = from_grid.inputs[0], from_book.inputs[0]
    assert grid_report.header_row == book_report.header_row == 3
    assert grid_report.footer_rows == book_report.footer_rows == [9]
    assert grid_report.mapping == book_report.mapping
    assert grid_report.warnings == book_report.warnings
    assert from_grid.frame["source_row"].tolist() == [4, 5, 6, 7]


def test_grid_of_text_reads_like_the_csv_file():
    sample = SAMPLES / "medirev_charges.csv"
    with sample.open(encoding="cp1252", newline="") as handle:
        rows = list(csv.reader(handle))
    from_grid = claim_lines_from_grid(rows)
    from_file = load(sample)
    pd.testing.assert_frame_equal(
        _without_source_file(from_grid.frame), _without_source_file(from_file.frame)
    )


def test_source_names_the_lines_and_the_report():
    lines = claim_lines_from_grid([HEADER, *typed_rows()], source="Sheet1!A1:N5")
    assert set(lines.frame["source_file"]) == {"Sheet1!A1:N5"}
    assert lines.inputs[0].path == "Sheet1!A1:N5"
    default = claim_lines_from_grid([HEADER, *typed_rows()])
    assert set(default.frame["source_file"]) == {GRID_SOURCE}


def test_tuples_and_short_rows_are_grids():
    rows = [tuple(HEADER), *(tuple(r) for r in typed_rows())]
    rows[2] = rows[2][:6]  # a row that stops early: the missing cells are blank
    lines = claim_lines_from_grid(tuple(rows))
    assert len(lines) == 4
    assert pd.isna(lines.frame["charge"].iloc[1])


def test_dataframe_column_labels_are_the_header_row():
    frame = pd.DataFrame(typed_rows(), columns=HEADER)
    lines = claim_lines_from_grid(frame)
    assert lines.frame["claim_id"].tolist() == [r[0] for r in ROWS]
    assert lines.frame["source_row"].tolist() == [2, 3, 4, 5]
    assert grid_rows(frame)[0] == HEADER


def test_mapping_names_headers_detection_does_not_know():
    header = ["Internal Ref", *HEADER[1:]]
    rows = [header, *typed_rows()]
    with pytest.raises(InputError, match="claim_id"):
        claim_lines_from_grid(rows)
    lines = claim_lines_from_grid(rows, mapping={"columns": {"claim_id": "Internal Ref"}})
    assert lines.frame["claim_id"].tolist() == [r[0] for r in ROWS]
    with pytest.raises(ConfigError, match="Nope"):
        claim_lines_from_grid(rows, mapping={"columns": {"claim_id": "Nope"}})


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["20552", "20553"], "header row"),  # one column given as a flat list
        ("20552", "header row"),
        ([], "header row"),
        ([[None, ""], ["", None]], "the table is empty"),
        ([["Claim #", "DOS"], ["C1", "2024-01-05"]], "no column found for required"),
    ],
)
def test_what_is_not_a_claim_grid_is_refused(rows, message):
    with pytest.raises(InputError, match=message):
        claim_lines_from_grid(rows)


def test_header_only_grid_gives_no_lines():
    lines = claim_lines_from_grid([HEADER])
    assert len(lines) == 0
    assert "no claim lines below the header row" in lines.inputs[0].warnings


def test_recognised_columns():
    assert recognised_columns(["Claim #", "DOS", "Notes", None, 5]) == {
        "claim_id",
        "date_of_service",
    }
    assert recognised_columns(HEADER) >= {"claim_id", "cpt", "modifiers", "diagnosis_codes"}
    assert recognised_columns([]) == set()
