"""Chart-pull review, part one: a stratified random sample of claim lines for a reviewer.

A compliance review compares billed lines with the operative notes: first a probe sample (often
5-10 lines per physician), then, when the probe shows a problem, a statistically valid random
sample (commonly 30 or more lines per stratum) whose error rate and dollars are projected to all
the lines it was drawn from, the way OIG's RAT-STATS does. :func:`draw_sample` draws either
(:data:`DRAW_TEXT` says how, in the words the About sheet and ``auditkit explain sample`` use);
:mod:`auditkit.report.review_sheets` makes the reviewer's workbook of it and
:mod:`auditkit.measures.review_score` scores the answers.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from auditkit.claims import PAID_STATUSES, UNCLEAN_STATUSES
from auditkit.engine.context import Context
from auditkit.engine.settings import load_settings
from auditkit.errors import InputError

__all__ = [
    "DRAW_TEXT",
    "ONLY_CHOICES",
    "SAMPLE_COLUMNS",
    "STRATUM_KEYS",
    "ReviewSample",
    "draw_sample",
    "new_seed",
    "unit_prices",
]

#: Stratum key -> what it is (the words the sheets and messages use).
STRATUM_KEYS: dict[str, str] = {
    "provider": "rendering physician",
    "family": "procedure family",
    "payer": "payer",
}
#: ``only`` -> the statuses a line must have (None: any status but voided).
ONLY_CHOICES: dict[str, tuple[str, ...] | None] = {
    "all": None,
    "denied": UNCLEAN_STATUSES,  # denied or rejected
    "paid": PAID_STATUSES,  # paid or partially paid
}
#: Lines never sampled: a voided line was withdrawn, there is nothing to review.
NEVER_SAMPLED = ("voided",)
#: How a sample is drawn, for people (the About sheet, ``auditkit explain sample``).
DRAW_TEXT = """\
- The frame is every claim line of the exports that passes the filters: a date-of-service range
  (--from, --to; inclusive) and --only denied (denied or rejected lines), paid (paid or partially
  paid) or all. Voided lines are never in the frame.
- The frame is split into strata, by default rendering physician x procedure family (--by
  provider,family; payer is a third key; a line without a physician is "(blank)").
- In each stratum, --per-stratum lines are drawn by simple random sampling without replacement;
  a stratum with fewer lines is taken whole.
- The draw is reproducible. The lines are first put in an order that depends only on the data
  (claim, line, date, code, ...; not on the order of the export's rows), then each stratum's
  lines are drawn with numpy's PCG64 generator seeded with the run's seed and a hash of the
  stratum's name, so a stratum's sample does not change when other strata come or go. Without
  --seed a seed is drawn from the operating system's randomness; either way it is printed and
  stored in the workbook, and the same seed and data give the same sample.
- Each stratum's number of lines and dollars (the sum of the lines' charges, the billed amount)
  are kept on the Frame sheet: the reviewer's findings are projected to these lines. The
  expected payment per unit of every code at each payer of the sample is kept on the hidden
  data sheet, so the review is scored from the workbook alone.
"""
#: The columns of :attr:`ReviewSample.sample`, in the order the Review sheet shows them.
SAMPLE_COLUMNS: tuple[str, ...] = (
    "sample_id",
    "provider",
    "family",
    "claim_id",
    "line",
    "date_of_service",
    "payer",
    "cpt",
    "modifiers",
    "units",
    "diagnoses",
    "status",
    "charge",
    "paid",
)
#: Columns whose values order the lines before drawing (those the data has, in this order;
#: the export's file and row only break ties between otherwise identical lines).
_ORDER_BY: tuple[str, ...] = (
    "claim_id",
    "line_number",
    "date_of_service",
    "cpt",
    "modifiers",
    "units",
    "charge",
    "paid",
    "status",
    "payer",
    "rendering_provider",
    "diagnosis_codes",
    "patient_id",
    "source_file",
    "source_row",
)


@dataclass
class ReviewSample:
    """A drawn sample and everything needed to review and score it.

    ``frame``: one row per stratum (the stratum keys, ``frame_lines``, ``frame_dollars`` - the
    sum of the lines' charges, NaN when the export has no charge - and ``sample_lines``), in
    stratum order. ``sample``: the sampled lines (:data:`SAMPLE_COLUMNS` plus ``source_file``
    and ``source_row``), by stratum then claim. ``prices``: ``code, payer, unit_price,
    source`` for every code billed in the exports (and every code of the fee schedule) at each
    payer of the sample, where a price is known (see :func:`unit_prices`).
    """

    frame: pd.DataFrame
    sample: pd.DataFrame
    prices: pd.DataFrame
    seed: int
    by: tuple[str, ...]
    per_stratum: int
    #: The filters used: ``only``, ``date_from``, ``date_to`` (ISO dates or None).
    filters: dict[str, Any] = field(default_factory=dict)
    #: Lines left out before the frame was made, by reason (voided, status, dates).
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def frame_lines(self) -> int:
        return int(self.frame["frame_lines"].sum())


def new_seed() -> int:
    """A fresh seed from the operating system's randomness (32 bits: short enough to type)."""
    return int.from_bytes(os.urandom(4), "big")


def draw_sample(
    lines: pd.DataFrame,
    *,
    by: tuple[str, ...] | list[str] = ("provider", "family"),
    per_stratum: int = 10,
    seed: int | None = None,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    only: str = "all",
    config: Any = None,
) -> ReviewSample:
    """A stratified simple random sample without replacement of canonical claim lines.

    ``lines``: what ``auditkit.load(...).frame`` gives. ``by``: stratum keys among
    :data:`STRATUM_KEYS` (empty: one stratum). ``per_stratum``: lines drawn per stratum; a
    stratum with fewer is taken whole. ``seed``: a non-negative integer; None draws one
    (:func:`new_seed`), returned in :attr:`ReviewSample.seed`. ``date_from``/``date_to``:
    inclusive date-of-service range. ``only``: ``all``, ``denied`` (denied or rejected) or
    ``paid`` (paid or partially paid); voided lines are never sampled. ``config``: a
    :class:`auditkit.config.Config` or what ``load_settings`` takes (its fee schedule prices
    the lines, its reference tables give the families).

    Raises :class:`InputError` (one line) for a filter the data cannot answer (no status, no
    dates) and when no line is left to sample.
    """
    by = _check_by(by)
    if per_stratum < 1:
        raise InputError(f"--per-stratum must be 1 or more, not {per_stratum}")
    if only not in ONLY_CHOICES:
        raise InputError(f"--only must be one of {', '.join(ONLY_CHOICES)}, not {only!r}")
    if seed is None:
        seed = new_seed()
    if seed < 0:
        raise InputError(f"--seed must be 0 or more, not {seed}")
    start, end = _day(date_from, "--from"), _day(date_to, "--to")
    if start is not None and end is not None and start > end:
        raise InputError(f"--from {start.date()} is after --to {end.date()}")
    settings = load_settings(config)
    lines = lines.reset_index(drop=True)
    # Prices per unit: the practice's paid means are taken over paid / units.
    context = Context(_per_unit_paid(lines), settings)
    keyed = pd.DataFrame(
        {
            "provider": context.provider.to_numpy(),
            "family": context.family.to_numpy(),
            "payer": context.payer.to_numpy(),
        }
    )
    keep, excluded = _filters(lines, only, start, end)
    order = _data_order(lines[keep])
    rows = np.flatnonzero(keep)[order]
    strata_keys = keyed.iloc[rows].reset_index(drop=True)
    if not len(rows):
        raise InputError(
            "no claim line is left to sample after the filters"
            + _filter_words(only, start, end)
            + (f" ({_excluded_words(excluded)} left out)" if excluded else "")
        )
    picked, frame = _draw(strata_keys, by, per_stratum, seed, lines.get("charge"), rows)
    sample = _sample_rows(lines, keyed, rows[picked], by)
    prices = unit_prices(context, lines, sample["payer"])
    return ReviewSample(
        frame=frame,
        sample=sample,
        prices=prices,
        seed=int(seed),
        by=by,
        per_stratum=int(per_stratum),
        filters={
            "only": only,
            "date_from": start.date().isoformat() if start is not None else None,
            "date_to": end.date().isoformat() if end is not None else None,
        },
        excluded=excluded,
    )


def _check_by(by: tuple[str, ...] | list[str] | str) -> tuple[str, ...]:
    if isinstance(by, str):
        by = [part.strip() for part in by.split(",") if part.strip()]
    out = tuple(str(key).strip().lower() for key in by)
    unknown = [key for key in out if key not in STRATUM_KEYS]
    if unknown:
        raise InputError(f"cannot stratify by {', '.join(unknown)}: use {', '.join(STRATUM_KEYS)}")
    if len(set(out)) != len(out):
        raise InputError(f"--by names a key twice: {','.join(out)}")
    return out


def _day(value: str | date | None, option: str) -> pd.Timestamp | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        stamp = pd.NaT
    if pd.isna(stamp):
        raise InputError(f"{option} {value!r} is not a date (use YYYY-MM-DD)")
    return stamp.normalize()


def _per_unit_paid(lines: pd.DataFrame) -> pd.DataFrame:
    """The lines with ``paid`` per unit (units missing or not positive count as 1), so that the
    practice's paid means the context works out are per unit."""
    if "paid" not in lines.columns or "units" not in lines.columns:
        return lines
    units = pd.to_numeric(lines["units"], errors="coerce").astype("float64").to_numpy()
    units = np.where(np.isfinite(units) & (units > 0), units, 1.0)
    paid = lines["paid"].to_numpy(dtype="float64", na_value=np.nan)
    return lines.assign(paid=paid / units)


def _filters(
    lines: pd.DataFrame, only: str, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> tuple[np.ndarray, dict[str, int]]:
    """Which lines are in the frame, and how many were left out for each reason."""
    keep = np.ones(len(lines), dtype=bool)
    excluded: dict[str, int] = {}
    has_status = "status" in lines.columns and bool(lines["status"].notna().any())
    if has_status:
        status = lines["status"].astype("string").str.strip().str.lower()
        voided = status.isin(NEVER_SAMPLED).fillna(False).to_numpy(dtype=bool)
        _drop(keep, voided, excluded, "voided")
        wanted = ONLY_CHOICES[only]
        if wanted is not None:
            other = ~status.isin(wanted).fillna(False).to_numpy(dtype=bool)
            _drop(keep, other, excluded, f"not {only}")
    elif only != "all":
        raise InputError(
            f"--only {only} needs the claim status, and the export has no status column",
            hint="map the status column (auditkit columns shows the mapping) or use --only all",
        )
    if start is not None or end is not None:
        if "date_of_service" not in lines.columns:
            raise InputError("--from/--to need the date of service, and the export has none")
        days = pd.to_datetime(lines["date_of_service"]).dt.normalize()
        inside = days.notna()
        if start is not None:
            inside &= days >= start
        if end is not None:
            inside &= days <= end
        _drop(keep, ~inside.to_numpy(dtype=bool), excluded, "outside the dates")
    return keep, excluded


def _drop(keep: np.ndarray, out: np.ndarray, excluded: dict[str, int], reason: str) -> None:
    count = int((keep & out).sum())
    if count:
        excluded[reason] = count
    keep &= ~out


def _filter_words(only: str, start: pd.Timestamp | None, end: pd.Timestamp | None) -> str:
    parts = []
    if only != "all":
        parts.append(f"--only {only}")
    if start is not None:
        parts.append(f"--from {start.date()}")
    if end is not None:
        parts.append(f"--to {end.date()}")
    return f" ({', '.join(parts)})" if parts else ""


def _excluded_words(excluded: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {reason}" for reason, n in excluded.items())


def _data_order(lines: pd.DataFrame) -> np.ndarray:
    """Positions of ``lines`` in an order that depends only on their values (the export's row
    order only breaks ties between lines equal in every column used)."""
    keys = [c for c in _ORDER_BY if c in lines.columns]
    if not keys:
        return np.arange(len(lines))
    frame = lines[keys].reset_index(drop=True)
    ordered = frame.sort_values(keys, kind="stable", na_position="last")
    return ordered.index.to_numpy()


def _stratum_seed(seed: int, key: tuple[str, ...]) -> np.random.SeedSequence:
    """The seed sequence of one stratum: the run's seed and a hash of the stratum's name."""
    digest = hashlib.sha256("\x1f".join(key).encode("utf-8")).digest()
    words = np.frombuffer(digest[:16], dtype="<u4").tolist()
    return np.random.SeedSequence([int(seed), *words])


def _draw(
    keys: pd.DataFrame,
    by: tuple[str, ...],
    per_stratum: int,
    seed: int,
    charge: pd.Series | None,
    rows: np.ndarray,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Positions (into ``keys``) of the sampled lines, stratum by stratum, and the frame table.

    ``keys`` holds the lines of the frame in data order; ``rows`` their positions in the
    export (for the charges)."""
    if by:
        groups = keys.groupby(list(by), sort=True, dropna=False).indices
    else:
        groups = {(): np.arange(len(keys))}
    dollars = (
        charge.to_numpy(dtype="float64", na_value=np.nan)[rows] if charge is not None else None
    )
    picked: list[np.ndarray] = []
    strata = []
    for name in sorted(groups, key=lambda k: k if isinstance(k, tuple) else (k,)):
        members = np.asarray(groups[name])  # in data order
        key = name if isinstance(name, tuple) else (name,)
        n_lines = len(members)
        if n_lines <= per_stratum:
            chosen = members
        else:
            rng = np.random.Generator(np.random.PCG64(_stratum_seed(seed, tuple(map(str, key)))))
            chosen = members[np.sort(rng.choice(n_lines, size=per_stratum, replace=False))]
        picked.append(chosen)
        row = dict(zip(by, key, strict=True))
        row["frame_lines"] = n_lines
        row["frame_dollars"] = (
            float(np.nansum(dollars[members])) if dollars is not None else float("nan")
        )
        row["sample_lines"] = len(chosen)
        strata.append(row)
    frame = pd.DataFrame(strata, columns=[*by, "frame_lines", "frame_dollars", "sample_lines"])
    for key in by:
        frame[key] = frame[key].astype("string")
    return np.concatenate(picked) if picked else np.zeros(0, dtype=np.intp), frame


def _sample_rows(
    lines: pd.DataFrame, keyed: pd.DataFrame, rows: np.ndarray, by: tuple[str, ...]
) -> pd.DataFrame:
    """The sampled lines with what the reviewer needs, numbered 1..n in sample order."""
    picked = lines.iloc[rows].reset_index(drop=True)
    n = len(picked)

    def column(name: str, dtype: str) -> pd.Series:
        if name in picked.columns:
            return picked[name].astype(dtype)
        return pd.Series(pd.NA if dtype != "float64" else np.nan, index=picked.index, dtype=dtype)

    sample = pd.DataFrame(
        {
            "sample_id": np.arange(1, n + 1, dtype=np.int64),
            "provider": keyed["provider"].to_numpy()[rows],
            "family": keyed["family"].to_numpy()[rows],
            "claim_id": column("claim_id", "string"),
            "line": column("line_number", "Int64"),
            "date_of_service": (
                pd.to_datetime(picked["date_of_service"])
                if "date_of_service" in picked.columns
                else pd.Series(pd.NaT, index=picked.index, dtype="datetime64[ns]")
            ),
            "payer": keyed["payer"].to_numpy()[rows],
            "cpt": column("cpt", "string"),
            "modifiers": _listed(column("modifiers", "string")),
            "units": column("units", "Float64"),
            "diagnoses": _listed(column("diagnosis_codes", "string")),
            "status": column("status", "string"),
            "charge": column("charge", "float64"),
            "paid": column("paid", "float64"),
            "source_file": column("source_file", "string"),
            "source_row": column("source_row", "Int64"),
        }
    )
    for key in ("provider", "family", "payer"):
        sample[key] = sample[key].astype("string")
    return sample


def _listed(values: pd.Series) -> pd.Series:
    """A list column ("25,RT") as the reviewer reads it ("25, RT"); empty lists blank."""
    text = values.astype("string").str.replace(",", ", ", regex=False)
    return text.mask(text.str.strip().eq(""), pd.NA)


def unit_prices(context: Context, lines: pd.DataFrame, payers: pd.Series) -> pd.DataFrame:
    """``code, payer, unit_price, source`` for each code billed in ``lines`` or in the fee
    schedule, at each of ``payers``, where a price is known.

    The expected payment per unit: the configuration's fee schedule where it has the code, else
    the practice's mean paid amount per unit on paid lines of the code at that payer, else at any
    payer. ``context`` is an :class:`auditkit.engine.context.Context` over the lines with paid
    per unit (:func:`_per_unit_paid`), so its
    :meth:`~auditkit.engine.context.Context.fees` does the pricing as everywhere else."""
    codes = set()
    if "cpt" in lines.columns:
        codes.update(str(c) for c in lines["cpt"].dropna().unique())
    schedule = context.config.fee_schedule
    codes.update(str(c) for c in schedule.default)
    for fees in schedule.by_payer.values():
        codes.update(str(c) for c in fees)
    codes_sorted = sorted(c for c in codes if c.strip())
    payer_values = sorted(pd.Series(payers, dtype="string").dropna().unique().tolist())
    if not codes_sorted or not payer_values:
        return pd.DataFrame(
            {
                "code": pd.Series(dtype="string"),
                "payer": pd.Series(dtype="string"),
                "unit_price": pd.Series(dtype="float64"),
                "source": pd.Series(dtype="string"),
            }
        )
    grid_codes = pd.Series(np.repeat(codes_sorted, len(payer_values)), dtype="string")
    grid_payers = pd.Series(np.tile(payer_values, len(codes_sorted)), dtype="string")
    fee, source = context.fees(grid_codes, grid_payers)
    prices = pd.DataFrame(
        {
            "code": grid_codes.to_numpy(),
            "payer": grid_payers.to_numpy(),
            "unit_price": fee.to_numpy(dtype="float64"),
            "source": source.to_numpy(),
        }
    )
    prices = prices[np.isfinite(prices["unit_price"].to_numpy())].reset_index(drop=True)
    return prices.astype({"code": "string", "payer": "string", "source": "string"})
