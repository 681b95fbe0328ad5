"""Mapping files: tell the loader which export header feeds which canonical column.

A mapping is a TOML file (or a dict of the same shape)::

    [columns]
    claim_id = "Claim #"                 # one header
    modifiers = ["Mod A", "Mod B"]       # list columns take several headers, read in this order
    diagnosis_codes = "Dx Codes"         # ... or one header holding a delimited list
    denial_group = "Grp"                 # CARC group kept in its own column (not canonical)
    payer_plan = ""                      # empty: do not read this column even if detected

    [status]
    "PD" = "paid"                        # export word -> canonical status
    "DN" = "denied"

Entries complete and override automatic header detection; columns not named are still detected.
Header text is matched ignoring case, spaces and punctuation, like detection.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditkit.claims import BY_NAME, COLUMNS, LIST_COLUMNS, PROVENANCE, STATUSES
from auditkit.errors import ConfigError

#: Extra keys a mapping may name besides the canonical columns.
AUXILIARY: tuple[str, ...] = ("denial_group",)
#: Canonical names a mapping may set (provenance columns are the loader's own).
MAPPABLE: tuple[str, ...] = tuple(c.name for c in COLUMNS) + AUXILIARY
_TOP_KEYS = ("columns", "status")


@dataclass
class ColumnMapping:
    """A validated mapping.

    ``columns`` maps a canonical name to the headers feeding it, in order; an empty list means
    "do not read this column". ``status`` maps export words to canonical statuses.
    """

    columns: dict[str, list[str]] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    source: str = "mapping"  # file name, or "mapping" for a dict


def load_mapping(mapping: str | Path | MappingABC[str, Any] | None) -> ColumnMapping | None:
    """Read and validate a mapping file or dict; ``None`` passes through.

    Raises :class:`ConfigError` naming the file and the offending key.
    """
    if mapping is None:
        return None
    if isinstance(mapping, MappingABC):
        return _validate(dict(mapping), "mapping")
    path = Path(mapping)
    source = str(mapping)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise ConfigError(f"mapping file {what}", path=source, hint="give the path of a .toml file")
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            "mapping file is not UTF-8 text", path=source, hint="save it as UTF-8"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"mapping file is not valid TOML: {exc}",
            path=source,
            hint='write entries like claim_id = "Claim #" under [columns]',
        ) from exc
    return _validate(data, source)


def _validate(data: dict[str, Any], source: str) -> ColumnMapping:
    result = ColumnMapping(source=source)
    for key in data:
        if key not in _TOP_KEYS:
            raise ConfigError(
                f"unknown section [{key}]", path=source, hint="use [columns] and [status]"
            )
    columns = data.get("columns", {})
    if not isinstance(columns, MappingABC):
        raise ConfigError("[columns] must be a table", path=source)
    for name, value in columns.items():
        if name not in MAPPABLE:
            extra = " (the loader adds it itself)" if name in {c.name for c in PROVENANCE} else ""
            raise ConfigError(
                f"[columns] {name}: not a canonical column{extra}",
                path=source,
                hint=f"use one of {', '.join(MAPPABLE)}",
            )
        if isinstance(value, str):
            headers = [value] if value.strip() else []
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            if len(value) > 1 and name not in LIST_COLUMNS:
                raise ConfigError(
                    f"[columns] {name}: takes one header, got {len(value)}",
                    path=source,
                    hint="only list columns (" + ", ".join(LIST_COLUMNS) + ") take several",
                )
            headers = [v for v in value if v.strip()]
        else:
            raise ConfigError(
                f"[columns] {name}: expected a header name (text) or a list of them, "
                f"got {type(value).__name__}",
                path=source,
            )
        result.columns[name] = headers
    status = data.get("status", {})
    if not isinstance(status, MappingABC):
        raise ConfigError("[status] must be a table", path=source)
    for word, value in status.items():
        if not isinstance(value, str) or value not in STATUSES:
            raise ConfigError(
                f"[status] {word!r}: {value!r} is not a status",
                path=source,
                hint=f"use one of {', '.join(STATUSES)}",
            )
        result.status[word] = value
    return result


def is_list_column(name: str) -> bool:
    """True for canonical list columns (several headers may feed them)."""
    return name in BY_NAME and BY_NAME[name].kind == "list"
