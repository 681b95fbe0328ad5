from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from report_fixtures import make_lines, make_result

from auditkit.excel.openpyxl_writer import write_workbook


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "libreoffice: opens a generated workbook in LibreOffice (needs soffice)"
    )


@pytest.fixture(scope="session")
def lines():
    return make_lines()


@pytest.fixture(scope="session")
def result(lines):
    return make_result(lines)


@pytest.fixture(scope="session")
def written(tmp_path_factory, result, lines) -> Path:
    """One new workbook with every sheet (claim lines included), shared by read-back tests."""
    path = tmp_path_factory.mktemp("new") / "audit.xlsx"
    return write_workbook(
        result,
        path,
        lines=lines,
        with_lines=True,
        practice="Valley Pain Associates",
        prepared_by="J. Analyst",
    )
