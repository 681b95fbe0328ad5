"""How long LibreOffice takes to open an audit workbook.

Times ``soffice --headless --convert-to csv --outdir TMP WORKBOOK``: LibreOffice loads the whole
workbook (every sheet, every row) and writes its first sheet as CSV, so the time is that of
opening the file plus a start-up, with no page layout (converting to PDF would lay out every
page, which is not what opening means). Each measurement uses a fresh user profile
(``-env:UserInstallation=file:///tmp/...``) so runs share no state with each other or with a
desktop LibreOffice; the first run also creates that profile, so a second run in the same
profile is timed too, and a one-cell workbook in the same profile gives the start-up alone.

The workbook's size and its sheets' row counts are read with openpyxl (read-only mode).

Run by ``benchmarks/run.py`` (on the 100k-line messy export's CLI workbook), or alone::

    python benchmarks/bench_render.py WORKBOOK.xlsx      # prints a JSON object
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: A conversion that takes longer than this is stopped and reported as such.
TIMEOUT_S = 1800


def soffice() -> str | None:
    """The LibreOffice command, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def workbook_stats(path: Path) -> dict:
    """Size in MB, and each sheet's row count as openpyxl reads it (read-only mode). auditkit's
    sheets carry no dimension record, so the rows are counted by reading them."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        sheets = {}
        for ws in wb.worksheets:
            rows = ws.max_row
            if rows is None:
                rows = sum(1 for _ in ws.iter_rows(values_only=True))
            sheets[ws.title] = rows
    finally:
        wb.close()
    return {
        "mb": path.stat().st_size / 1e6,
        "sheets": len(sheets),
        "rows": sum(sheets.values()),
        "largest_sheet": max(sheets.items(), key=lambda kv: kv[1]) if sheets else None,
        "rows_by_sheet": sheets,
    }


def _convert(exe: str, workbook: Path, profile: Path, outdir: Path) -> dict:
    """One conversion, timed from the command's start to its exit, with the peak RSS of the
    largest process LibreOffice ran (it starts through a shell script)."""
    target = outdir / (workbook.stem + ".csv")
    target.unlink(missing_ok=True)
    cmd = [
        exe,
        "--headless",
        "--norestore",
        f"-env:UserInstallation={profile.as_uri()}",
        "--convert-to",
        "csv",
        "--outdir",
        str(outdir),
        str(workbook),
    ]
    log = outdir / "soffice.log"
    with open(log, "wb") as sink:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=sink, stderr=sink, start_new_session=True)
        # polled rather than waited for, so that there is a timeout and wait4's resource use
        # (the peak RSS of the process and the descendants it waited for)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t > TIMEOUT_S:
                os.killpg(proc.pid, signal.SIGKILL)  # the group this call started, nothing else
                os.wait4(proc.pid, 0)
                proc.returncode = -signal.SIGKILL
                return {"seconds": None, "error": f"timed out after {TIMEOUT_S} s"}
            time.sleep(0.01)
        seconds = time.perf_counter() - t
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0 or not target.exists():
        tail = log.read_text(errors="replace")[-1000:]
        return {"seconds": seconds, "error": f"soffice exited {code}: {tail}"}
    return {"seconds": seconds, "rss_mb": usage.ru_maxrss / 1024}


def _tiny_workbook(folder: Path) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = "start-up"
    path = folder / "tiny.xlsx"
    wb.save(path)
    return path


def measure(workbook: Path | str, runs: int = 2, stats: bool = True) -> dict:
    """Open ``workbook`` in LibreOffice ``runs`` times in one fresh profile (the first run
    creates the profile), then a one-cell workbook (start-up alone). ``{"skipped": why}`` when
    LibreOffice is not installed."""
    workbook = Path(workbook).resolve()
    exe = soffice()
    out: dict = {"workbook": str(workbook)}
    if stats:
        t = time.perf_counter()
        out.update(workbook_stats(workbook))
        out["stats_seconds"] = time.perf_counter() - t
    if exe is None:
        out["skipped"] = "LibreOffice (soffice) is not installed"
        return out
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    out["version"] = version.stdout.strip().splitlines()[0] if version.stdout.strip() else "?"
    with tempfile.TemporaryDirectory(prefix="auditkit-soffice-") as tmp:
        folder = Path(tmp)
        profile, outdir = folder / "profile", folder / "out"
        outdir.mkdir()
        out["runs"] = [_convert(exe, workbook, profile, outdir) for _ in range(runs)]
        out["startup"] = _convert(exe, _tiny_workbook(folder), profile, outdir)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    result = measure(args.workbook, args.runs)
    if "skipped" in result:
        print(f"bench_render: skipped, {result['skipped']}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
