"""The one list of audits. Docs, the CLI, the config file and the workbook all read from it.

To add an audit: write ``auditkit/audits/<name>.py`` with a class derived from
:class:`auditkit.engine.contract.Audit`, import it here and append it to :data:`AUDITS`.
"""

from __future__ import annotations

import re

from auditkit.audits.addon_without_primary import AddonWithoutPrimary
from auditkit.audits.ar_aging import ArAging
from auditkit.audits.auth_mismatch import AuthMismatch
from auditkit.audits.bilateral_style_inconsistent import BilateralStyleInconsistent
from auditkit.audits.clean_claim_rate import CleanClaimRate
from auditkit.audits.cpm_time import CpmTime
from auditkit.audits.denial_root_cause import DenialRootCause
from auditkit.audits.dx_linkage import DxLinkage
from auditkit.audits.facet_third_level import FacetThirdLevel
from auditkit.audits.frequency_limit import FrequencyLimit
from auditkit.audits.imaging_bundled import ImagingBundled
from auditkit.audits.laterality_missing import LateralityMissing
from auditkit.audits.modifier_25_missing import Modifier25Missing
from auditkit.audits.modifier_25_unsupported import Modifier25Unsupported
from auditkit.audits.modifier_59_misuse import Modifier59Misuse
from auditkit.audits.modifier_payer_inconsistent import ModifierPayerInconsistent
from auditkit.audits.ncci_ptp import NcciPtp
from auditkit.audits.paid_vs_denied import PaidVsDenied
from auditkit.audits.pre_submission_edits import PreSubmissionEdits
from auditkit.audits.slow_collection import SlowCollection
from auditkit.audits.tpi_once_per_session import TpiOncePerSession
from auditkit.audits.tpi_ratio import TpiRatio
from auditkit.audits.underpayment import Underpayment
from auditkit.audits.units_exceed_limit import UnitsExceedLimit
from auditkit.engine.contract import Audit
from auditkit.errors import ConfigError

#: Every audit, in the order they run and are reported.
AUDITS: tuple[type[Audit], ...] = (
    TpiRatio,
    PaidVsDenied,
    CleanClaimRate,
    Modifier25Missing,
    Modifier25Unsupported,
    LateralityMissing,
    BilateralStyleInconsistent,
    Modifier59Misuse,
    ModifierPayerInconsistent,
    DxLinkage,
    FacetThirdLevel,
    ImagingBundled,
    AddonWithoutPrimary,
    UnitsExceedLimit,
    TpiOncePerSession,
    FrequencyLimit,
    # After the audits that explain a pair in their own words: where both flag a line, the
    # money goes to theirs (money.settle breaks ties by registry order).
    NcciPtp,
    CpmTime,
    DenialRootCause,
    SlowCollection,
    ArAging,
    PreSubmissionEdits,
    AuthMismatch,
    Underpayment,
)

_BY_ID: dict[str, type[Audit]] = {a.id: a for a in AUDITS}
if len(_BY_ID) != len(AUDITS):  # pragma: no cover - guards against a copy-paste id
    raise RuntimeError("two audits share an id")


def all_audits() -> tuple[type[Audit], ...]:
    """Every registered audit class, in registry order."""
    return AUDITS


def ids() -> list[str]:
    return list(_BY_ID)


def get(audit_id: str) -> type[Audit]:
    """The audit class with this id; ConfigError listing the valid ids otherwise."""
    try:
        return _BY_ID[audit_id]
    except KeyError:
        raise ConfigError(
            f"unknown audit '{audit_id}'", hint=f"valid audits: {', '.join(_BY_ID)}"
        ) from None


def docs(audit_id: str) -> str:
    """The audit's documentation as plain text (what ``auditkit explain ID`` prints), without
    reStructuredText markup: ``x`` and :role:`x` are printed as x."""
    audit = get(audit_id)
    doc = audit.doc()
    out = [f"{audit.id}: {audit.title}", "", doc.summary, ""]
    for name, text in doc.sections.items():
        out += [name, "-" * len(name), text, ""]
    out += ["Severities", "----------", ", ".join(audit.severities), ""]
    if audit.thresholds:
        header = f"Settings (in [{audit.id}] of the config file)"
        out += [header, "-" * len(header)]
        width = max(len(t.name) for t in audit.thresholds)
        for t in audit.thresholds:
            default = str(t.default).lower() if isinstance(t.default, bool) else repr(t.default)
            out.append(f"{t.name.ljust(width)} = {default:<8}  {t.help}")
        out.append("")
    return plain_text("\n".join(out))


def plain_text(text: str) -> str:
    """Documentation text without reStructuredText markup (``x`` and :role:`x` become x),
    ending in one newline."""
    text = text.rstrip() + "\n"
    text = re.sub(r":[\w:.-]+:`~?([^`\n]+)`", r"\1", text)
    return re.sub(r"``([^`\n]+?)``", r"\1", text)
