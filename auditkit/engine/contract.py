"""The audit contract: what an audit declares, how it documents itself, how it builds findings.

An audit is a class in its own module::

    class TpiRatio(Audit):
        '''One-line summary.

        Why it matters
        --------------
        ...

        What is flagged
        ---------------
        ...

        How to fix
        ----------
        ...

        Columns needed
        --------------
        ...

        Example
        -------
        Flagged: ...               (see :func:`parse_example` for the format)
        '''

        id = "tpi-ratio"
        title = "Trigger-point injections: 20552 versus 20553"
        severities = ("high", "medium")
        columns = ("cpt", "rendering_provider")       # skipped (with an info note) when absent
        optional_columns = ("muscles_treated",)        # used when present
        thresholds = (Threshold("min_lines", int, 20, "..."),)

        def run(self, lines, settings, context):
            ...  # whole-column pandas; return findings_frame(...) or line_findings(...)

and is listed once in :mod:`auditkit.engine.registry`.
"""

from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

import pandas as pd

from auditkit.engine.examples import AuditExample, parse_example
from auditkit.errors import ConfigError

if TYPE_CHECKING:
    from auditkit.engine.context import Context

__all__ = [
    "DOC_SECTIONS",
    "Audit",
    "AuditDoc",
    "Configurable",
    "NothingToAudit",
    "SettingsTable",
    "Threshold",
    "parse_doc",
]

#: The sections every audit docstring has, in this order, after the one-line summary.
DOC_SECTIONS: tuple[str, ...] = (
    "Why it matters",
    "What is flagged",
    "How to fix",
    "Columns needed",
    "Example",
)

_TYPE_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a text value"}


@dataclass(frozen=True)
class Threshold:
    """One setting an audit reads, with its type, default and a one-line help text."""

    name: str
    type: type
    default: Any
    help: str
    min: float | None = None
    max: float | None = None

    def check(self, value: Any, where: str) -> Any:
        """Return ``value`` converted to this threshold's type, or raise ConfigError."""
        if self.type is bool:
            ok = isinstance(value, bool)
        elif self.type is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        else:  # TOML booleans are not integers, even though Python's bool is an int
            ok = isinstance(value, self.type) and not isinstance(value, bool)
        if not ok:
            raise ConfigError(
                f"{where}: expected {_TYPE_NAMES[self.type]}, got {describe_value(value)}"
            )
        if self.type is float:
            value = float(value)
            if not math.isfinite(value):
                raise ConfigError(f"{where}: expected a finite number, got {describe_value(value)}")
        if self.type in (int, float):
            low_ok = self.min is None or value >= self.min
            high_ok = self.max is None or value <= self.max
            if not (low_ok and high_ok):
                raise ConfigError(
                    f"{where}: expected {self.range_text()}, got {describe_value(value)}"
                )
        return value

    def range_text(self) -> str:
        noun = "an integer" if self.type is int else "a number"
        if self.min is not None and self.max is not None:
            return f"{noun} from {_num(self.min)} to {_num(self.max)}"
        if self.min is not None:
            return f"{noun} of at least {_num(self.min)}"
        if self.max is not None:
            return f"{noun} of at most {_num(self.max)}"
        return noun


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def describe_value(value: Any) -> str:
    """A config value as an error message shows it: true, 'text', a table, a list, 12."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)


@dataclass(frozen=True)
class SettingsTable:
    """A table of the config file that is not an audit's (e.g. ``[kpis]``): its settings are
    declared and checked exactly as an audit's thresholds are."""

    id: str
    title: str
    thresholds: tuple[Threshold, ...]
    #: Keys that used to be in another table: ``(old table, key)``; the config error for the
    #: old place points here.
    moved_from: tuple[tuple[str, str], ...] = ()


class NothingToAudit(Exception):  # noqa: N818 - it is a signal, not an error
    """Raised inside ``run`` when the data has nothing for this audit (e.g. no trigger-point
    lines). The audit counts as run, with this reason and no findings."""


@dataclass(frozen=True)
class AuditDoc:
    """An audit docstring split into its summary and named sections."""

    summary: str
    sections: dict[str, str]

    def paragraph(self, name: str) -> str:
        """A section as one line of text (for the ``why`` and ``fix`` fields of findings)."""
        return " ".join(self.sections.get(name, "").split())

    def example(self) -> AuditExample:
        """The Example section, parsed (ValueError when it is missing or malformed)."""
        if "Example" not in self.sections:
            raise ValueError("the docstring has no Example section")
        return parse_example(self.sections["Example"])


def parse_doc(doc: str | None) -> AuditDoc:
    """Split a docstring into summary and sections (a title line underlined with dashes).

    Titles and underlines start in the first column, so an indented table whose header is
    followed by a rule row is never taken for a section. A section keeps the indentation of
    its lines (a table stays indented) without blank lines around it.
    """
    lines = inspect.cleandoc(doc or "").splitlines()
    summary = lines[0].strip() if lines else ""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    i = 1
    while i < len(lines):
        line = lines[i]
        underline = lines[i + 1].rstrip() if i + 1 < len(lines) else ""
        if line.strip() and not line[0].isspace() and underline and set(underline) == {"-"}:
            current = sections.setdefault(line.strip(), [])
            i += 2
            continue
        if current is not None:
            current.append(line.rstrip())
        i += 1
    return AuditDoc(summary, {k: "\n".join(v).strip("\n") for k, v in sections.items()})


class Audit:
    """Base class of every audit. Subclasses set the class attributes and implement :meth:`run`."""

    id: ClassVar[str]
    title: ClassVar[str]
    #: Severities the audit can emit (a skipped audit's ``info`` note is always allowed).
    severities: ClassVar[tuple[str, ...]] = ()
    #: Canonical columns the audit needs; it is skipped with an ``info`` note when any is absent.
    columns: ClassVar[tuple[str, ...]] = ()
    #: Canonical columns the audit uses when present (extra rules or richer evidence).
    optional_columns: ClassVar[tuple[str, ...]] = ()
    #: The settings it reads, overridable in the config file under ``[<id>]``.
    thresholds: ClassVar[tuple[Threshold, ...]] = ()
    #: Side tables it needs besides the claim lines ("auths", "fee_schedule"); it is skipped
    #: with an ``info`` note naming the command-line option when one is not given.
    side_tables: ClassVar[tuple[str, ...]] = ()

    def run(self, lines: pd.DataFrame, settings: SimpleNamespace, context: Context) -> pd.DataFrame:
        """Return the findings (a frame made by :func:`findings_frame`) for these lines."""
        raise NotImplementedError

    @classmethod
    def doc(cls) -> AuditDoc:
        return _doc_of(cls)

    @classmethod
    def why(cls) -> str:
        return cls.doc().paragraph("Why it matters")

    @classmethod
    def fix(cls) -> str:
        return cls.doc().paragraph("How to fix")


@functools.cache
def _doc_of(cls: type[Audit]) -> AuditDoc:
    return parse_doc(cls.__doc__)


#: What the config file has a table for: an audit class or a :class:`SettingsTable`. Both have
#: ``id``, ``title`` and ``thresholds``.
Configurable: TypeAlias = type[Audit] | SettingsTable
