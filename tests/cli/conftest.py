from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_exports"


@pytest.fixture
def medirev() -> Path:
    return SAMPLES / "medirev_charges.csv"


@pytest.fixture
def practiflow() -> Path:
    return SAMPLES / "practiflow_charge_detail.xlsx"


@pytest.fixture
def clinicore() -> Path:
    return SAMPLES / "clinicore_export.txt"


CLEAN_CSV = """Claim #,DOS,Rend Prov,Primary Ins,Proc Code,Mod 1,Units,Dx1,Chg Amt,Ins Paid,Status
C1,01/05/2026,Dr. Clean,Aetna,99213,,1,M54.16,150.00,95.00,Paid
C2,01/06/2026,Dr. Clean,Aetna,99214,,1,M54.16,210.00,140.00,Paid
C3,01/07/2026,Dr. Clean,Aetna,99213,,1,M54.16,150.00,95.00,Paid
"""


@pytest.fixture
def clean_csv(tmp_path: Path) -> Path:
    path = tmp_path / "clean.csv"
    path.write_text(CLEAN_CSV, encoding="utf-8")
    return path


@pytest.fixture
def clients(tmp_path: Path, medirev: Path, practiflow: Path) -> Path:
    """Three clients; the third has a file that is HTML saved as .xls (a PM-system habit)."""
    root = tmp_path / "clients"
    for name, source in (("alpha_pain", medirev), ("beacon_spine", practiflow)):
        (root / name).mkdir(parents=True)
        shutil.copy(source, root / name / source.name)
    # side tables are recognised by name, not read as exports
    shutil.copy(SAMPLES / "medirev_authorizations.csv", root / "alpha_pain")
    shutil.copy(SAMPLES / "fee_schedule.csv", root / "alpha_pain")
    broken = root / "cedar_clinic"
    broken.mkdir()
    (broken / "charges.xls").write_text(
        "<html><body><table><tr><td>Claim</td></tr></table></body></html>", encoding="utf-8"
    )
    return root
