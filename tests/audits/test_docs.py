"""Every registered audit documents itself in the fixed shape, and the registry is consistent."""

from __future__ import annotations

import importlib
import re

import pytest

from auditkit.claims import BY_NAME
from auditkit.engine import registry
from auditkit.engine.contract import DOC_SECTIONS, parse_doc
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


def test_explain_text_lists_sections_and_settings() -> None:
    text = registry.docs("paid-vs-denied")
    assert text.startswith("paid-vs-denied: Paid versus denied lines")
    for name in DOC_SECTIONS:
        assert f"\n{name}\n" in text
    assert re.search(r"\nmin_denied +\= 10 ", text)
    assert re.search(r"\nhigh_dollars +\= 5000.0 ", text)


def test_unknown_id_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as err:
        registry.get("tpi-ration")
    message = str(err.value)
    assert "unknown audit 'tpi-ration'" in message
    for audit in AUDITS:
        assert audit.id in message


def test_registry_lists_each_audit_module_once() -> None:
    ids = [a.id for a in AUDITS]
    assert len(ids) == len(set(ids))
    for audit in AUDITS:
        assert importlib.import_module(audit.__module__)


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
