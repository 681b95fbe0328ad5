"""Known coding errors planted in the synthetic data: the tags and the planted claims.

Every planted case is an extra claim (or a small group of claims for one new patient) with a
*tag*. Planted claims are built from templates like the base claims (see ``catalog.TEMPLATES``,
the weight-0 ones), dated early enough to be adjudicated, and protected from the random
denials, so that each one shows exactly one problem. :func:`auditkit.synth.plant_truth.truth`
turns the tags back into the entities each audit must flag (``expect``) and a sample of similar
entities it must not flag (``controls``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from auditkit.synth import catalog as cat
from auditkit.synth.claim_arrays import (
    MODIFIER_DENIAL,
    VOIDED,
    Calendar,
    claim_table,
    concat_tables,
)

# Tags (0 = base data).
TPI_UNDERCODE = 1
TPI_NOCOUNT = 2
PVD_DENIED = 3
PVD_PAID = 4
M25_MISSING = 5
M25_MISSING_SPLIT = 6
M25_UNSUPPORTED = 7
LATERALITY = 8
M59 = 9
DX_AXIAL = 10
FACET_THIRD = 11
IMAGING_77003 = 12
IMAGING_76942 = 13
ADDON_64484 = 14
ADDON_G3003_NEXT_MONTH = 15
ADDON_SPLIT_CONTROL = 16
CPM_SPLIT_CONTROL = 17
TPI_DOUBLE = 18
TPI_SPLIT = 19
FREQ_LIMIT = 20
FREQ_CONTROL_4 = 21
FREQ_CONTROL_REGIONS = 22
CPM_SHORT = 23
CPM_BOUNDARY = 24
#: Not an audit pattern: voided claims whose payment was taken back (negative paid amounts),
#: so that every sample has credits for the exports' negative-money formats.
VOIDED_RECOUPED = 25
BILAT_50_AT_RTLT = 26
BILAT_RTLT_AT_50 = 27
BILAT_UNITS_AT_50 = 28
BILAT_50_NOT_ALLOWED = 29
PAYER_NO59 = 30
UNITS_OVER = 31
CPM_MISSED = 32
CPM_TRACKED_SHORT = 33
CPM_G3003_EXCESS = 34
CPM_EM_INITIAL = 35
CPM_EM_OTHER_DAY = 36
PAYER_59_OTHERS = 37
BILAT_RTLT_USUAL = 38

#: Fewest lines for which the planted patterns are added by default.
MIN_PLANTED_LINES = 1000

#: Audit ids in the truth, in this order.
AUDIT_IDS: tuple[str, ...] = (
    "tpi-ratio",
    "paid-vs-denied",
    "clean-claim-rate",
    "modifier-25-missing",
    "modifier-25-unsupported",
    "laterality-missing",
    "bilateral-style-inconsistent",
    "modifier-59-misuse",
    "modifier-payer-inconsistent",
    "dx-linkage",
    "facet-third-level",
    "imaging-bundled",
    "addon-without-primary",
    "units-exceed-limit",
    "tpi-once-per-session",
    "frequency-limit",
    "cpm-time",
)


def count(n_lines: int, at_2500: int, minimum: int) -> int:
    """How many cases of a pattern to plant: proportional to size, never below ``minimum``."""
    return max(minimum, round(at_2500 * n_lines / 2500))


def _tpl(names: list[str], k: int, rng: np.random.Generator) -> np.ndarray:
    idx = np.array([cat.TEMPLATE_INDEX[n] for n in names])
    return idx[rng.integers(0, len(idx), size=k)]


def plan(n_lines: int, rng: np.random.Generator, cal: Calendar) -> dict[str, np.ndarray]:
    """The planted claims (a claim table, see :func:`auditkit.synth.claim_arrays.claim_table`):
    single claims that each show one problem, then small groups of claims for new patients."""
    blocks = _single_claims(n_lines, rng)
    groups = _patient_groups(n_lines, rng, cal)
    return concat_tables(*blocks, *groups.tables)


def _single_claims(n_lines: int, rng: np.random.Generator) -> list[dict[str, np.ndarray]]:
    """One claim table per pattern planted as single claims (each for a patient of the pool)."""
    blocks: list[dict[str, np.ndarray]] = []

    def block(k: int, names: list[str], tag: int, **forced: Any) -> None:
        blocks.append(
            claim_table(
                k, template=_tpl(names, k, rng), tag=tag, early=True, protect=True, **forced
            )
        )

    share = np.array([p.share for p in cat.PAYERS])
    not_keystone = share.copy()
    not_keystone[cat.KEYSTONE] = 0.0
    c = count

    block(
        c(n_lines, 5, 3),
        ["tpi_only", "em_tpi"],
        TPI_UNDERCODE,
        tpi_code=cat.CODE_INDEX["20552"],
        muscles_mode=1,
    )
    block(
        c(n_lines, 4, 3),
        ["tpi_only", "em_tpi"],
        TPI_NOCOUNT,
        tpi_code=cat.CODE_INDEX["20553"],
        muscles_mode=2,
    )
    block(
        c(n_lines, 32, 30),
        ["facet_l1_noside"],
        PVD_DENIED,
        payer=cat.KEYSTONE,
        outcome=MODIFIER_DENIAL,
    )
    block(
        c(n_lines, 25, 25), ["facet_l1", "facet_l2", "facet_l_rtlt"], PVD_PAID, payer=cat.KEYSTONE
    )
    block(c(n_lines, 5, 3), ["em_tpi_no25", "em_joint_no25", "em_gon_no25"], M25_MISSING)
    block(c(n_lines, 5, 3), ["em_only_25"], M25_UNSUPPORTED)
    k = c(n_lines, 6, 4)
    block(
        k,
        [
            "joint_noside",
            "joint_us_noside",
            "tfesi_l1_noside",
            "tfesi_c1_noside",
            "facet_l1_noside",
            "facet_c2_noside",
            "rfa_l1_noside",
            "gon_noside",
        ],  # fmt: skip
        LATERALITY,
        payer=rng.choice(len(share), size=k, p=not_keystone / not_keystone.sum()),
    )
    block(c(n_lines, 4, 3), ["em_tpi_59", "em_only_59"], M59)
    block(
        c(n_lines, 5, 3),
        ["ilesi_l", "tfesi_l1", "tfesi_l2", "ilesi_c", "tfesi_c1"],
        DX_AXIAL,
        dx_mode=1,
    )
    block(c(n_lines, 4, 3), ["facet_l3", "facet_c3"], FACET_THIRD)
    block(c(n_lines, 2, 2), ["ilesi_l_fluoro"], IMAGING_77003)
    block(c(n_lines, 2, 2), ["joint_76942"], IMAGING_76942)
    block(c(n_lines, 3, 2), ["tfesi_l_addon_only"], ADDON_64484)
    block(c(n_lines, 3, 2), ["tpi_double"], TPI_DOUBLE)
    k = c(n_lines, 3, 2)
    block(k, ["cpm"], CPM_SHORT, minutes=rng.integers(15, 30, size=k))
    block(c(n_lines, 1, 1), ["cpm"], CPM_BOUNDARY, minutes=30)
    block(c(n_lines, 3, 3), ["em_only", "em_tpi", "joint", "cpm"], VOIDED_RECOUPED, outcome=VOIDED)
    styles = {name: i for i, name in enumerate(cat.BILATERAL_STYLES)}
    block(
        c(n_lines, 3, 3),
        ["tfesi_l1", "joint", "facet_c1"],
        BILAT_50_AT_RTLT,
        payer=cat.KEYSTONE,
        side=2,
        bilat_style=styles["50"],
    )
    block(c(n_lines, 2, 2), ["facet_l_rtlt", "rfa_l_rtlt"], BILAT_RTLT_AT_50, payer=cat.MEDICARE)
    # Enough ordinary RT + LT services at Keystone for its usual style to be clear at any size.
    block(c(n_lines, 8, 8), list(cat.RTLT_TEMPLATES), BILAT_RTLT_USUAL, payer=cat.KEYSTONE)
    block(
        c(n_lines, 2, 2),
        ["tfesi_l1", "joint", "facet_l1"],
        BILAT_UNITS_AT_50,
        payer=cat.MEDICARE,
        side=2,
        bilat_style=styles["units"],
    )
    block(c(n_lines, 2, 2), ["ilesi_l_50", "tpi_50"], BILAT_50_NOT_ALLOWED)
    # One trigger-point code (20552) for the payer-modifier pattern, so that its lines and the
    # other payers' fall in one comparison (59 goes on the trigger-point code, see catalog).
    tpi_59 = cat.CODE_INDEX["20552"]
    block(c(n_lines, 10, 10), ["tpi_gon_no59"], PAYER_NO59, payer=cat.AETNA, tpi_code=tpi_59)
    not_aetna = share.copy()
    not_aetna[cat.AETNA] = 0.0
    k = c(n_lines, 12, 12)
    block(
        k,
        ["tpi_gon"],
        PAYER_59_OTHERS,
        payer=rng.choice(len(share), size=k, p=not_aetna / not_aetna.sum()),
        tpi_code=tpi_59,
    )
    k = c(n_lines, 3, 3)
    block(
        k,
        ["tfesi_l1_3u", "joint_3u", "ilesi_l_2u"],
        UNITS_OVER,
        side=rng.integers(0, 2, size=k),
    )
    k = c(n_lines, 2, 2)
    block(
        k,
        ["cpm_plus"],
        CPM_G3003_EXCESS,
        minutes=rng.integers(45, 60, size=k),
        g3003_units=rng.integers(2, 4, size=k),
    )

    return blocks


def _patient_groups(n_lines: int, rng: np.random.Generator, cal: Calendar) -> _Groups:
    """The patterns planted as a group of claims for one new patient with fixed dates."""
    c = count
    groups = _Groups(rng, cal)
    groups.same_day(c(n_lines, 1, 1), ["em_only"], ["tpi_only", "joint", "gon"], M25_MISSING_SPLIT)
    k = c(n_lines, 1, 1)
    groups.same_day(
        k,
        ["tpi_only"],
        ["tpi_only"],
        TPI_SPLIT,
        tpi_code=(cat.CODE_INDEX["20552"], cat.CODE_INDEX["20553"]),
    )
    groups.same_day(c(n_lines, 1, 1), ["tfesi_l1"], ["tfesi_l_addon_only"], ADDON_SPLIT_CONTROL)
    groups.cpm_months(c(n_lines, 1, 1), ADDON_G3003_NEXT_MONTH, next_month=True)
    groups.cpm_months(c(n_lines, 1, 1), CPM_SPLIT_CONTROL, next_month=False)
    lumbar = ["ilesi_l", "tfesi_l1", "tfesi_l2"]
    cervical = ["ilesi_c", "tfesi_c1", "tfesi_c2"]
    k = c(n_lines, 2, 2)
    groups.sessions(k - k // 2, [lumbar] * 5, FREQ_LIMIT)
    groups.sessions(k // 2, [lumbar] * 6, FREQ_LIMIT)
    groups.sessions(c(n_lines, 1, 1), [lumbar] * 4, FREQ_CONTROL_4)
    groups.sessions(c(n_lines, 1, 1), [lumbar, cervical] * 3, FREQ_CONTROL_REGIONS)
    k = c(n_lines, 2, 2)
    groups.single(k, ["em_cpm_time"], CPM_MISSED, minutes=rng.integers(30, 60, size=k))
    groups.single(k, ["em_cpm_time"], CPM_TRACKED_SHORT, minutes=rng.integers(15, 30, size=k))
    groups.single(k, ["em_cpm_initial"], CPM_EM_INITIAL, minutes=rng.integers(30, 45, size=k))
    groups.same_day(k, ["cpm"], ["em_only"], CPM_EM_OTHER_DAY, offset=3)
    return groups


class _Groups:
    """Planted claims for new patients, each group one patient with fixed dates."""

    def __init__(self, rng: np.random.Generator, cal: Calendar) -> None:
        self.rng = rng
        self.cal = cal
        self.tables: list[dict[str, np.ndarray]] = []
        self.next = 0

    def _add(
        self, k: int, templates: np.ndarray, days: np.ndarray, tag: int, **per_claim: Any
    ) -> None:
        """``templates`` and ``days`` are (k, claims per group); ``per_claim`` values likewise
        or per group (k,)."""
        size = templates.shape[1]
        fresh = np.repeat(self.next + np.arange(k), size)
        self.next += k
        family = cat.TEMPLATES[int(templates[0, -1])].family if k else "em"
        panel = np.array([p.panel for p in cat.PHYSICIANS])
        weights = panel * np.array([p.focus.get(family, 1.0) for p in cat.PHYSICIANS])
        phys = np.repeat(self.rng.choice(len(weights), size=k, p=weights / weights.sum()), size)
        share = np.array([p.share for p in cat.PAYERS])
        payer = np.repeat(self.rng.choice(len(share), size=k, p=share / share.sum()), size)
        values = {  # 1-d: one value per group; 2-d: one per claim
            key: np.repeat(v, size) if np.ndim(v) == 1 else np.ravel(v)
            for key, v in per_claim.items()
        }
        self.tables.append(
            claim_table(
                k * size,
                template=templates.ravel(),
                day=days.ravel(),
                tag=tag,
                group=fresh,
                fresh=fresh,
                phys=phys,
                payer=payer,
                protect=True,
                **values,
            )
        )

    def single(self, k: int, names: list[str], tag: int, **per_claim: Any) -> None:
        """One claim for each of ``k`` new patients (nothing else of theirs in the data)."""
        templates = _tpl(names, k, self.rng)[:, None]
        day = self.rng.integers(0, self.cal.early_last + 1, size=k)[:, None]
        self._add(k, templates, day, tag, **per_claim)

    def same_day(
        self,
        k: int,
        first: list[str],
        second: list[str],
        tag: int,
        tpi_code=None,
        offset: int = 0,
    ) -> None:
        """Two claims per new patient, ``offset`` business days apart (0: the same day)."""
        rng = self.rng
        templates = np.stack([_tpl(first, k, rng), _tpl(second, k, rng)], axis=1)
        day = rng.integers(0, self.cal.early_last + 1 - offset, size=k)
        extra: dict[str, Any] = {"side": rng.integers(0, 3, size=k)}
        if tpi_code is not None:
            extra["tpi_code"] = np.tile(np.array(tpi_code), (k, 1))
        self._add(k, templates, np.stack([day, day + offset], axis=1), tag, **extra)

    def cpm_months(self, k: int, tag: int, next_month: bool) -> None:
        """G3002 in one month and G3003 alone in the next (or later in the same) month."""
        rng, cal = self.rng, self.cal
        last_month = int(cal.month[cal.early_last]) - 1
        month = rng.integers(0, last_month + 1, size=k)
        starts = np.searchsorted(cal.month, np.arange(13))
        size = starts[month + 1] - starts[month]
        if next_month:
            d1 = starts[month] + rng.integers(0, size)
            size2 = starts[month + 2] - starts[month + 1]
            d2 = starts[month + 1] + rng.integers(0, size2)
            minutes = np.stack([np.full(k, -1), rng.integers(45, 60, size=k)], axis=1)
            first = _tpl(["cpm", "cpm_plus"], k, rng)
        else:
            i = rng.integers(0, size - 1)
            j = i + 1 + (rng.random(k) * (size - 1 - i)).astype(np.int64)
            d1, d2 = starts[month] + i, starts[month] + j
            m = rng.integers(45, 60, size=k)
            minutes = np.stack([m, m], axis=1)
            first = _tpl(["cpm"], k, rng)
        templates = np.stack([first, _tpl(["cpm_addon_only"], k, rng)], axis=1)
        self._add(k, templates, np.stack([d1, d2], axis=1), tag, minutes=minutes)

    def sessions(self, k: int, families: list[list[str]], tag: int) -> None:
        """One patient with an epidural session per entry of ``families``, 22-35 business days apart."""
        if k <= 0:
            return
        rng = self.rng
        n = len(families)
        templates = np.stack([_tpl(f, k, rng) for f in families], axis=1)
        gaps = rng.integers(22, 36, size=(k, n))
        gaps[:, 0] = rng.integers(0, 20, size=k)
        days = np.minimum(np.cumsum(gaps, axis=1), self.cal.n - 1)
        self._add(k, templates, days, tag)
