"""The synthetic practice: people, payers, codes, fees, diagnoses and visit templates.

Everything here is invented. Names are drawn from small lists; fees are round numbers of the
right order of magnitude, not any payer's fee schedule; code descriptions are our own words.

A *template* is one kind of claim (an office visit with a trigger-point injection, a two-level
lumbar facet block, ...): its procedure family and its lines. The generator draws a template per
claim, weighted by physician and payer, and expands it into lines. Templates with weight 0 are
never drawn for the base data; the planting step uses them to put known errors in.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditkit.reference.ncci import default_ptp

#: The billing group on every claim.
PRACTICE = "Riverside Pain & Spine, PC"

# --- physicians --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Physician:
    name: str
    #: Procedure family -> weight multiplier (1 when absent; 0 means never performs it).
    focus: dict[str, float]
    #: Share of trigger-point lines this physician codes 20552 (the rest 20553).
    tpi_20552_share: float
    #: Share of the practice's patients whose home physician this is.
    panel: float


PHYSICIANS: tuple[Physician, ...] = (
    # Bills 20552 on nearly every trigger-point line (the tpi-ratio pattern).
    Physician("Daniel Lee, MD", {"tpi": 3.0, "joint": 1.5}, 0.90, 0.15),
    # Epidural-heavy; her epidural claims are often rejected, reworked or resubmitted
    # (the clean-claim-rate pattern, see claim_details.OUTCOMES_EPIDURAL_PATEL).
    Physician("Priya Patel, MD", {"esi_l": 3.0, "esi_c": 3.0}, 0.50, 0.15),
    Physician(
        "Sofía Peña, MD", {"facet_l": 1.5, "facet_c": 1.5, "rfa_l": 1.5, "rfa_c": 1.5}, 0.45, 0.14
    ),
    Physician("Marcus Green, DO", {"joint": 2.0, "peripheral": 2.0}, 0.55, 0.13),
    Physician("Hannah Okafor, MD", {"occipital": 2.5, "cpm": 1.5}, 0.48, 0.13),
    Physician("Robert Klein, MD", {"scs": 8.0, "rfa_l": 1.5, "rfa_c": 1.5}, 0.52, 0.12),
    Physician("Aisha Rahman, MD", {}, 0.50, 0.12),
    # A nurse practitioner: office visits, chronic pain management and joint injections only.
    Physician(
        "Jenna Fox, CRNP",
        {
            "em": 2.0,
            "tpi": 0.0,
            "esi_l": 0.0,
            "esi_c": 0.0,
            "facet_l": 0.0,
            "facet_c": 0.0,
            "rfa_l": 0.0,
            "rfa_c": 0.0,
            "occipital": 0.0,
            "peripheral": 0.0,
            "sympathetic": 0.0,
            "scs": 0.0,
        },
        0.50,
        0.06,
    ),
)
LEE = 0
PATEL = 1

# --- payers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payer:
    name: str
    kind: str  # "medicare", "medicaid", "commercial", "workers_comp"
    plans: tuple[str, ...]
    share: float  # share of patients
    rate: float  # allowed amount as a multiple of the Medicare-like base rate
    copay: int  # office-visit copay in dollars (commercial)
    coinsurance: float  # patient share of allowed on other lines
    auth_prefix: str
    adjudication_days: tuple[int, int]  # submitted -> adjudicated, min and max days
    denial_factor: float  # multiplies the base denial probabilities
    #: Procedure family -> weight multiplier for this payer's patients.
    mix: dict[str, float]
    #: How the payer takes a bilateral service (one of BILATERAL_STYLES): "50" one line with
    #: modifier 50, "rtlt" an RT line and an LT line, "units" one line RT,LT with 2 units.
    bilateral: str = "50"


PAYERS: tuple[Payer, ...] = (
    Payer(
        "Medicare",
        "medicare",
        ("Medicare Part B",),
        0.30,
        1.00,
        0,
        0.20,
        "UTN",
        (12, 20),
        1.0,
        {"facet_l": 1.4, "facet_c": 1.4, "rfa_l": 1.4, "rfa_c": 1.4, "cpm": 2.0, "joint": 1.3},
    ),
    Payer(
        "Medicaid",
        "medicaid",
        ("Medicaid Managed Care", "Medicaid Fee for Service"),
        0.12,
        0.72,
        0,
        0.0,
        "MA",
        (18, 40),
        1.8,
        {"em": 1.4, "rfa_l": 0.5, "rfa_c": 0.5, "scs": 0.3, "cpm": 0.8},
    ),
    Payer(
        "Keystone Health",
        "commercial",
        ("Keystone PPO", "Keystone HMO"),
        0.17,
        1.32,
        30,
        0.15,
        "KH",
        (14, 30),
        1.0,
        {},
        bilateral="rtlt",
    ),
    Payer(
        "Summit BCBS",
        "commercial",
        ("Summit Blue PPO", "Summit Blue EPO"),
        0.15,
        1.25,
        35,
        0.15,
        "SB",
        (14, 28),
        1.0,
        {},
    ),
    Payer(
        "Aetna",
        "commercial",
        ("Aetna Choice POS", "Aetna HMO"),
        0.11,
        1.38,
        40,
        0.15,
        "AE",
        (15, 32),
        1.1,
        {},
        bilateral="rtlt",
    ),
    Payer(
        "Cigna",
        "commercial",
        ("Cigna Open Access", "Cigna LocalPlus"),
        0.08,
        1.30,
        30,
        0.15,
        "CG",
        (15, 30),
        1.0,
        {},
        bilateral="units",
    ),
    Payer(
        "Commonwealth Workers Comp",
        "workers_comp",
        ("Workers Compensation",),
        0.07,
        1.55,
        0,
        0.0,
        "WC",
        (30, 60),
        1.5,
        {"tpi": 2.0, "esi_l": 1.5, "cpm": 0.0, "occipital": 0.5, "joint": 0.8, "em": 0.8},
    ),
)
MEDICARE = 0
MEDICAID = 1
KEYSTONE = 2
AETNA = 4
#: The ways of billing a bilateral service (index = the claim field ``bilat_style``).
BILATERAL_STYLES: tuple[str, ...] = ("50", "rtlt", "units")

# --- patients ----------------------------------------------------------------------------------

FIRST_NAMES: tuple[str, ...] = (
    "Anna", "José", "María", "Zoë", "Renée", "James", "Linda", "Robert", "Patricia", "Michael",
    "Barbara", "William", "Susan", "David", "Karen", "Thomas", "Nancy", "Charles", "Lisa",
    "Joseph", "Betty", "Kevin", "Sandra", "Brian", "Donna", "Gary", "Carol", "Frank", "Ruth",
    "André", "Eileen", "Walter",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Müller", "Peña", "Nuñez", "García", "Lefèvre", "O'Brien", "Smith", "Johnson", "Brown",
    "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Moore", "Jackson", "Martin", "Thompson",
    "White", "Harris", "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott",
    "Baker", "Adams", "Nelson", "Campbell", "Kowalski", "Novak",
)  # fmt: skip

# --- codes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Code:
    code: str
    text: str  # short description in our own words
    charge: float  # the practice's charge per unit
    base_rate: float  # Medicare-like allowed amount per unit (office setting)
    kind: str  # "em", "procedure", "addon", "imaging", "cpm"


CODES: tuple[Code, ...] = (
    Code("99202", "New pt visit, 15-29 min", 150, 72, "em"),
    Code("99203", "New pt visit, 30-44 min", 230, 110, "em"),
    Code("99204", "New pt visit, 45-59 min", 340, 168, "em"),
    Code("99205", "New pt visit, 60-74 min", 430, 220, "em"),
    Code("99212", "Est pt visit, 10-19 min", 120, 56, "em"),
    Code("99213", "Est pt visit, 20-29 min", 185, 91, "em"),
    Code("99214", "Est pt visit, 30-39 min", 265, 129, "em"),
    Code("99215", "Est pt visit, 40-54 min", 360, 182, "em"),
    Code("20552", "Trigger pt inj, 1-2 muscles", 210, 62, "procedure"),
    Code("20553", "Trigger pt inj, 3+ muscles", 260, 72, "procedure"),
    Code("20610", "Major joint/bursa inj", 240, 65, "procedure"),
    Code("20611", "Major joint/bursa inj w/ US", 330, 95, "procedure"),
    Code("62321", "Interlaminar ESI, cerv/thor, imaging", 1150, 210, "procedure"),
    Code("62323", "Interlaminar ESI, lumb/sacral, imaging", 1050, 195, "procedure"),
    Code("64479", "Transforaminal ESI, cerv/thor, 1st lvl", 1400, 230, "procedure"),
    Code("64480", "Transforaminal ESI, cerv/thor, addl lvl", 700, 110, "addon"),
    Code("64483", "Transforaminal ESI, lumb/sacral, 1st lvl", 1300, 215, "procedure"),
    Code("64484", "Transforaminal ESI, lumb/sacral, addl lvl", 650, 95, "addon"),
    Code("64490", "Facet/MBB, cerv/thor, 1st lvl", 1250, 195, "procedure"),
    Code("64491", "Facet/MBB, cerv/thor, 2nd lvl", 650, 110, "addon"),
    Code("64492", "Facet/MBB, cerv/thor, 3rd lvl", 650, 110, "addon"),
    Code("64493", "Facet/MBB, lumb/sacral, 1st lvl", 1200, 180, "procedure"),
    Code("64494", "Facet/MBB, lumb/sacral, 2nd lvl", 620, 100, "addon"),
    Code("64495", "Facet/MBB, lumb/sacral, 3rd lvl", 620, 100, "addon"),
    Code("64633", "Facet RF ablation, cerv/thor, 1st jt", 2300, 390, "procedure"),
    Code("64634", "Facet RF ablation, cerv/thor, addl jt", 950, 140, "addon"),
    Code("64635", "Facet RF ablation, lumb/sacral, 1st jt", 2200, 385, "procedure"),
    Code("64636", "Facet RF ablation, lumb/sacral, addl jt", 900, 135, "addon"),
    Code("64405", "Greater occipital nerve block", 380, 90, "procedure"),
    Code("64450", "Other peripheral nerve block", 360, 85, "procedure"),
    Code("64520", "Lumbar sympathetic block", 900, 160, "procedure"),
    Code("63650", "SCS percutaneous lead placement", 4800, 450, "procedure"),
    Code("63685", "SCS pulse generator insertion", 6200, 380, "procedure"),
    Code("G3002", "Chronic pain mgmt, first 30 min/month", 320, 148, "cpm"),
    Code("G3003", "Chronic pain mgmt, each addl 15 min", 95, 33, "cpm"),
    Code("76942", "Ultrasound needle guidance", 260, 55, "imaging"),
    Code("77003", "Fluoroscopic needle guidance, spine", 230, 60, "imaging"),
)
CODE_INDEX: dict[str, int] = {c.code: i for i, c in enumerate(CODES)}
NEW_VISITS: tuple[str, ...] = ("99202", "99203", "99204", "99205")
NEW_VISIT_WEIGHTS: tuple[float, ...] = (0.05, 0.35, 0.45, 0.15)
EST_VISITS: tuple[str, ...] = ("99212", "99213", "99214", "99215")
EST_VISIT_WEIGHTS: tuple[float, ...] = (0.10, 0.45, 0.38, 0.07)

#: Codes that take RT, LT or 50 (the laterality-missing audit's list).
SIDE_SPECIFIC: frozenset[str] = frozenset(
    {"20610", "20611", "64405"}
    | {str(c) for c in range(64479, 64485)}
    | {str(c) for c in range(64490, 64496)}
    | {str(c) for c in range(64633, 64637)}
)
#: Epidural codes by region, for dx-linkage and frequency-limit.
ESI_LUMBAR: frozenset[str] = frozenset({"62323", "64483", "64484"})
ESI_CERVICAL: frozenset[str] = frozenset({"62321", "64479", "64480"})

# --- templates ---------------------------------------------------------------------------------

# Line spec fields: code (or "EM" for an office visit, "TPI" for 20552/20553 by the physician's
# habit), side ("" none, "S" the claim's side as RT/LT/50, "N" the claim's side documented but
# no side modifier, or a fixed "RT"/"LT"), units, and extra modifiers written after the side
# ("25" on a visit, "59" on a procedure).


@dataclass(frozen=True)
class LineSpec:
    code: str
    side: str = ""
    units: float = 1.0
    extra: str = ""


@dataclass(frozen=True)
class Template:
    name: str
    family: str
    lines: tuple[LineSpec, ...]
    weight: float  # base share in the practice's mix; 0 = only used for planting


EM = LineSpec("EM")
EM25 = LineSpec("EM", extra="25")
TPI = LineSpec("TPI")


def _s(code: str, units: float = 1.0, extra: str = "") -> LineSpec:
    return LineSpec(code, "S", units, extra)


#: The packaged PTP edits the generator follows (when no CMS file is given, the audits do too).
PTP_DEFAULT = "ncci_ptp_default.csv"


def _column2(code: str, other: str) -> str:
    """Which of two codes is the column 2 code of their packaged PTP edit (the code that
    carries 59 when the services were distinct)."""
    edits = default_ptp([code, other]).frame()
    if len(edits) != 1:
        raise RuntimeError(f"{PTP_DEFAULT}: expected one edit between {code} and {other}")
    return str(edits["column2"].iloc[0])


def _59_on_trigger_point() -> bool:
    """Does 59 go on the trigger-point code (not on 64405) of a trigger-point injection with a
    greater occipital nerve block? Read from the packaged PTP edits (the same for 20552
    and 20553)."""
    column2 = {_column2(tpi, "64405") for tpi in ("20552", "20553")}
    if len(column2 - {"20552", "20553"}) not in (0, len(column2)):
        raise RuntimeError(f"{PTP_DEFAULT}: 20552 and 20553 disagree about 64405")
    return "64405" not in column2


#: 59 on the trigger-point line of a trigger-point + occipital nerve block claim (the column 2
#: code of the pair), else on the 64405 line.
FIFTY_NINE_ON_TPI: bool = _59_on_trigger_point()


def _tpi_gon(*lead: LineSpec, with_59: bool = True) -> tuple[LineSpec, ...]:
    """A trigger-point injection with a greater occipital nerve block (after ``lead``), 59 on
    the column 2 code of their edit unless ``with_59`` is false."""
    extra = "59" if with_59 else ""
    if FIFTY_NINE_ON_TPI:
        return (*lead, LineSpec("TPI", extra=extra), _s("64405"))
    return (*lead, TPI, _s("64405", extra=extra))


TEMPLATES: tuple[Template, ...] = (
    Template("em_only", "em", (EM,), 30.0),
    Template("em_tpi", "tpi", (EM25, TPI), 5.0),
    Template("tpi_only", "tpi", (TPI,), 7.0),
    # 59 on the column 2 code of the pair (the trigger-point code in the packaged edits).
    Template("tpi_gon", "tpi", _tpi_gon(), 0.8),
    Template("em_tpi_gon", "tpi", _tpi_gon(EM25), 0.4),
    Template("em_joint", "joint", (EM25, _s("20610")), 2.5),
    Template("joint", "joint", (_s("20610"),), 3.0),
    Template("joint_us", "joint", (_s("20611"),), 2.0),
    Template("em_joint_us", "joint", (EM25, _s("20611")), 1.0),
    Template("ilesi_l", "esi_l", (LineSpec("62323"),), 4.0),
    Template("ilesi_c", "esi_c", (LineSpec("62321"),), 1.5),
    Template("tfesi_l1", "esi_l", (_s("64483"),), 4.0),
    Template("tfesi_l2", "esi_l", (_s("64483"), _s("64484")), 2.5),
    Template("tfesi_c1", "esi_c", (_s("64479"),), 1.2),
    Template("tfesi_c2", "esi_c", (_s("64479"), _s("64480")), 0.6),
    Template("facet_l1", "facet_l", (_s("64493"),), 4.0),
    Template("facet_l2", "facet_l", (_s("64493"), _s("64494")), 3.0),
    # Bilateral billed as two lines, the way several commercial payers want it.
    Template("facet_l_rtlt", "facet_l", (LineSpec("64493", "RT"), LineSpec("64493", "LT")), 1.0),
    Template(
        "facet_l2_rtlt",
        "facet_l",
        tuple(LineSpec(c, s) for s in ("RT", "LT") for c in ("64493", "64494")),
        0.5,
    ),
    Template("facet_c1", "facet_c", (_s("64490"),), 1.2),
    Template("facet_c2", "facet_c", (_s("64490"), _s("64491")), 1.0),
    Template("rfa_l", "rfa_l", (_s("64635"), _s("64636")), 2.5),
    Template("rfa_l1", "rfa_l", (_s("64635"),), 1.0),
    Template(
        "rfa_l_rtlt",
        "rfa_l",
        tuple(LineSpec(c, s) for s in ("RT", "LT") for c in ("64635", "64636")),
        0.4,
    ),
    Template("rfa_c", "rfa_c", (_s("64633"), _s("64634")), 0.8),
    Template("gon", "occipital", (_s("64405"),), 2.0),
    Template("em_gon", "occipital", (EM25, _s("64405")), 1.0),
    Template("gon_us", "occipital", (_s("64405"), LineSpec("76942")), 0.6),
    Template("periph", "peripheral", (_s("64450"),), 1.0),
    Template("periph_us", "peripheral", (_s("64450"), LineSpec("76942")), 0.6),
    Template("lsb", "sympathetic", (_s("64520"), LineSpec("77003")), 0.5),
    Template("scs_trial", "scs", (LineSpec("63650", units=2.0),), 0.4),
    Template("scs_perm", "scs", (LineSpec("63650", units=2.0), LineSpec("63685")), 0.3),
    Template("cpm", "cpm", (LineSpec("G3002"),), 3.0),
    Template("cpm_plus", "cpm", (LineSpec("G3002"), LineSpec("G3003")), 3.0),
    # --- planting only ---
    Template("em_only_25", "em", (EM25,), 0.0),
    Template("em_only_59", "em", (LineSpec("EM", extra="59"),), 0.0),
    Template("em_tpi_no25", "tpi", (EM, TPI), 0.0),
    Template("em_joint_no25", "joint", (EM, _s("20610")), 0.0),
    Template("em_gon_no25", "occipital", (EM, _s("64405")), 0.0),
    Template("em_tpi_59", "tpi", (LineSpec("EM", extra="25,59"), TPI), 0.0),
    Template("joint_noside", "joint", (LineSpec("20610", "N"),), 0.0),
    Template("joint_us_noside", "joint", (LineSpec("20611", "N"),), 0.0),
    Template("tfesi_l1_noside", "esi_l", (LineSpec("64483", "N"),), 0.0),
    Template("tfesi_c1_noside", "esi_c", (LineSpec("64479", "N"),), 0.0),
    Template("facet_l1_noside", "facet_l", (LineSpec("64493", "N"),), 0.0),
    Template("facet_c2_noside", "facet_c", (LineSpec("64490", "N"), LineSpec("64491", "N")), 0.0),
    Template("rfa_l1_noside", "rfa_l", (LineSpec("64635", "N"),), 0.0),
    Template("gon_noside", "occipital", (LineSpec("64405", "N"),), 0.0),
    Template("facet_l3", "facet_l", (_s("64493"), _s("64494"), _s("64495")), 0.0),
    Template("facet_c3", "facet_c", (_s("64490"), _s("64491"), _s("64492")), 0.0),
    Template("ilesi_l_fluoro", "esi_l", (LineSpec("62323"), LineSpec("77003")), 0.0),
    Template("joint_76942", "joint", (_s("20610"), LineSpec("76942")), 0.0),
    Template("tfesi_l_addon_only", "esi_l", (_s("64484"),), 0.0),
    Template("cpm_addon_only", "cpm", (LineSpec("G3003"),), 0.0),
    Template("tpi_double", "tpi", (LineSpec("20552"), LineSpec("20553")), 0.0),
    # A trigger-point injection with 64405 but without the 59 the practice uses elsewhere.
    Template("tpi_gon_no59", "tpi", _tpi_gon(with_59=False), 0.0),
    Template("tfesi_l1_3u", "esi_l", (_s("64483", 3.0),), 0.0),
    Template("joint_3u", "joint", (_s("20610", 3.0),), 0.0),
    Template("ilesi_l_2u", "esi_l", (LineSpec("62323", units=2.0),), 0.0),
    Template("ilesi_l_50", "esi_l", (LineSpec("62323", extra="50"),), 0.0),
    Template("tpi_50", "tpi", (LineSpec("TPI", extra="50"),), 0.0),
    # An office visit whose line documents the month's chronic pain management minutes.
    Template("em_cpm_time", "cpm", (EM,), 0.0),
    # The initial chronic pain management visit billed as an office visit as well as G3002.
    Template("em_cpm_initial", "cpm", (EM, LineSpec("G3002")), 0.0),
)
TEMPLATE_INDEX: dict[str, int] = {t.name: i for i, t in enumerate(TEMPLATES)}
#: Templates billing a bilateral service as RT and LT lines: only drawn for payers whose
#: bilateral style is "rtlt".
RTLT_TEMPLATES: tuple[str, ...] = ("facet_l_rtlt", "facet_l2_rtlt", "rfa_l_rtlt")
#: Templates whose office-visit line documents the month's chronic pain management minutes.
VISIT_MINUTES_TEMPLATES: tuple[str, ...] = ("em_cpm_time",)

#: Families in a fixed order (their index is used in arrays).
FAMILIES: tuple[str, ...] = (
    "em", "tpi", "joint", "esi_l", "esi_c", "facet_l", "facet_c", "rfa_l", "rfa_c",
    "occipital", "peripheral", "sympathetic", "scs", "cpm",
)  # fmt: skip
FAMILY_INDEX: dict[str, int] = {f: i for i, f in enumerate(FAMILIES)}

#: Sessions per patient per rolling 12 months that the base data never exceeds (the
#: frequency-limit audit checks epidurals; facets and ablations are capped for realism).
SESSION_CAPS: dict[str, int] = {
    "esi_l": 4,
    "esi_c": 4,
    "facet_l": 4,
    "facet_c": 4,
    "rfa_l": 2,
    "rfa_c": 2,
}

#: Probability of RT, LT and 50 for the claim's side, by family (default for others).
SIDE_PROBS: dict[str, tuple[float, float, float]] = {
    "default": (0.42, 0.42, 0.16),
    "facet_l": (0.30, 0.30, 0.40),
    "facet_c": (0.30, 0.30, 0.40),
    "rfa_l": (0.35, 0.35, 0.30),
    "rfa_c": (0.35, 0.35, 0.30),
    "joint": (0.45, 0.45, 0.10),
    "esi_l": (0.44, 0.44, 0.12),
    "esi_c": (0.45, 0.45, 0.10),
}
SIDES: tuple[str, ...] = ("RT", "LT", "50")
SIDE_WORDS: tuple[str, ...] = ("right", "left", "bilateral")

# --- diagnoses ---------------------------------------------------------------------------------
# Per family: primary choices and secondary choices ("" = none). Side-dependent families give
# (right, left, bilateral) variants. ICD-10-CM codes with the dot.

DX_PRIMARY: dict[str, tuple[str, ...]] = {
    "tpi": ("M79.18", "M62.830", "M79.12", "M54.2", "M54.6"),
    "esi_l": ("M54.16", "M54.17", "M51.16", "M51.17", "M48.062", "M48.061", "M47.26", "M96.1"),
    "esi_c": ("M54.12", "M50.122", "M50.123", "M47.22"),
    "facet_l": ("M47.816", "M47.817"),
    "facet_c": ("M47.812", "M47.813"),
    "rfa_l": ("M47.816", "M47.817"),
    "rfa_c": ("M47.812", "M47.813"),
    "occipital": ("M54.81",),
    "scs": ("M96.1", "G89.4", "M54.16"),
    "cpm": ("G89.4", "G89.29", "M79.7"),
}
DX_SECONDARY: dict[str, tuple[str, ...]] = {
    "tpi": ("", "G89.29", "M54.50"),
    "esi_l": ("", "", "M54.50", "G89.29"),
    "esi_c": ("", "M54.2"),
    "facet_l": ("", "M54.50", "M54.59"),
    "facet_c": ("", "M54.2"),
    "rfa_l": ("", "M54.59"),
    "rfa_c": ("", "M54.2"),
    "occipital": ("", "G44.86"),
    "scs": ("", "G89.29"),
    "cpm": ("", "M54.50", "M47.816"),
}
#: Side-dependent diagnoses: family -> (right, left, bilateral) choices of full dx lists.
DX_SIDED: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "joint": (
        ("M17.11", "M25.561", "M19.011", "M75.51", "M70.61"),
        ("M17.12", "M25.562", "M19.012", "M75.52", "M70.62"),
        ("M17.0", "M25.561,M25.562", "M19.011,M19.012", "M75.51,M75.52", "M70.61,M70.62"),
    ),
    "peripheral": (
        ("M17.11,G89.29", "M25.561"),
        ("M17.12,G89.29", "M25.562"),
        ("M17.0,G89.29", "M25.561,M25.562"),
    ),
    "sympathetic": (("G90.521",), ("G90.522",), ("G90.523",)),
}
#: Axial-only diagnosis lists planted on epidurals (dx-linkage).
DX_AXIAL: tuple[str, ...] = ("M54.50", "M54.59", "M54.50,M54.59", "M54.9", "M54.5")

# --- spinal levels -----------------------------------------------------------------------------
# Per first code of a family: the choices of consecutive levels; a claim's n-th spinal line gets
# the n-th level of the chosen run.
LEVEL_RUNS: dict[str, tuple[tuple[str, ...], ...]] = {
    "esi_l": (("L4-L5", "L5-S1"), ("L5-S1", "L4-L5"), ("L3-L4", "L4-L5")),
    "esi_c": (("C6-C7", "C7-T1"), ("C5-C6", "C6-C7"), ("C7-T1", "C6-C7")),
    "facet_l": (("L4-L5", "L5-S1", "L3-L4"), ("L3-L4", "L4-L5", "L5-S1")),
    "facet_c": (("C5-C6", "C6-C7", "C4-C5"), ("C4-C5", "C5-C6", "C6-C7")),
    "rfa_l": (("L4-L5", "L5-S1"), ("L3-L4", "L4-L5")),
    "rfa_c": (("C5-C6", "C6-C7"), ("C4-C5", "C5-C6")),
    "scs": (("T8-T9", "T8-T9"), ("T9-T10", "T9-T10")),
}
