"""Every registered audit documents itself in the fixed shape, and the registry is consistent.

Whether each docstring Example does what it says is tested by the case runner (test_cases.py).
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
import re

import pytest

import auditkit.audits
from auditkit.claims import BY_NAME
from auditkit.engine import registry
from auditkit.engine.contract import DOC_SECTIONS, Audit, parse_doc
from auditkit.engine.examples import expand_repeats, parse_example, parse_table
from auditkit.engine.result import SEVERITIES
from auditkit.errors import ConfigError

AUDITS = registry.all_audits()


@pytest.mark.parametrize("audit", AUDITS, ids=[a.id for a in AUDITS])
def test_docstring_has_every_section_in_order(audit) -> None:
    doc = audit.doc()
    assert doc.summary and len(doc.summary) <= 100 and doc.summary.endswith(".")
    assert list(doc.sections) == list(DOC_SECTIONS)
    for name in DOC_SECTIONS:
        assert len(doc.sections[name].split()) >= 5, f"{audit.id}: section '{name}' is too short"


@pytest.mark.parametrize("audit", AUDITS, ids=[a.id for a in AUDITS])
def test_declarations_match_the_docs(audit) -> None:
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", audit.id)
    module = audit.__module__.rsplit(".", 1)[-1]
    assert module == audit.id.replace("-", "_"), "one audit, one module named after it"
    assert audit.title
    assert set(audit.severities) <= set(SEVERITIES) and audit.severities
    needed = audit.doc().sections["Columns needed"]
    for column in (*audit.columns, *audit.optional_columns):
        assert column in BY_NAME, f"{audit.id}: {column} is not a canonical column"
        assert re.search(rf"\b{column}\b", needed), f"{audit.id}: {column} not in 'Columns needed'"
    text = audit.__doc__
    for threshold in audit.thresholds:
        assert isinstance(threshold.default, threshold.type)
        assert threshold.help
        assert f"``{threshold.name}``" in text, f"{audit.id}: setting {threshold.name} undocumented"


def test_why_and_fix_come_from_the_docstring() -> None:
    audit = registry.get("tpi-ratio")
    assert audit.why().startswith("20553 (three or more muscles) pays more")
    assert "\n" not in audit.why() and "\n" not in audit.fix()
    assert audit.fix().startswith("Put a muscle count")


@pytest.mark.parametrize("audit", AUDITS, ids=[a.id for a in AUDITS])
def test_example_is_well_formed(audit) -> None:
    """The Example parses, uses the audit's own settings and severities and the columns the
    audit reads, and its tables stay narrow enough for a terminal."""
    example = audit.doc().example()
    known = {t.name for t in audit.thresholds}
    assert set(example.settings) <= known, f"{audit.id}: unknown settings in the Example"
    assert set(example.flagged.expected) <= set(audit.severities)
    assert example.flagged.caption and example.not_flagged.caption
    assert set(example.side_tables) <= set(audit.side_tables)
    for block in (example.flagged, example.not_flagged):
        shown = {c for line in block.lines for c in line}
        for column in audit.columns:
            assert column in shown or column in BY_NAME and BY_NAME[column].required, (
                f"{audit.id}: the Example tables lack the required column {column}"
            )
    for line in audit.doc().sections["Example"].splitlines():
        assert len(line) <= 96, f"{audit.id}: Example line too wide for a terminal: {line!r}"


def test_explain_text_lists_sections_and_settings() -> None:
    text = registry.docs("paid-vs-denied")
    assert text.startswith("paid-vs-denied: Paid versus denied lines")
    for name in DOC_SECTIONS:
        assert f"\n{name}\n" in text
    assert re.search(r"\nmin_denied +\= 10 ", text)
    assert re.search(r"\nhigh_dollars +\= 5000.0 ", text)


def test_explain_prints_the_example_tables_as_written() -> None:
    text = registry.docs("laterality-missing")
    example = text.split("\nExample\n-------\n", 1)[1]
    assert example.startswith("Flagged: ")
    assert "\n    claim_id | date_of_service | cpt   | modifiers | laterality\n" in example
    assert "\n    C1001    | 2024-03-04      | 64493 |           | right\n" in example
    assert "\nResult: 1 high finding" in example
    assert "\nNot flagged: " in example
    assert example.index("Not flagged") < example.index("\nSeverities\n")


def test_unknown_id_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as err:
        registry.get("tpi-ration")
    message = str(err.value)
    assert "unknown audit 'tpi-ration'" in message
    for audit in AUDITS:
        assert audit.id in message


def test_registry_lists_each_audit_module_once() -> None:
    """auditkit/audits holds one module per registered audit and nothing else: each module
    defines exactly one Audit subclass, and that class is in the registry."""
    ids = [a.id for a in AUDITS]
    assert len(ids) == len(set(ids))
    names = sorted(m.name for m in pkgutil.iter_modules(auditkit.audits.__path__))
    assert names == sorted(a.__module__.removeprefix("auditkit.audits.") for a in AUDITS)
    for name in names:
        module = importlib.import_module(f"auditkit.audits.{name}")
        defined = [
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, Audit) and cls is not Audit and cls.__module__ == module.__name__
        ]
        assert len(defined) == 1, f"auditkit/audits/{name}.py defines {defined}"
        assert defined[0] in AUDITS, f"{defined[0].__name__} is not in the registry"


def test_parse_doc_splits_underlined_sections() -> None:
    doc = parse_doc(
        """Summary line.

        First
        -----
        one
        two

        Second
        ------
        three
        """
    )
    assert doc.summary == "Summary line."
    assert doc.sections == {"First": "one\ntwo", "Second": "three"}
    assert doc.paragraph("First") == "one two"


def test_parse_doc_does_not_take_a_table_rule_for_a_section() -> None:
    doc = parse_doc(
        """Summary line.

        Example
        -------
        Flagged: a line.

            cpt
            -----
            64493
        """
    )
    assert list(doc.sections) == ["Example"]
    assert "64493" in doc.sections["Example"]


EXAMPLE = """Each row stands for ``repeat`` lines.
Settings: min_lines = 10, codes = "64492,64495"
Contract fee schedule:

    payer | cpt   | allowed
    ------+-------+--------
    Aetna | 64493 | 210.00

Flagged: a facet injection
with no side.

    claim_id | date_of_service | cpt   | modifiers | units | repeat
    ---------+-----------------+-------+-----------+-------+-------
    C1       | 2024-03-04      | 64493 | RT, 59    | 1     | 2
    C1       | 2024-03-04      | 99213 |           |       | 2
             | 2024-03-05      | 20552 |           |       | 3

Result: 1 high and 2 medium findings, on
the 64493 lines.

Not flagged: the same line with RT.

    claim_id | cpt   | modifiers
    C1       | 64493 | RT

Result: no findings.
"""


def test_parse_example_reads_blocks_tables_settings_and_side_tables() -> None:
    example = parse_example(EXAMPLE)
    assert example.note.startswith("Each row stands for ``repeat`` lines.")
    assert example.settings == {"min_lines": 10, "codes": "64492,64495"}
    assert example.side_tables == {
        "fee_schedule": ({"payer": "Aetna", "cpt": "64493", "allowed": 210.0},)
    }
    flagged = example.flagged
    assert flagged.caption == "a facet injection with no side."
    assert flagged.expected == {"high": 1, "medium": 2}
    assert flagged.result == "1 high and 2 medium findings, on the 64493 lines."
    # A claim with repeat 2 is two claims, C1-1 and C1-2; rows without a claim id are claims
    # of their own (numbered by the caller); blank cells are None; cells are typed.
    assert [(line.get("claim_id"), line["cpt"]) for line in flagged.lines] == [
        ("C1-1", "64493"),
        ("C1-1", "99213"),
        ("C1-2", "64493"),
        ("C1-2", "99213"),
        (None, "20552"),
        (None, "20552"),
        (None, "20552"),
    ]
    first = flagged.lines[0]
    assert first["date_of_service"] == dt.date(2024, 3, 4)
    assert first["modifiers"] == "RT,59" and first["units"] == 1.0
    assert flagged.lines[1]["modifiers"] is None
    assert "claim_id" not in flagged.lines[-1]
    assert example.not_flagged.expected == {} and not example.not_flagged.nothing_to_audit
    assert example.not_flagged.lines == ({"claim_id": "C1", "cpt": "64493", "modifiers": "RT"},)


def test_parse_example_nothing_to_audit() -> None:
    text = EXAMPLE.replace("Result: no findings.", "Result: nothing to audit: no such code.")
    assert parse_example(text).not_flagged.nothing_to_audit


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("Result: 1 high and 2 medium findings, on", "Result: two are flagged, on"), "Result"),
        (("Result: 1 high and 2 medium", "Result: 1 severe and 2 medium"), "Result"),
        (("Result: no findings.", "Result: 1 high finding."), "no findings"),
        (("Not flagged: the same line with RT.", "Also: the same line."), "without its caption"),
        (("    C1       | 64493 | RT", "    C1      | 64493 | RT"), "not aligned"),
        (("claim_id | cpt   | modifiers", "claim_id | cpt   | modifierz"), "modifierz"),
        (("| 1     | 2\n", "| one   | 2\n"), "'one' is not a valid number"),
        (("min_lines = 10,", "min_lines 10,"), "Settings"),
        (("| 99213 |           |       | 2", "| 99213 |           |       | 3"), "repeat"),
    ],
)
def test_parse_example_refuses_what_it_cannot_read_unambiguously(change, message) -> None:
    old, new = change
    assert old in EXAMPLE
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_example(EXAMPLE.replace(old, new))


def test_parse_example_needs_both_blocks() -> None:
    with pytest.raises(ValueError, match="no 'Not flagged:' block"):
        parse_example(EXAMPLE.split("Not flagged:")[0])


def test_parse_table_and_expand_repeats() -> None:
    rows = parse_table(["  cpt   | units", "  ------+------", "  20553 | 1", "  20552 |"])
    assert rows == [{"cpt": "20553", "units": "1"}, {"cpt": "20552", "units": ""}]
    assert expand_repeats([{"cpt": "20552", "repeat": 2}]) == [{"cpt": "20552"}] * 2
