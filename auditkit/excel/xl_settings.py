"""The Settings sheet of the macro workbook: what it asks for, declared once.

:mod:`auditkit.excel.template` writes one row per :class:`Setting` (label, an input cell with a
workbook-level defined name, the default, help) and :mod:`auditkit.excel.macro` reads the input
cells back by those names, so moving rows or adding notes does not break the macro.

Thresholds are a short list of the most used ones (:data:`MAIN_THRESHOLDS`), taken from the
audit registry with their type, default and help; a blank cell means the default, so a template
made today keeps following auditkit's defaults. Every other threshold can be set in an
``auditkit.toml`` named in the "Settings file" row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Defined name of the cell the macro writes its status into.
STATUS_NAME = "auditkit_status"
#: Name of the settings sheet (the first sheet of the template).
SETTINGS_SHEET = "Settings"

#: (audit id, threshold) shown on the Settings sheet, in this order, when the audit exists.
MAIN_THRESHOLDS: tuple[tuple[str, str], ...] = (
    ("clean-claim-rate", "target"),
    ("clean-claim-rate", "min_claims"),
    ("clean-claim-rate", "edited_counts_as_unclean"),
    ("tpi-ratio", "min_lines"),
    ("tpi-ratio", "min_gap"),
    ("paid-vs-denied", "min_denied"),
    ("ar-aging", "min_age_days"),
    ("underpayment", "tolerance_percent"),
)


@dataclass(frozen=True)
class Setting:
    """One row of the Settings sheet."""

    key: str  # the defined name of its input cell
    label: str
    help: str
    kind: str = "text"  # "path", "paths", "text", "bool", or a threshold type: "int", "float"
    required: bool = False
    default: Any = None
    audit: str | None = None  # for thresholds: the audit id and the threshold's name
    threshold: str | None = None


GENERAL: tuple[Setting, ...] = (
    Setting(
        "auditkit_export",
        "Export file or folder",
        "The month's export (CSV, Excel or 835), several separated by ';', or a folder: every "
        "export in it is read. A path relative to this workbook's folder is fine.",
        kind="paths",
        required=True,
    ),
    Setting(
        "auditkit_mapping",
        "Mapping file",
        "Optional: a mapping file (TOML) naming unusual export headers.",
        kind="path",
    ),
    Setting(
        "auditkit_config",
        "Settings file (auditkit.toml)",
        "Optional: an auditkit.toml with more thresholds and a fee schedule; values typed "
        "below win over it.",
        kind="path",
    ),
    Setting("auditkit_practice", "Practice name", "Shown on the Summary sheet."),
    Setting("auditkit_period", "Period", "The period audited, e.g. 'October 2025'."),
    Setting("auditkit_prepared_by", "Prepared by", "Optional: shown on the Summary sheet."),
    Setting(
        "auditkit_with_lines",
        "Claim lines sheet",
        "yes: add the normalised claim lines, coloured by their findings (slower on big exports).",
        kind="bool",
        default=False,
    ),
)


def threshold_settings() -> list[Setting]:
    """The :data:`MAIN_THRESHOLDS` that the registry knows, as settings."""
    from auditkit.engine.registry import all_audits

    audits = {a.id: a for a in all_audits()}
    out = []
    for audit_id, name in MAIN_THRESHOLDS:
        audit = audits.get(audit_id)
        declared = {t.name: t for t in audit.thresholds} if audit is not None else {}
        threshold = declared.get(name)
        if threshold is None:
            continue
        kind = {bool: "bool", int: "int", float: "float"}.get(threshold.type, "text")
        extra = f" ({threshold.range_text()})" if threshold.type in (int, float) else ""
        out.append(
            Setting(
                f"auditkit_{audit_id}_{name}".replace("-", "_"),
                f"{audit_id}: {name}",
                threshold.help + extra + " Blank: the default.",
                kind=kind,
                default=threshold.default,
                audit=audit_id,
                threshold=name,
            )
        )
    return out


def all_settings() -> list[Setting]:
    """Every row of the Settings sheet, in order."""
    return [*GENERAL, *threshold_settings()]
