"""Synthetic claim lines of a pain-management practice, with planted billing errors.

* :func:`generate` makes a canonical claim-line table (see :mod:`auditkit.claims`).
* :func:`generate_with_truth` also returns what was planted, per audit id.
* :func:`write_flavour` renders a table as one of three practice-management exports
  (``medirev`` CSV, ``practiflow`` XLSX, ``clinicore`` UTF-16 text); :data:`FLAVOURS` describes
  them. :func:`write_truth` / :func:`read_truth` store the canonical table as plain CSV.

All names, numbers and codes are invented; nothing comes from real patients.

Imports go one way: this package imports :mod:`~auditkit.synth.generator` (the generation
steps, see its docstring), :mod:`~auditkit.synth.flavours`, :mod:`~auditkit.synth.plant` and
:mod:`~auditkit.synth.revenue` (the revenue side tables, above :mod:`~auditkit.synth.samples`,
the bundled samples); no module of the package imports the package itself.
"""

from __future__ import annotations

from auditkit.synth import revenue
from auditkit.synth.flavours import FLAVOURS, Flavour, read_truth, write_flavour, write_truth
from auditkit.synth.generator import generate, generate_with_truth
from auditkit.synth.plant import AUDIT_IDS as _CODING_IDS
from auditkit.synth.plant import MIN_PLANTED_LINES

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
