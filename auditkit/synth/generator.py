"""Synthetic claim lines for a pain-management practice, built with whole-array numpy.

The generator works claim by claim *as arrays*: every claim-level attribute (template, patient,
payer, physician, date, side, diagnoses, outcome) is one numpy array over all claims, and lines
are made by repeating claim rows by their template's line count. Nothing loops over claims or
lines in Python; the few loops there are run over physicians, payers, families or templates.

The base data is clean with respect to the coding rules the audits check (every procedure billed
with an office visit has 25 on the visit, side-specific codes carry RT/LT/50, epidurals have a
radicular diagnosis, add-ons come with their primary, at most four epidural sessions per region
per patient, one trigger-point code per session, chronic pain management with 30+ minutes and
G3003 units that match them, each payer's bilateral services billed its one way - see
``Payer.bilateral`` - and units within the daily limits).
Known errors are added by :mod:`auditkit.synth.plant` as extra claims with a *tag*, and the
revenue patterns by :mod:`auditkit.synth.revenue_plant` after the lines are made.

The steps, in the order :func:`generate_with_truth` runs them on one random generator:

* :mod:`auditkit.synth.plant`: the planted claims (a claim table, see
  :mod:`auditkit.synth.claim_arrays`);
* :func:`build`: base claims and people (:mod:`auditkit.synth.population`), then lines
  (:mod:`auditkit.synth.lines`, with :mod:`auditkit.synth.claim_details` and
  :mod:`auditkit.synth.adjudication`);
* :mod:`auditkit.synth.plant_truth`: what the coding audits must and must not flag;
* :mod:`auditkit.synth.revenue_plant`: the revenue patterns and their truth.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from auditkit.synth import revenue_plant
from auditkit.synth.claim_arrays import (
    Calendar,
    Generated,
    claim_table,
    concat_tables,
    make_calendar,
    template_tables,
)
from auditkit.synth.lines import expand
from auditkit.synth.plant import MIN_PLANTED_LINES, plan
from auditkit.synth.plant_truth import truth
from auditkit.synth.population import (
    assign_days,
    assign_people,
    base_claims,
    enforce_patient_rules,
    patient_pool,
)


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
    # The revenue patterns post-process the planted frame (see auditkit.synth.revenue_plant).
    return revenue_plant.plant(generated.frame, truth(generated, rng), seed)


def generate(
    n_lines: int = 2500,
    seed: int = 7,
    *,
    start: str = "2025-10-01",
    plant: bool | None = None,
    messy: bool = False,
) -> pd.DataFrame:
    """A canonical claim-line table (see :func:`generate_with_truth`). With ``messy`` most lines
    carry random modifiers, diagnoses and units (:func:`auditkit.synth.messy.messify`): a
    practice whose every other line breaks some rule, for measuring findings at scale."""
    frame = generate_with_truth(n_lines, seed, start=start, plant=plant)[0]
    if messy:
        from auditkit.synth.messy import messify

        frame = messify(frame, seed)
    return frame


def build(
    n_lines: int, rng: np.random.Generator, calendar: Calendar, planted: dict[str, np.ndarray]
) -> Generated:
    """Make ``n_lines`` claim lines: the planted claims plus base claims filling the rest."""
    tt = template_tables()
    planted_lines = int(tt.length[planted["template"]].sum()) if len(planted["template"]) else 0
    if planted_lines > n_lines:
        raise ValueError(f"planted claims need {planted_lines} lines, more than n_lines={n_lines}")
    n_fresh = int(planted["fresh"].max()) + 1 if (planted["fresh"] >= 0).any() else 0
    pool = patient_pool(max(n_lines // 4, 40), rng)
    base = base_claims(n_lines - planted_lines, pool, rng)
    claims = concat_tables(planted, base)
    assign_people(claims, pool, n_fresh, rng)
    assign_days(claims, calendar, rng)
    n_patients = enforce_patient_rules(claims, calendar, len(pool["payer"]) + n_fresh)
    return expand(claims, pool, n_patients, calendar, rng)
