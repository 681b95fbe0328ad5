"""Synthetic claim lines of a pain-management practice, with planted billing errors.

* :func:`generate` makes a canonical claim-line table (see :mod:`auditkit.claims`).
* :func:`generate_with_truth` also returns what was planted, per audit id.
* :func:`write_flavour` renders a table as one of three practice-management exports
  (``medirev`` CSV, ``practiflow`` XLSX, ``clinicore`` UTF-16 text); :data:`FLAVOURS` describes
  them. :func:`write_truth` / :func:`read_truth` store the canonical table as plain CSV.

All names, numbers and codes are invented; nothing comes from real patients.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from auditkit.synth import revenue
from auditkit.synth.flavours import FLAVOURS, Flavour, read_truth, write_flavour, write_truth
from auditkit.synth.generator import build, claim_table, make_calendar
from auditkit.synth.plant import AUDIT_IDS as _CODING_IDS
from auditkit.synth.plant import MIN_PLANTED_LINES, plan, truth

#: Every audit id the planted truth covers: the coding patterns, then the revenue ones.
AUDIT_IDS = _CODING_IDS + revenue.REVENUE_AUDIT_IDS

__all__ = [
    "AUDIT_IDS",
    "FLAVOURS",
    "MIN_PLANTED_LINES",
    "Flavour",
    "generate",
    "generate_with_truth",
    "read_truth",
    "write_flavour",
    "write_truth",
]


def generate_with_truth(
    n_lines: int = 2500,
    seed: int = 7,
    *,
    start: str = "2025-10-01",
    plant: bool | None = None,
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Make ``n_lines`` claim lines over the 12 months from ``start``, and the planted truth.

    The same ``n_lines``, ``seed`` and ``start`` always give the same table. ``plant`` adds the
    known errors listed in ``sample_exports/README.md``; by default it is on from
    :data:`MIN_PLANTED_LINES` lines (below that the truth is empty). The truth is
    ``{audit_id: {"expect": [entity, ...], "controls": [entity, ...], "note": str}}`` where an
    entity is a dict naming what an audit must (expect) or must not (controls) flag: a line
    (``claim_id``, ``line``, ``cpt``), a provider, a (``cpt``, ``payer``) pair, or a patient.
    """
    if n_lines < 1:
        raise ValueError(f"n_lines must be at least 1, got {n_lines}")
    if plant is None:
        plant = n_lines >= MIN_PLANTED_LINES
    elif plant and n_lines < MIN_PLANTED_LINES:
        raise ValueError(f"planting needs at least {MIN_PLANTED_LINES} lines, got {n_lines}")
    rng = np.random.default_rng(seed)
    calendar = make_calendar(start)
    planted = plan(n_lines, rng, calendar) if plant else claim_table(0)
    generated = build(n_lines, rng, calendar, planted)
    if not plant:
        return generated.frame, {}
    # The revenue patterns post-process the planted frame (see auditkit.synth.revenue).
    return revenue.plant(generated.frame, truth(generated, rng), seed)


def generate(
    n_lines: int = 2500,
    seed: int = 7,
    *,
    start: str = "2025-10-01",
    plant: bool | None = None,
) -> pd.DataFrame:
    """A canonical claim-line table (see :func:`generate_with_truth`)."""
    return generate_with_truth(n_lines, seed, start=start, plant=plant)[0]
