"""Patterns of line findings: grouping, the patterns table on an audit sheet and its links, the
Summary's top findings as patterns, and the links in a written workbook."""

from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

from auditkit.engine.result import FINDING_COLUMNS, AuditResult, AuditRun
from auditkit.engine.runner import run_audits
from auditkit.excel.openpyxl_writer import write_workbook
from auditkit.ingest.model import ClaimLines
from auditkit.report import Table, Title, build_report
from auditkit.report.layout import place, resolve
from auditkit.report.patterns import (
    NONE_LABEL,
    PATTERNS_FROM,
    line_patterns,
    patterns_key,
)
from auditkit.synth import generate

RUN = AuditRun(
    "units-check",
    "Units above the limit",
    "ran",
    why="Units above the limit are denied or taken back.",
    fix="Bill the units the note documents.",
)


def _findings(rows: list[dict]) -> pd.DataFrame:
    """A findings frame of the documented columns (absent values None)."""
    frame = pd.DataFrame.from_records(rows)
    for col in FINDING_COLUMNS:
        if col not in frame.columns:
            frame[col] = None
    return frame[list(FINDING_COLUMNS)]


def _line(provider, payer, cpt, claim, dollars=100.0, counted=True, severity="medium", **more):
    return {
        "audit": RUN.id,
        "severity": severity,
        "scope": "line",
        "provider": provider,
        "payer": payer,
        "cpt": cpt,
        "claim_id": claim,
        "line": 1,
        "dollars_at_risk": dollars,
        "dollars_basis": "expected payment",
        "counted": counted,
        "message": f"{cpt} on claim {claim} billed above the unit limit",
        **more,
    }


def _by_key(patterns: pd.DataFrame) -> dict[tuple, pd.Series]:
    return {(str(r["provider"]), str(r["payer"]), str(r["cpt"])): r for _, r in patterns.iterrows()}


# --- grouping -----------------------------------------------------------------------------


def test_lines_and_dollars_are_summed_per_physician_payer_and_code():
    found = _findings(
        [
            _line("Dr. A", "Medicare", "20553", "C1", 100.0),
            _line("Dr. A", "Medicare", "20553", "C2", 50.0, counted=False),
            _line("Dr. B", "Aetna", "64483", "C3", 300.0),
            _line("Dr. A", "Medicare", "20553", "C4", 25.5),
            _line("Dr. A", "Medicare", "20552", "C5", 10.0),
            # not a line: never part of a pattern
            {**_line("Dr. A", "Medicare", "20553", "C6", 999.0), "scope": "claim"},
        ]
    )
    patterns = line_patterns(found)
    assert len(patterns) == 3
    a = _by_key(patterns)[("Dr. A", "Medicare", "20553")]
    assert a["lines"] == 3 and a["claims"] == 3
    assert a["dollars_listed"] == pytest.approx(175.5)
    assert a["dollars_counted"] == pytest.approx(125.5)  # C2's $50 is not in the total
    assert a["first_claims"] == "C1, C2, C4"
    assert a["first"] == 0
    b = _by_key(patterns)[("Dr. B", "Aetna", "64483")]
    assert (b["lines"], b["dollars_listed"], b["dollars_counted"]) == (1, 300.0, 300.0)
    assert int(patterns["lines"].sum()) == 5


def test_counted_dollars_are_only_those_in_the_total():
    found = _findings(
        [
            _line("Dr. A", "Medicare", "20553", "C1", 100.0, counted=False),
            _line("Dr. A", "Medicare", "20553", "C2", 40.0, counted=None),  # unknown: not counted
            _line("Dr. A", "Medicare", "20553", "C3", None, counted=True),  # no dollars
            _line("Dr. A", "Medicare", "20553", "C4", 7.0, counted=True),
        ]
    )
    (row,) = [r for _, r in line_patterns(found).iterrows()]
    assert row["dollars_listed"] == pytest.approx(147.0)
    assert row["dollars_counted"] == pytest.approx(7.0)
    assert row["lines"] == 4


def test_first_claims_are_distinct_in_the_findings_order():
    claims = ["C9", "C1", "C9", None, "C7", "C3", "C1"]
    found = _findings([_line("Dr. A", "Medicare", "20553", c) for c in claims])
    (row,) = [r for _, r in line_patterns(found).iterrows()]
    assert row["first_claims"] == "C9, C1, C7"
    assert row["claims"] == 4  # C9, C1, C7, C3 (a missing claim id is not a claim)
    assert row["lines"] == 7


def test_missing_and_blank_values_are_one_group_shown_as_none():
    found = _findings(
        [
            _line(None, "Medicare", "20553", "C1"),
            _line("", "Medicare", "20553", "C2"),
            _line("  ", "Medicare", "20553", "C3"),
            _line(np.nan, "Medicare", "20553", "C4"),
            _line("Dr. A", None, "20553", "C5"),
            _line("Dr. A ", None, "20553", "C6"),  # equal once trimmed
        ]
    )
    patterns = _by_key(line_patterns(found))
    assert set(patterns) == {(NONE_LABEL, "Medicare", "20553"), ("Dr. A", NONE_LABEL, "20553")}
    assert patterns[(NONE_LABEL, "Medicare", "20553")]["lines"] == 4
    assert patterns[("Dr. A", NONE_LABEL, "20553")]["first_claims"] == "C5, C6"


def test_patterns_come_by_counted_then_listed_dollars_then_lines():
    found = _findings(
        [
            _line("Dr. A", "P1", "1", "C1", 10.0),  # counted 10
            _line("Dr. B", "P1", "1", "C2", 50.0, counted=False),  # counted 0, listed 50
            _line("Dr. C", "P1", "1", "C3", 30.0),  # counted 30
            _line("Dr. D", "P1", "1", "C4", 10.0),  # ties Dr. A on dollars...
            _line("Dr. D", "P1", "1", "C5", 0.0),  # ...with more lines
            _line("Dr. E", "P1", "1", "C6", 50.0, counted=False),  # ties Dr. B: stays after it
            _line("Dr. F", "P1", "1", "C7", 10.0),  # ties Dr. A: stays after it
        ]
    )
    patterns = line_patterns(found)
    assert list(patterns["provider"]) == ["Dr. C", "Dr. D", "Dr. A", "Dr. F", "Dr. B", "Dr. E"]


def test_the_worst_severity_of_a_pattern_is_shown():
    found = _findings(
        [
            _line("Dr. A", "P1", "1", "C1", severity="low"),
            _line("Dr. A", "P1", "1", "C2", severity="High"),
            _line("Dr. A", "P1", "1", "C3", severity="medium"),
            _line("Dr. B", "P1", "1", "C4", severity="info"),
            _line("Dr. B", "P1", "1", "C5", severity=None),
            _line("Dr. C", "P1", "1", "C6", severity="urgent"),  # unknown: as written
        ]
    )
    patterns = _by_key(line_patterns(found))
    assert patterns[("Dr. A", "P1", "1")]["severity"] == "high"
    assert patterns[("Dr. B", "P1", "1")]["severity"] == "info"
    assert patterns[("Dr. C", "P1", "1")]["severity"] == "urgent"


@pytest.mark.parametrize("dtype", ["object", "category", "string[pyarrow]", "string"])
def test_text_columns_of_any_dtype_give_the_same_patterns(dtype):
    rows = [
        _line(p, y, c, f"C{i}", float(i))
        for i, (p, y, c) in enumerate(
            [
                ("Dr. A", "Medicare", "20553"),
                ("Dr. B", None, "20553"),
                ("Dr. A", "Medicare", "20553"),
            ]
            * 4
        )
    ]
    found = _findings(rows)
    expected = line_patterns(found)
    typed = found.copy()
    for col in ("audit", "severity", "scope", "provider", "payer", "cpt", "claim_id", "message"):
        typed[col] = typed[col].astype(dtype)
    got = line_patterns(typed)
    for col in ("provider", "payer", "cpt", "severity", "first_claims", "message"):
        assert list(got[col].astype(str)) == list(expected[col].astype(str)), col
    for col in ("lines", "claims", "dollars_listed", "dollars_counted", "first"):
        assert list(got[col]) == list(expected[col]), col


def test_first_is_the_index_label_and_extra_keys_group_further():
    found = _findings(
        [
            _line("Dr. A", "P1", "1", "C1"),
            {**_line("Dr. A", "P1", "1", "C2"), "audit": "other"},
            _line("Dr. A", "P1", "1", "C3"),
        ]
    ).set_axis([70, 80, 90])
    assert list(line_patterns(found)["first"]) == [70]
    by_audit = line_patterns(found, keys=("audit", "provider", "payer", "cpt"))
    assert sorted(zip(by_audit["audit"], by_audit["first"], by_audit["lines"], strict=True)) == [
        ("other", 80, 1),
        (RUN.id, 70, 2),
    ]


def test_no_line_findings_give_no_patterns():
    found = _findings([{**_line("Dr. A", "P1", "1", "C1"), "scope": "provider"}])
    assert line_patterns(found).empty
    assert line_patterns(found.iloc[0:0]).empty


def test_a_million_findings_are_grouped_on_whole_columns():
    n = 1_000_000
    rng = np.random.default_rng(3)
    found = pd.DataFrame(
        {
            "scope": "line",
            "severity": np.array(["high", "medium", "low"])[rng.integers(0, 3, n)],
            "provider": np.array([f"Dr. {i}" for i in range(12)])[rng.integers(0, 12, n)],
            "payer": np.array([f"Payer {i}" for i in range(9)])[rng.integers(0, 9, n)],
            "cpt": np.array([str(20000 + i) for i in range(40)])[rng.integers(0, 40, n)],
            "claim_id": pd.Series(rng.integers(0, 300_000, n)).astype(str),
            "dollars_at_risk": rng.random(n) * 100,
            "counted": rng.random(n) < 0.5,
        }
    )
    start = time.perf_counter()
    patterns = line_patterns(found)
    elapsed = time.perf_counter() - start
    assert int(patterns["lines"].sum()) == n
    assert len(patterns) == 12 * 9 * 40
    assert elapsed < 5.0  # about half a second; generous for slow CI machines


# --- the audit sheet ----------------------------------------------------------------------


def _result(n_lines: int, providers: int = 4) -> AuditResult:
    """One audit with ``n_lines`` line findings over a few physicians, payers and codes, and
    one claim finding."""
    rows = [
        _line(
            f"Dr. {'ABCDEFG'[i % providers]}",
            ("Medicare", "Aetna")[(i // providers) % 2],
            ("20553", "20552", "64483")[i % 3],
            f"C{1000 + i}",
            float(10 + (i * 37) % 90),
            counted=i % 5 != 0,
            severity=("high", "medium", "low")[i % 3],
        )
        for i in range(n_lines)
    ]
    rows.append({**_line(None, None, None, "C1"), "scope": "claim", "line": None})
    return AuditResult(findings=_findings(rows), audits=[RUN])


def _patterns_table(report, audit_id: str) -> Table | None:
    try:
        return report.find_table(patterns_key(audit_id))[1]
    except KeyError:
        return None


def test_an_audit_with_fewer_line_findings_has_no_patterns_table():
    report = build_report(_result(PATTERNS_FROM - 1))
    sheet = report.sheet(RUN.id)
    assert [t.key for t in sheet.tables()] == [f"findings:{RUN.id}"]
    assert not any(isinstance(b, Title) and b.text == "Patterns" for b in sheet.blocks)


def test_an_audit_with_many_line_findings_opens_with_its_patterns():
    report = build_report(_result(PATTERNS_FROM))
    sheet = report.sheet(RUN.id)
    keys = [t.key for t in sheet.tables()]
    assert keys == [patterns_key(RUN.id), f"findings:{RUN.id}"]
    titles = [b.text for b in sheet.blocks if isinstance(b, Title) and b.level == 2]
    assert titles == ["Patterns", "Lines"]
    assert sheet.blocks[-1].key == f"findings:{RUN.id}"  # the line table stays last
    table = _patterns_table(report, RUN.id)
    headers = [c.header for c in table.columns]
    assert headers[:5] == ["Severity", "Provider", "Payer", "CPT", "Lines (go to first)"]
    assert {"At risk (listed)", "Counted in total", "First claims"} <= set(headers)
    assert table.row_look == "severity"
    assert table.frame["lines"].sum() == PATTERNS_FROM  # every line in one pattern
    found = _result(PATTERNS_FROM).findings
    lines = found[found["scope"] == "line"]
    assert len(table) == len(lines[["provider", "payer", "cpt"]].drop_duplicates())


def _line_rows(report, audit_id: str) -> list[tuple[str, int, pd.Series]]:
    """Every row of an audit's line table, over its continuation sheets: (part, row, values)."""
    rows = []
    for sheet in report.sheets:
        for table in sheet.tables():
            if table.key.split("#")[0] == f"findings:{audit_id}":
                rows += [(table.key, i, table.frame.iloc[i]) for i in range(len(table))]
    return rows


@pytest.mark.parametrize("max_rows", [1_048_576, 40])
def test_pattern_links_go_to_the_first_line_of_the_pattern(max_rows):
    result = _result(120, providers=3)
    report = build_report(result, max_rows=max_rows)
    table = _patterns_table(report, RUN.id)
    links = table.links["lines"]
    assert len(links) == len(table) and all(links)
    rows = _line_rows(report, RUN.id)
    if max_rows < 1000:
        assert len({part for part, _, _ in rows}) > 2  # spilled onto continuation sheets
    first_of: dict[tuple, tuple[str, int]] = {}
    for part, i, row in rows:
        key = (row["provider"], row["payer"], row["cpt"])
        if row.get("scope", "line") == "line":
            first_of.setdefault(key, (part, i))
    spilled = False
    for i, link in enumerate(links):
        pattern = table.frame.iloc[i]
        key = (pattern["provider"], pattern["payer"], pattern["cpt"])
        assert (link.table, link.row) == first_of[key]
        target = report.find_table(link.table)[1].frame.iloc[link.row]
        assert target["claim_id"] == pattern["first_claims"].split(", ")[0]
        spilled |= "#" in link.table
        resolve(report, link)  # the link resolves to a sheet and row
    assert spilled == (max_rows < 1000)
    for sheet in report.sheets:  # nothing past the rows a sheet holds
        last = place(sheet)[-1]
        assert last.row + last.height - 1 <= max_rows, sheet.name


def test_the_patterns_table_fits_a_small_sheet():
    report = build_report(_result(400, providers=7), max_rows=30)
    table = _patterns_table(report, RUN.id)
    assert table is not None and 0 < len(table) < 7 * 2 * 3
    notes = [b.text for b in report.sheet(RUN.id).blocks if hasattr(b, "tone")]
    assert any("largest of" in t for t in notes)


# --- end to end: a messy export -----------------------------------------------------------


@pytest.fixture(scope="module")
def messy():
    lines = generate(3000, seed=7, messy=True)
    result = run_audits(lines)
    return result, lines, build_report(result, ClaimLines(lines, []))


def _top(report) -> Table:
    blocks = report.sheet("Summary").blocks
    return next(b for b in blocks if isinstance(b, Table) and b.key == "top-findings")


def test_a_messy_export_gives_audit_sheets_patterns(messy):
    result, _lines, report = messy
    line_findings = result.findings[result.findings["scope"] == "line"]
    many = line_findings["audit"].value_counts()
    many = set(many[many >= PATTERNS_FROM].index)
    assert len(many) >= 3
    for audit_id in many:
        table = _patterns_table(report, audit_id)
        assert table is not None, audit_id
        assert table.frame["lines"].sum() <= (line_findings["audit"] == audit_id).sum()
    for audit_id in set(line_findings["audit"]) - many:
        assert _patterns_table(report, audit_id) is None


def test_summary_top_findings_are_patterns(messy):
    result, _lines, report = messy
    top = _top(report)
    frame = top.frame
    assert len(frame) == 10
    headers = [c.header for c in top.columns]
    assert {"Lines", "First claims", "CPT", "Audit (go to row)"} <= set(headers)
    assert (frame["lines"] > 1).any()
    keys = list(zip(frame["audit"], frame["provider"], frame["payer"], frame["cpt"], strict=True))
    pattern_keys = [k for k, n in zip(keys, frame["lines"], strict=True) if n > 1]
    assert len(set(pattern_keys)) == len(pattern_keys)  # no pattern shown as several rows
    counted = [_counted(row) for _, row in frame.iterrows()]
    assert counted == sorted(counted, reverse=True)
    # the best pattern is the pattern with the most counted dollars of any audit
    found = result.findings
    lines_only = found[found["scope"] == "line"]
    best = line_patterns(lines_only, keys=("audit", "provider", "payer", "cpt"))
    others = found[(found["scope"] != "line") & found["counted"].astype(bool)]
    most = max(best["dollars_counted"].max(), others["dollars_at_risk"].max())
    assert counted[0] == pytest.approx(most, abs=1)
    for i, link in enumerate(top.links["audit"]):
        row = frame.iloc[i]
        assert link is not None
        _sheet, table = report.find_table(link.table)
        target = table.frame.iloc[link.row]
        if link.table.startswith("patterns:"):
            assert link.table == patterns_key(row["audit"])
            assert (target["provider"], target["payer"], target["cpt"]) == (
                row["provider"],
                row["payer"],
                row["cpt"],
            )
            assert target["lines"] == row["lines"]
            assert target["first_claims"] == row["claim_id"]
        else:
            assert target["claim_id"] == str(row["claim_id"]).split(", ")[0]


def _counted(row: pd.Series) -> float:
    """The counted dollars a top row shows: all of At risk, none, or "$X of $Y"."""
    if row["in_total"] == "yes":
        return float(row["dollars_at_risk"])
    match = re.fullmatch(r"\$([\d,]+) of \$[\d,]+", str(row["in_total"]))
    return float(match.group(1).replace(",", "")) if match else 0.0


def test_summary_says_what_a_pattern_is(messy):
    _result, _lines, report = messy
    texts = [getattr(b, "text", "") for b in report.sheet("Summary").blocks]
    at = texts.index("Top findings by dollars at risk")
    assert "same physician, payer and code" in " ".join(texts[at : at + 3])


def _headers(ws, table) -> tuple[dict[str, int], int, int]:
    min_col, header_row, max_col, last_row = range_boundaries(table.ref)
    headers = {ws.cell(header_row, c).value: c for c in range(min_col, max_col + 1)}
    return headers, header_row, last_row


def _target(wb, location: str):
    sheet, row = re.fullmatch(r"'?(.+?)'?!A(\d+)", location).groups()
    return wb[sheet], int(row)


def test_workbook_pattern_links_point_at_the_lines(messy, tmp_path):
    result, lines, _report = messy
    path = write_workbook(result, tmp_path / "messy.xlsx", lines=ClaimLines(lines, []))
    wb = load_workbook(path)
    checked = 0
    for ws in wb.worksheets:
        names = [n for n in ws.tables if n.startswith("ak_patterns_")]
        if not names:
            continue
        patterns = ws.tables[names[0]]
        headers, header_row, last_row = _headers(ws, patterns)
        for r in range(header_row + 1, min(last_row, header_row + 5) + 1):
            cell = ws.cell(r, headers["Lines (go to first)"])
            assert cell.hyperlink is not None and cell.hyperlink.target is None
            target_ws, target_row = _target(wb, cell.hyperlink.location)
            lines_table = next(target_ws.tables[n] for n in target_ws.tables if "findings" in n)
            t_headers, _, _ = _headers(target_ws, lines_table)
            for name in ("Provider", "Payer", "CPT"):
                want = ws.cell(r, headers[name]).value
                got = target_ws.cell(target_row, t_headers[name]).value
                assert str(got if got is not None else NONE_LABEL) == str(want), name
            first_claim = ws.cell(r, headers["First claims"]).value.split(", ")[0]
            assert str(target_ws.cell(target_row, t_headers["Claim"]).value) == first_claim
            checked += 1
    assert checked >= 10
    # the Summary's pattern rows go to their pattern
    ws = wb["Summary"]
    headers, header_row, last_row = _headers(ws, ws.tables["ak_top_findings"])
    to_patterns = 0
    for r in range(header_row + 1, last_row + 1):
        link = ws.cell(r, headers["Audit (go to row)"]).hyperlink
        target_ws, target_row = _target(wb, link.location)
        assert target_ws.title == ws.cell(r, headers["Audit (go to row)"]).value
        cpt = target_ws.cell(target_row, 4).value  # Severity, Provider, Payer, CPT
        if ws.cell(r, headers["Lines"]).value > 1:
            assert str(cpt) == str(ws.cell(r, headers["CPT"]).value)
            to_patterns += 1
    assert to_patterns >= 1


def test_top_findings_render_messages_the_findings_frame_does_not_hold():
    from auditkit.report.summary_sheet import _top_findings

    found = _findings(
        [_line("Dr. A", "P1", "1", f"C{i}", 10.0) for i in range(3)]
        + [_line("Dr. B", "P1", "1", "C9", 5.0)]
    ).assign(message=None)
    positions = pd.DataFrame(
        {"table": f"findings:{RUN.id}", "row": range(4), "pattern_row": -1}, index=found.index
    )
    asked = []

    def render(index: pd.Index) -> list[str]:
        asked.append(list(index))
        return [f"rendered {i}" for i in index]

    top = _top_findings(found, positions, messages=render)
    assert asked == [[0, 3]]  # once, for the rows shown: each pattern's first finding
    assert list(top.frame["message"]) == ["3 lines; first: rendered 0", "rendered 3"]
    assert [(link.table, link.row) for link in top.links["audit"]] == [
        (f"findings:{RUN.id}", 0),
        (f"findings:{RUN.id}", 3),
    ]
