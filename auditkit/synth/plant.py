"""Known errors planted in the synthetic data, and the truth about them.

Every planted case is an extra claim (or a small group of claims for one new patient) with a
*tag*. Planted claims are built from templates like the base claims (see ``catalog.TEMPLATES``,
the weight-0 ones), dated early enough to be adjudicated, and protected from the random
denials, so that each one shows exactly one problem. :func:`truth` turns the tags back into
the entities each audit must flag (``expect``) and a sample of similar entities it must not
flag (``controls``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from auditkit.claims import list_contains
from auditkit.synth import catalog as cat
from auditkit.synth.generator import (
    MODIFIER_DENIAL,
    VOIDED,
    Calendar,
    Generated,
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

SIDE_MODIFIERS = ("RT", "LT", "50")
#: Fewest lines for which the planted patterns are added by default.
MIN_PLANTED_LINES = 1000
#: Controls listed per kind of entity (a deterministic sample).
N_CONTROLS = 12

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
    """The planted claims (a claim table, see ``generator.claim_table``)."""
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
    block(c(n_lines, 10, 10), ["tpi_gon_no59"], PAYER_NO59, payer=cat.AETNA)
    not_aetna = share.copy()
    not_aetna[cat.AETNA] = 0.0
    k = c(n_lines, 12, 12)
    block(
        k,
        ["tpi_gon"],
        PAYER_59_OTHERS,
        payer=rng.choice(len(share), size=k, p=not_aetna / not_aetna.sum()),
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
    return concat_tables(*blocks, *groups.tables)


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


# --- truth -------------------------------------------------------------------------------------


def truth(gen: Generated, rng: np.random.Generator) -> dict[str, dict[str, Any]]:
    """``{audit_id: {"expect": [...], "controls": [...], "note": str}}`` for the planted data."""
    f = gen.frame
    claims = gen.claims
    names = np.array([t.name for t in cat.TEMPLATES], dtype=object)
    # Columns stay in their Arrow-backed dtypes: filters are vectorised and only the few rows
    # that become entities are turned into Python values.
    lines = pd.DataFrame(
        {
            "claim_id": f["claim_id"],
            "line": f["line_number"],
            "cpt": f["cpt"],
            "patient_id": f["patient_id"],
            "dos": f["date_of_service"],
            "provider": f["rendering_provider"],
            "payer": f["payer"],
            "modifiers": f["modifiers"],
            "dx": f["diagnosis_codes"],
            "muscles": f["muscles_treated"],
            "minutes": f["cpm_minutes"],
            "units": f["units"],
            "tag": claims["tag"][gen.line_claim],
            "template": pd.Categorical(names[claims["template"][gen.line_claim]]),
        }
    )
    base = lines[lines["tag"] == 0]
    pick = _Sampler(rng)
    out: dict[str, dict[str, Any]] = {}

    # tpi-ratio
    tpi = lines[lines["cpt"].isin(["20552", "20553"])]
    per_provider = tpi.groupby("provider").size()
    lee = cat.PHYSICIANS[cat.LEE].name
    others = [p for p, n in per_provider.items() if p != lee and n >= 20]
    normal = base[base["cpt"].isin(["20552", "20553"])]
    boundary_52 = normal[(normal["cpt"] == "20552") & (normal["muscles"] == 2)]
    boundary_53 = normal[(normal["cpt"] == "20553") & (normal["muscles"] == 3)]
    out["tpi-ratio"] = {
        "expect": [{"provider": lee}]
        + _entities(
            lines[(lines["tag"] == TPI_UNDERCODE) & (lines["cpt"] == "20552")],
            muscles_treated="muscles",
        )
        + _entities(
            lines[(lines["tag"] == TPI_NOCOUNT) & (lines["cpt"] == "20553")],
            muscles_treated="muscles",
        ),
        "controls": [{"provider": p} for p in others]
        + _entities(pick(boundary_52, N_CONTROLS // 4), muscles_treated="muscles")
        + _entities(pick(boundary_53, N_CONTROLS // 4), muscles_treated="muscles")
        + _entities(pick(normal, N_CONTROLS // 2), muscles_treated="muscles"),
        "note": f"{lee} codes 20552 on about 90% of trigger-point lines, the others 45-55%. Line "
        "entities: 20552 with 3+ muscles documented (undercoded) and 20553 with no muscle count.",
    }

    # paid-vs-denied
    keystone = cat.PAYERS[cat.KEYSTONE].name
    present = set(lines[["cpt", "payer"]].drop_duplicates().itertuples(index=False, name=None))
    control_pairs = [("64493", p.name) for p in cat.PAYERS if p.name != keystone] + [
        ("64483", keystone),
        ("64494", keystone),
    ]
    out["paid-vs-denied"] = {
        "expect": [{"cpt": "64493", "payer": keystone, "attribute": "laterality modifier"}],
        "controls": [{"cpt": c, "payer": p} for c, p in control_pairs if (c, p) in present],
        "note": f"{keystone} denies 64493 lines without RT/LT/50 (CO-4) and pays those with one.",
    }

    # clean-claim-rate
    patel = cat.PHYSICIANS[cat.PATEL].name
    claims_per_provider = lines.drop_duplicates("claim_id").groupby("provider").size()
    out["clean-claim-rate"] = {
        "expect": [{"provider": patel, "family": "epidural"}],
        "controls": [
            {"provider": p} for p, n in claims_per_provider.items() if p != patel and n >= 30
        ],
        "note": f"{patel}'s epidural claims are often rejected, reworked before submission or "
        "resubmitted (frequency 7): her clean-claim rate is about 75%, the others' about 95%.",
    }

    em = lines["cpt"].str.startswith("992").astype(bool)
    em_with_procedure = base[
        base["cpt"].str.startswith("992").astype(bool)
        & base["template"].isin(["em_tpi", "em_tpi_gon", "em_joint", "em_joint_us", "em_gon"])
    ]
    out["modifier-25-missing"] = {
        "expect": _entities(lines[em & lines["tag"].isin([M25_MISSING, M25_MISSING_SPLIT])]),
        "controls": _entities(pick(em_with_procedure, N_CONTROLS)),
        "note": "Office visit billed the same day (same patient and physician) as a minor procedure "
        "without modifier 25; some on a separate claim from the procedure.",
    }
    em_alone = base[base["template"] == "em_only"]
    out["modifier-25-unsupported"] = {
        "expect": _entities(lines[em & (lines["tag"] == M25_UNSUPPORTED)]),
        "controls": _entities(pick(em_alone, N_CONTROLS // 2))
        + _entities(pick(em_with_procedure, N_CONTROLS // 2)),
        "note": "Modifier 25 on an office visit with no procedure that day.",
    }

    side_specific = lines["cpt"].isin(sorted(cat.SIDE_SPECIFIC))
    no_side = ~list_contains(lines["modifiers"], SIDE_MODIFIERS)
    sided_base = base[base["cpt"].isin(sorted(cat.SIDE_SPECIFIC))]
    two_lines = sided_base["template"].isin(cat.RTLT_TEMPLATES)
    out["laterality-missing"] = {
        "expect": _entities(
            lines[side_specific & no_side & lines["tag"].isin([LATERALITY, PVD_DENIED])]
        ),
        "controls": _entities(pick(sided_base[~two_lines], N_CONTROLS // 2))
        + _entities(pick(sided_base[two_lines], N_CONTROLS // 2)),
        "note": "Side-specific code without RT, LT or 50 (the side is documented in laterality). "
        "Includes the Keystone 64493 lines of the paid-vs-denied pattern.",
    }

    sided_mod = list_contains(lines["modifiers"], SIDE_MODIFIERS)
    bilateral = lines[
        lines["tag"].isin([BILAT_50_AT_RTLT, BILAT_RTLT_AT_50, BILAT_UNITS_AT_50]) & sided_mod
    ].drop_duplicates(["claim_id", "cpt"])  # one service per code: its first line
    fifty = lines[(lines["tag"] == BILAT_50_NOT_ALLOWED) & list_contains(lines["modifiers"], "50")]
    allowed = base[base["cpt"].isin(sorted(cat.SIDE_SPECIFIC))]
    styles_base = [
        allowed[list_contains(allowed["modifiers"], "50")],
        lines[lines["tag"] == BILAT_RTLT_USUAL].drop_duplicates(["claim_id", "cpt"]),
        allowed[
            list_contains(allowed["modifiers"], "RT") & list_contains(allowed["modifiers"], "LT")
        ],
    ]
    out["bilateral-style-inconsistent"] = {
        "expect": _entities(bilateral, modifiers="modifiers", units="units", payer="payer")
        + _entities(fifty, modifiers="modifiers"),
        "controls": [
            e
            for rows in styles_base
            for e in _entities(pick(rows, N_CONTROLS // 3), modifiers="modifiers", payer="payer")
        ],
        "note": f"{keystone} (and Aetna) bill bilateral services as RT and LT lines, Cigna as one "
        "line RT,LT with 2 units, the others (Medicare by the reference file) as one line with "
        f"50. Planted: 50 on one line at {keystone}, RT and LT lines and 2-unit lines at "
        "Medicare (entity: the service's first line), and 50 on 62323 or a trigger-point code. "
        "Controls: ordinary bilateral services in each style.",
    }

    proc59 = base[base["template"].isin(["tpi_gon", "em_tpi_gon"]) & (base["cpt"] == "64405")]
    out["modifier-59-misuse"] = {
        "expect": _entities(lines[em & (lines["tag"] == M59)]),
        "controls": _entities(pick(proc59, N_CONTROLS // 2))
        + _entities(pick(em_with_procedure, N_CONTROLS // 2)),
        "note": "Modifier 59 on an office visit. Controls include 59 on a procedure (64405 with a "
        "trigger-point injection), which is allowed.",
    }

    aetna = cat.PAYERS[cat.AETNA].name
    gon_payers = sorted(set(lines.loc[lines["cpt"] == "64405", "payer"]) - {aetna})
    out["modifier-payer-inconsistent"] = {
        "expect": [{"cpt": "64405", "payer": aetna, "modifier": "59"}],
        "controls": [{"cpt": "64405", "payer": p} for p in gon_payers],
        "note": f"59 on 64405 billed with a trigger-point injection: always at the other payers "
        f"(some planted, so that they have enough lines), missing on most such lines at {aetna}.",
    }

    limited = base["cpt"].isin(["20552", "20553", "20610", "62323", "64483", "64493", "64494"])
    at_limit = base[
        base["template"].isin(cat.RTLT_TEMPLATES)
        | (list_contains(base["modifiers"], "RT") & list_contains(base["modifiers"], "LT"))
    ]
    out["units-exceed-limit"] = {
        "expect": _entities(lines[lines["tag"] == UNITS_OVER], units="units"),
        "controls": _entities(pick(at_limit, N_CONTROLS // 2), units="units")
        + _entities(pick(base[limited], N_CONTROLS // 2), units="units"),
        "note": "64483 or 20610 with 3 units, 62323 with 2, for one patient on one day (limits 2, "
        "2 and 1 a day). Controls: bilateral services at 2 units a day (RT and LT lines, or one "
        "line with 2 units) and ordinary lines.",
    }

    esi_codes = sorted(cat.ESI_LUMBAR | cat.ESI_CERVICAL)
    esi_base = base[base["cpt"].isin(esi_codes)]
    with_axial = esi_base[list_contains(esi_base["dx"], "M54.50")]
    out["dx-linkage"] = {
        "expect": _entities(
            lines[lines["cpt"].isin(esi_codes) & (lines["tag"] == DX_AXIAL)], diagnosis_codes="dx"
        ),
        "controls": _entities(pick(with_axial, N_CONTROLS // 2), diagnosis_codes="dx")
        + _entities(pick(esi_base, N_CONTROLS // 2), diagnosis_codes="dx"),
        "note": "Epidural whose only diagnoses are axial (M54.50, M54.59, M54.9 or the retired "
        "M54.5). Controls include epidurals with a radicular code plus M54.50.",
    }

    facet2 = base[base["template"].isin(["facet_l2", "facet_c2"])]
    out["facet-third-level"] = {
        "expect": _entities(lines[lines["cpt"].isin(["64492", "64495"])]),
        "controls": _entities(pick(facet2, N_CONTROLS)),
        "note": "Third-level facet code 64492 or 64495 billed.",
    }

    legit_imaging = base[base["cpt"].isin(["76942", "77003"])]
    us_joint = base[base["cpt"] == "20611"]
    out["imaging-bundled"] = {
        "expect": _entities(lines[(lines["tag"] == IMAGING_77003) & (lines["cpt"] == "77003")])
        + _entities(lines[(lines["tag"] == IMAGING_76942) & (lines["cpt"] == "76942")]),
        "controls": _entities(pick(legit_imaging, N_CONTROLS // 2))
        + _entities(pick(us_joint, N_CONTROLS // 2)),
        "note": "77003 on the same claim as 62323, and 76942 with 20610 (should be 20611). Match on "
        "claim_id; cpt names the line that should not have been billed. Controls: 76942 with "
        "64405/64450 and 77003 with 64520, which the reference data does not bundle, and 20611.",
    }

    addon_ok = base[base["cpt"].isin(["64484", "G3003"])]
    out["addon-without-primary"] = {
        "expect": _entities(lines[(lines["tag"] == ADDON_64484) & (lines["cpt"] == "64484")])
        + _entities(
            lines[
                (lines["tag"] == ADDON_G3003_NEXT_MONTH) & (lines["template"] == "cpm_addon_only")
            ]
        ),
        "controls": _entities(pick(addon_ok, N_CONTROLS))
        + _entities(
            lines[
                lines["tag"].isin([ADDON_SPLIT_CONTROL, CPM_SPLIT_CONTROL])
                & lines["cpt"].isin(["64484", "G3003"])
            ]
        ),
        "note": "64484 without 64483 for the same patient and date; G3003 without G3002 for the same "
        "patient in the calendar month (billed the month after). Controls include an add-on on "
        "a separate claim from its primary (same day, or same month for G3003).",
    }

    as_text = {"dos": lambda d: d["dos"].dt.strftime("%Y-%m-%d")}
    tpi_planted = lines[
        lines["tag"].isin([TPI_DOUBLE, TPI_SPLIT]) & lines["cpt"].isin(["20552", "20553"])
    ]
    tpi_base = base[base["cpt"].isin(["20552", "20553"])]
    out["tpi-once-per-session"] = {
        "expect": _sessions(tpi_planted.assign(**as_text)),
        "controls": _sessions(pick(tpi_base, N_CONTROLS).assign(**as_text)),
        "note": "20552 and 20553 for the same patient and date (same claim, or two claims).",
    }

    freq = lines[lines["tag"].isin([FREQ_LIMIT, FREQ_CONTROL_4, FREQ_CONTROL_REGIONS])]
    freq = freq[freq["cpt"].isin(esi_codes)]
    freq = freq.assign(
        region=np.where(freq["cpt"].isin(sorted(cat.ESI_LUMBAR)), "lumbar", "cervical")
    )
    freq = freq.assign(dos=freq["dos"].dt.strftime("%Y-%m-%d"))
    out["frequency-limit"] = {
        "expect": _patients(freq[freq["tag"] == FREQ_LIMIT]),
        "controls": _patients(freq[freq["tag"] != FREQ_LIMIT]),
        "note": "A patient with 5 or 6 lumbar epidural sessions in 12 months (the limit is 4 per "
        "region). Controls: exactly 4 lumbar sessions; 3 lumbar plus 3 cervical.",
    }

    g3002 = lines[lines["cpt"] == "G3002"]
    g3003 = lines[lines["cpt"] == "G3003"]
    visits = lines[em]
    out["cpm-time"] = {
        "expect": _entities(g3002[g3002["tag"] == CPM_SHORT], cpm_minutes="minutes")
        + _entities(g3003[g3003["tag"] == CPM_G3003_EXCESS], cpm_minutes="minutes", units="units")
        + _entities(
            g3003[
                (g3003["tag"] == ADDON_G3003_NEXT_MONTH) & (g3003["template"] == "cpm_addon_only")
            ],
            cpm_minutes="minutes",
        )
        + _entities(visits[visits["tag"] == CPM_MISSED], cpm_minutes="minutes")
        + _entities(visits[visits["tag"] == CPM_EM_INITIAL]),
        "controls": _entities(g3002[g3002["tag"] == CPM_BOUNDARY], cpm_minutes="minutes")
        + _entities(pick(g3002[g3002["tag"] == 0], N_CONTROLS // 2), cpm_minutes="minutes")
        + _entities(pick(g3003[g3003["tag"] == 0], N_CONTROLS // 2), cpm_minutes="minutes")
        + _entities(g3003[g3003["tag"] == CPM_SPLIT_CONTROL], cpm_minutes="minutes")
        + _entities(visits[visits["tag"] == CPM_TRACKED_SHORT], cpm_minutes="minutes")
        + _entities(visits[visits["tag"] == CPM_EM_OTHER_DAY]),
        "note": "G3002 with fewer than 30 minutes documented in the month; G3003 units above the "
        "full 15 minutes beyond 30; a month with 30+ minutes documented and no G3002 (an office "
        "visit documenting the minutes, and the G3003 billed alone the month after its G3002); "
        "an office visit on the day of the patient's first G3002 (the initial visit). Controls "
        "include exactly 30 minutes, G3003 units matching the minutes, a visit documenting under "
        "30 minutes and a visit three days after the first G3002.",
    }
    return {a: out[a] for a in AUDIT_IDS}


class _Sampler:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def __call__(self, rows: pd.DataFrame, k: int) -> pd.DataFrame:
        if len(rows) <= k:
            return rows
        return rows.iloc[np.sort(self.rng.choice(len(rows), size=k, replace=False))]


def _value(v: Any) -> Any:
    if v is pd.NA or v is None:
        return None
    if isinstance(v, float):
        return None if np.isnan(v) else (int(v) if v.is_integer() else v)
    if isinstance(v, np.integer):
        return int(v)
    return v


def _entities(rows: pd.DataFrame, **extra: str) -> list[dict[str, Any]]:
    """One entity per line: claim_id, line, cpt, plus ``extra`` (name -> column)."""
    cols = ["claim_id", "line", "cpt", *extra.values()]
    names = ["claim_id", "line", "cpt", *extra.keys()]
    # One dict per planted line (a few hundred at most in the bundled samples).
    return [
        {n: _value(v) for n, v in zip(names, values, strict=True)}
        for values in rows[cols].itertuples(index=False, name=None)
    ]


def _sessions(rows: pd.DataFrame) -> list[dict[str, Any]]:
    grouped = rows.groupby(["patient_id", "dos"], sort=True)["claim_id"]
    return [
        {"patient_id": p, "date_of_service": d, "claim_ids": sorted(set(ids))}
        for (p, d), ids in grouped
    ]


def _patients(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """One entity per patient: lumbar epidural sessions (distinct dates) and their claims."""
    lumbar = rows[rows["region"] == "lumbar"]
    sessions = lumbar.groupby("patient_id", sort=True)["dos"].nunique()
    claim_ids = lumbar.groupby("patient_id", sort=True)["claim_id"].agg(
        lambda ids: sorted(set(ids))
    )
    patients = sorted(set(rows["patient_id"]))
    return [
        {
            "patient_id": p,
            "region": "lumbar",
            "sessions": int(sessions.get(p, 0)),
            "claim_ids": list(claim_ids.get(p, [])),
        }
        for p in patients
    ]
