"""The export file name endings, written once (auditkit.ingest.formats), are what the readers
take: every ending in EXPORT_SUFFIXES loads, and the name checks use the same lists."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ingest_helpers import HEADER, ROWS, typed_rows, write_text, write_xlsx

from auditkit.errors import InputError
from auditkit.ingest import EXPORT_SUFFIXES, load
from auditkit.ingest.formats import (
    LEGACY_WORKBOOK_SUFFIXES,
    TEXT_SUFFIXES,
    WORKBOOK_SUFFIXES,
    X12_SUFFIXES,
)

X12_FIXTURE = Path(__file__).resolve().parents[1] / "x12" / "fixtures" / "facet_co4.835"


def test_export_suffixes_are_the_union_of_the_kinds():
    kinds = TEXT_SUFFIXES + WORKBOOK_SUFFIXES + LEGACY_WORKBOOK_SUFFIXES + X12_SUFFIXES
    assert kinds == EXPORT_SUFFIXES
    assert len(set(EXPORT_SUFFIXES)) == len(EXPORT_SUFFIXES)
    for suffix in EXPORT_SUFFIXES:
        assert suffix.startswith(".") and suffix == suffix.lower()
    assert {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".835"} <= set(
        EXPORT_SUFFIXES
    )


@pytest.mark.parametrize("suffix", TEXT_SUFFIXES)
def test_text_suffixes_load(tmp_path, suffix):
    delimiter = "\t" if suffix == ".tsv" else ","
    path = write_text(tmp_path / f"export{suffix}", [HEADER, *ROWS], delimiter=delimiter)
    assert len(load(path)) == len(ROWS)


@pytest.mark.parametrize("suffix", [s for s in WORKBOOK_SUFFIXES if s not in (".xlsb", ".ods")])
def test_zip_workbook_suffixes_load(tmp_path, suffix):
    # openpyxl writes Open XML only; .xlsb and .ods need a writer the tests do not have
    path = write_xlsx(tmp_path / "source.xlsx", {"Data": [HEADER, *typed_rows()]})
    named = shutil.copy(path, tmp_path / f"export{suffix}")
    assert len(load(named)) == len(ROWS)


@pytest.mark.parametrize("suffix", WORKBOOK_SUFFIXES)
def test_workbook_suffix_on_text_is_refused(tmp_path, suffix):
    path = write_text(tmp_path / f"export{suffix}", [HEADER, *ROWS])
    with pytest.raises(InputError, match="not an Excel workbook"):
        load(path)


@pytest.mark.parametrize("suffix", LEGACY_WORKBOOK_SUFFIXES)
def test_text_under_a_legacy_workbook_suffix_is_read_as_text(tmp_path, suffix):
    path = write_text(tmp_path / f"export{suffix}", [HEADER, *ROWS], delimiter="\t")
    result = load(path)
    assert len(result) == len(ROWS)
    assert any(f"text export named {suffix}" in w for w in result.inputs[0].warnings)


@pytest.mark.parametrize("suffix", X12_SUFFIXES)
def test_x12_suffixes_load(tmp_path, suffix):
    named = shutil.copy(X12_FIXTURE, tmp_path / f"remit{suffix}")
    result = load(named)
    assert len(result) > 0
    assert "claim_status_code" in result.frame.columns  # read by the 835 reader
