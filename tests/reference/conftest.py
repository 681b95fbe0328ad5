"""Fixtures for the NCCI reader tests: a cache folder per test, never the user's."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def cache_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test's default cache is its own folder (``AUDITKIT_CACHE_DIR``)."""
    folder = tmp_path / "auditkit-cache"
    monkeypatch.setenv("AUDITKIT_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """A cache folder to pass as ``cache_dir``."""
    return tmp_path / "ncci-cache"
