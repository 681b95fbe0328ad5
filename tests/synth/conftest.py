"""Shared fixtures: one planted table (the generator is deterministic, so it is made once)."""

from __future__ import annotations

import pandas as pd
import pytest

from auditkit.synth import generate_with_truth


@pytest.fixture(scope="session")
def planted() -> tuple[pd.DataFrame, dict]:
    return generate_with_truth(2500, 7)


@pytest.fixture(scope="session")
def frame(planted) -> pd.DataFrame:
    return planted[0]


@pytest.fixture(scope="session")
def truth(planted) -> dict:
    return planted[1]
