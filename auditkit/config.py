"""Settings for an audit run, read from a TOML file (usually ``auditkit.toml``).

The file has one table per audit, named by the audit's id, holding that audit's thresholds, and
three optional tables for the practice::

    [practice]
    name = "Valley Pain Associates"      # shown on reports
    period = "2024"                       # free text shown on reports

    [tpi-ratio]                           # any registered audit id
    min_lines = 30                        # a threshold; `auditkit init` writes them all

    [kpis]                                # the key indicators and A/R measures
    as_of = "2026-03-31"                  # date ages are counted to

    [fee_schedule]                        # expected payment per code, any payer
    "20552" = 62.50
    "20553" = 74.10

    [fee_schedule."Keystone Health"]      # a payer's own fees override the lines above
    "20552" = 58.00

    [worklist]                            # the work list of open money
    follow_up_days = 30                   # usual days to pay where the export cannot tell

    [deadlines."Keystone Health"]         # one payer's own deadlines, in days
    timely_filing = 180                   # also corrected_claim, appeal (or redetermination),
    appeal = 60                           # payer_class and follow_up_days

    [reference]                           # replace a packaged reference file (same columns)
    procedures = "my_procedures.csv"      # paths are relative to the config file
    families = "my_families.csv"
    carcs = "my_carcs.csv"
    unit_limits = "my_unit_limits.csv"  # also imaging_bundles, dx_groups, bilateral_styles,
                                        # spinal_sessions (see auditkit/reference/__init__.py)

Everything is optional; absent thresholds take their defaults. Unknown tables or keys and values of
the wrong type are :class:`~auditkit.errors.ConfigError` naming the file, table and key.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd

from auditkit.engine.contract import Configurable, describe_value
from auditkit.errors import ConfigError
from auditkit.reference import TABLE_COLUMNS as REFERENCE_TABLES

#: Tables of the config file that are not audit ids.
PRACTICE_KEYS: dict[str, str] = {
    "name": "Practice name shown on reports.",
    "period": "Period the data covers, free text shown on reports (e.g. '2024 Q1').",
}
#: Reference files a config may replace: every table auditkit.reference knows.
REFERENCE_KEYS: tuple[str, ...] = tuple(REFERENCE_TABLES)
#: CMS's own edit files a config may name, as downloaded (zips, .txt, .xlsx or .csv files, or
#: folders of them): the practitioner PTP code-pair edits and the practitioner MUEs.
EDIT_KEYS: tuple[str, ...] = ("ptp", "mue")
#: Reference keys that are gone: key -> (what happened, what to do instead).
REPLACED_KEYS: dict[str, tuple[str, str]] = {
    "code_pair_edits": (
        "code_pair_edits was replaced by ptp",
        "name CMS's practitioner PTP files as [reference] ptp (the zips or .txt files as "
        "downloaded), or delete the line to use auditkit's packaged pain-procedure subset; a "
        "file of your own pairs needs CMS's layout (Column 1, Column 2, Effective Date, "
        "Deletion Date, Modifier)",
    ),
}
SPECIAL_TABLES: tuple[str, ...] = ("practice", "fee_schedule", "reference", "deadlines")

_CODE = re.compile(r"^[0-9A-Z]{5}$")


@dataclass(frozen=True)
class FeeSchedule:
    """Expected payment per code: ``default[code]``, overridden by ``by_payer[payer][code]``."""

    default: dict[str, float] = field(default_factory=dict)
    by_payer: dict[str, dict[str, float]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.default or self.by_payer)

    def lookup(self, codes: pd.Series, payers: pd.Series) -> pd.Series:
        """Vectorised fee per line (NaN where the schedule has no fee for that code and payer)."""
        codes = codes.astype("string")
        result = codes.map(self.default).astype("float64")
        if self.by_payer:
            rows = [(p, c, f) for p, fees in self.by_payer.items() for c, f in fees.items()]
            table = pd.DataFrame(rows, columns=["payer", "code", "fee"])
            keys = pd.DataFrame({"payer": payers.astype("string"), "code": codes})
            table = table.astype({"payer": "string", "code": "string"})
            merged = keys.merge(table, on=["payer", "code"], how="left")["fee"].to_numpy()
            override = pd.Series(merged, index=codes.index, dtype="float64")
            result = override.fillna(result)
        return result


@dataclass
class Config:
    """A validated configuration: the settings the user gave per table (an audit's id or
    ``kpis``), practice settings, fees, reference overrides. Use :meth:`settings` to get one
    table's settings with the defaults filled in."""

    audits: dict[str, dict[str, Any]] = field(default_factory=dict)
    practice: dict[str, str] = field(default_factory=dict)
    fee_schedule: FeeSchedule = field(default_factory=FeeSchedule)
    reference: dict[str, Path] = field(default_factory=dict)
    #: CMS edit files by kind ("ptp", "mue"); empty: the packaged defaults.
    edits: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    #: The work list's per-payer deadlines, ``[deadlines."Payer name"]``: payer name as written
    #: -> deadline kind (or ``payer_class``, ``follow_up_days``) -> value, checked.
    deadlines: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str | None = None

    def with_edits(self, **files: Sequence[str | Path] | None) -> Config:
        """A copy whose CMS edit files (``ptp=``, ``mue=``) are the ones given, where given
        (the command line's --ptp/--mue override the config file's)."""
        edits = dict(self.edits)
        for kind, paths in files.items():
            if kind not in EDIT_KEYS:
                raise ValueError(f"unknown edit file kind {kind!r}")
            if paths:
                edits[kind] = tuple(_edit_paths(kind, list(paths), Path.cwd(), _plain_fail))
        return replace(self, edits=edits)

    def settings(self, table: Configurable) -> SimpleNamespace:
        """A table's settings: the user's values over the declared defaults."""
        given = self.audits.get(table.id, {})
        return SimpleNamespace(**{t.name: given.get(t.name, t.default) for t in table.thresholds})

    def effective(self, tables: Sequence[Configurable]) -> dict[str, dict[str, Any]]:
        """``{table_id: {setting: value}}`` for every one of ``tables``."""
        return {t.id: vars(self.settings(t)) for t in tables}


def load_config(
    source: str | Path | Mapping[str, Any] | Config | None,
    tables: Sequence[Configurable],
) -> Config:
    """Read and validate a config: a TOML file path, an already-parsed mapping, a Config or None.

    ``tables`` are the settings tables the file may have besides ``[practice]``,
    ``[fee_schedule]`` and ``[reference]``: the audits and the other settings tables (see
    :func:`auditkit.engine.settings.load_settings`, which passes every registered one).

    Raises :class:`~auditkit.errors.ConfigError` for a missing or malformed file, unknown tables or
    keys, and values of the wrong type or out of range.
    """
    if source is None:
        return Config()
    if isinstance(source, Config):
        return source
    if isinstance(source, Mapping):
        return _validate(dict(source), tables, label="config", base=Path.cwd())
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            "config file not found", path=path, hint="run `auditkit init` to write one"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the config file ({exc.__class__.__name__})", path=path
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=path) from None
    return _validate(data, tables, label=str(source), base=path.parent)


def _moved(tables: Sequence[Configurable]) -> dict[tuple[str, str], str]:
    """``(old table, key) -> new table`` for settings that moved between tables."""
    return {old: t.id for t in tables for old in getattr(t, "moved_from", ())}


def _validate(
    data: dict[str, Any], tables: Sequence[Configurable], label: str, base: Path
) -> Config:
    audits = {t.id: t for t in tables}
    moved = _moved(tables)

    def fail(message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, path=label, hint=hint)

    config = Config(source=label)
    for section, body in data.items():
        if section not in audits and section not in SPECIAL_TABLES:
            valid = ", ".join([*SPECIAL_TABLES, *audits])
            raise fail(f"unknown table [{section}]", hint=f"valid tables: {valid}")
        if not isinstance(body, dict):
            raise fail(f"{section}: expected a table [{section}], got {describe_value(body)}")
        if section == "practice":
            for key, value in body.items():
                if key not in PRACTICE_KEYS:
                    raise fail(
                        f"[practice] {key}: unknown setting",
                        hint=f"valid: {', '.join(PRACTICE_KEYS)}",
                    )
                if not isinstance(value, str):
                    raise fail(
                        f"[practice] {key}: expected a text value, got {describe_value(value)}"
                    )
            config.practice = dict(body)
        elif section == "fee_schedule":
            config.fee_schedule = _fee_schedule(body, fail)
        elif section == "deadlines":
            config.deadlines = _deadlines(body, fail)
        elif section == "reference":
            edits = {k: body[k] for k in EDIT_KEYS if k in body}
            config.reference = _reference(
                {k: v for k, v in body.items() if k not in EDIT_KEYS}, base, fail
            )
            config.edits = {
                k: tuple(_edit_paths(k, v if isinstance(v, list) else [v], base, fail))
                for k, v in edits.items()
            }
        else:
            declared = {t.name: t for t in audits[section].thresholds}
            checked = {}
            for key, value in body.items():
                if key not in declared:
                    if (section, key) in moved:
                        raise fail(
                            f"[{section}] {key}: this setting has moved",
                            hint=f"write it under [{moved[section, key]}]",
                        )
                    valid = ", ".join(declared) or "(this table has no settings)"
                    raise fail(f"[{section}] {key}: unknown setting", hint=f"valid: {valid}")
                try:
                    checked[key] = declared[key].check(value, f"[{section}] {key}")
                except ConfigError as exc:
                    raise fail(exc.message) from None
            config.audits[section] = checked
    return config


def _fee(value: Any, where: str, fail: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise fail(f"{where}: expected a fee in dollars (a number), got {describe_value(value)}")
    if value < 0:
        raise fail(f"{where}: expected a fee of at least 0, got {describe_value(value)}")
    return float(value)


def _code(key: str, where: str, fail: Any) -> str:
    code = key.strip().upper()
    if not _CODE.match(code):
        raise fail(
            f"{where}: '{key}' is not a procedure code", hint='write codes as "20552" = 62.5'
        )
    return code


def _fee_schedule(body: dict[str, Any], fail: Any) -> FeeSchedule:
    default: dict[str, float] = {}
    by_payer: dict[str, dict[str, float]] = {}
    for key, value in body.items():
        if isinstance(value, dict):
            fees = {}
            for code, fee in value.items():
                where = f'[fee_schedule."{key}"] {code}'
                fees[_code(code, where, fail)] = _fee(fee, where, fail)
            by_payer[key] = fees
        else:
            where = f"[fee_schedule] {key}"
            default[_code(key, where, fail)] = _fee(value, where, fail)
    return FeeSchedule(default=default, by_payer=by_payer)


def _deadlines(body: dict[str, Any], fail: Any) -> dict[str, dict[str, Any]]:
    """``[deadlines."Payer"]`` tables, checked (:func:`auditkit.reference.deadlines.check_overrides`)
    and kept under the payer names as written."""
    from auditkit.reference.deadlines import check_overrides

    for payer, entry in body.items():
        if not isinstance(entry, dict):
            raise fail(
                f"[deadlines] {payer}: expected a table per payer, got {describe_value(entry)}",
                hint='write [deadlines."Payer name"] with timely_filing = 180 and the like',
            )
    try:
        check_overrides(body)
    except ConfigError as exc:
        raise fail(exc.message, exc.hint) from None
    return {str(payer): dict(entry) for payer, entry in body.items()}


def _reference(body: dict[str, Any], base: Path, fail: Any) -> dict[str, Path]:
    paths = {}
    for key, value in body.items():
        if key in REPLACED_KEYS:
            raise fail(f"[reference] {key}: {REPLACED_KEYS[key][0]}", hint=REPLACED_KEYS[key][1])
        if key not in REFERENCE_KEYS:
            raise fail(
                f"[reference] {key}: unknown file",
                hint=f"valid: {', '.join([*REFERENCE_KEYS, *EDIT_KEYS])}",
            )
        if not isinstance(value, str) or not value.strip():
            raise fail(f"[reference] {key}: expected a file path, got {describe_value(value)}")
        path = Path(value).expanduser()
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            raise fail(f"[reference] {key}: file not found: {path}")
        paths[key] = path
    return paths


def _plain_fail(message: str, hint: str | None = None) -> ConfigError:
    return ConfigError(message, hint=hint)


def _edit_paths(kind: str, values: list[Any], base: Path, fail: Any) -> list[Path]:
    """The paths of a ``[reference] ptp``/``mue`` setting (one path or a list), each an
    existing file or folder, relative paths taken from ``base``."""
    if not values:
        raise fail(f"[reference] {kind}: expected a file path or a list of them, got an empty list")
    paths = []
    for value in values:
        if not isinstance(value, str | Path) or not str(value).strip():
            raise fail(
                f"[reference] {kind}: expected a file path or a list of them, "
                f"got {describe_value(value)}"
            )
        path = Path(value).expanduser()
        path = path if path.is_absolute() else base / path
        if not path.exists():
            raise fail(
                f"[reference] {kind}: file not found: {path}",
                hint="download the practitioner file from CMS's NCCI pages and give its path",
            )
        paths.append(path)
    return paths


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def default_config_toml(tables: Sequence[Configurable]) -> str:
    """A complete config file: every table's settings at their defaults, each with a comment.

    Loading the text back gives the defaults (a test checks this); ``auditkit init`` writes it
    (see :func:`auditkit.engine.settings.default_settings_toml`).
    """

    out = [
        "# auditkit settings. Every value below is the default; change what you need.",
        "# Delete a line to go back to its default. Run `auditkit explain AUDIT-ID` for details.",
        "",
        "[practice]",
        '# name = "Valley Pain Associates"   # shown on reports',
        '# period = "2024"                   # shown on reports',
        "",
    ]
    for audit in tables:
        out.append(f"# {audit.id}: {audit.title}")
        out.append(f"[{audit.id}]")
        for t in audit.thresholds:
            extra = f" ({t.range_text()})" if t.type in (int, float) else ""
            out.append(f"# {t.help}{extra}")
            out.append(f"{t.name} = {_toml_value(t.default)}")
        out.append("")
    out += [
        "# Expected payment per code (dollars), used to put a value on coding gaps.",
        "# Without it auditkit uses the practice's own mean paid amount per code and payer.",
        "[fee_schedule]",
        '# "20552" = 62.50',
        '# "20553" = 74.10',
        "",
        "# A payer's own fees override the general ones:",
        '# [fee_schedule."Keystone Health"]',
        '# "20552" = 58.00',
        "",
        "# The work list's deadlines for one payer, in days (the packaged deadlines.csv gives",
        "# Medicare's from the regulations and defaults for the others; see",
        "# `auditkit explain worklist`). Keys: timely_filing, corrected_claim, appeal (or",
        "# redetermination), follow_up_days (its usual time to pay) and payer_class (medicare,",
        "# medicaid, commercial or default).",
        '# [deadlines."Keystone Health"]',
        "# timely_filing = 180",
        "# appeal = 60",
        "",
        "# Use your own copy of a packaged reference file (same columns; paths relative to",
        "# this file). See auditkit/reference/*.csv for the packaged ones.",
        "[reference]",
        '# procedures = "my_procedures.csv"',
        '# families = "my_families.csv"',
        '# carcs = "my_carcs.csv"',
        '# rarcs = "my_rarcs.csv"   # remark codes that classify CO-16',
        '# multiple_procedures = "my_multiple_procedures.csv"',
        '# deadlines = "my_deadlines.csv"   # filing, corrected-claim and appeal deadlines',
        "# Coding rules (confidence V rows are unverified: check them against your payers):",
        '# imaging_bundles = "my_imaging_bundles.csv"',
        '# dx_groups = "my_dx_groups.csv"',
        '# dx_regions = "my_dx_regions.csv"',
        '# unit_limits = "my_unit_limits.csv"',
        '# bilateral_styles = "my_bilateral_styles.csv"',
        '# spinal_sessions = "my_spinal_sessions.csv"',
        "# CMS's own edit files, as downloaded from the NCCI pages (practitioner files; zips,",
        "# .txt, .xlsx or .csv, or a list of them: give all of the PTP files f1 to f4):",
        '# ptp = ["medicare-ncci-practitioner-ptp-edits-f1.zip", "...-f2.zip"]',
        '# mue = "medicare-ncci-practitioner-services-mue-table.zip"',
        "",
    ]
    return "\n".join(out)
