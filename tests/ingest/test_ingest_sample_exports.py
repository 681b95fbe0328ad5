"""The synthetic PM-system exports in sample_exports/ load without a mapping, exactly.

Each export has ``truth/<name>.csv``: the canonical lines it was written from. Loading the export
must give those lines back, column by column.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from auditkit.claims import BY_NAME
from auditkit.ingest import inspect, load

SAMPLES = Path(__file__).resolve().parents[2] / "sample_exports"
EXPORT_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls"}


def sample_files() -> list[Path]:
    """The claim exports: those with a truth file (side tables such as authorizations or fee
    schedules live in the same folder and are read by their own readers)."""
    if not SAMPLES.is_dir():
        return []
    return sorted(
        p
        for p in SAMPLES.iterdir()
        if p.suffix.lower() in EXPORT_SUFFIXES and (SAMPLES / "truth" / f"{p.stem}.csv").is_file()
    )


SAMPLE_PARAMS = sample_files()


def ids(path: Path) -> str:
    return path.name


def test_the_three_bundled_claim_exports_are_found() -> None:
    assert len(SAMPLE_PARAMS) == 3, [p.name for p in SAMPLE_PARAMS]


@pytest.mark.parametrize("path", SAMPLE_PARAMS, ids=ids)
def test_sample_export_columns_all_recognised(path):
    report = inspect(path)[0]
    assert report.missing_required == []
    assert report.unmapped_headers == [], (
        f"add to auditkit/ingest/headers.toml: {report.unmapped_headers}"
    )


def expected_values(truth: pd.Series, kind: str) -> pd.Series:
    blank = truth.replace("", pd.NA)
    if kind == "date":
        return pd.to_datetime(blank)
    if kind in ("money", "number"):
        return pd.to_numeric(blank).astype("float64")
    if kind == "int":
        return pd.to_numeric(blank).astype("Int64")
    if kind == "bool":
        return blank.map({"true": True, "false": False}).astype("boolean")
    if kind == "list":
        return truth
    return blank


@pytest.mark.parametrize("path", SAMPLE_PARAMS, ids=ids)
def test_sample_export_loads_to_its_truth(path):
    truth_file = SAMPLES / "truth" / f"{path.stem}.csv"
    truth = pd.read_csv(truth_file, dtype=str, keep_default_na=False)
    result = load(path)
    frame = result.frame
    report = result.inputs[0]
    assert report.rows_left_out == 0 and report.cells_unread == 0, report.warnings
    assert len(frame) == len(truth)
    for column in truth.columns:
        kind = BY_NAME[column].kind
        want = expected_values(truth[column], kind)
        got = frame[column]
        if kind in ("money", "number"):
            same = ((want - got.astype("float64")).abs() < 0.005) | (want.isna() & got.isna())
        elif kind == "list":
            same = want == got.fillna("")
        else:
            same = (want == got).fillna(False).astype(bool) | (want.isna() & got.isna())
        assert bool(same.all()), (
            f"{column}: first difference at row {frame['source_row'][(~same).idxmax()]}"
        )
