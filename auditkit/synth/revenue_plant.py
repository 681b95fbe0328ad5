"""Revenue patterns planted in the synthetic data, and their truth.

The base generator and :mod:`auditkit.synth.plant` make a clean practice with coding errors;
:func:`plant` then post-processes that frame (never adding or removing a line, and never
touching a claim another audit's truth names) to add what the revenue audits look for:

* ``slow-collection``: Summit BCBS pays facet injections (64490-64495) 30-50 days later than
  its other claims. (Commonwealth Workers Comp is slow on everything by design of the catalog:
  it adjudicates in 30-60 days.)
* ``ar-aging``: old claims never answered by the payer (still pending), from 95 days to most of
  a year old.
* ``pre-submission-edits``: 20610/20611 claims often edited before submission or replaced.
* ``denial-root-cause``: Medicare denies trigger-point injections as not medically necessary
  (CO-50) on about 15% of its lines (spread over physicians and both codes), and one
  physician's 99214 visits at Medicare are denied for documentation (CO-150, the level of
  service) far more than the colleagues'. (Keystone Health's CO-4 modifier denials on 64493
  come from the base plant.)
* ``auth-mismatch``: claims for codes that need authorization whose approval is missing from
  the authorization export, approves another code, does not cover the date or has fewer units.
* ``underpayment``: Aetna allowed some lines 8-20% below the contract fee schedule.

Each pattern keeps the headline audits' truth intact: reworked or denied claims are drawn only
from physicians whose clean-claim rate stays at 90.5% or more (:meth:`_Planter.clean_budget`;
Priya Patel's pattern is left as it is), and in tables up to 10,000 lines (the bundled samples)
the planted denials per code and payer stay under paid-vs-denied's ``min_denied``. Counts grow
with the size.

The side tables that go with the patterns (the authorization export and the fee schedule) are
made by :mod:`auditkit.synth.revenue`, which also re-exports this module's public names.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from auditkit.reference import procedures, table
from auditkit.reference.revenue import multiple_procedure_subject
from auditkit.synth import catalog as cat

#: The revenue audits planted here, in registry order.
REVENUE_AUDIT_IDS: tuple[str, ...] = (
    "denial-root-cause",
    "slow-collection",
    "ar-aging",
    "pre-submission-edits",
    "auth-mismatch",
    "underpayment",
)
SLOW_PAYER = "Summit BCBS"
FACET_INJECTIONS = tuple(str(c) for c in range(64490, 64496))
DENYING_PAYER = "Medicare"
TPI_CODES = ("20552", "20553")
OUTLIER_CODE = "99214"
UNDERPAYING_PAYER = "Aetna"
EDITED_CODES = ("20610", "20611")
#: Share of the 20610/20611 claims reworked (the others stay as clean as the practice's).
EDIT_SHARE = 0.3
#: Codes needing authorization in the synthetic practice (auditkit/reference/auth_required.csv).
SCS_CODES = ("63650", "63655", "63685", "63688")
MEDICARE_OPD_AUTH = tuple(str(c) for c in range(64490, 64496)) + tuple(
    str(c) for c in range(64633, 64637)
)
#: A code the authorization approves instead of the billed one (the auth-mismatch "code" case).
SIBLING: dict[str, str] = {
    "63650": "63655",
    "63685": "63688",
    "64490": "64493",
    "64491": "64494",
    "64492": "64495",
    "64493": "64490",
    "64494": "64491",
    "64495": "64492",
    "64633": "64635",
    "64634": "64636",
    "64635": "64633",
    "64636": "64634",
}
#: Headline audits' thresholds the planting stays under (paid-vs-denied's min_denied).
PVD_MIN_DENIED = 10
#: Lowest clean-claim rate the revenue planting leaves any physician (the base data: 93-97%).
CLEAN_FLOOR = 0.905
#: Tables up to this size keep every planted denial pattern under PVD_MIN_DENIED per code and payer.
SMALL_TABLE = 10_000
#: Defaults of the revenue audits the truth is written for.
SLOW_MIN_LINES = 10
EDIT_MIN_CLAIMS = 20
N_CONTROLS = 12


def count(n_lines: int, at_2500: int, minimum: int) -> int:
    """How many cases to plant: proportional to size, never below ``minimum``."""
    return max(minimum, round(at_2500 * n_lines / 2500))


def _truth_claims(truth: dict[str, dict[str, Any]]) -> set[str]:
    """Claim ids any audit's truth names (expected or control): never modified here."""
    out: set[str] = set()
    for spec in truth.values():
        for entity in [*spec.get("expect", []), *spec.get("controls", [])]:
            if "claim_id" in entity:
                out.add(str(entity["claim_id"]))
            out.update(str(c) for c in entity.get("claim_ids", []))
    return out


class _Planter:
    """Post-processes one frame; keeps track of the claims already used."""

    def __init__(self, frame: pd.DataFrame, truth: dict[str, dict[str, Any]], seed: int) -> None:
        self.f = frame.copy()
        self.rng = np.random.default_rng([seed, 8])
        self.n = len(frame)
        self.used = _truth_claims(truth)
        f = self.f
        keystone_facet = (f["payer"] == cat.PAYERS[cat.KEYSTONE].name) & (f["cpt"] == "64493")
        self.used |= set(f.loc[keystone_facet, "claim_id"])
        status = f["status"].astype(str)
        per_claim = f.assign(_paid=status.eq("paid")).groupby("claim_id", sort=False)
        self.claims = pd.DataFrame(
            {
                "payer": per_claim["payer"].first(),
                "provider": per_claim["rendering_provider"].first(),
                "dos": per_claim["date_of_service"].first(),
                "all_paid": per_claim["_paid"].all(),
                "charge": per_claim["charge"].sum(),
                "lines": per_claim.size(),
            }
        )
        self.as_of = max(
            f["paid_date"].max(), f["submitted_date"].max(), f["date_of_service"].max()
        ).normalize()

    def free(self, claim_ids: pd.Index | pd.Series) -> np.ndarray:
        ids = pd.Index(pd.unique(np.asarray(claim_ids, dtype=object)))
        return np.asarray([c for c in ids if c not in self.used], dtype=object)

    def pick(self, candidates: np.ndarray, k: int) -> list[str]:
        """``k`` claims from ``candidates`` (sorted first, so the draw is reproducible)."""
        if k <= 0:
            return []
        candidates = np.sort(candidates)
        if len(candidates) <= k:
            chosen = list(candidates)
        else:
            chosen = list(candidates[np.sort(self.rng.choice(len(candidates), k, replace=False))])
        self.used.update(chosen)
        return [str(c) for c in chosen]

    def clean_budget(self) -> dict[str, int]:
        """How many more claims each physician may lose to rework, denial or a pending status
        while their clean-claim rate (as the clean-claim-rate audit counts it) stays at
        :data:`CLEAN_FLOOR` or above. Priya Patel, MD (the clean-claim-rate pattern) gets none, so
        her pattern stays as the base plant made it."""
        f = self.f
        unclean = (
            f["status"].isin(["denied", "rejected", "voided"])
            | f["claim_frequency"].isin([7, 8])
            | f["edited_before_submission"].fillna(False)
        ).astype(bool)
        per = pd.DataFrame(
            {"claim": f["claim_id"], "u": unclean, "p": f["status"].eq("pending").astype(bool)}
        )
        per = per.groupby("claim", sort=False).agg(u=("u", "any"), p=("p", "all"))
        per["provider"] = self.claims["provider"].reindex(per.index).to_numpy()
        counted = per[per["u"] | ~per["p"]]
        size = counted.groupby("provider").size()
        lost = counted.groupby("provider")["u"].sum()
        budget = np.floor(size * (1 - CLEAN_FLOOR) - lost).clip(lower=0).astype(int)
        budget[cat.PHYSICIANS[cat.PATEL].name] = 0
        return budget.to_dict()

    def pick_within_budget(self, candidates: np.ndarray, k: int) -> list[str]:
        """Like :meth:`pick`, but only claims whose physician can still afford one more lost
        claim (see :meth:`clean_budget`). The loop runs over candidate claims in a random order
        because each accepted claim changes its physician's remaining budget."""
        budget = self.clean_budget()
        order = np.sort(candidates)
        order = order[self.rng.permutation(len(order))]
        provider = self.claims["provider"]
        chosen: list[str] = []
        for claim in order:
            if len(chosen) >= k:
                break
            who = provider.get(claim)
            if budget.get(who, 0) > 0:
                budget[who] -= 1
                chosen.append(str(claim))
        self.used.update(chosen)
        return sorted(chosen)

    def room(self, already_denied: int) -> int:
        """Denials that may be added to one code at one payer: under paid-vs-denied's
        ``min_denied`` in tables up to :data:`SMALL_TABLE` lines (the bundled samples, whose
        headline truth must hold), unlimited in larger ones."""
        if self.n > SMALL_TABLE:
            return self.n
        return max(0, PVD_MIN_DENIED - 1 - already_denied)

    def rows(self, claim_ids: list[str]) -> pd.Series:
        return self.f["claim_id"].isin(claim_ids)

    def deny(self, mask: pd.Series, code: str, remark: str = "") -> None:
        """Turn settled lines into denials written off in full (as the generator does)."""
        f = self.f
        f.loc[mask, "status"] = "denied"
        f.loc[mask, "allowed"] = 0.0
        f.loc[mask, "paid"] = 0.0
        f.loc[mask, "patient_responsibility"] = 0.0
        f.loc[mask, "adjustment"] = f.loc[mask, "charge"]
        f.loc[mask, "denial_codes"] = code
        f.loc[mask, "remark_codes"] = remark


def plant(
    frame: pd.DataFrame, truth: dict[str, dict[str, Any]], seed: int
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Add the revenue patterns to a planted frame; return the frame and the extended truth."""
    p = _Planter(frame, truth, seed)
    out = dict(truth)
    out["slow-collection"] = _slow_collection(p)
    # The patterns that cost physicians clean claims, the narrowest first (see clean_budget).
    out["denial-root-cause"] = _denials(p)
    out["ar-aging"] = _old_open_claims(p)
    out["pre-submission-edits"] = _edits(p)
    out["underpayment"] = _underpaid(p)
    out["auth-mismatch"] = _authorizations(p)
    ordered = {k: out[k] for k in truth}
    ordered.update({k: out[k] for k in REVENUE_AUDIT_IDS})
    return p.f, ordered


# --- slow-collection ---------------------------------------------------------------------------


def _slow_collection(p: _Planter) -> dict[str, Any]:
    f = p.f
    facet_claims = f.loc[(f["payer"] == SLOW_PAYER) & f["cpt"].isin(FACET_INJECTIONS), "claim_id"]
    chosen = p.pick(p.free(facet_claims), len(facet_claims))
    rows = p.rows(chosen) & f["paid_date"].notna()
    delay = pd.Series(p.rng.integers(30, 51, size=len(chosen)), index=chosen)
    shifted = f.loc[rows, "paid_date"] + pd.to_timedelta(
        f.loc[rows, "claim_id"].map(delay).astype("int64").to_numpy(), unit="D"
    )
    latest = f["paid_date"].max()
    f.loc[rows, "paid_date"] = shifted.where(shifted <= latest, latest)

    paid = f[f["status"].isin(["paid", "partially_paid"]) & f["paid_date"].notna()]
    per_pair = paid.groupby(["cpt", "payer"]).size()
    big = per_pair[per_pair >= SLOW_MIN_LINES]
    expect = [
        {"cpt": c, "payer": y} for (c, y) in big.index if y == SLOW_PAYER and c in FACET_INJECTIONS
    ]
    slow_payer = cat.PAYERS[-1].name  # Commonwealth Workers Comp: 30-60 days by design
    controls = [
        {"cpt": c, "payer": y}
        for (c, y) in big.index
        if (y == SLOW_PAYER) != (c in FACET_INJECTIONS) and y != slow_payer
    ]
    controls = _sample(p, controls, N_CONTROLS) + [
        {"payer": y.name} for y in cat.PAYERS if y.name != slow_payer
    ]
    return {
        "expect": expect + [{"payer": slow_payer}],
        "controls": controls,
        "note": f"{SLOW_PAYER} pays facet injections (64490-64495) 30-50 days later than its other "
        f"claims (pairs with at least {SLOW_MIN_LINES} paid lines are listed). {slow_payer} "
        "takes 30-60 days on everything by design of the catalog (a payer-level finding). "
        "Controls: facet codes at the other payers, other codes at "
        f"{SLOW_PAYER}, and the other payers as a whole.",
    }


# --- ar-aging ----------------------------------------------------------------------------------


def _old_open_claims(p: _Planter) -> dict[str, Any]:
    f, claims = p.f, p.claims
    age = (p.as_of - claims["dos"]).dt.days
    eligible = claims[claims["all_paid"] & (claims["charge"] >= 900) & (age >= 95)]
    k = count(p.n, 12, 8)
    recent = eligible[age[eligible.index] <= 118]
    # A pending claim only leaves the clean-claim rate's count (it is not unclean): no budget.
    chosen = p.pick(p.free(recent.index), max(2, k // 4))
    chosen += p.pick(p.free(eligible.index), k - len(chosen))
    rows = p.rows(chosen)
    # Never answered by the payer: still pending, nothing paid, adjusted or billed to the patient
    # (the generator's pending lines look the same, so every money invariant holds).
    f.loc[rows, "status"] = "pending"
    for col in ("paid", "adjustment", "patient_responsibility"):
        f.loc[rows, col] = 0.0
    f.loc[rows, "allowed"] = np.nan
    f.loc[rows, "denial_codes"] = ""
    f.loc[rows, "remark_codes"] = ""
    f.loc[rows, "paid_date"] = pd.NaT

    status = f["status"]
    balance = (f["charge"] - f["paid"] - f["adjustment"] - f["patient_responsibility"]).round(2)
    is_open = status.isin(["pending", "denied", "partially_paid"]) & (balance >= 0.01)
    # Ages as the audit counts them: to the latest date in the data after the changes above.
    as_of = max(f["paid_date"].max(), f["submitted_date"].max(), f["date_of_service"].max())
    open_age = (as_of.normalize() - f["date_of_service"]).dt.days
    claim_age = open_age[is_open].groupby(f.loc[is_open, "claim_id"]).max()
    old = sorted(claim_age[claim_age > 90].index)
    young = sorted(claim_age[claim_age <= 60].index)
    settled = f.loc[~f["claim_id"].isin(claim_age.index), "claim_id"].drop_duplicates()
    controls = [{"claim_id": c} for c in _sample_ids(p, young, N_CONTROLS // 2)]
    controls += [{"claim_id": c} for c in _sample_ids(p, list(settled), N_CONTROLS // 2)]
    return {
        "expect": [{"scope": "practice"}] + [{"claim_id": c} for c in old],
        "controls": controls,
        "note": f"{len(chosen)} claims of $900 or more dated 95 days or more before the export "
        "never answered by the payer (still pending). Open claims over 90 days are listed "
        "(including any older base claim still pending; the audit lists at most max_claims); "
        "they make the share of A/R over 90 days far above 15%. "
        "Controls: open claims up to 60 days old and settled claims.",
    }


# --- pre-submission-edits ----------------------------------------------------------------------


def _edits(p: _Planter) -> dict[str, Any]:
    f = p.f
    edited: list[str] = []
    replaced: list[str] = []
    for code in sorted(EDITED_CODES, reverse=True):  # 20611 (the rarer) first
        candidates = p.free(f.loc[f["cpt"] == code, "claim_id"])
        chosen = p.pick_within_budget(candidates, round(EDIT_SHARE * len(candidates)))
        # Two in three edited before submission, one in three replaced; applied before the
        # next code's draw, which reads the physicians' remaining budget from the frame.
        edited += [c for i, c in enumerate(chosen) if i % 3 != 2]
        replaced += [c for i, c in enumerate(chosen) if i % 3 == 2]
        f.loc[p.rows(edited), "edited_before_submission"] = True
        f.loc[p.rows(replaced), "claim_frequency"] = 7
    pairs = f[["claim_id", "cpt"]].drop_duplicates()
    per_code = pairs.groupby("cpt").size()
    busy = per_code[per_code >= EDIT_MIN_CLAIMS]
    control_codes = [
        c for c in busy.index if c.startswith("992") or c in ("20552", "20553", "64493", "G3002")
    ]
    return {
        "expect": [{"cpt": c} for c in EDITED_CODES if per_code.get(c, 0) >= EDIT_MIN_CLAIMS],
        "controls": [{"cpt": c} for c in sorted(control_codes)],
        "note": f"Up to {EDIT_SHARE:.0%} of the 20610/20611 claims were reworked: {len(edited)} "
        f"edited before submission, {len(replaced)} replaced (frequency 7). Controls: office "
        "visits and "
        "other busy codes. Epidural codes may be flagged too (Priya Patel, MD's epidural claims "
        "are often reworked: the clean-claim-rate pattern); they are neither expected nor "
        "controls.",
    }


# --- denial-root-cause -------------------------------------------------------------------------


def _denials(p: _Planter) -> dict[str, Any]:
    f = p.f
    denied = f["status"] == "denied"
    # Medicare: trigger-point injections not medically necessary, spread over physicians.
    tpi = f[(f["payer"] == DENYING_PAYER) & f["cpt"].isin(TPI_CODES)]
    per_code_target = max(5, round(0.075 * len(tpi)))
    planted_tpi = 0
    for code in TPI_CODES:  # two codes
        already = int((denied & (f["payer"] == DENYING_PAYER) & (f["cpt"] == code)).sum())
        room = p.room(already)
        lines = f[(f["payer"] == DENYING_PAYER) & (f["cpt"] == code) & (f["status"] == "paid")]
        chosen = p.pick_within_budget(p.free(lines["claim_id"]), min(per_code_target, room))
        take = lines[lines["claim_id"].isin(chosen)].groupby("claim_id").head(1)
        p.deny(f.index.isin(take.index), "CO-50", "N115")
        planted_tpi += len(take)

    # One physician's established-visit lines at Medicare: denied for documentation (the level
    # of service) far more than the colleagues'. The physician with the most such lines whose
    # clean-claim rate can take five more denials is chosen.
    single = f.groupby("claim_id")["cpt"].transform("size") == 1
    visits = f[(f["payer"] == DENYING_PAYER) & (f["cpt"] == OUTLIER_CODE)]
    free_single = visits[
        (visits["status"] == "paid")
        & single[visits.index]
        & visits["claim_id"].isin(p.free(visits["claim_id"]))
    ]
    budget = pd.Series(p.clean_budget())
    per_provider = free_single.groupby("rendering_provider").size()
    affordable = per_provider[budget.reindex(per_provider.index).fillna(0) >= 5]
    per_provider = affordable if len(affordable) else per_provider
    outlier = str(per_provider.sort_values(ascending=False, kind="stable").index[0])
    hers = free_single[free_single["rendering_provider"] == outlier]
    already = int((visits["status"] == "denied").sum())
    mine = int((visits["rendering_provider"] == outlier).sum())
    k = min(max(5, round(0.45 * mine)), p.room(already), int(budget.get(outlier, 0)))
    chosen = p.pick(p.free(hers["claim_id"]), k)
    p.deny(p.rows(chosen), "CO-150")

    providers = sorted(set(visits["rendering_provider"]) - {outlier})
    lee = cat.PHYSICIANS[cat.LEE].name
    keystone = cat.PAYERS[cat.KEYSTONE].name
    return {
        "expect": [
            {"payer": keystone, "family": "facet", "cause": "modifier"},
            {"payer": DENYING_PAYER, "family": "trigger point", "cause": "medical necessity"},
            {"provider": outlier, "cpt": OUTLIER_CODE, "payer": DENYING_PAYER},
        ],
        "controls": [
            {"provider": prov, "cpt": OUTLIER_CODE, "payer": DENYING_PAYER} for prov in providers
        ]
        + [{"provider": lee, "cpt": c, "payer": DENYING_PAYER} for c in TPI_CODES]
        + [
            {"payer": DENYING_PAYER, "family": "facet"},
            {"payer": DENYING_PAYER, "family": "E/M"},
            {"payer": keystone, "family": "trigger point"},
            {"payer": SLOW_PAYER, "family": "facet"},
            {"payer": UNDERPAYING_PAYER, "family": "E/M"},
        ],
        "note": f"{DENYING_PAYER} denies {planted_tpi} trigger-point lines as not medically "
        f"necessary (CO-50), spread over physicians and both codes. {outlier}'s "
        f"{OUTLIER_CODE} lines at {DENYING_PAYER}: {len(chosen)} denied for documentation "
        f"(CO-150), the colleagues' almost never. {keystone}'s CO-4 denials of 64493 without a "
        "side modifier (the paid-vs-denied pattern) recur on the facet family.",
    }


# --- underpayment ------------------------------------------------------------------------------


def _underpaid(p: _Planter) -> dict[str, Any]:
    f = p.f
    # Only lines the multiple-procedure rule leaves at the full contract amount (the audit
    # expects a session's other procedures at a reduced rate): codes the rule does not reduce,
    # and a session's only procedure.
    subject = multiple_procedure_subject(f["cpt"], table("multiple_procedures"), procedures())
    session = [f["patient_id"], f["date_of_service"], f["rendering_provider"], f["payer"]]
    in_session = f["units"].where(subject, 0.0).groupby(session).transform("sum")
    lines = f[
        (f["payer"] == UNDERPAYING_PAYER)
        & (f["status"] == "paid")
        & (f["denial_codes"] == "")
        & (f["paid"] >= 20)
        & (~subject | (in_session <= 1))
    ]
    lines = lines[lines["claim_id"].isin(p.free(lines["claim_id"]))]
    k = count(p.n, 14, 10)
    claims = p.pick(lines["claim_id"].unique(), k)
    chosen = lines[lines["claim_id"].isin(claims)].groupby("claim_id").head(1)
    cut = p.rng.uniform(0.08, 0.20, size=len(chosen))
    short = (chosen["allowed"] * cut).round(2)
    idx = chosen.index
    f.loc[idx, "allowed"] = (f.loc[idx, "allowed"] - short).round(2)
    f.loc[idx, "paid"] = (f.loc[idx, "paid"] - short).round(2)
    f.loc[idx, "adjustment"] = (f.loc[idx, "adjustment"] + short).round(2)
    expect = [{**_line(f, i), "shortfall": round(float(s), 2)} for i, s in short.items()]
    ok_same = f[
        (f["payer"] == UNDERPAYING_PAYER)
        & (f["status"] == "paid")
        & (f["denial_codes"] == "")
        & ~f.index.isin(idx)
    ]
    ok_other = f[
        (f["payer"] != UNDERPAYING_PAYER) & (f["status"] == "paid") & (f["denial_codes"] == "")
    ]
    controls = [_line(f, i) for i in _sample_index(p, ok_same.index, N_CONTROLS // 2)]
    controls += [_line(f, i) for i in _sample_index(p, ok_other.index, N_CONTROLS // 2)]
    return {
        "expect": expect,
        "controls": controls,
        "note": f"{UNDERPAYING_PAYER} allowed {len(expect)} lines 8-20% below the contract fee "
        "schedule (paid less by the same amount, the difference adjusted off), none of them a "
        "procedure the multiple-procedure rule reduces. Every other "
        "paid line matches the schedule written by auditkit.synth.revenue.fee_schedule. "
        "Controls: correctly paid lines at the same and other payers.",
    }


# --- auth-mismatch -----------------------------------------------------------------------------


def needs_auth_mask(f: pd.DataFrame) -> pd.Series:
    """Lines the packaged rules say need authorization (SCS anywhere; Medicare facet and
    ablation codes in the hospital outpatient department)."""
    scs = f["cpt"].isin(SCS_CODES)
    opd = (f["payer"] == "Medicare") & f["cpt"].isin(MEDICARE_OPD_AUTH)
    opd &= f["place_of_service"] == "22"
    return (scs | opd).fillna(False).astype(bool)


def _authorizations(p: _Planter) -> dict[str, Any]:
    f = p.f
    needed = needs_auth_mask(f)
    numbered = f["authorization_number"].notna()
    # Only claims whose patient has no other approval for the same code: another approval
    # could cover the line (matching by patient and code) and hide the planted problem.
    approved = f[numbered].drop_duplicates(["claim_id", "cpt"])
    shared = approved.groupby(["patient_id", "cpt"])["claim_id"].transform("size") > 1
    crowded = set(approved.loc[shared, "claim_id"])
    has_needed = f.loc[needed & numbered & ~f["claim_id"].isin(crowded), "claim_id"]
    n = count(p.n, 2, 2)
    dropped = p.pick(p.free(has_needed), n)
    # Numbers are removed only from facet claims: stimulator claims keep theirs (the base
    # generator pays stimulator lines only with an authorization number).
    facet_needed = has_needed[~f.loc[has_needed.index, "cpt"].isin(SCS_CODES)]
    cleared = p.pick(p.free(facet_needed), n)
    wrong_code = p.pick(p.free(has_needed), n)
    expired = p.pick(p.free(has_needed), max(1, n // 2))
    early = p.pick(p.free(has_needed), max(1, n // 2))
    scs_two_units = has_needed[f.loc[has_needed.index, "units"] >= 2]
    short_units = p.pick(p.free(scs_two_units), n)
    boundary = p.pick(p.free(has_needed), max(2, n // 2))
    f.loc[p.rows(cleared), "authorization_number"] = pd.NA
    checked = needed | (f["authorization_number"].notna() & ~f["cpt"].str.startswith("992"))
    first_dos = f.groupby("claim_id", sort=False)["date_of_service"].min()

    expect: list[dict[str, Any]] = []
    expect += _entities(f, p.rows(dropped) & needed, problem="missing", planted="dropped")
    expect += _entities(f, p.rows(cleared) & needed, problem="missing", planted="cleared")
    # The first line needing authorization on each claim: its code is swapped in the export.
    swap = f[p.rows(wrong_code) & needed].groupby("claim_id", sort=False).head(1)
    expect += [
        {**e, "problem": "code", "approved_instead": SIBLING[e["cpt"]]}
        for e in _entities(f, f.index.isin(swap.index))
    ]
    for claims, start, end in ((expired, -125, -5), (early, 3, 123)):  # two shapes
        rows = f[p.rows(claims) & checked]
        dos = rows["claim_id"].map(first_dos)
        expect += [
            {**e, "problem": "dates", "start_date": _iso(d + pd.Timedelta(days=start)),
             "end_date": _iso(d + pd.Timedelta(days=end))}
            for e, d in zip(_entities(f, f.index.isin(rows.index)), dos, strict=True)
        ]  # fmt: skip
    over = f[p.rows(short_units) & needed & (f["units"] >= 2)]
    expect += [
        {**e, "problem": "units", "approved_units": float(u) - 1}
        for e, u in zip(_entities(f, f.index.isin(over.index)), over["units"], strict=True)
    ]
    # Lines that need authorization and never had a number (the base data's missing ones).
    base_missing = needed & f["authorization_number"].isna() & ~p.rows(cleared)
    expect += _entities(f, base_missing, problem="missing", planted="base")

    planted_claims = set(dropped + cleared + wrong_code + expired + early + short_units)
    ok = f[needed & numbered & ~f["claim_id"].isin(planted_claims | set(boundary))]
    controls = [_line(f, i) for i in _sample_index(p, ok.index, N_CONTROLS)]
    edge = f[p.rows(boundary) & needed]  # approvals ending exactly on the date of service
    last_dos = edge.groupby("claim_id", sort=False)["date_of_service"].transform("max")
    controls += [
        {**e, "end_date": _iso(d)}
        for e, d in zip(_entities(f, f.index.isin(edge.index)), last_dos, strict=True)
    ]
    return {
        "expect": expect,
        "controls": controls,
        "note": "Lines needing authorization (spinal cord stimulator codes; Medicare facet and "
        "ablation codes at place of service 22) whose approval is missing (planted: 'dropped' "
        "from the export, number 'cleared' from the claim, or never obtained in the 'base' "
        "data), approves another code, does not cover the date of service (expired or not yet "
        "valid) or approves one unit fewer than billed. Every other claim with a number has "
        "its approvals in auditkit.synth.revenue.authorization_export (one row per claim and "
        "code); controls include approvals ending on the date of service.",
    }


# --- helpers -----------------------------------------------------------------------------------


def _iso(day: pd.Timestamp) -> str:
    return pd.Timestamp(day).date().isoformat()


def _entities(f: pd.DataFrame, mask: Any, **extra: Any) -> list[dict[str, Any]]:
    """One line entity per row of ``f[mask]`` (planted lines: hundreds at most in a sample)."""
    rows = f.loc[mask, ["claim_id", "line_number", "cpt"]]
    return [
        {"claim_id": str(c), "line": int(n), "cpt": str(k), **extra}
        for c, n, k in rows.itertuples(index=False, name=None)
    ]


def _line(f: pd.DataFrame, i: Any) -> dict[str, Any]:
    return {
        "claim_id": str(f.at[i, "claim_id"]),
        "line": int(f.at[i, "line_number"]),
        "cpt": str(f.at[i, "cpt"]),
    }


def _sample(p: _Planter, items: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    if len(items) <= k:
        return items
    return [items[i] for i in np.sort(p.rng.choice(len(items), k, replace=False))]


def _sample_ids(p: _Planter, ids: list[str], k: int) -> list[str]:
    if len(ids) <= k:
        return list(ids)
    return [ids[i] for i in np.sort(p.rng.choice(len(ids), k, replace=False))]


def _sample_index(p: _Planter, index: pd.Index, k: int) -> list[Any]:
    if len(index) <= k:
        return list(index)
    return list(index[np.sort(p.rng.choice(len(index), k, replace=False))])
