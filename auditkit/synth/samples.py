"""The bundled sample exports: which flavour, size and seed each one has, and how to write it."""

from __future__ import annotations

import json
from pathlib import Path

from auditkit.synth.flavours import FLAVOURS, write_flavour, write_truth
from auditkit.synth.generator import generate_with_truth

#: flavour -> (lines, seed) of the bundled sample in sample_exports/.
BUNDLED: dict[str, tuple[int, int]] = {
    "medirev": (2500, 7),
    "practiflow": (2400, 11),
    "clinicore": (2200, 23),
}


def sample_paths(flavour: str, out_dir: str | Path) -> dict[str, Path]:
    """Where the export, its canonical truth and its planted truth go for ``flavour``."""
    out = Path(out_dir)
    stem = Path(FLAVOURS[flavour].filename).stem
    return {
        "export": out / FLAVOURS[flavour].filename,
        "truth": out / "truth" / f"{stem}.csv",
        "planted": out / "truth" / f"{stem}.planted.json",
    }


def write_sample(
    flavour: str, out_dir: str | Path, *, n_lines: int | None = None, seed: int | None = None
) -> dict[str, Path]:
    """Generate and write one sample export plus ``truth/<stem>.csv`` and ``.planted.json``.

    ``n_lines`` and ``seed`` default to the bundled sample's (see :data:`BUNDLED`).
    """
    if flavour not in FLAVOURS:
        raise ValueError(f"unknown flavour {flavour!r}; choose one of {', '.join(FLAVOURS)}")
    default_lines, default_seed = BUNDLED[flavour]
    frame, planted = generate_with_truth(
        default_lines if n_lines is None else n_lines, default_seed if seed is None else seed
    )
    paths = sample_paths(flavour, out_dir)
    paths["truth"].parent.mkdir(parents=True, exist_ok=True)
    write_flavour(frame, flavour, paths["export"])
    write_truth(frame, paths["truth"], FLAVOURS[flavour].columns)
    text = json.dumps(planted, indent=1, ensure_ascii=False) + "\n"
    paths["planted"].write_text(text, encoding="utf-8", newline="\n")
    return paths
