"""The bundled samples are exactly what sample_exports/generate.py produces."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from auditkit.synth import AUDIT_IDS, FLAVOURS, read_truth
from auditkit.synth.samples import BUNDLED, sample_paths, write_sample

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_exports"


def _cells(path: Path) -> list[tuple]:
    ws = openpyxl.load_workbook(path, read_only=True).active
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    for flavour in BUNDLED:
        write_sample(flavour, out)
    return out


@pytest.mark.parametrize("flavour", list(BUNDLED))
def test_bundled_files_match_the_generator(flavour, regenerated):
    bundled, fresh = sample_paths(flavour, SAMPLES), sample_paths(flavour, regenerated)
    for kind in ("truth", "planted"):
        assert bundled[kind].read_bytes() == fresh[kind].read_bytes(), kind
    if bundled["export"].suffix == ".xlsx":  # a workbook stores its save time: compare cells
        assert _cells(bundled["export"]) == _cells(fresh["export"])
    else:
        assert bundled["export"].read_bytes() == fresh["export"].read_bytes()


@pytest.mark.parametrize("flavour", list(BUNDLED))
def test_bundled_sizes(flavour):
    paths = sample_paths(flavour, SAMPLES)
    assert paths["export"].stat().st_size < 1_500_000
    truth = read_truth(paths["truth"])
    assert len(truth) >= 2000
    assert tuple(truth.columns) == FLAVOURS[flavour].columns
    planted = json.loads(paths["planted"].read_text(encoding="utf-8"))
    assert tuple(planted) == AUDIT_IDS
    assert all(spec["expect"] for spec in planted.values())


def test_script_writes_one_flavour(tmp_path):
    script = SAMPLES / "generate.py"
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            "--flavour",
            "clinicore",
            "--lines",
            "1200",
            "--seed",
            "4",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    paths = sample_paths("clinicore", tmp_path)
    assert all(p.exists() for p in paths.values())
    assert len(read_truth(paths["truth"])) == 1200
    assert not (tmp_path / FLAVOURS["medirev"].filename).exists()


def test_script_rejects_bad_arguments(tmp_path):
    script = SAMPLES / "generate.py"
    for args in (["--flavour", "epic"], ["--lines", "0"]):
        done = subprocess.run(
            [sys.executable, str(script), *args, "--out", str(tmp_path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 2
        assert "usage" in done.stderr
