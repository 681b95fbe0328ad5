"""Fixtures for the ingest tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from ingest_helpers import HEADER, ROWS, sha256, typed_rows, write_xlsx


@pytest.fixture
def checksums():
    """Record files' checksums; at teardown assert none of them changed (inputs are read-only)."""
    seen: dict[Path, str] = {}

    def track(*paths: Path) -> None:
        for path in paths:
            if path.is_file():
                seen[path] = sha256(path)

    yield track
    for path, digest in seen.items():
        assert sha256(path) == digest, f"{path} was modified by the loader"


@pytest.fixture(scope="session")
def legacy_xls(tmp_path_factory) -> Path:
    """A real BIFF8 .xls, converted from an .xlsx by LibreOffice (no Python writer exists)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is needed to make a legacy .xls test file")
    folder = tmp_path_factory.mktemp("xls")
    source = write_xlsx(folder / "legacy.xlsx", {"Charges": [HEADER, *typed_rows()]})
    profile = folder / "profile"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "xls",
            "--outdir",
            str(folder / "out"),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return folder / "out" / "legacy.xls"


@pytest.fixture
def rows() -> list[list[str]]:
    return [list(r) for r in ROWS]
