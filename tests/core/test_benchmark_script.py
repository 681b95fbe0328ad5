"""The benchmark script keeps working (its numbers are checked by the benchmark, not here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_script_writes_its_report_on_small_sizes(tmp_path: Path) -> None:
    out = tmp_path / "bench.md"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--sizes",
            "1000,2000",
            "--skip-extras",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = out.read_text(encoding="utf-8")
    for heading in ("## Stages and end to end", "## Growth from 1,000 to 2,000", "## Budgets"):
        assert heading in text
    assert "| 1,000 |" in text and "| 2,000 |" in text
