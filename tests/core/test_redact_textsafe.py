from __future__ import annotations

import pandas as pd

from auditkit.redact import Redactor, identifying_values
from auditkit.textsafe import MAX_CELL_CHARS, looks_like_formula, safe_text


def test_same_patient_same_pseudonym_within_a_run() -> None:
    redactor = Redactor(b"k" * 32)
    a = pd.DataFrame({"patient_id": ["P1", "P2", "P1"], "patient_name": ["Ann", "Bo", "Ann"]})
    b = pd.DataFrame({"patient_id": ["P2"], "patient_name": ["Bo"]})
    ra, rb = redactor.frame(a), redactor.frame(b)
    assert ra["patient_id"][0] == ra["patient_id"][2] != ra["patient_id"][1]
    assert rb["patient_id"][0] == ra["patient_id"][1]
    assert not identifying_values(a) & identifying_values(ra)
    # the input frame is left alone
    assert a["patient_id"].tolist() == ["P1", "P2", "P1"]


def test_different_runs_give_different_pseudonyms() -> None:
    frame = pd.DataFrame({"patient_id": ["P1"]})
    assert Redactor().frame(frame)["patient_id"][0] != Redactor().frame(frame)["patient_id"][0]


def test_names_alone_are_pseudonymised() -> None:
    out = Redactor(b"x" * 32).frame(pd.DataFrame({"patient_name": ["Ann Lee", None]}))
    assert out["patient_name"][0].startswith("PATIENT-")
    assert pd.isna(out["patient_name"][1])


def test_formula_detection_and_cleaning() -> None:
    for payload in ('=HYPERLINK("x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert looks_like_formula(payload)
    assert not looks_like_formula("Dr. Lee")
    assert safe_text("a\x00b\x1fc") == "abc"
    long = safe_text("x" * (MAX_CELL_CHARS + 10))
    assert len(long) == MAX_CELL_CHARS and long.endswith("[truncated]")
