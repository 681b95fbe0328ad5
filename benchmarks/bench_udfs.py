"""Time each spreadsheet function on 100,000-row ranges (Python side; not collected by pytest).

Run from the repository root: ``python benchmarks/bench_udfs.py``. For each function it
prints two times, best of 5:

* ``function``: the UDF called with the ranges as xlwings hands them to it (a list of rows per
  range) - the Python work a recalculation costs once Excel has marshalled the cells;
* ``with conversion``: the same through xlwings' ``call_udf`` and conversion pipeline with the
  Windows engine's value cleaning (tests/excel/xlwings_harness.py), still without Excel's COM
  marshalling.

The target (issue #10) is under 100 ms for ``function`` on a 100k-row range.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

# The "with conversion" times run xlwings' Windows UDF machinery through the Excel tests'
# stand-in for it (tests/excel/xlwings_harness.py, a test helper, not part of the package):
# put that folder on the path explicitly.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "excel"))

import xlwings_harness as harness

N = 100_000
RNG = np.random.default_rng(1)


def column(values) -> list[list[object]]:
    return [[v] for v in values]


def ranges() -> dict[str, tuple]:
    codes = RNG.choice(["20552", "20553", 20553.0, "64483", None, "99213 "], N).tolist()
    statuses = RNG.choice(["Paid", "Denied", "PD", "pending", None, "Rejected"], N).tolist()
    providers = RNG.choice(["Dr A", "Dr B", "Dr C", None], N).tolist()
    frequency = RNG.choice([1.0, 7.0, 8.0, None], N).tolist()
    charges = RNG.integers(50, 2000, N).astype(float).tolist()
    minutes = RNG.choice([10.0, 35.0, 50.0, 75.5, None, "62"], N).tolist()
    carcs = RNG.choice(["CO-197", "PR-1", 4.0, "CO 16", None, "OA-999"], N).tolist()
    m = harness.MISSING
    return {
        "AUDIT_TPI_MIX": (column(codes), column(providers), "Dr B"),
        "AUDIT_CLEAN_RATE": (column(statuses), column(frequency), column(providers), "Dr A"),
        "AUDIT_DENIAL_RATE": (column(statuses), column(charges), m, m),
        "AUDIT_CPM_CODES": (column(minutes), m),
        "AUDIT_CARC": (column(carcs), m),
        "AUDIT_FAMILY": (column(codes),),
        "AUDIT_CHECK_LINE": ("20553", "RT", "M79.18", 1, m, [["Muscles"]], [[2]]),
        "AUDIT_CHECK_LINE (column)": (
            column(RNG.choice(["20552", "20553", "64483"], N).tolist()),
            column(RNG.choice(["RT", "LT", None], N).tolist()),
            column(RNG.choice(["M79.18", "M54.16"], N).tolist()),
            m,
            column(RNG.choice(["Medicare", "Aetna"], N).tolist()),
            [["Muscles"]],
            column(RNG.choice([1.0, 2.0, 4.0, None], N).tolist()),
        ),
    }


def findings_grid(rows: int) -> list[list[object]]:
    header = ["Claim #", "DOS", "Rendering Provider", "Payer", "CPT", "Status", "Charge"]
    grid: list[list[object]] = [header]
    providers = RNG.choice(["Dr A", "Dr B", "Dr C"], rows)
    cpts = RNG.choice(["20552", "20553", "64483", "99213"], rows)
    status = RNG.choice(["Paid", "Denied", "Pending"], rows)
    for i in range(rows):
        grid.append(
            [f"C{i // 2}", datetime(2025, 10, 1 + i % 28), providers[i], "Medicare", cpts[i],
             status[i], 250.0]
        )  # fmt: skip
    return grid


def best(func, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main() -> None:
    with harness.windows_xlwings() as udfs:
        module = harness.import_udf_module(udfs, "auditkit.excel.udfs")
        cases = ranges()
        cases["AUDIT_FINDINGS"] = (findings_grid(N), harness.MISSING, harness.MISSING)
        print(f"{'function':<26} {'rows':>8} {'function':>12} {'with conversion':>18}")
        for label, args in cases.items():
            name = label.split(" ")[0]
            func = getattr(module, name)
            plain = tuple(None if a == harness.MISSING and isinstance(a, int) else a for a in args)
            # what xlwings passes for ndim=2 arguments is already a list of rows
            slow = label in ("AUDIT_FINDINGS", "AUDIT_CHECK_LINE (column)")
            direct = best(lambda func=func, plain=plain: func(*plain), 2 if slow else 5)
            converted = best(
                lambda name=name, args=args: harness.call_like_excel(udfs, module, name, *args),
                1 if slow else 3,
            )
            rows = 1 if label == "AUDIT_CHECK_LINE" else N
            print(f"{label:<26} {rows:>8,} {direct:>10.1f} ms {converted:>15.1f} ms")


if __name__ == "__main__":
    main()
