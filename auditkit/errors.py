"""Errors meant for the user: each prints as one clear line, never a traceback."""

from __future__ import annotations

from pathlib import Path


class AuditkitError(Exception):
    """A problem the user can fix. ``str()`` gives one line naming file, row, column and the fix."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.row = row
        self.column = column
        self.hint = hint

    def __str__(self) -> str:
        where = []
        if self.path:
            where.append(self.path)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        text = (", ".join(where) + ": " if where else "") + self.message
        if self.hint:
            text += f" ({self.hint})"
        return text.replace("\n", " ")


class InputError(AuditkitError):
    """An export, mapping or remittance file cannot be read as given."""


class ConfigError(AuditkitError):
    """A config file has an unknown key, a wrong type or a bad value."""


class OutputError(AuditkitError):
    """An output file cannot be written (locked, read-only folder, ...)."""
