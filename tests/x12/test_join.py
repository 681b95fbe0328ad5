"""Joining remittance lines to a PM export: keys, filling, reporting."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from auditkit import claims
from auditkit.ingest.x12 import FILL_COLUMNS, join_remits, read_claim_lines

FIXTURES = Path(__file__).parent / "fixtures"


def _export(rows: list[tuple], **extra: list) -> pd.DataFrame:
    """A canonical export from (claim_id, line_number, date, cpt, modifiers) rows."""
    frame = pd.DataFrame(
        rows, columns=["claim_id", "line_number", "date_of_service", "cpt", "modifiers"]
    )
    frame["rendering_provider"] = "Lee, Anna"
    frame["payer"] = "Medicare"
    for name, values in extra.items():
        frame[name] = values
    frame["source_file"] = "export.csv"
    frame["source_row"] = range(2, len(frame) + 2)
    return claims.conform(frame)


def _remits(*names: str) -> pd.DataFrame:
    frames = []
    for name in names:
        frame, _ = read_claim_lines(FIXTURES / name)
        frame["source_file"] = name
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


EXPORT_ROWS = [
    ("FAC1002", 3, "2024-02-22", "64494", ""),
    ("FAC1002", 1, "2024-02-22", "99213", "25"),
    ("FAC1002", 2, "2024-02-22", "64493", "RT"),
    ("FAC1001", 1, "2024-02-20", "64493", ""),
    ("FAC1001", 2, "2024-02-20", "64494", ""),
    ("ESI2002", 1, "2024-03-11", "64483", "LT"),
    ("ESI2002", 2, "2024-03-11", "64484", "LT"),
    ("MP4003", 1, "2024-04-17", "20553", ""),
    ("MP4003", 2, "2024-04-17", "20552", ""),
    ("X9999", 1, "2024-05-01", "99214", ""),
]


def test_join_fills_missing_columns_and_reports() -> None:
    export = _export(EXPORT_ROWS)
    remits = _remits("facet_co4.835", "epidural_co151.835", "multi_payer.835")
    joined, report = join_remits(export, remits)
    assert list(joined.index) == list(export.index)
    assert joined["source_file"].eq("export.csv").all()  # the export's provenance stays
    by_key = joined.set_index(["claim_id", "line_number"])
    # by claim id + REF*6R, whatever the export's row order
    assert by_key.loc[("FAC1002", 3), "status"] == "denied"
    assert by_key.loc[("FAC1002", 3), "denial_codes"] == "CO-4"
    assert by_key.loc[("FAC1002", 3), "remark_codes"] == "N519"
    assert by_key.loc[("FAC1002", 2), "paid"] == 296.35
    assert by_key.loc[("FAC1002", 1), "paid"] == 46.35
    assert by_key.loc[("FAC1001", 1), "status"] == "denied"
    # REF*6R "ESI2002-1" is no line number: matched by date of service and code
    assert by_key.loc[("ESI2002", 1), "paid"] == 459.36
    assert by_key.loc[("ESI2002", 2), "allowed"] == 243.6
    # a claim denied as a whole (no SVC): status, codes and paid 0 on each of its lines
    assert list(by_key.loc["MP4003", "status"]) == ["denied", "denied"]
    assert list(by_key.loc["MP4003", "denial_codes"]) == ["CO-27", "CO-27"]
    assert list(by_key.loc["MP4003", "paid"]) == [0.0, 0.0]
    assert list(by_key.loc["MP4003", "paid_date"]) == [pd.Timestamp("2024-05-12")] * 2
    # unmatched on both sides
    assert pd.isna(by_key.loc[("X9999", 1), "paid"])
    assert by_key.loc[("X9999", 1), "status"] is pd.NA
    assert (report.matched_by_line_control, report.matched_by_date_and_code) == (5, 2)
    assert report.matched_by_claim == 1
    # remittance lines of claims the export does not have: ESI2001 x2, ESI2003 x2, and in
    # multi_payer MP4001, MP4002, MP4004, MP4005, MP4006, MP4007
    assert report.unmatched_remit_lines == 10
    assert report.unmatched_remit_examples[:2] == ["ESI2001", "ESI2003"]
    assert (report.unmatched_claims, report.unmatched_claim_examples) == (1, ["X9999"])
    assert report.export_lines_matched == 9
    assert report.filled["paid"] == 9
    # non-empty codes placed: FAC1002's two CO-253 (sequestration) lines are listed too
    assert report.filled["denial_codes"] == 7
    for column in FILL_COLUMNS:
        assert column in joined.columns
        assert str(joined[column].dtype) == claims.BY_NAME[column].dtype


def test_report_names_claims_only() -> None:
    export = _export(EXPORT_ROWS)
    remits = _remits("facet_co4.835", "epidural_co151.835", "multi_payer.835")
    _, report = join_remits(export, remits)
    text = str(report)
    assert "1 export claim without a remittance (e.g. X9999)" in text
    assert "10 remittance lines matched no export line" in text
    for name in remits["patient_name"].dropna().unique():
        assert name.split(",")[0] not in text
    for member in remits["patient_id"].dropna().unique():
        assert member not in text


def test_export_values_are_kept() -> None:
    status = ["paid"] + [None] * (len(EXPORT_ROWS) - 1)
    denials = ["", "CO-16"] + [None] * (len(EXPORT_ROWS) - 2)
    export = _export(EXPORT_ROWS, status=status, denial_codes=denials)
    joined, report = join_remits(export, _remits("facet_co4.835"))
    # the export said paid for FAC1002 line 3: kept, though the remittance says denied
    assert joined.loc[0, "status"] == "paid"
    # an empty list cell counts as missing, a filled one is kept
    assert joined.loc[0, "denial_codes"] == "CO-4"
    assert joined.loc[1, "denial_codes"] == "CO-16"
    assert joined.loc[3, "status"] == "denied"
    assert report.filled["status"] == 4  # FAC1002 lines 1-2 and FAC1001 lines 1-2


def test_same_code_twice_pairs_by_modifiers(tmp_path: Path) -> None:
    # two 64493 lines on one day (RT and LT), no REF*6R: the k-th meets the k-th by modifier
    text = (FIXTURES / "facet_co4.835").read_text()
    text = text.replace(
        "SVC*HC:64494*450*0**1~\nDTM*472*20240222", "SVC*HC:64493:LT*450*0**1~\nDTM*472*20240222"
    )
    for number in (1, 2, 3):
        text = text.replace(f"REF*6R*{number}~\n", "")
    path = tmp_path / "pairs.835"
    path.write_text(text.replace("SE*46*", "SE*41*"))
    remits, _ = read_claim_lines(path)
    export = _export(
        [
            ("FAC1002", 1, "2024-02-22", "64493", "LT"),
            ("FAC1002", 2, "2024-02-22", "64493", "RT"),
            ("FAC1002", 3, "2024-02-22", "99213", "25"),
        ]
    )
    joined, report = join_remits(export, remits)
    assert report.matched_by_date_and_code == 3
    assert report.unmatched_remit_lines == 2  # FAC1001 is not in this export
    assert list(joined["paid"]) == [0.0, 296.35, 46.35]
    assert list(joined["status"]) == ["denied", "paid", "paid"]


def test_leading_zeros_dropped_by_a_spreadsheet_still_match() -> None:
    remits, _ = read_claim_lines(FIXTURES / "samples" / "lfh-cob-contractural-adjustment.835")
    export = _export([("1000055", 1, "2005-02-02", "55669", "")])
    joined, report = join_remits(export, remits)
    assert joined.loc[0, "paid"] == 34.0
    assert report.matched_by_date_and_code == 1


def test_reversal_across_files_then_join() -> None:
    export = _export(
        [("REV3001", 1, "2024-02-05", "64483", "RT"), ("REV3002", 1, "2024-02-06", "20552", "")]
    )
    remits = _remits("reversal_original.835", "reversal_only.835")
    joined, report = join_remits(export, remits)
    # the original (411.40) and its reversal (-411.40) net out; the replacement pays 440.51
    assert list(joined["paid"]) == [440.51, 84.15]
    assert list(joined["paid_date"]) == [pd.Timestamp("2024-04-12"), pd.Timestamp("2024-03-01")]
    assert (report.reversals_netted, report.reversals_unmatched) == (1, 0)
    assert report.export_lines_with_several_remits == 0


def test_several_remittances_for_one_line_sum_paid() -> None:
    primary = _remits("facet_co4.835")
    secondary = primary[primary["claim_id"] == "FAC1002"].copy()
    secondary["source_file"] = "secondary.835"
    secondary["paid"] = [5.0, 20.0, 0.0]
    secondary["paid_date"] = pd.Timestamp("2024-04-30")
    secondary["patient_responsibility"] = [6.83, 55.6, 0.0]
    remits = pd.concat([primary, secondary], ignore_index=True)
    export = _export(EXPORT_ROWS[:3])
    joined, report = join_remits(export, remits)
    assert list(joined["paid"]) == pytest.approx([0.0, 51.35, 316.35])
    # the latest remittance gives the rest
    assert list(joined["patient_responsibility"]) == pytest.approx([0.0, 6.83, 55.6])
    assert (joined["paid_date"] == pd.Timestamp("2024-04-30")).all()
    assert report.export_lines_with_several_remits == 3


def test_no_match_adds_no_columns() -> None:
    export = _export([("X9999", 1, "2024-05-01", "99214", "")])
    joined, report = join_remits(export, _remits("facet_co4.835"))
    assert list(joined.columns) == list(export.columns)
    assert report.unmatched_remit_lines == 5 and report.unmatched_claims == 1
    text = str(report)
    assert text.startswith("Remittances: none of the 5 remittance lines matched any of the 1 ")
    assert "joined" not in text
    assert text.endswith("nothing filled.")


def test_report_counts_agree_with_each_other() -> None:
    export = _export(EXPORT_ROWS)
    _, report = join_remits(export, _remits("facet_co4.835", "epidural_co151.835"))
    matched = report.matched_by_line_control + report.matched_by_date_and_code
    assert matched > 0
    text = str(report)
    assert text.startswith(
        f"Remittances: {matched} of the {report.remit_lines} remittance lines matched an export line"
    )
    assert "joined" not in text and "none of" not in text
    assert f"{report.export_lines_matched} of the {report.export_lines} export lines" in text
