"""Unit tests of the vectorised cleaners in auditkit.ingest.normalise."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from auditkit.ingest import normalise as n


def text(*values: object) -> pd.Series:
    return pd.Series(list(values), dtype=n.TEXT)


def one(parsed: n.Parsed) -> tuple[object, bool]:
    value = parsed.values.iloc[0]
    return (None if pd.isna(value) else value), bool(parsed.bad.iloc[0])


# --- money ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("$1,234.50", 1234.5),
        ("1234.5", 1234.5),
        ("(45.00)", -45.0),
        ("-45.00", -45.0),
        ("45.00-", -45.0),
        ("$-45.00", -45.0),
        ("-$45.00", -45.0),
        ("45.00 CR", -45.0),
        (" 12 ", 12.0),
        ("1,234", 1234.0),
        (".5", 0.5),
        ("$ -", 0.0),
        ("USD 10.00", 10.0),
    ],
)
def test_money_reads_accounting_formats(cell, expected):
    value, bad = one(n.parse_money(text(cell)))
    assert value == pytest.approx(expected)
    assert not bad


@pytest.mark.parametrize("cell", ["abc", "12.3.4", "$", "1,23", "inf", "N/A"])
def test_money_unreadable_is_bad_and_nan(cell):
    value, bad = one(n.parse_money(text(cell)))
    assert value is None and bad


def test_money_blank_is_nan_not_bad():
    parsed = n.parse_money(text(None, "", "   "))
    assert parsed.values.isna().all()
    assert not parsed.bad.any()


def test_money_keeps_numeric_cells():
    parsed = n.parse_money(pd.Series([12.5, np.nan, -3.0]))
    assert parsed.values.tolist()[0] == 12.5 and math.isnan(parsed.values.tolist()[1])
    assert parsed.values.dtype == "float64" and not parsed.bad.any()


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        "01/05/2024",
        "1/5/2024",
        "1/5/24",
        "2024-01-05",
        "2024-01-05 00:00:00",
        "2024-01-05T13:45:00",
        "01/05/2024 10:30 AM",
        "05-Jan-2024",
        "Jan 5, 2024",
        "45296",  # Excel serial day number for 2024-01-05
        "45296.0",
        "20240105",
        "01/05/2024 - 01/09/2024",  # a service-date range: its start
        "01/05/2024-01/09/2024",
        "1/5/2024 thru 1/9/2024",
    ],
)
def test_dates_single_formats(cell):
    value, bad = one(n.parse_dates(text(cell)))
    assert value == pd.Timestamp("2024-01-05") and not bad


def test_dates_month_first_when_ambiguous():
    parsed = n.parse_dates(text("02/03/2024", "04/05/2024"))
    assert parsed.values.tolist() == [pd.Timestamp("2024-02-03"), pd.Timestamp("2024-04-05")]


def test_dates_day_first_chosen_for_the_whole_column():
    # 25/12 cannot be month/day, so the column is day/month - including the ambiguous 02/03
    parsed, formats = n.read_dates(text("25/12/2024", "02/03/2024"))
    assert parsed.values.tolist() == [pd.Timestamp("2024-12-25"), pd.Timestamp("2024-03-02")]
    assert formats == ["%d/%m/%Y"]


def test_dates_mixed_formats_each_read():
    parsed = n.parse_dates(text("01/05/2024", "2024-02-06", "45296"))
    assert parsed.values.tolist() == [
        pd.Timestamp("2024-01-05"),
        pd.Timestamp("2024-02-06"),
        pd.Timestamp("2024-01-05"),
    ]


@pytest.mark.parametrize("cell", ["junk", "13/45/2024", "02/30/2024", "1/5/1850", "123"])
def test_dates_bad(cell):
    parsed = n.parse_dates(text("01/05/2024", cell))
    assert parsed.values.iloc[0] == pd.Timestamp("2024-01-05")
    assert pd.isna(parsed.values.iloc[1]) and parsed.bad.tolist() == [False, True]


def test_dates_from_workbook_cells():
    cells = pd.Series([dt.datetime(2024, 1, 5, 14, 30), None]).astype("datetime64[ns]")
    parsed = n.parse_dates(cells)
    assert parsed.values.iloc[0] == pd.Timestamp("2024-01-05")  # time of day dropped
    assert not parsed.bad.any()
    serials = n.parse_dates(pd.Series([45296.0, 45296.75, np.nan, 7.0]))
    assert serials.values.iloc[0] == serials.values.iloc[1] == pd.Timestamp("2024-01-05")
    assert serials.bad.tolist() == [False, False, False, True]


# --- codes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "code", "mods", "bad"),
    [
        ("20552", "20552", "", False),
        ("20552.0", "20552", "", False),
        (" 20552 ", "20552", "", False),
        ("g3002", "G3002", "", False),
        ("0228T", "0228T", "", False),
        ("64483-50", "64483", "50", False),
        ("64483 RT 59", "64483", "RT,59", False),
        ("2055", "2055", "", True),
        ("OFFICE", "OFFICE", "", True),
    ],
)
def test_cpt(cell, code, mods, bad):
    parsed = n.parse_cpt(text(cell))
    assert parsed.values.iloc[0] == code
    assert parsed.modifiers.iloc[0] == mods
    assert bool(parsed.bad.iloc[0]) is bad


def test_cpt_from_number_cells():
    assert n.parse_cpt(pd.Series([20552.0, 99213.0])).values.tolist() == ["20552", "99213"]


def test_clean_codes_and_text():
    assert n.clean_codes(text(" 11.0", "g 3002")).tolist() == ["11", "G3002"]
    assert n.clean_text(text("  Lee,   Ann ", "x\ty", None)).values.tolist() == [
        "Lee, Ann",
        "x y",
        pd.NA,
    ]
    assert n.as_text(pd.Series([20552.0, 1.5, np.nan])).tolist() == ["20552", "1.5", pd.NA]


@pytest.mark.parametrize(
    ("cell", "expected", "bad"),
    [("11", "11", False), ("2", "02", False), ("22.0", "22", False), ("Office", "OFFICE", True)],
)
def test_place_of_service(cell, expected, bad):
    parsed = n.parse_place_of_service(text(cell))
    assert parsed.values.iloc[0] == expected and bool(parsed.bad.iloc[0]) is bad


# --- list columns ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected", "bad"),
    [
        ("25,59", "25,59", False),
        ("25 59", "25,59", False),
        ("-RT", "RT", False),
        ("25;59", "25,59", False),
        ("RT-59", "RT,59", False),
        ("rt/lt", "RT,LT", False),
        ("25.0", "25", False),
        ("59,25", "59,25", False),  # order kept
        ("5", "", True),  # modifiers are two characters
        ("25,ABC", "25", True),
        ("25,59,RT,LT,XS", "25,59,RT,LT", True),  # at most four
        (None, "", False),
    ],
)
def test_modifiers_one_column(cell, expected, bad):
    parsed = n.parse_modifiers(text(cell))
    assert parsed.values.iloc[0] == expected and bool(parsed.bad.iloc[0]) is bad


def test_modifiers_several_columns_in_order():
    mod1 = text("25", None, "RT")
    mod2 = pd.Series([59.0, np.nan, np.nan])  # a numeric workbook column
    parsed = n.parse_modifiers(mod1, mod2)
    assert parsed.values.tolist() == ["25,59", "", "RT"]


@pytest.mark.parametrize(
    ("cell", "expected", "bad"),
    [
        ("M5416", "M54.16", False),
        ("m54.5", "M54.5", False),
        ("M54.16, M47.816", "M54.16,M47.816", False),
        ("M54.16;G89.29", "M54.16,G89.29", False),
        ("M54.16 - Radiculopathy, lumbar region", "M54.16", False),
        ("M48062", "M48.062", False),
        ("G89", "G89", False),
        ("XYZ1", "", True),
        ("low back pain", "", True),
    ],
)
def test_diagnoses(cell, expected, bad):
    parsed = n.parse_diagnoses(text(cell))
    assert parsed.values.iloc[0] == expected and bool(parsed.bad.iloc[0]) is bad


def test_diagnoses_from_several_columns_skip_blanks():
    parsed = n.parse_diagnoses(text("M5416", "M54.50"), text(None, "g8929"), text("M47816", None))
    assert parsed.values.tolist() == ["M54.16,M47.816", "M54.50,G89.29"]


@pytest.mark.parametrize(
    ("cell", "group", "expected"),
    [
        ("CO-197", None, "CO-197"),
        ("CO197", None, "CO-197"),
        ("CO 197", None, "CO-197"),
        ("co-45, pr-2", None, "CO-45,PR-2"),
        ("CO-45 OA-23", None, "CO-45,OA-23"),
        ("197", None, "197"),  # no group anywhere: kept bare, not guessed
        ("197", "PR", "PR-197"),
        ("45,2", "CO,PR", "CO-45,PR-2"),  # one group per code, in order
        ("45,253", "CO", "CO-45,CO-253"),  # one group for all
        ("CO-B7", None, "CO-B7"),
        ("197.0", "CO", "CO-197"),
    ],
)
def test_denial_codes(cell, group, expected):
    groups = text(group) if group is not None else None
    parsed = n.parse_denial_codes(text(cell), groups=groups)
    assert parsed.values.iloc[0] == expected and not parsed.bad.iloc[0]


def test_denial_codes_unreadable_is_bad():
    parsed = n.parse_denial_codes(text("see notes", None))
    assert parsed.bad.tolist() == [True, False]
    assert parsed.values.tolist() == ["", ""]


def test_remark_codes():
    parsed = n.parse_remark_codes(text("n290 m127", "MA130", "none", None))
    assert parsed.values.tolist() == ["N290,M127", "MA130", "", ""]
    assert parsed.bad.tolist() == [False, False, True, False]


def test_spinal_levels():
    parsed = n.parse_spinal_levels(text("L4-5, L5-S1", "l5/s1", "C5-C6 and C6-C7", "L5", "2"))
    assert parsed.values.tolist() == ["L4-L5,L5-S1", "L5-S1", "C5-C6,C6-C7", "L5", ""]
    assert parsed.bad.tolist() == [False, False, False, False, True]


# --- coded words ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Paid", "paid"),
        ("PD", "paid"),
        ("Denied", "denied"),
        ("DN", "denied"),
        ("Rejected", "rejected"),
        ("Pending", "pending"),
        ("Open", "pending"),
        ("Submitted", "pending"),
        ("Partial", "partially_paid"),
        ("Partially-Paid", "partially_paid"),
        ("Void", "voided"),
    ],
)
def test_status_default_words(cell, expected):
    assert one(n.parse_status(text(cell))) == (expected, False)


def test_status_unknown_and_mapping_words():
    parsed = n.parse_status(
        text("ZZ", "Paid", None, "HOLD-X"), {"HOLD-X": "pending", "Paid": "denied"}
    )
    assert parsed.values.tolist() == [pd.NA, "denied", pd.NA, "pending"]
    assert parsed.bad.tolist() == [True, False, False, False]


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (
            ["Y", "N", "Yes", "no", "1", "0", "TRUE", "false"],
            [True, False, True, False, True, False, True, False],
        ),
        (["X", None, "x"], [True, False, True]),  # tick-mark column: blank means no
        (["Y", None], [True, pd.NA]),  # otherwise blank is unknown
    ],
)
def test_bool(cells, expected):
    assert n.parse_bool(text(*cells)).values.tolist() == expected


def test_bool_unknown_is_bad():
    assert n.parse_bool(text("maybe")).bad.tolist() == [True]


def test_frequency():
    parsed = n.parse_frequency(text("1", "7", "8.0", "Replacement", "3"))
    assert parsed.values.tolist() == [1, 7, 8, 7, pd.NA]
    assert parsed.bad.tolist() == [False, False, False, False, True]
    assert n.parse_frequency(pd.Series([1.0, 7.0])).values.tolist() == [1, 7]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Left", "left"),
        ("LT", "left"),
        ("l", "left"),
        ("Right", "right"),
        ("RT", "right"),
        ("R", "right"),
        ("Bilateral", "bilateral"),
        ("Bilat", "bilateral"),
        ("50", "bilateral"),
        ("B", "bilateral"),
    ],
)
def test_laterality(cell, expected):
    assert one(n.parse_laterality(text(cell))) == (expected, False)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Fluoro", "fluoroscopy"),
        ("Fluoroscopy", "fluoroscopy"),
        ("CT", "ct"),
        ("US", "ultrasound"),
        ("Ultrasound", "ultrasound"),
        ("u/s", "ultrasound"),
        ("None", "none"),
    ],
)
def test_imaging(cell, expected):
    assert one(n.parse_imaging(text(cell))) == (expected, False)


def test_words_unknown_are_bad():
    assert one(n.parse_laterality(text("up"))) == (None, True)
    assert one(n.parse_imaging(text("MRI"))) == (None, True)


def test_numbers_and_ints():
    assert n.parse_number(text("2", "1.5", "1,200")).values.tolist() == [2.0, 1.5, 1200.0]
    parsed = n.parse_int(text("3", "3.0", "2.5", "x"))
    assert parsed.values.tolist() == [3, 3, pd.NA, pd.NA]
    assert parsed.bad.tolist() == [False, False, True, True]


def test_on_uniques_matches_direct_application():
    values = text("b", None, "a", "b", "a")
    spread = n.on_uniques(values, lambda u: u.str.upper())
    assert spread.tolist() == ["B", pd.NA, "A", "B", "A"]


def test_value_tables_are_consistent():
    tables = n.value_words()
    assert set(tables["status"].values()) <= set(n.STATUSES)
    assert set(tables["laterality"].values()) == {"left", "right", "bilateral"}
    assert set(tables["imaging_guidance"].values()) == {"fluoroscopy", "ct", "ultrasound", "none"}


def test_categorical_text_reads_like_the_same_text():
    # the streaming reader hands categorical columns to every cleaner (side tables too)
    cells = [" 20552 ", None, "99213", " 20552 ", "  ", "g3002"]
    categorical = pd.Series(pd.Categorical(cells))
    text = pd.Series(cells, dtype=n.TEXT)
    assert n.as_text(categorical).tolist() == ["20552", pd.NA, "99213", "20552", pd.NA, "g3002"]
    assert n.as_text(categorical).dtype == n.TEXT
    pd.testing.assert_series_equal(n.parse_cpt(categorical).values, n.parse_cpt(text).values)


def test_a_column_of_blank_dates_is_blank_not_an_error():
    """A date column with no value at all (an export's empty paid-date column, a spreadsheet
    function given blank cells) has no distinct value to look up: every cell is missing."""
    parsed = n.parse_dates(pd.Series([None, "", "  "], dtype=object))
    assert parsed.values.isna().all() and not parsed.bad.any()
