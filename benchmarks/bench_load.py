"""Time auditkit.ingest.load on a generated CSV (not a test; run by hand).

    python benchmarks/bench_load.py [LINES]

Writes a synthetic export (made-up data) to a temporary folder, loads it three times and prints
the best wall time. Default 200,000 lines.
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
import time
from pathlib import Path

from auditkit.ingest import load

HEADER = [
    "Claim #", "DOS", "Rend Prov", "Primary Ins", "Proc Code", "Mod 1", "Mod 2", "Units", "Dx1",
    "Dx2", "Chg Amt", "Ins Paid", "Allowed", "Adj", "Status", "Denial Code", "Acct #",
    "Patient Name", "POS", "Paid Date",
]  # fmt: skip
CODES = ["20552", "20553", "64483", "64484", "99213", "99214", "G3002", "62323", "64493", "20610"]


def write_export(path: Path, lines: int) -> None:
    rng = random.Random(7)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(lines):
            writer.writerow(
                [
                    f"C{i // 3:07d}",
                    f"{rng.randint(1, 12)}/{rng.randint(1, 28)}/2024",
                    rng.choice(["Lee, Ann MD", "Patel, Raj DO", "Kim, Sue MD"]),
                    rng.choice(["Medicare", "Aetna", "BCBS", "UHC"]),
                    rng.choice(CODES),
                    rng.choice(["", "25", "50", "RT"]),
                    rng.choice(["", "59", ""]),
                    "1",
                    "M54.16",
                    rng.choice(["", "M47.816"]),
                    f"${rng.randint(50, 2000):,}.00",
                    f"{rng.randint(0, 900)}.{rng.randint(0, 99):02d}",
                    "100.00",
                    "(12.50)",
                    rng.choice(["Paid", "Denied", "Pending"]),
                    rng.choice(["", "CO-197", "PR-1"]),
                    f"A{rng.randint(1, 99999)}",
                    "Doe, Jane",
                    "11",
                    "2024-03-01",
                ]
            )


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        write_export(path, lines)
        size = path.stat().st_size / 1024**2
        times = []
        for _ in range(3):
            started = time.perf_counter()
            result = load(path)
            times.append(time.perf_counter() - started)
        assert len(result) == lines
        print(f"{lines:,} lines ({size:.0f} MB): best {min(times):.2f} s, runs {times}")


if __name__ == "__main__":
    main()
