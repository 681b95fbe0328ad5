"""Telling claim lines from totals, footers and headings."""

from __future__ import annotations

import pandas as pd
import pytest

from auditkit.ingest.footers import interior_non_data, row_kind, trailing_footer
from auditkit.ingest.normalise import TEXT

WIDTH = 10


@pytest.mark.parametrize(
    "cells",
    [
        ["Total", "", "", "$1,234.00"],
        ["GRAND TOTAL:", "", "1234.00"],
        ["Sub-total Dr Lee", "", "", "98.00"],
        ["Report generated 03/01/2024 by jdoe"],
        ["Printed on 03/01/2024"],
        ["Page 3 of 9"],
        ["End of report"],
        ["Records: 2,500"],
        ["", "", "", "1,425.00"],  # only an amount
        ["", "(45.00)", "", "12"],
        ["Confidential - contains PHI"],  # one note cell in a wide table
        ["*** end ***"],
    ],
)
def test_footer_rows(cells):
    assert row_kind(cells + [""] * (WIDTH - len(cells)), WIDTH) == "footer"


@pytest.mark.parametrize(
    "cells",
    [
        ["C1", "01/05/2024", "Lee", "Aetna", "20552", "150.00"],
        ["Totally Pain Free LLC", "01/05/2024", "Lee", "Aetna", "20552"],  # not a "Total" row
        ["Runyon, Ann", "01/05/2024", "Lee"],  # "Run..." is not "run on ..."
    ],
)
def test_data_rows(cells):
    assert row_kind(cells + [""] * (WIDTH - len(cells)), WIDTH) is None


def test_blank_rows():
    assert row_kind(["", None, float("nan"), "  "], 4) == "blank"


def test_trailing_footer_block():
    rows = [["C1", "x", "y"], ["C2", "x", "y"], [], ["Total", "", "9.00"], [""], ["Printed 1/1/24"]]
    assert trailing_footer(rows, 3) == (2, [3, 5])


def test_interior_non_data_vectorised_selection():
    headers = ["Claim #", "DOS", "CPT", "Charge"]
    data = pd.DataFrame(
        {
            0: pd.Series(["C1", None, "Subtotal", "Claim #", "C2", "Provider: Kim"], dtype=TEXT),
            1: pd.Series(["01/05/2024", None, None, "DOS", "01/06/2024", None], dtype=TEXT),
            2: pd.Series(["20552", None, None, "CPT", "20553", None], dtype=TEXT),
            3: pd.Series(["10.00", None, "10.00", "Charge", "12.00", None], dtype=TEXT),
        }
    )
    blank, footer = interior_non_data(data, headers, [0, 1, 2])
    assert blank.tolist() == [False, True, False, False, False, False]
    assert footer.tolist() == [False, False, True, True, False, True]
