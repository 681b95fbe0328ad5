"""Fixtures of the Excel tests: xlwings' Windows UDF machinery (see xlwings_harness.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import xlwings_harness as harness


@pytest.fixture(scope="session")
def windows_udfs():
    """``xlwings.udfs`` imported as on Windows (pywin32 stubbed)."""
    if sys.platform.startswith("win"):
        pytest.skip("the harness stands in for pywin32 where it is missing; Windows has it")
    with harness.windows_xlwings() as udfs:
        yield udfs


@pytest.fixture(scope="session")
def udf_module(windows_udfs):
    """``auditkit.excel.udfs`` decorated by xlwings' real Windows decorators."""
    return harness.import_udf_module(windows_udfs, "auditkit.excel.udfs")


@pytest.fixture
def excel(windows_udfs, udf_module):
    """Call a UDF by name the way Excel's COM server does: ``excel("AUDIT_FAMILY", rows)``."""

    def call(name, *args):
        return harness.call_like_excel(windows_udfs, udf_module, name, *args)

    return call
