"""Comparing two runs (issue 21): stable finding keys, auditkit compare, audit --baseline."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from auditkit.cli import cli
from auditkit.compare import REDACTION_NOTE, compare, compare_json, read_run
from auditkit.engine.findingset import FindingSet
from auditkit.engine.keys import hashes, key_text, occurrences

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_exports" / "medirev_charges.csv"
KEY = r"^[0-9a-f]{16}(-\d+)?$"


def _audit(tmp: Path, name: str, *extra: str) -> Path:
    path = tmp / name
    result = CliRunner().invoke(cli, ["audit", str(SAMPLE), "--json", str(path), "-q", *extra])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("runs")
    return _audit(tmp, "first.json"), _audit(tmp, "second.json")


def test_same_data_twice_compares_as_nothing_new_nothing_resolved(two_runs, tmp_path):
    first, second = two_runs
    out, js = tmp_path / "c.xlsx", tmp_path / "c.json"
    result = CliRunner().invoke(
        cli, ["compare", str(first), str(second), "--out", str(out), "--json", str(js)]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(js.read_text(encoding="utf-8"))
    n = len(json.loads(first.read_text(encoding="utf-8"))["findings"])
    assert n > 50
    assert doc["new"] == [] and doc["resolved"] == []
    assert len(doc["persisting"]) == n
    assert all(f["dollars_change"]["change"] == 0 for f in doc["persisting"])
    assert doc["totals"]["new"] == {"findings": 0, "dollars": 0.0}
    assert doc["summary"].startswith("Since the last audit: 0 findings resolved")
    assert "counted" in doc["dollars_basis"]
    assert "Comparison" in load_workbook(out, read_only=True).sheetnames


def test_keys_in_json_are_unique_hex_and_stable(two_runs):
    first, second = two_runs
    a = json.loads(first.read_text(encoding="utf-8"))["findings"]
    b = json.loads(second.read_text(encoding="utf-8"))["findings"]
    keys = [f["key"] for f in a]
    assert list(a[0])[0] == "key"
    assert len(set(keys)) == len(keys)
    assert pd.Series(keys).str.match(KEY).all()
    assert {f["key"] for f in b} == set(keys)


def _finding(key, audit, dollars, counted=True, **kw):
    base = {
        "key": key,
        "audit": audit,
        "severity": "high",
        "scope": "line",
        "provider": "Dr. A",
        "payer": "Aetna",
        "cpt": "20552",
        "claim_id": kw.pop("claim_id", "C1"),
        "line": kw.pop("line", 1),
        "dollars_at_risk": dollars,
        "dollars_basis": "expected payment",
        "covers": [],
        "counted": counted,
        "message": f"{audit} finding",
        "fix": "",
        "evidence": {},
        "source_file": None,
        "source_row": None,
    }
    return {**base, **kw}


def _doc(findings, **summary):
    return {
        "auditkit_version": "0.test",
        "inputs": [],
        "warnings": [],
        "summary": {"lines": 100, "clean_claim_rate": 0.9, "findings": len(findings), **summary},
        "audits": [{"id": a, "status": "ran"} for a in ("fixed-one", "stays", "new-one")],
        "edit_tables": [],
        "findings": findings,
        "worklist": [],
    }


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    before = _doc(
        [
            _finding("aaaaaaaaaaaaaaaa", "fixed-one", 100.0),
            _finding("bbbbbbbbbbbbbbbb", "stays", 50.0, claim_id="C2"),
            _finding("cccccccccccccccc", "stays", 999.0, counted=False, claim_id="C3"),
        ]
    )
    after = _doc(
        [
            _finding("bbbbbbbbbbbbbbbb", "stays", 80.0, claim_id="C2"),
            _finding("cccccccccccccccc", "stays", 999.0, counted=False, claim_id="C3"),
            _finding("dddddddddddddddd", "new-one", 30.0, claim_id="C9"),
        ],
        lines=120,
        clean_claim_rate=0.95,
    )
    paths = tmp_path / "before.json", tmp_path / "after.json"
    for path, doc in zip(paths, (before, after), strict=True):
        path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return paths


def test_hand_written_pair_fixed_new_persisting(pair, tmp_path):
    cmp = compare(read_run(pair[0]), read_run(pair[1]))
    doc = compare_json(cmp)
    assert [f["key"] for f in doc["resolved"]] == ["aaaaaaaaaaaaaaaa"]
    assert [f["key"] for f in doc["new"]] == ["dddddddddddddddd"]
    persisting = {f["key"]: f for f in doc["persisting"]}
    assert persisting["bbbbbbbbbbbbbbbb"]["dollars_change"] == {
        "before": 50.0,
        "after": 80.0,
        "change": 30.0,
    }
    assert persisting["bbbbbbbbbbbbbbbb"]["message"] == "stays finding"  # the finding as written
    t = doc["totals"]
    assert t["resolved"] == {"findings": 1, "dollars": 100.0}
    assert t["new"] == {"findings": 1, "dollars": 30.0}
    # the uncounted 999 is in no total
    assert t["persisting"]["dollars_before"] == 50.0 and t["persisting"]["dollars_after"] == 80.0


def test_client_summary_sentence(pair):
    cmp = compare(read_run(pair[0]), read_run(pair[1]))
    assert cmp.sentence == (
        "Since the last audit: 1 finding resolved ($100.00 at risk); 1 new ($30.00); "
        "2 persisting ($80.00 now, +$30.00 since)."
    )


def test_kpis_side_by_side(pair, tmp_path):
    cmp = compare(read_run(pair[0]), read_run(pair[1]))
    rows = {r["name"]: r for r in cmp.kpis}
    assert rows["lines"] == {"name": "lines", "before": 100, "after": 120, "change": 20}
    assert rows["clean_claim_rate"]["change"] == pytest.approx(0.05)
    out = tmp_path / "c.xlsx"
    result = CliRunner().invoke(cli, ["compare", str(pair[0]), str(pair[1]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 finding resolved" in result.output
    ws = load_workbook(out)["Comparison"]
    values = [[c for c in row if c is not None] for row in ws.iter_rows(values_only=True)]
    assert ["lines", 100, 120, 20] in values
    shown = {row[0]: row for row in ws.iter_rows(values_only=True) if row[0] in ("new", "resolved")}
    assert "fixed-one finding" in shown["resolved"] and "new-one finding" in shown["new"]
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "Change")
    key_col = header.index("Key") + 1
    assert ws.column_dimensions[ws.cell(1, key_col).column_letter].hidden


@pytest.mark.parametrize("layout", ["auditkit", "reindented"])
def test_pre_key_json_gets_keys_from_its_fields(two_runs, tmp_path, layout):
    first, second = two_runs
    old = tmp_path / "old.json"
    if layout == "auditkit":  # one finding per line, read line by line
        text = re.sub(r'"key":"[0-9a-f-]+",', "", first.read_text(encoding="utf-8"))
        old.write_text(text, encoding="utf-8")
    else:  # another layout, read whole
        doc = json.loads(first.read_text(encoding="utf-8"))
        for finding in doc["findings"]:
            del finding["key"]
        old.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    assert '"key"' not in old.read_text(encoding="utf-8")
    run = read_run(old)
    assert run.computed_keys
    cmp = compare(run, read_run(second))
    assert len(cmp.new) == 0 and len(cmp.resolved) == 0
    assert any("before findings had keys" in n for n in cmp.notes)


@pytest.mark.parametrize(
    "text", ['{"findings": []}', "[1, 2]", "not json at all", '{"auditkit_version": "1"}']
)
def test_not_an_audit_json_is_refused(two_runs, tmp_path, text):
    other = tmp_path / "other.json"
    other.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["compare", str(two_runs[0]), str(other)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "not an auditkit audit JSON" in lines[0]


def test_baseline_adds_comparison_sheet_and_audit_sheets_hide_the_key(two_runs, tmp_path):
    out = tmp_path / "audit.xlsx"
    result = CliRunner().invoke(
        cli, ["audit", str(SAMPLE), "--baseline", str(two_runs[0]), "--out", str(out), "-q"]
    )
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    assert wb.sheetnames[1] == "Comparison"
    text = " ".join(str(c) for row in wb["Comparison"].iter_rows(values_only=True) for c in row)
    assert "0 findings resolved" in text and "0 new" in text
    first = json.loads(two_runs[0].read_text(encoding="utf-8"))["findings"][0]
    assert first["message"] in text  # persisting findings listed with their message
    ws = wb["ncci-ptp"]
    header = next(r for r in ws.iter_rows(values_only=True) if r and r[0] == "Severity")
    col = ws.cell(1, header.index("Key") + 1).column_letter
    assert ws.column_dimensions[col].hidden
    keys = json.loads(two_runs[0].read_text(encoding="utf-8"))["findings"]
    rows = list(ws.iter_rows(values_only=True))
    row = rows[rows.index(header) + 1]
    assert row[header.index("Key")] in {f["key"] for f in keys}


def test_baseline_needs_a_workbook(two_runs, tmp_path):
    result = CliRunner().invoke(
        cli, ["audit", str(SAMPLE), "--baseline", str(two_runs[0]), "--json", "x.json"]
    )
    assert result.exit_code == 2


def test_redacted_runs_are_noted(pair, tmp_path):
    docs = []
    for path in pair:
        doc = json.loads(path.read_text(encoding="utf-8"))
        for i, f in enumerate(doc["findings"]):
            f["claim_id"] = f"CL-{i:08X}{path.stem[:1].upper()}A"
        docs.append(doc)
    paths = []
    for name, doc in zip(("b.json", "a.json"), docs, strict=True):
        (tmp_path / name).write_text(json.dumps(doc), encoding="utf-8")
        paths.append(tmp_path / name)
    cmp = compare(read_run(paths[0]), read_run(paths[1]))
    assert REDACTION_NOTE in cmp.notes


# -- the keys ------------------------------------------------------------------------------


def _fields() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "audit": ["ncci-ptp", "ncci-ptp", "tpi-ratio", "ar-aging", "ar-aging"],
            "scope": ["line", "line", "provider", "practice", "claim"],
            "provider": ["Dr. A", "Dr. B", "Dr. A", None, "Dr. C"],
            "payer": ["Aetna", "Aetna", None, "", "Cigna"],
            "cpt": ["20552", "20552", "20552", None, None],
            "claim_id": ["C1", "C1", None, None, "C7"],
            "line": pd.array([1, 1, None, None, None], dtype="Int64"),
        }
    )


def test_key_uses_the_scope_fields_and_normalises_blanks():
    frame = _fields()
    h = hashes(frame)
    assert h[0] == h[1]  # a line's physician describes it, does not place it
    other = frame.copy()
    other["line"] = [1.0, 1.0, np.nan, np.nan, np.nan]
    other["claim_id"] = ["C1 ", "C1", "", None, "C7"]
    other["payer"] = ["Aetna", "Aetna", "", None, "Aetna"]  # a claim's payer describes it
    assert (hashes(other) == h).all()
    moved = frame.copy()
    moved.loc[0, "line"] = 2
    assert hashes(moved)[0] != h[0]
    assert key_text(h, np.ones(len(h))).str.match(KEY).all()


def test_key_is_the_same_in_another_process():
    here = key_text(hashes(_fields()), np.ones(5)).tolist()
    code = (
        "import sys, json, numpy as np; sys.path.insert(0, sys.argv[1]);"
        "from test_compare import _fields; from auditkit.engine.keys import hashes, key_text;"
        "print(json.dumps(key_text(hashes(_fields()), np.ones(5)).tolist()))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert json.loads(out.stdout) == here


def test_occurrences_number_one_place_in_a_stable_order():
    keys = np.array([5, 7, 5, 5], dtype=np.uint64)
    texts = {0: "b", 2: "a", 3: "c"}
    seq = occurrences(keys, lambda where: pd.Series([texts[int(i)] for i in where]))
    assert seq.tolist() == [2, 1, 1, 3]
    assert key_text(keys, seq).tolist()[0].endswith("-2")


def test_findingset_keys_do_not_depend_on_row_order():
    rows = []
    for i, claim in enumerate(["C1", "C1", "C2"]):
        rows.append(
            {
                "audit": "ncci-ptp",
                "severity": "high",
                "scope": "line",
                "provider": "Dr. A",
                "payer": "Aetna",
                "cpt": "20552",
                "claim_id": claim,
                "line": 1,
                "dollars_at_risk": 10.0 * i,
                "message": "pair",
                "evidence": {"partner": ["64483", "64490", "x"][i]},
            }
        )
    frame = pd.DataFrame(rows)
    one = FindingSet.build([frame])
    two = FindingSet.build([frame.iloc[::-1].reset_index(drop=True)])
    by_partner = {}
    for found in (one, two):
        full = found.frame()
        keys = found.keys().tolist()
        by_partner[id(found)] = {
            ev["partner"]: k for ev, k in zip(full["evidence"], keys, strict=True)
        }
    assert by_partner[id(one)] == by_partner[id(two)]
    assert len(set(by_partner[id(one)].values())) == 3


def test_findings_of_an_audit_not_run_again_are_not_resolved(pair, tmp_path):
    doc = json.loads(pair[1].read_text(encoding="utf-8"))
    doc["audits"] = [a for a in doc["audits"] if a["id"] != "fixed-one"]
    after = tmp_path / "after_without.json"
    after.write_text(json.dumps(doc), encoding="utf-8")
    cmp = compare(read_run(pair[0]), read_run(after))
    assert len(cmp.resolved) == 0
    assert cmp.totals["not_rechecked"] == {"findings": 1, "dollars": 100.0}
    assert any("did not run this time" in n for n in cmp.notes)
