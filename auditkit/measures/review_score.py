"""Chart-pull review, part two: score the reviewer's answers and project them to the frame.

The reviewer's workbook (:mod:`auditkit.report.review_sheets`) is read back by
:func:`auditkit.excel.review_book.read_review`, which refuses a workbook whose sampled columns
were edited; :func:`score_review` judges each answered line (the rules are :data:`SCORING_TEXT`,
shown on the About sheet and by ``auditkit explain sample``) and :func:`review_statistics`, the
one caller of :mod:`auditkit.measures.review_stats`, gives the error rates and projections.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from auditkit.errors import InputError
from auditkit.measures import review_stats

__all__ = [
    "INTERVAL_METHODS",
    "JSON_KEYS",
    "SCORING_TEXT",
    "SUPPORTED_CHOICES",
    "ReviewAnswers",
    "ReviewScore",
    "method_text",
    "review_json",
    "sample_docs",
    "score_review",
]

#: How the answers are scored, for people (the About sheet, ``auditkit explain sample``).
SCORING_TEXT = """\
- A line is answered when Supported is Yes, No or Partly. A line left blank is reported and left
  out of every figure: it is neither an error nor supported.
- A line is an error when Supported is No or Partly, or when the reviewer typed a correct code,
  units or modifiers that differ from those billed (compared trimmed and upper-case, modifiers
  in any order; "none" means no modifier).
- Its dollar difference is price(billed code, billed units) - price(correct code, correct units)
  at the line's payer; a code or units not typed are the billed ones. Positive: overcoded or
  overpaid; negative: undercoded. Supported = No with neither a correct code nor units means
  nothing was supported: the whole billed price. Prices are per unit: the configuration's fee
  schedule where it has the code, else the practice's mean paid amount per unit on paid lines of
  the code at that payer, else at any payer, as stored when the sample was drawn.
- Modifiers are not priced: an error in the modifiers only, and Partly with no correct code or
  units, counts as an error with a $0 difference (put its dollar effect in Notes). A price that
  is not known (a code never paid in the export and not in the fee schedule) is counted as $0
  and listed in the warnings.
- Per stratum: lines reviewed, errors, the error rate with its two-sided 90% interval (Wilson,
  or exact Clopper-Pearson with --method exact), and the dollar differences projected to the
  stratum's lines. Overall: the stratified error rate and the stratified projection (RAT-STATS'
  variable appraisal) with its two-sided 90% interval and the one-sided 90% lower bound.
"""
#: The Supported dropdown.
SUPPORTED_CHOICES: tuple[str, ...] = ("Yes", "No", "Partly")
#: Interval methods for an error rate (names as review_stats takes them).
INTERVAL_METHODS: dict[str, str] = {
    "wilson": "Wilson score interval",
    "exact": "exact (Clopper-Pearson) interval",
}
#: The keys of each stratum and of the overall figures in the JSON, in order.
JSON_KEYS: tuple[str, ...] = (
    "provider",
    "family",
    "frame_lines",
    "frame_dollars",
    "sample_lines",
    "reviewed",
    "errors",
    "error_rate",
    "ci_low",
    "ci_high",
    "projected_dollars",
    "projected_low",
    "projected_high",
)
#: Typed modifiers meaning "no modifier".
_NO_MODIFIER = frozenset({"NONE", "-", "NO", "N/A"})


@dataclass
class ReviewAnswers:
    """What a review workbook holds, as read back (and checked) by the reader.

    ``rows``: one row per sampled line, with ``sheet_row`` (its row on the Review sheet), the
    sampled columns (``sample_id``, ``provider``, ``family``, ``payer``, ``claim_id``,
    ``line``, ``cpt``, ``modifiers``, ``units``, ...) and the reviewer's (``supported``,
    ``correct_code``, ``correct_units``, ``correct_modifiers``, ``notes``) as typed.
    ``strata``: the stratum keys, ``frame_lines``, ``frame_dollars``, ``sample_lines``.
    ``prices``: ``code, payer, unit_price, source``. ``run``: the sample's settings (seed,
    by, per_stratum, only, date_from, date_to, version).
    """

    rows: pd.DataFrame
    strata: pd.DataFrame
    prices: pd.DataFrame
    run: dict[str, Any] = field(default_factory=dict)
    source: str | None = None  # the workbook, for messages

    @property
    def by(self) -> tuple[str, ...]:
        return tuple(self.run.get("by") or ())


@dataclass
class ReviewScore:
    """The scored review: per stratum and overall figures (the JSON's keys), each line's
    outcome, the unanswered lines and what to know about the figures."""

    strata: pd.DataFrame
    overall: dict[str, Any]
    lines: pd.DataFrame
    unanswered: list[int]
    warnings: list[str]
    run: dict[str, Any]
    confidence: float
    method: str


def score_review(
    answers: ReviewAnswers, *, confidence: float = 0.90, method: str = "wilson"
) -> ReviewScore:
    """Score the reviewer's answers (see the module's rules). ``confidence``: of the two-sided
    intervals and the one-sided lower bound; ``method``: ``wilson`` or ``exact`` for the
    error rates' intervals.

    Raises :class:`InputError` (one line naming the rows) for a Supported value other than
    Yes, No or Partly, or correct units that are not a number.
    """
    if method not in INTERVAL_METHODS:
        raise InputError(f"the interval method must be {' or '.join(INTERVAL_METHODS)}")
    lines = _judge(answers)
    by = answers.by
    strata = answers.strata.reset_index(drop=True).copy()
    for key in by:
        strata[key] = strata[key].astype("string")
        lines[key] = lines[key].astype("string")
    at = _stratum_of(lines, strata, by, answers.source)
    lines["stratum"] = at
    answered = lines["answered"].to_numpy(dtype=bool)
    error = lines["error"].to_numpy(dtype=bool)
    difference = np.nan_to_num(lines["difference"].to_numpy(dtype="float64"), nan=0.0)
    table = strata[list(by)].copy()
    table["frame_lines"] = strata["frame_lines"].astype("int64")
    table["frame_dollars"] = [_number(v) for v in strata["frame_dollars"]]
    table["sample_lines"] = np.bincount(at, minlength=len(strata))
    table["reviewed"] = np.bincount(at[answered], minlength=len(strata))
    table["errors"] = np.bincount(at[answered & error], minlength=len(strata))
    table["differences"] = [difference[(at == s) & answered] for s in range(len(strata))]
    table.index = [_stratum_words(row, by) for row in table.to_dict("records")]
    figures, overall, flags = review_statistics(table, confidence, method)
    unanswered = lines.loc[~answered, "sample_id"].astype("int64").tolist()
    return ReviewScore(
        strata=figures.reset_index(drop=True),
        overall=overall,
        lines=lines,
        unanswered=unanswered,
        warnings=_warnings(lines, unanswered) + flags,
        run=dict(answers.run),
        confidence=confidence,
        method=method,
    )


# -- each line ---------------------------------------------------------------------------------


def _judge(answers: ReviewAnswers) -> pd.DataFrame:
    """Each line's answer, whether it is an error, what kind, and its dollar difference."""
    lines = answers.rows.reset_index(drop=True).copy()
    supported = _supported(lines, answers.source)
    correct_units = _units(lines, answers.source)
    billed_units = pd.to_numeric(lines["units"], errors="coerce").astype("float64")
    billed_units = billed_units.fillna(1.0)
    billed_code = _code(lines["cpt"])
    typed_code = _code(lines["correct_code"])
    code_changed = typed_code.notna() & (typed_code != billed_code.fillna("")).fillna(True)
    units_changed = correct_units.notna() & ~np.isclose(
        correct_units.fillna(0.0), billed_units, rtol=0.0, atol=1e-9
    )
    billed_mods = _modifiers(lines["modifiers"])
    typed_mods = _modifiers(lines["correct_modifiers"], typed=True)
    mods_changed = typed_mods.notna() & (typed_mods != billed_mods.fillna("")).fillna(True)
    answered = supported.notna()
    not_supported = supported.isin(["No", "Partly"]).fillna(False)
    error = answered & (not_supported | code_changed | units_changed | mods_changed)

    price = _price_lookup(answers.prices)
    payer = lines["payer"].astype("string")
    billed_price = price(billed_code, payer) * billed_units
    nothing = supported.eq("No").fillna(False) & typed_code.isna() & correct_units.isna()
    right_code = typed_code.fillna(billed_code)
    right_units = correct_units.fillna(billed_units)
    correct_price = price(right_code, payer) * right_units
    correct_price = correct_price.mask(nothing, 0.0)
    priced = (billed_price - correct_price).where(error, 0.0)
    # An error whose prices are the same (modifiers only) is $0 even when the code is unpriced.
    same_price = ~(code_changed | units_changed) & ~nothing
    priced = priced.mask(error & same_price, 0.0)

    lines["supported"] = supported
    lines["correct_code"] = typed_code
    lines["correct_units"] = correct_units
    lines["correct_modifiers"] = typed_mods
    lines["answered"] = answered.to_numpy(dtype=bool)
    lines["error"] = error.to_numpy(dtype=bool)
    lines["error_kind"] = _kinds(supported, code_changed, units_changed, mods_changed, error)
    lines["billed_price"] = billed_price.to_numpy(dtype="float64")
    lines["correct_price"] = correct_price.where(error).to_numpy(dtype="float64")
    lines["difference"] = priced.to_numpy(dtype="float64")
    lines["unpriced"] = (error & priced.isna()).to_numpy(dtype=bool)
    lines["no_dollars"] = (
        error & same_price & ~nothing & ~mods_changed & supported.eq("Partly").fillna(False)
    ).to_numpy(dtype=bool)
    return lines


def _supported(lines: pd.DataFrame, source: str | None) -> pd.Series:
    text = _typed_text(lines["supported"])
    words = {c.lower(): c for c in SUPPORTED_CHOICES}
    out = text.str.lower().map(words).astype("string")
    bad = text.notna() & out.isna()
    if bad.any():
        raise InputError(
            f"Supported must be {', '.join(SUPPORTED_CHOICES[:-1])} or {SUPPORTED_CHOICES[-1]} "
            f"(or blank when not reviewed); {_rows(lines, bad)} hold something else",
            path=source,
            hint="pick from the dropdown",
        )
    return out


def _units(lines: pd.DataFrame, source: str | None) -> pd.Series:
    values = lines["correct_units"]
    text = _typed_text(values)
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    bad = text.notna() & (numbers.isna() | (numbers < 0))
    if bad.any():
        raise InputError(
            f"Correct units must be a number of 0 or more; {_rows(lines, bad)} hold something else",
            path=source,
        )
    return numbers


def _typed_text(values: pd.Series) -> pd.Series:
    """Typed cells as trimmed text (None where blank); whole numbers without ``.0``."""

    def text(value: Any) -> str | None:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if value is pd.NA:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        out = str(value).strip()
        return out or None

    return pd.Series([text(v) for v in values], index=values.index, dtype="string")


def _code(values: pd.Series) -> pd.Series:
    """Codes trimmed and upper-case; a code of digits only shorter than five gets its leading
    zeros back (a spreadsheet turns 01992 typed in a cell into the number 1992)."""
    text = _typed_text(values).str.upper().str.replace(" ", "", regex=False)
    short = text.str.fullmatch(r"\d{1,4}").fillna(False).astype(bool)
    return text.mask(short, text.str.zfill(5))


def _modifiers(values: pd.Series, typed: bool = False) -> pd.Series:
    """Modifiers as one canonical text (sorted, comma-joined, upper-case; "" for none)."""

    def canonical(value: str | None) -> str | None:
        if value is None or value is pd.NA:
            return None
        parts = [p for p in value.replace(";", ",").replace(" ", ",").upper().split(",") if p]
        if typed and len(parts) == 1 and parts[0] in _NO_MODIFIER:
            parts = []
        return ",".join(sorted(parts))

    text = _typed_text(values)
    out = pd.Series([canonical(v) for v in text.tolist()], index=values.index, dtype="string")
    if not typed:
        out = out.fillna("")
    return out


def _price_lookup(prices: pd.DataFrame):
    """A function (codes, payers) -> price per unit (NaN where unknown)."""
    table = prices.assign(
        code=_code(prices["code"]).to_numpy(), payer=prices["payer"].astype("string").to_numpy()
    )
    table = table.dropna(subset=["code", "payer"]).drop_duplicates(["code", "payer"])
    index = pd.MultiIndex.from_arrays([table["code"], table["payer"]])
    per_unit = pd.Series(
        pd.to_numeric(table["unit_price"], errors="coerce").to_numpy(dtype="float64"),
        index=index,
    )

    def price(codes: pd.Series, payers: pd.Series) -> pd.Series:
        keys = pd.MultiIndex.from_arrays([codes.astype("string"), payers.astype("string")])
        return pd.Series(per_unit.reindex(keys).to_numpy(dtype="float64"), index=codes.index)

    return price


def _kinds(
    supported: pd.Series,
    code: pd.Series,
    units: pd.Series,
    mods: pd.Series,
    error: pd.Series,
) -> pd.Series:
    parts = [
        (supported.eq("No").fillna(False), "not supported"),
        (supported.eq("Partly").fillna(False), "partly supported"),
        (code, "code"),
        (units, "units"),
        (mods, "modifiers"),
    ]
    out = []
    for i in range(len(supported)):
        words = [word for mask, word in parts if bool(mask.iloc[i])]
        out.append(", ".join(words) if bool(error.iloc[i]) else None)
    return pd.Series(out, index=supported.index, dtype="string")


def _rows(lines: pd.DataFrame, mask: pd.Series) -> str:
    rows = lines.loc[mask.to_numpy(dtype=bool), "sheet_row"].astype("int64").tolist()
    shown = ", ".join(str(r) for r in rows[:10])
    more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
    return f"Review sheet row{'s' if len(rows) > 1 else ''} {shown}{more}"


def _stratum_of(
    lines: pd.DataFrame, strata: pd.DataFrame, by: tuple[str, ...], source: str | None
) -> np.ndarray:
    """The position in ``strata`` of each line's stratum."""
    if not by:
        return np.zeros(len(lines), dtype=np.int64)
    keys = strata[list(by)].assign(_at=np.arange(len(strata)))
    joined = lines[list(by)].merge(keys, on=list(by), how="left", sort=False)
    missing = joined["_at"].isna()
    if missing.any():
        raise InputError(
            f"{_rows(lines, missing)} belong to no stratum of the sample",
            path=source,
            hint="the workbook's data sheet was changed; draw the sample again",
        )
    return joined["_at"].to_numpy(dtype=np.int64)


# -- per stratum and overall -------------------------------------------------------------------

#: The figures the statistics give, per stratum and overall (None where nothing was answered).
_FIGURES = (
    "error_rate",
    "ci_low",
    "ci_high",
    "projected_dollars",
    "projected_low",
    "projected_high",
    "lower_bound",
)


def review_statistics(
    table: pd.DataFrame, confidence: float, method: str
) -> tuple[pd.DataFrame, dict[str, Any], list[str]]:
    """Per stratum and overall figures from the counts and differences of ``table`` (one row per
    stratum, indexed by its name: the stratum keys, ``frame_lines``, ``frame_dollars``,
    ``sample_lines``, ``reviewed``, ``errors``, ``differences``), and the statistics' notes.

    The one place that calls :mod:`auditkit.measures.review_stats`: ``stratified_rate`` for
    the error rates (each stratum's interval and the overall one) and
    ``stratified_projection`` for the dollars (each stratum's and the total)."""
    figures = table.drop(columns=["differences"]).copy()
    overall: dict[str, Any] = {
        "provider": None,
        "family": None,
        "frame_lines": int(table["frame_lines"].sum()),
        "frame_dollars": _number(
            pd.Series(table["frame_dollars"], dtype="float64").sum(min_count=1)
        ),
        "sample_lines": int(table["sample_lines"].sum()),
        "reviewed": int(table["reviewed"].sum()),
        "errors": int(table["errors"].sum()),
        **dict.fromkeys(_FIGURES),
        "projected_frame_lines": 0,
    }
    for key in _FIGURES:
        figures[key] = None
    if overall["reviewed"] == 0:
        return figures, overall, []
    # Strata with no answered line cannot be rated or projected: they are left out (and said
    # so once, below) rather than handed to the statistics.
    answered = table["reviewed"].to_numpy() > 0
    used = table[answered]
    rate = review_stats.stratified_rate(
        pd.DataFrame(
            {"N": used["frame_lines"], "n": used["reviewed"], "errors": used["errors"]},
            index=used.index,
        ),
        confidence=confidence,
        method=method,
    )
    dollars = review_stats.stratified_projection(
        pd.DataFrame(
            {"N": used["frame_lines"], "n": used["reviewed"], "differences": used["differences"]},
            index=used.index,
        ),
        confidence=confidence,
    )
    at = np.cumsum(answered) - 1  # each answered stratum's row in the statistics
    per_rate, per_dollars = rate["strata"], dollars["strata"]
    for key, source, name in (
        ("error_rate", per_rate, "error_rate"),
        ("ci_low", per_rate, "ci_low"),
        ("ci_high", per_rate, "ci_high"),
        ("projected_dollars", per_dollars, "projected_dollars"),
        ("projected_low", per_dollars, "projected_low"),
        ("projected_high", per_dollars, "projected_high"),
        ("lower_bound", per_dollars, "lower_bound_one_sided"),
    ):
        figures[key] = [
            _number(source[at[i]][name]) if ok else None for i, ok in enumerate(answered)
        ]
    overall.update(
        error_rate=_number(rate["error_rate"]),
        ci_low=_number(rate["ci_low"]),
        ci_high=_number(rate["ci_high"]),
        projected_dollars=_number(dollars["projected_dollars"]),
        projected_low=_number(dollars["projected_low"]),
        projected_high=_number(dollars["projected_high"]),
        lower_bound=_number(dollars["lower_bound_one_sided"]),
        projected_frame_lines=int(used["frame_lines"].sum()),
        standard_error=_number(dollars["se"]),
        degrees_of_freedom=_number(dollars["df"]),
        relative_precision=_number(dollars["relative_precision"]),
    )
    flags = []
    empty = table[~answered & (table["sample_lines"] > 0)]
    if len(empty):
        more = f" and {len(empty) - 10} more" if len(empty) > 10 else ""
        names = ", ".join(empty.index[:10]) + more
        flags.append(
            f"{len(empty)} stratum(s) with no answered line ({names}): their "
            f"{int(empty['frame_lines'].sum()):,} frame lines are neither rated nor projected, "
            "and the overall figures leave them out"
        )
    flags += list(dict.fromkeys([*rate["flags"], *dollars["flags"]]))
    return figures, overall, flags


def _warnings(lines: pd.DataFrame, unanswered: list[int]) -> list[str]:
    """What to know about the figures: lines left out, errors without a price or a correction."""
    out = []
    if unanswered:
        out.append(
            f"{len(unanswered)} line(s) not answered (Supported blank), left out of every "
            f"figure: sample id {_ids(unanswered)}"
        )
    unpriced = lines.loc[lines["unpriced"], "sample_id"].astype("int64").tolist()
    if unpriced:
        out.append(
            f"{len(unpriced)} error(s) could not be priced (no fee schedule price and no paid "
            f"line of the code): counted as $0, sample id {_ids(unpriced)}"
        )
    partly = lines.loc[lines["no_dollars"], "sample_id"].astype("int64").tolist()
    if partly:
        out.append(
            f"{len(partly)} line(s) Partly supported with no correct code or units: counted as "
            f"errors with a $0 difference, sample id {_ids(partly)}"
        )
    return out


def _ids(ids: list[int], shown: int = 20) -> str:
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return ", ".join(str(i) for i in ids[:shown]) + more


def _stratum_words(row: dict[str, Any], by: tuple[str, ...]) -> str:
    return " / ".join(str(row[k]) for k in by) if by else "all lines"


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# -- JSON -----------------------------------------------------------------------------------------


def review_json(score: ReviewScore) -> dict[str, Any]:
    """The scored review as JSON-ready data: ``strata`` and ``overall`` with :data:`JSON_KEYS`
    (``provider``/``family`` null where the sample was not stratified by them; a ``payer``
    key when it was), each with ``lower_bound`` (one-sided) too; then ``unanswered`` (sample
    ids), ``warnings``, ``errors`` (each error line), the sample's ``seed`` and settings, and
    the ``method``."""
    by = tuple(score.run.get("by") or ())
    extra = [k for k in by if k not in ("provider", "family")]
    keys = [*JSON_KEYS, *extra, "lower_bound"]
    strata = [
        {key: _plain(row.get(key)) for key in keys} for row in score.strata.to_dict("records")
    ]
    overall = {key: _plain(score.overall.get(key)) for key in keys}
    overall["projected_frame_lines"] = score.overall.get("projected_frame_lines")
    errors = score.lines[score.lines["error"]]
    return {
        "strata": strata,
        "overall": overall,
        "unanswered": list(score.unanswered),
        "warnings": list(score.warnings),
        "errors": [
            {
                "sample_id": int(r["sample_id"]),
                "claim_id": _plain(r.get("claim_id")),
                "line": _plain(r.get("line")),
                "code": _plain(r.get("cpt")),
                "correct_code": _plain(r.get("correct_code")),
                "units": _plain(r.get("units")),
                "correct_units": _plain(r.get("correct_units")),
                "kind": _plain(r.get("error_kind")),
                "difference": _plain(r.get("difference")),
            }
            for r in errors.to_dict("records")
        ],
        "seed": score.run.get("seed"),
        "sample": {k: v for k, v in score.run.items() if k != "seed"},
        "method": {
            "confidence": score.confidence,
            "error_rate_interval": score.method,
            "projection": "stratified mean-per-unit (difference) estimator",
            "lower_bound": f"one-sided {score.confidence:.0%} lower bound of projected dollars",
        },
    }


def _plain(value: Any) -> Any:
    """A JSON value: numpy scalars as Python, NaN and NA as None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return value


def method_text() -> str:
    """The statistics in plain words (review_stats.METHOD_TEXT)."""
    return review_stats.METHOD_TEXT


# -- explain --------------------------------------------------------------------------------------

#: How to run a review: what ``auditkit explain sample`` prints first.
REVIEW_GUIDE = """\
Chart-pull review: auditkit sample, then auditkit score

1. Probe: a few lines per physician and procedure family, for a quick look.
       auditkit sample export.csv --out probe.xlsx --per-stratum 5 --from 2026-01-01 --to 2026-03-31
   The seed is printed and stored in the workbook: the same seed and export give the same
   sample (add --seed N to draw it again). A coder pulls each line's operative note and fills
   in Supported (Yes / No / Partly) and, where the code, units or modifiers should differ, the
   correct ones; a line whose chart could not be reviewed stays blank. Then
       auditkit score probe.xlsx --json probe.json --into probe.xlsx
   adds a Results sheet. A probe says whether there is a problem, not how large it is.

2. Full sample: when the probe finds errors (more than an occasional one, or the same error
   repeating), draw a statistically valid random sample of the same period and filters with
   30 or more lines per stratum and a new seed, review and score it the same way:
       auditkit sample export.csv --out review.xlsx --per-stratum 30 --from 2026-01-01 --to 2026-03-31
       auditkit score review.xlsx --json review.json --into review.xlsx
   --only denied samples denied and rejected lines (the guide's "a month of denied procedures
   against the operative notes"), --only paid the paid ones (the money a payer could claim
   back).

3. The results: per stratum and overall, lines reviewed, errors, the error rate with its 90%
   interval, the projected dollars with its 90% interval, and the one-sided 90% lower bound
   (what an overpayment demand would use; see "The statistics" below).
"""


def sample_docs() -> str:
    """What ``auditkit explain sample`` prints: how to run a review, how the sample is drawn,
    how the answers are scored, and the statistics."""
    from auditkit.engine.registry import plain_text
    from auditkit.measures.sampling import DRAW_TEXT

    parts = [
        REVIEW_GUIDE.strip(),
        "How the sample is drawn\n-----------------------\n" + DRAW_TEXT.strip(),
        "How the answers are scored\n--------------------------\n" + SCORING_TEXT.strip(),
        "The statistics\n--------------\n" + method_text().strip(),
    ]
    return plain_text("\n\n".join(parts) + "\n")
