"""Regenerate the bundled sample exports and their truth files.

Examples::

    python sample_exports/generate.py                      # the three bundled samples, here
    python sample_exports/generate.py --flavour clinicore --lines 5000 --seed 3 --out /tmp/x

Each export comes with ``truth/<name>.csv`` (the canonical claim lines it was written from,
restricted to the columns the export carries), ``truth/<name>.planted.json`` (the planted
errors per audit id) and ``<system>_authorizations.csv`` (the practice's authorization log for
that export, for ``--auths``); ``fee_schedule.csv`` (the contracted rates, for
``--fee-schedule``) is shared by the three. See README.md in this folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from auditkit.synth import FLAVOURS
from auditkit.synth.revenue import write_side_tables
from auditkit.synth.samples import BUNDLED, write_sample

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--flavour", choices=sorted(FLAVOURS), help="write only this flavour (default: all three)"
    )
    parser.add_argument(
        "--lines", type=int, help="claim lines per export (default: the bundled size)"
    )
    parser.add_argument("--seed", type=int, help="random seed (default: the bundled seed)")
    parser.add_argument(
        "--out", type=Path, default=HERE, help="output folder (default: this folder)"
    )
    args = parser.parse_args(argv)
    if args.lines is not None and args.lines < 1:
        parser.error("--lines must be at least 1")
    flavours = [args.flavour] if args.flavour else list(BUNDLED)
    for flavour in flavours:
        paths = write_sample(flavour, args.out, n_lines=args.lines, seed=args.seed)
        side = write_side_tables(flavour, args.out, n_lines=args.lines, seed=args.seed)
        print(
            f"wrote {paths['export']} (+ {paths['truth'].name}, {paths['planted'].name}, "
            f"{side['auths'].name}, {side['fee_schedule'].name})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
