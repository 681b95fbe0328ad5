"""Open the generated workbooks in LibreOffice, as a client would, by converting them to PDF."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from auditkit.excel.openpyxl_writer import write_workbook

TEMPLATE = Path(__file__).resolve().parents[2] / "workbook_templates" / "consultant_template.xlsx"

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(
        shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed"
    ),
]


def _to_pdf(workbook: Path, out: Path) -> Path:
    profile = out / "lo-profile"  # a private profile: no clash with a running LibreOffice
    done = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(workbook),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    pdf = out / (workbook.stem + ".pdf")
    assert done.returncode == 0, done.stderr
    assert pdf.is_file(), done.stdout + done.stderr
    return pdf


def test_new_workbook_opens_in_libreoffice(tmp_path, written):
    pdf = _to_pdf(written, tmp_path)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000
    # Summary, three audit sheets, claim lines and About: well over one page each
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", data)) > 6


def test_template_workbook_opens_in_libreoffice(tmp_path, result, lines):
    path = write_workbook(
        result,
        tmp_path / "client.xlsx",
        lines=lines,
        template=TEMPLATE,
        practice="Valley Pain Associates",
        prepared_by="Jordan Analyst",
    )
    pdf = _to_pdf(path, tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 20_000
