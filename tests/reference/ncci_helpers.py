"""Paths of the hand-written NCCI fixtures and small helpers for the reader tests."""

from __future__ import annotations

import zipfile
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
PTP_F1 = FIXTURES / "ccipra-v322r0-f1.txt"
PTP_F2 = FIXTURES / "ccipra-v322r0-f2.txt"
PTP_CSV = FIXTURES / "ccipra-v322r0-f1-saved-from-excel.csv"
MUE_CSV = FIXTURES / "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv"
MUE_OUTPATIENT = FIXTURES / "MCR_MUE_OutpatientHospitalServices_Eff_07-01-2026.csv"
CLAIMS = FIXTURES / "claims_export.csv"


def make_zip(target: Path, *members: Path, folder: str = "") -> Path:
    """A zip holding ``members`` (under ``folder`` inside it when given)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in members:
            archive.write(member, f"{folder}{member.name}")
    return target


def ptp_text(*rows: str, title: str = "Column1/Column2 Edits") -> bytes:
    """A PTP .txt in the published layout (notice, title, the four header lines) with ``rows``
    (tab-separated cells) below it, CRLF line ends."""
    head = [
        "Made-up notice line for a test\t\t\t\t\t\t",
        f"{title}\t\t\t\t\t\t",
        "Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale",
        "\t\tprior to 1996\tDate\tDate\t0=not allowed\t",
        "\t\t\t\t*=no data\t1=allowed\t",
        "\t\t\t\t\t9=not applicable\t",
    ]
    return ("\r\n".join([*head, *rows]) + "\r\n").encode("latin-1")
