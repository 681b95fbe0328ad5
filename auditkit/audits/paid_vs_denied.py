"""Audit ``paid-vs-denied``: what sets denied lines apart from paid lines of the same code and payer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from auditkit.claims import LIST_SEP, PAID_STATUSES
from auditkit.engine.context import Context, dense_unique, usable
from auditkit.engine.contract import Audit, NothingToAudit, Threshold
from auditkit.engine.findings import findings_frame
from auditkit.engine.result import empty_findings
from auditkit.engine.stats import two_proportion_z
from auditkit.engine.text import money, pct
from auditkit.measures.revenue import group_dollars
from auditkit.reference import carc_reason

SIDE_MODIFIERS = ("RT", "LT", "50")


class PaidVsDenied(Audit):
    """Denied lines of a code at a payer differ from its paid lines in a way the data shows.

    Why it matters
    --------------
    When one payer pays a code on most lines and denies it on others, the difference is rarely
    chance: the paid lines show what that payer wants. Finding the attribute that separates the
    two groups (a side modifier, an authorization number, a diagnosis, one physician's notes)
    turns a stream of denials into one fix to the charge entry or the note template, and the
    denied lines can often still be corrected and resubmitted.

    What is flagged
    ---------------
    Every (code, payer) pair with at least ``min_paid`` paid and ``min_denied`` denied lines is
    compared on each attribute the export has: each modifier (and any side modifier RT, LT or
    50), laterality, each diagnosis code and its three-character category, rendering physician,
    units, place of service, plan, whether an authorization number is present and whether the
    documentation fields (muscle count, spinal levels, imaging guidance, CPM minutes) are filled.
    An attribute is reported when its prevalence differs by at least ``min_difference`` between
    the two sides and a two-sided two-proportion z-test is below ``alpha``; the finding names the
    ``top_attributes`` largest differences with counts on both sides, the ``top_reasons`` most
    common denial reason codes on the denied side and ``examples`` claim ids from each side.

    Severity: high when the largest difference is at least ``high_difference`` and the dollars at
    risk are at least ``high_dollars``; medium when one of the two holds; low otherwise. Dollars at
    risk: the denied lines' expected payment (the config's fee schedule, else the practice's mean
    paid amount for the code at the payer); their charges when no payment is known.

    How to fix
    ----------
    Read the attributes as the payer's rule: bill the denied lines the way the paid ones were
    billed (add the missing modifier, obtain and report the authorization, use the diagnosis the
    payer accepts, complete the note) and resubmit those still inside the correction window. Then
    add the rule to the charge-entry checklist or the claim scrubber for that payer and code.

    Columns needed
    --------------
    Required: cpt, payer, status. Optional (each one adds attributes to compare): modifiers,
    diagnosis_codes, laterality, rendering_provider, units, place_of_service, payer_plan,
    authorization_number, muscles_treated, spinal_levels, imaging_guidance, cpm_minutes,
    denial_codes (top reasons), paid and charge (dollars), claim_id (examples).

    Example
    -------
    A code at a payer is compared only from ``min_paid`` paid and ``min_denied`` denied lines, so
    each row stands for ``repeat`` identical lines, each on its own claim.

    Flagged: Aetna pays the lumbar facet injection when the line names the side and denies it
    (CO-4, modifier missing) when it does not.

        cpt   | payer | modifiers | status | paid   | denial_codes | repeat
        ------+-------+-----------+--------+--------+--------------+-------
        64493 | Aetna | RT        | paid   | 180.00 |              | 12
        64493 | Aetna | LT        | paid   | 180.00 |              | 10
        64493 | Aetna |           | denied | 0.00   | CO-4         | 10

    Result: 1 medium finding. RT, LT or 50 is on all 22 paid lines and on none of the 10 denied
    ones; $1,800 is at risk (10 denied lines at the $180 paid on average), less than
    ``high_dollars``.

    Not flagged: the denied lines name the side too; they were denied because coverage had ended
    (CO-27), which nothing in the lines themselves shows.

        cpt   | payer | modifiers | status | paid   | denial_codes | repeat
        ------+-------+-----------+--------+--------+--------------+-------
        64493 | Aetna | RT        | paid   | 180.00 |              | 12
        64493 | Aetna | LT        | paid   | 180.00 |              | 10
        64493 | Aetna | RT        | denied | 0.00   | CO-27        | 5
        64493 | Aetna | LT        | denied | 0.00   | CO-27        | 5
    """

    id = "paid-vs-denied"
    title = "Paid versus denied lines of the same code at the same payer"
    severities = ("high", "medium", "low")
    columns = ("cpt", "payer", "status")
    optional_columns = (
        "modifiers",
        "diagnosis_codes",
        "laterality",
        "rendering_provider",
        "units",
        "place_of_service",
        "payer_plan",
        "authorization_number",
        "muscles_treated",
        "spinal_levels",
        "imaging_guidance",
        "cpm_minutes",
        "denial_codes",
        "paid",
        "charge",
        "claim_id",
    )
    thresholds = (
        Threshold(
            "min_paid", int, 20, "Paid lines a (code, payer) pair needs to be compared.", min=1
        ),
        Threshold(
            "min_denied", int, 10, "Denied lines a (code, payer) pair needs to be compared.", min=1
        ),
        Threshold(
            "min_difference",
            float,
            0.30,
            "Smallest difference in an attribute's share of lines between the two sides (0.30 = 30 points).",
            min=0,
            max=1,
        ),
        Threshold(
            "alpha",
            float,
            0.01,
            "Significance level of the two-sided test on each attribute (strict: many are tested).",
            min=0,
            max=1,
        ),
        Threshold(
            "top_attributes",
            int,
            3,
            "Attributes named per finding, largest difference first.",
            min=1,
        ),
        Threshold("top_reasons", int, 3, "Denial reason codes named per finding.", min=0),
        Threshold("examples", int, 3, "Example claim ids listed from each side.", min=0),
        Threshold(
            "high_difference",
            float,
            0.60,
            "Difference (largest attribute) that counts towards a high finding.",
            min=0,
            max=1,
        ),
        Threshold(
            "high_dollars",
            float,
            5000.0,
            "Dollars at risk that count towards a high finding.",
            min=0,
        ),
    )

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        denied_side = context.status_is("denied")
        both = context.status_is(*PAID_STATUSES, "denied")
        # Work on positions and integer codes: no copy of the claim-line frame is made.
        cpt_codes, cpts = context.codes("cpt")
        payer_codes, payers = context.codes("ctx.payer")
        pos = np.flatnonzero(both & (cpt_codes >= 0))
        pair = cpt_codes[pos] * len(payers) + payer_codes[pos]
        pairs, inverse = dense_unique(pair)
        n_lines = np.bincount(inverse, minlength=len(pairs))
        n_denied = np.bincount(inverse, weights=denied_side[pos], minlength=len(pairs))
        n_denied = n_denied.round().astype("int64")
        n_paid = n_lines - n_denied
        ok = (n_paid >= settings.min_paid) & (n_denied >= settings.min_denied)
        if not ok.any():
            raise NothingToAudit(
                f"no code and payer with at least {settings.min_paid} paid and "
                f"{settings.min_denied} denied lines"
            )
        eligible = pd.DataFrame(
            {
                "cpt": np.asarray(cpts, dtype=object)[pairs[ok] // len(payers)],
                "payer": np.asarray(payers, dtype=object)[pairs[ok] % len(payers)],
                "n_paid": n_paid[ok],
                "n_denied": n_denied[ok],
            }
        )
        group_of_pair = np.full(len(pairs), -1)
        group_of_pair[ok] = np.arange(ok.sum())
        grp = group_of_pair[inverse]
        scope = _Scope(pos[grp >= 0], grp[grp >= 0], denied_side[pos][grp >= 0])

        table = _attribute_table(lines, scope, context)
        table = table.join(eligible[["n_paid", "n_denied"]], on="grp")
        table = _score(table, settings)
        if table.empty:
            return empty_findings()

        top = table.groupby("grp", sort=False).head(settings.top_attributes)
        flagged = eligible.loc[np.sort(top["grp"].unique())].copy()
        denied_charges, mean_paid = _side_amounts(lines, scope, flagged.index)
        flagged["denied_charges"] = denied_charges
        flagged["mean_paid"] = mean_paid
        # The denied lines at their expected payment (their charges where none is known).
        label = _denied_labels(context, scope, flagged.index)
        flagged["dollars"], flagged["basis"] = group_dollars(context, label, len(flagged))
        reasons = _top_reasons(lines, scope, flagged.index, settings.top_reasons, context)
        examples = _examples(lines, scope, flagged.index, settings.examples)

        best = top.groupby("grp", sort=False)["difference"].max()
        big = best.reindex(flagged.index) >= settings.high_difference
        costly = flagged["dollars"] >= settings.high_dollars
        severity = np.where(big & costly, "high", np.where(big | costly, "medium", "low"))

        # One message per flagged (code, payer) pair: a few dozen at most, so a loop is fine.
        attributes: dict[int, list[Any]] = {}
        for a in top.itertuples():
            attributes.setdefault(a.grp, []).append(a)
        messages, evidence = [], []
        for row in flagged.itertuples():
            g = row.Index
            attrs = attributes.get(g, [])
            texts = [
                f"{a.label} on {a.paid_count} of {row.n_paid} paid lines ({pct(a.paid_share)}) "
                f"but {a.denied_count} of {row.n_denied} denied lines ({pct(a.denied_share)})"
                for a in attrs
            ]
            why_denied = reasons.get(g, [])
            paid_ex, denied_ex = examples.get(g, ([], []))
            text = f"{row.cpt} at {row.payer}: " + "; ".join(texts) + "."
            if why_denied:
                text += (
                    " Top denial reasons: "
                    + ", ".join(
                        f"{r['code']}"
                        + (f" ({r['meaning']})" if r["meaning"] else "")
                        + f" on {r['lines']} lines"
                        for r in why_denied
                    )
                    + "."
                )
            if paid_ex or denied_ex:
                text += (
                    f" Examples paid: {', '.join(paid_ex) or '-'}; denied: "
                    f"{', '.join(denied_ex) or '-'}."
                )
            text += f" {money(row.dollars)} at risk on the denied lines" + (
                " (their charges)." if row.basis == "charge" else "."
            )
            messages.append(text)
            evidence.append(
                {
                    "paid_lines": int(row.n_paid),
                    "denied_lines": int(row.n_denied),
                    "attributes": [
                        {
                            "attribute": a.label,
                            "paid_count": int(a.paid_count),
                            "paid_share": round(float(a.paid_share), 4),
                            "denied_count": int(a.denied_count),
                            "denied_share": round(float(a.denied_share), 4),
                            "difference": round(float(a.difference), 4),
                            "p_value": float(a.p_value),
                        }
                        for a in attrs
                    ],
                    "denial_reasons": why_denied,
                    "paid_examples": paid_ex,
                    "denied_examples": denied_ex,
                    "denied_charges": None
                    if pd.isna(row.denied_charges)
                    else round(float(row.denied_charges), 2),
                    "mean_paid": None if pd.isna(row.mean_paid) else round(float(row.mean_paid), 2),
                }
            )
        return findings_frame(
            self,
            severity=severity,
            scope="code",
            cpt=flagged["cpt"].to_numpy(),
            payer=flagged["payer"].to_numpy(),
            dollars_at_risk=flagged["dollars"].to_numpy(),
            dollars_basis=flagged["basis"].to_numpy(),
            covers=context.covers_of(label, len(flagged)),
            message=messages,
            evidence=evidence,
        )


@dataclass(frozen=True)
class _Scope:
    """The lines compared: positions in the claim-line frame, their group, denied or paid."""

    positions: np.ndarray
    group_of: np.ndarray
    denied: np.ndarray

    def subset(self, mask: np.ndarray) -> _Scope:
        return _Scope(self.positions[mask], self.group_of[mask], self.denied[mask])


def _counts(factorized: tuple[np.ndarray, Any], scope: _Scope) -> pd.DataFrame:
    """Lines and denied lines per (group, distinct raw value): the one pass over the lines,
    done once per attribute on integer codes (``pd.factorize`` of the column, shared by the
    run). ``value`` holds the distinct values (None for missing) so labels are worked out once
    per distinct value, not per line."""
    codes, uniques = factorized
    distinct = np.empty(len(uniques) + 1, dtype=object)
    distinct[0] = None  # slot 0: missing
    distinct[1:] = np.asarray(uniques, dtype=object)
    key = scope.group_of.astype("int64") * len(distinct) + (codes[scope.positions] + 1)
    keys, inverse = dense_unique(key)
    lines = np.bincount(inverse, minlength=len(keys))
    denied = np.bincount(inverse, weights=scope.denied, minlength=len(keys))
    return pd.DataFrame(
        {
            "grp": keys // len(distinct),
            "value": distinct[keys % len(distinct)],
            "lines": lines,
            "denied_count": denied.round().astype("int64"),
            "slot": keys % len(distinct),  # which distinct value (0: missing)
        }
    )


def _labelled(
    counts: pd.DataFrame, labels: Callable[[pd.Series], pd.Series], rank: int
) -> pd.DataFrame:
    """Turn per-value counts into per-label counts. ``labels`` maps the distinct raw values to a
    label, a list of labels (list columns) or None; it runs on distinct values only."""
    slots = counts["slot"].to_numpy()
    order = pd.unique(slots)  # distinct values in order of first appearance
    first = np.full(int(slots.max()) + 1 if len(slots) else 0, len(slots), dtype=np.int64)
    np.minimum.at(first, slots, np.arange(len(slots)))  # each value's first row
    values = counts["value"].to_numpy(dtype=object)
    mapped = labels(pd.Series(values[first[order]], dtype=object)).to_numpy(dtype=object)
    # Each distinct value's labels (a list column gives several; None or NaN gives none).
    names: dict[str, int] = {}
    per_value: list[list[int]] = []
    for label in mapped:
        items = label if isinstance(label, list) else [label]
        per_value.append(
            [names.setdefault(i, len(names)) for i in items if i is not None and i == i]
        )
    distinct_of_slot = np.zeros(len(first), dtype=np.int64)
    distinct_of_slot[order] = np.arange(len(order))
    d = distinct_of_slot[slots]
    sizes = np.array([len(ids) for ids in per_value], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]) if len(sizes) else sizes
    flat = np.array([i for ids in per_value for i in ids], dtype=np.int64)
    # One row per (counts row, label), in the counts' row order (what merging on the value
    # and exploding the labels would give), then summed per (group, label) in that order.
    repeat = sizes[d]
    row = np.repeat(np.arange(len(slots)), repeat)
    within = np.arange(len(row)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    label_id = flat[starts[d[row]] + within] if len(row) else np.zeros(0, dtype=np.int64)
    grp = counts["grp"].to_numpy()[row]
    key_codes, keys = pd.factorize(grp * max(len(names), 1) + label_id)
    label_names = np.array(list(names), dtype=object)
    lines = np.bincount(key_codes, weights=counts["lines"].to_numpy()[row], minlength=len(keys))
    denied = counts["denied_count"].to_numpy()[row]
    denied = np.bincount(key_codes, weights=denied, minlength=len(keys))
    out = pd.DataFrame(
        {
            "grp": keys // max(len(names), 1),
            "label": label_names[keys % max(len(names), 1)] if len(keys) else label_names[:0],
            "lines": lines.round().astype("int64"),
            "denied_count": denied.round().astype("int64"),
        }
    )
    out["rank"] = rank
    return out


def _clean(value: Any) -> str:
    """A distinct raw value as trimmed text ('' for missing)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# The label functions below run once per distinct value of a column (a few dozen, at most a few
# thousand diagnosis combinations), never once per line.


@dataclass(frozen=True)
class _Present:
    """Labels a value ``label`` when it is filled in (None when blank): whether a field is
    filled is all that is compared, so lines are counted per group without their values."""

    label: str

    def __call__(self, values: pd.Series) -> pd.Series:
        return values.map(lambda v: self.label if _clean(v) else None)

    def counts(self, column: pd.Series, scope: _Scope, rank: int) -> pd.DataFrame:
        """What ``_labelled(_counts(...), self, rank)`` gives, without a row per distinct value
        (an authorization number column has one value per claim)."""
        present = filled(column)[scope.positions]
        n = int(scope.group_of.max()) + 1 if len(scope.group_of) else 0
        lines = np.bincount(scope.group_of, weights=present, minlength=n)
        denied = np.bincount(scope.group_of, weights=present & scope.denied, minlength=n)
        groups = np.flatnonzero(lines > 0)
        out = pd.DataFrame(
            {
                "grp": groups.astype("int64"),
                "label": np.full(len(groups), self.label, dtype=object),
                "lines": lines[groups].round().astype("int64"),
                "denied_count": denied[groups].round().astype("int64"),
            }
        )
        out["rank"] = rank
        return out


#: Python's whitespace (what ``str.strip`` removes): text made only of these is blank. A test
#: checks the list against ``str.isspace``.
PY_WHITESPACE: tuple[int, ...] = (
    *range(0x09, 0x0E),
    *range(0x1C, 0x21),
    0x85,
    0xA0,
    0x1680,
    *range(0x2000, 0x200B),
    0x2028,
    0x2029,
    0x202F,
    0x205F,
    0x3000,
)
_BLANK_TEXT = "^[" + "".join(f"\\x{{{c:x}}}" for c in PY_WHITESPACE) + "]*$"


def filled(column: pd.Series) -> np.ndarray:
    """Per line: is the field filled in, as ``_clean`` sees it (text that is not blank after
    stripping, a number that is not missing)? Whole-column for text and numbers."""
    if isinstance(column.dtype, pd.StringDtype):
        blank = pc.match_substring_regex(column.array.__arrow_array__(), _BLANK_TEXT)
        return ~blank.fill_null(True).to_numpy(zero_copy_only=False).astype(bool)
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column):
        return ~np.isnan(column.to_numpy(dtype="float64", na_value=np.nan))
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    per_value = [bool(_clean(v)) for v in np.asarray(uniques, dtype=object)]
    return np.append(np.asarray(per_value, dtype=bool), False)[codes]


def _present(label: str) -> _Present:
    return _Present(label)


def _each(
    prefix: str, blank: str | None = None, lower: bool = False
) -> Callable[[pd.Series], pd.Series]:
    def label(value: Any) -> str | None:
        text = _clean(value)
        if not text:
            return blank
        return prefix + (text.lower() if lower else text)

    return lambda values: values.map(label)


def _items(value: Any) -> list[str]:
    return [i.strip().upper() for i in _clean(value).split(LIST_SEP) if i.strip()]


def _modifier_labels(values: pd.Series) -> pd.Series:
    """Labels for distinct modifier strings: each modifier, any side modifier, or none."""

    def labels(value: Any) -> list[str]:
        items = _items(value)
        out = [f"modifier {m}" for m in dict.fromkeys(items)]
        if any(m in SIDE_MODIFIERS for m in items):
            out.append("RT/LT or 50")
        return out or ["no modifier"]

    return values.map(labels)


def _diagnosis_labels(values: pd.Series) -> pd.Series:
    """Labels for distinct diagnosis strings: each code and each three-character category."""

    def labels(value: Any) -> list[str]:
        codes = list(dict.fromkeys(_items(value)))
        cats = list(dict.fromkeys(c.split(".")[0][:3] for c in codes))
        out = [f"diagnosis {c}" for c in codes] + [f"diagnosis category {c}" for c in cats]
        return out or ["no diagnosis code"]

    return values.map(labels)


#: Attributes compared, in report order: column -> labels for its distinct values.
ATTRIBUTES: tuple[tuple[str, Callable[[pd.Series], pd.Series]], ...] = (
    ("modifiers", _modifier_labels),
    ("diagnosis_codes", _diagnosis_labels),
    ("authorization_number", _present("prior authorization number present")),
    ("laterality", _each("laterality ", "laterality blank", lower=True)),
    ("rendering_provider", _each("rendered by ")),
    ("units", _each("units = ")),
    ("place_of_service", _each("place of service ", "place of service blank")),
    ("payer_plan", _each("plan ")),
    ("muscles_treated", _present("muscle count documented")),
    ("spinal_levels", _present("spinal levels documented")),
    ("cpm_minutes", _present("CPM minutes documented")),
    ("imaging_guidance", _each("imaging guidance ", "imaging guidance blank", lower=True)),
)


def _attribute_table(lines: pd.DataFrame, scope: _Scope, context: Context) -> pd.DataFrame:
    """Per (group, attribute label): lines with the attribute, and how many were denied."""
    # Most attribute columns are read by this audit only: their codes are not kept.
    shared = ("modifiers", "diagnosis_codes")
    parts = [
        labels.counts(lines[column], scope, rank)
        if isinstance(labels, _Present)
        else _labelled(_counts(context.codes(column, keep=column in shared), scope), labels, rank)
        for rank, (column, labels) in enumerate(ATTRIBUTES)
        if usable(lines, column)
    ]
    if not parts:
        return pd.DataFrame(columns=["grp", "label", "lines", "denied_count", "rank"])
    return pd.concat(parts, ignore_index=True)


def _score(table: pd.DataFrame, settings: SimpleNamespace) -> pd.DataFrame:
    """Shares on both sides, difference and test; keep the significant, distinct attributes."""
    table["denied_count"] = table["denied_count"].astype("int64")
    table["paid_count"] = (table["lines"] - table["denied_count"]).astype("int64")
    table["paid_share"] = table["paid_count"] / table["n_paid"]
    table["denied_share"] = table["denied_count"] / table["n_denied"]
    table["difference"] = (table["paid_share"] - table["denied_share"]).abs()
    _, _, p_two = two_proportion_z(
        table["paid_count"], table["n_paid"], table["denied_count"], table["n_denied"]
    )
    table["p_value"] = p_two
    keep = (table["difference"] >= settings.min_difference) & (table["p_value"] < settings.alpha)
    table = table[keep]
    # Two labels of the same attribute covering the same lines (or exactly the complementary
    # lines), like "RT/LT or 50" and "no modifier", or a diagnosis and its category, tell the
    # same story: keep the first only. Different attributes that happen to coincide are kept.
    comp_paid = table["n_paid"] - table["paid_count"]
    comp_denied = table["n_denied"] - table["denied_count"]
    swap = (comp_paid < table["paid_count"]) | (
        (comp_paid == table["paid_count"]) & (comp_denied < table["denied_count"])
    )
    table = table.assign(
        key_paid=np.where(swap, comp_paid, table["paid_count"]),
        key_denied=np.where(swap, comp_denied, table["denied_count"]),
    )
    # Ties go to a label saying what a line has rather than what it lacks ("RT/LT or 50" before
    # its complement "no modifier"), then to the one more common on the denied side (the
    # physician whose lines are denied rather than the colleague whose lines are paid).
    absent = table["label"].str.startswith("no ") | table["label"].str.endswith(" blank")
    table = table.assign(absent=absent.to_numpy())
    table = table.sort_values(
        ["grp", "difference", "rank", "absent", "denied_share"],
        ascending=[True, False, True, True, False],
        kind="stable",
    )
    table = table.drop_duplicates(["grp", "rank", "key_paid", "key_denied"], keep="first")
    return table


def _denied_labels(context: Context, scope: _Scope, groups: pd.Index) -> np.ndarray:
    """Per line of the claim-line frame: which flagged group (0..len(groups)-1) it is a denied
    line of, -1 for none (the lines whose money a finding counts)."""
    size = max(int(scope.group_of.max(initial=-1)), int(groups.max() if len(groups) else -1)) + 1
    slot = np.full(size, -1, dtype=np.int64)
    slot[groups.to_numpy()] = np.arange(len(groups))
    label = np.full(len(context.lines), -1, dtype=np.int64)
    mine = scope.denied & (slot[scope.group_of] >= 0)
    label[scope.positions[mine]] = slot[scope.group_of[mine]]
    return label


def _side_amounts(
    lines: pd.DataFrame, scope: _Scope, groups: pd.Index
) -> tuple[np.ndarray, np.ndarray]:
    """Per flagged group: the denied lines' charges and the mean paid on the paid side (NaN
    where the export lacks the column), for the evidence."""
    n = len(groups) and int(groups.max()) + 1
    denied_charges = np.full(n, np.nan)
    mean_paid = np.full(n, np.nan)
    if usable(lines, "charge"):
        charge = lines["charge"].fillna(0.0).to_numpy(dtype="float64")[scope.positions]
        denied_charges = np.bincount(scope.group_of, weights=charge * scope.denied, minlength=n)
    if usable(lines, "paid"):
        paid = lines["paid"].to_numpy(dtype="float64", na_value=np.nan)[scope.positions]
        counted = ~scope.denied & ~np.isnan(paid)
        total = np.bincount(scope.group_of, weights=np.where(counted, paid, 0.0), minlength=n)
        count = np.bincount(scope.group_of, weights=counted, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_paid = np.where(count > 0, total / count, np.nan)
    at = groups.to_numpy()
    return denied_charges[at], mean_paid[at]


def _top_reasons(
    lines: pd.DataFrame, scope: _Scope, groups: pd.Index, top: int, context: Context
) -> dict[int, list[dict]]:
    """Most common denial reason codes on the denied side of each flagged group."""
    if top == 0 or not usable(lines, "denial_codes"):
        return {}
    carcs = context.reference.carcs
    denied = scope.subset(scope.denied & np.isin(scope.group_of, groups.to_numpy()))
    counts = _counts(context.codes("denial_codes"), denied)
    # One list per distinct combination of codes, not per line.
    counts = counts.assign(code=counts["value"].map(_items)).explode("code")
    counts = counts.dropna(subset=["code"])
    per_code = counts.groupby(["grp", "code"], sort=False)["lines"].sum().reset_index()
    per_code = per_code.sort_values(["grp", "lines", "code"], ascending=[True, False, True])
    per_code = per_code.groupby("grp", sort=False).head(top)
    meanings = dict(zip(carcs["code"], carcs["meaning"], strict=True))
    per_code["meaning"] = carc_reason(per_code["code"]).map(meanings)
    out: dict[int, list[dict]] = {}
    for r in per_code.itertuples():  # a few reasons per flagged group, groups in order
        out.setdefault(int(r.grp), []).append(
            {
                "code": r.code,
                "lines": int(r.lines),
                "meaning": None if pd.isna(r.meaning) else str(r.meaning),
            }
        )
    return out


def _examples(
    lines: pd.DataFrame, scope: _Scope, groups: pd.Index, n: int
) -> dict[int, tuple[list[str], list[str]]]:
    """A few claim ids from each side of each flagged group."""
    if n == 0 or "claim_id" not in lines.columns:
        return {}
    part = scope.subset(np.isin(scope.group_of, groups.to_numpy()))
    frame = pd.DataFrame({"grp": part.group_of, "denied": part.denied, "pos": part.positions})
    # A claim can have several lines of the same code: look at a few more lines than needed,
    # then keep distinct claims. Only these few positions are read from the claim ids.
    frame = frame.groupby(["grp", "denied"], sort=False).head(n * 10)
    frame["claim_id"] = lines["claim_id"].iloc[frame["pos"].to_numpy()].astype("string").array
    frame = frame.dropna(subset=["claim_id"]).drop_duplicates(["grp", "denied", "claim_id"])
    picked = frame.groupby(["grp", "denied"], sort=False).head(n)
    out: dict[int, tuple[list[str], list[str]]] = {}
    for (g, is_denied), rows in picked.groupby(["grp", "denied"], sort=False):
        paid_ex, denied_ex = out.get(int(g), ([], []))
        (denied_ex if is_denied else paid_ex).extend(str(c) for c in rows["claim_id"])
        out[int(g)] = (paid_ex, denied_ex)
    return out
