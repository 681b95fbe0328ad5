"""Every settings table of the config file, and the config functions that know them all.

:mod:`auditkit.config` checks a file against the tables it is given; this module gives it the
registered audits and the ``[kpis]`` and ``[worklist]`` tables, so the config layer never imports the audits.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from auditkit.config import Config, default_config_toml, load_config
from auditkit.engine.contract import Configurable
from auditkit.engine.registry import all_audits
from auditkit.measures.settings import KPI_SETTINGS, WORKLIST_SETTINGS


def settings_tables() -> tuple[Configurable, ...]:
    """The tables a config file may hold settings in: ``[kpis]``, ``[worklist]``, then one per
    audit."""
    return (KPI_SETTINGS, WORKLIST_SETTINGS, *all_audits())


def load_settings(source: str | Path | Mapping[str, Any] | Config | None = None) -> Config:
    """:func:`auditkit.config.load_config` against every registered settings table."""
    return load_config(source, settings_tables())


def effective_settings(config: Config) -> dict[str, dict[str, Any]]:
    """``{table_id: {setting: value}}`` for every settings table, defaults filled in."""
    return config.effective(settings_tables())


def default_settings_toml() -> str:
    """The commented ``auditkit.toml`` that ``auditkit init`` writes."""
    return default_config_toml(settings_tables())
