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


def test_atomic_write_keeps_mode_and_leaves_no_temp_file(tmp_path) -> None:
    import os
    import stat

    from auditkit.fileio import atomic_write_bytes

    target = tmp_path / "out.json"
    atomic_write_bytes(target, b"one")
    umask = os.umask(0)
    os.umask(umask)
    # a new file gets the usual mode, not mkstemp's private 0600
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    target.chmod(0o640)
    atomic_write_bytes(target, b"two")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_atomic_write_into_missing_folder_is_one_line_error(tmp_path) -> None:
    import pytest

    from auditkit.errors import OutputError
    from auditkit.fileio import atomic_write_bytes

    with pytest.raises(OutputError, match="folder does not exist"):
        atomic_write_bytes(tmp_path / "nope" / "x.json", b"x")
