"""Time reading a published-size CMS PTP table and joining it to a 1M-line export (by hand).

    python benchmarks/bench_ncci.py                   # 2.2M PTP rows, codes of a 1M-line export
    python benchmarks/bench_ncci.py --rows 1200000 --lines 100000

Writes a synthetic practitioner PTP table of the published size and layout (made-up edits:
four tab-delimited .TXT parts, each zipped as CMS serves them) and a synthetic export made by
``auditkit.synth.generate`` (its codes are included in the table's code set, so that pairs are
found). Each step then runs in a fresh process, so that its peak memory (RSS) is its own:

* first read: hash, unzip, find the header, parse with pyarrow, type and filter to the export's
  codes, write the Parquet cache (the cache folder starts empty);
* cached read: hash the zips and read the cache, filtered to the export's codes;
* cached read of every edit (no filter);
* each read again followed by a same-day join to the export: every pair of its lines with the
  same patient, rendering provider and date of service whose codes are an edit in effect that
  day (a sketch of what an ``ncci-ptp`` audit does before it looks at modifiers).

Prints a Markdown table. No network; nothing is kept after the run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM starts afresh at exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------------------------
# the worker: one step in its own process


def same_day_pairs(lines: pd.DataFrame, edits: pd.DataFrame) -> pd.DataFrame:
    """The (patient, provider, day) groups of an export that hold both codes of an edit in
    effect that day (effective <= DOS, and DOS < deletion when the edit was deleted), one row
    per group and edit. Days and codes are numbered first, so that the join is on integers."""
    keys = ["patient_id", "rendering_provider", "date_of_service"]
    pairs = edits[edits["modifier_indicator"] != 9]
    codes = pd.Index(sorted(set(pairs["column1"]) | set(pairs["column2"])))
    relevant = lines[lines["cpt"].isin(codes)]
    days = pd.DataFrame(
        {
            "day": relevant.groupby(keys, sort=False, observed=True).ngroup().to_numpy(),
            "code": codes.get_indexer(relevant["cpt"]),
            "dos": relevant["date_of_service"].to_numpy(),
        }
    ).drop_duplicates(["day", "code"])
    days = days[days.groupby("day")["code"].transform("size") >= 2]
    edit_codes = pd.DataFrame(
        {
            "code": codes.get_indexer(pairs["column1"]),
            "code_2": codes.get_indexer(pairs["column2"]),
            "effective": pairs["effective"].to_numpy(),
            "deletion": pairs["deletion"].to_numpy(),
        }
    )
    candidates = days.merge(edit_codes, on="code")
    width = len(codes)
    held = days["day"].to_numpy(dtype="int64") * width + days["code"].to_numpy()
    wanted = candidates["day"].to_numpy(dtype="int64") * width + candidates["code_2"].to_numpy()
    both = pd.Series(wanted).isin(held).to_numpy()
    dos = candidates["dos"]
    in_effect = (candidates["effective"] <= dos) & (
        candidates["deletion"].isna() | (dos < candidates["deletion"])
    )
    return candidates[in_effect.to_numpy() & both].reset_index(drop=True)


def worker(args: argparse.Namespace) -> dict:
    import pyarrow as pa

    from auditkit.reference.ncci import read_ptp

    codes = json.loads(Path(args.codes).read_text()) if args.filter else None
    lines = pd.read_parquet(args.export) if args.join else None
    baseline = _peak_rss_mb()
    paths = sorted(Path(args.ptp).glob("*.zip"))
    started = time.perf_counter()
    table = read_ptp(paths, codes=codes, cache_dir=Path(args.cache))
    out = {
        "read": time.perf_counter() - started,
        "rows_read": table.rows_read,
        "rows_kept": len(table),
        "from_cache": all(s.from_cache for s in table.sources),
        "arrow_peak_mb": pa.default_memory_pool().max_memory() / 1024**2,
    }
    if lines is not None:
        started = time.perf_counter()
        edits = table.frame()
        hits = same_day_pairs(lines, edits)
        out["join"] = time.perf_counter() - started
        out["pairs_found"] = len(hits)
    out["rss_mb"] = _peak_rss_mb()
    out["rss_before_mb"] = baseline
    return out


def run_worker(**kwargs: object) -> dict:
    argv = [sys.executable, __file__, "--worker"]
    for key, value in kwargs.items():
        if value is True:
            argv.append(f"--{key}")
        elif value not in (None, False):
            argv += [f"--{key}", str(value)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------
# the run


def prepare(folder: Path, rows: int, n_lines: int) -> dict:
    """Write the export's lines (the join needs four columns) and its codes, then the PTP set."""
    from auditkit.synth import generate
    from auditkit.synth.ncci_files import write_ptp_set

    started = time.perf_counter()
    frame = generate(n_lines, seed=7)
    lines = frame[["patient_id", "rendering_provider", "date_of_service", "cpt"]].copy()
    lines["line"] = range(len(lines))
    lines.to_parquet(folder / "export.parquet")
    codes = sorted(lines["cpt"].dropna().unique().tolist())
    (folder / "codes.json").write_text(json.dumps(codes))
    t_export = time.perf_counter() - started

    started = time.perf_counter()
    paths = write_ptp_set(folder / "ptp", rows, seed=7, include_codes=codes)
    t_ptp = time.perf_counter() - started
    return {
        "export_s": t_export,
        "codes": len(codes),
        "ptp_s": t_ptp,
        "zip_mb": sum(p.stat().st_size for p in paths) / 1024**2,
        "files": [p.name for p in paths],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="PTP rows (default: published size)")
    parser.add_argument("--lines", type=int, default=1_000_000, help="export lines")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    for name in ("ptp", "cache", "codes", "export"):
        parser.add_argument(f"--{name}", help=argparse.SUPPRESS)
    parser.add_argument("--filter", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--join", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args)))
        return

    from auditkit.synth.ncci_files import PUBLISHED_PTP_ROWS

    rows = args.rows or PUBLISHED_PTP_ROWS
    with tempfile.TemporaryDirectory(prefix="bench-ncci-") as tmp:
        folder = Path(tmp)
        made = prepare(folder, rows, args.lines)
        common = {"ptp": folder / "ptp", "codes": folder / "codes.json"}
        export = folder / "export.parquet"
        steps = [
            ("first read: parse + filter (empty cache)", {"cache": folder / "c1", "filter": True}),
            ("cached read: filter", {"cache": folder / "c1", "filter": True}),
            ("cached read: every edit, no filter", {"cache": folder / "c1"}),
            (
                "first read + same-day join to the export",
                {"cache": folder / "c2", "filter": True, "join": True, "export": export},
            ),
            (
                "cached read + same-day join to the export",
                {"cache": folder / "c2", "filter": True, "join": True, "export": export},
            ),
        ]
        results = [(name, run_worker(**common, **options)) for name, options in steps]

    print(f"## NCCI PTP read: {rows:,} edits in 4 zipped parts, {args.lines:,}-line export\n")
    print(
        f"Synthetic PTP set written in {made['ptp_s']:.1f} s ({made['zip_mb']:.1f} MB of zips); "
        f"export generated in {made['export_s']:.1f} s ({made['codes']} distinct codes).\n"
    )
    print("| step | read s | join s | edits kept | same-day pairs | peak RSS MB | arrow peak MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, out in results:
        join = f"{out['join']:.2f}" if "join" in out else ""
        pairs = f"{out['pairs_found']:,}" if "pairs_found" in out else ""
        print(
            f"| {name} | {out['read']:.2f} | {join} | {out['rows_kept']:,} | {pairs} | "
            f"{out['rss_mb']:.0f} | {out['arrow_peak_mb']:.0f} |"
        )
    print(
        "\nPeak RSS is the whole process (Python, pandas, pyarrow and, for the join rows, the "
        "export's four columns); before reading the table it was "
        f"{results[0][1]['rss_before_mb']:.0f} MB (read rows) and "
        f"{results[3][1]['rss_before_mb']:.0f} MB (join rows)."
    )


if __name__ == "__main__":
    main()
