"""AUDIT_DEADLINE evaluated as Excel's COM server evaluates it (xlwings' ``call_udf``, cells as
COM hands them over; see xlwings_harness.py), and its library, :mod:`auditkit.excel.ranges.deadlines`.

Expected dates are worked out here from the rule each one cites (``deadlines.csv``), not copied
from output: Medicare redetermination 120 days from receipt of the notice, presumed 5 days after
its date (42 CFR 405.942(a)); Medicare timely filing 1 calendar year (12 months) after the date
of service (42 CFR 424.44(a)(1)); Medicare corrected claim (reopening) 1 year from the
determination (42 CFR 405.980(b)(1)); the commercial and default rows' defaults (filing 90 days
from the service, corrected claim 90 and appeal 180 days from the remittance); Medicaid filing
365 days from the service.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest
import xlwings_harness as harness

from auditkit.errors import ConfigError, InputError
from auditkit.excel import ranges
from auditkit.reference import HERE

M = harness.MISSING
EXCEL_EPOCH = date(1899, 12, 30)

SERVICE = date(2026, 1, 15)
REMIT = date(2026, 2, 1)
#: 42 CFR 405.942(a): 5 days' presumed receipt, then 120 days.
MEDICARE_REDETERMINATION = REMIT + timedelta(days=5 + 120)
#: 42 CFR 424.44(a)(1): 12 calendar months after the date of service.
MEDICARE_FILING = date(SERVICE.year + 1, SERVICE.month, SERVICE.day)
#: 42 CFR 405.980(b)(1): 1 year from the determination (the remittance).
MEDICARE_CORRECTED = date(REMIT.year + 1, REMIT.month, REMIT.day)
COMMERCIAL_FILING = SERVICE + timedelta(days=90)
COMMERCIAL_CORRECTED = REMIT + timedelta(days=90)
COMMERCIAL_APPEAL = REMIT + timedelta(days=180)


def serial(day: date) -> float:
    """The Excel serial number of a day (what a date cell not formatted as a date hands over)."""
    return float((day - EXCEL_EPOCH).days)


def column(values):
    return [[v] for v in values]


def shown(result):
    """What each cell shows: a date as a ``date`` (COM hands a datetime over), else the value."""
    return [[v.date() if isinstance(v, datetime) else v for v in row] for row in result]


def test_the_cited_rules_give_the_dates_worked_out_by_hand():
    assert date(2026, 6, 6) == MEDICARE_REDETERMINATION
    assert date(2027, 1, 15) == MEDICARE_FILING
    assert (date(2026, 4, 15), date(2026, 7, 31)) == (COMMERCIAL_FILING, COMMERCIAL_APPEAL)


def test_medicare_deadlines(excel):
    got = excel(
        "AUDIT_DEADLINE",
        "Medicare",
        SERVICE.isoformat(),
        REMIT.isoformat(),
        column(["redetermination", "appeal", "timely_filing", "corrected_claim"]),
        M,
    )
    assert shown(got) == column(
        [MEDICARE_REDETERMINATION, MEDICARE_REDETERMINATION, MEDICARE_FILING, MEDICARE_CORRECTED]
    )
    # one cell for every argument: one date in one cell
    one = excel("AUDIT_DEADLINE", "Medicare", SERVICE, REMIT, "redetermination", M)
    assert shown(one) == [[date(2026, 6, 6)]]


def test_commercial_and_default_payers(excel):
    # Any payer not named Medicare or Medicaid is commercial (a Medicare Advantage plan is a
    # contract of its own); a blank payer takes the default rows (the same windows).
    payers = ["Aetna", "Aetna", "Aetna", "Humana Medicare Advantage", None, "Aetna"]
    kinds = ["timely_filing", "corrected_claim", "appeal", "appeal", "appeal", "redetermination"]
    got = excel("AUDIT_DEADLINE", column(payers), SERVICE, REMIT, column(kinds), M)
    assert shown(got) == column(
        [COMMERCIAL_FILING, COMMERCIAL_CORRECTED]
        + [COMMERCIAL_APPEAL] * 3
        + [COMMERCIAL_APPEAL]  # redetermination is the appeal's deadline
    )
    medicaid = excel("AUDIT_DEADLINE", "PA Medicaid", SERVICE, REMIT, "timely filing", M)
    assert shown(medicaid) == [[SERVICE + timedelta(days=365)]]


def test_dates_as_serials_date_cells_and_text(excel):
    services = [serial(SERVICE), datetime(2026, 1, 15), "01/15/2026", "2026-01-15", " 46037 "]
    assert serial(SERVICE) == 46037
    got = excel("AUDIT_DEADLINE", "Medicare", column(services), serial(REMIT), "appeal", M)
    assert shown(got) == column([MEDICARE_REDETERMINATION] * 5)
    filing = excel("AUDIT_DEADLINE", "Medicare", column(services), M, "timely_filing", M)
    assert shown(filing) == column([MEDICARE_FILING] * 5)


def test_a_blank_remittance_date_counts_from_the_date_of_service(excel):
    # The remittance is never earlier than the service: counting from the service gives an
    # earlier deadline than the real one, never a later one. Filing deadlines do not change.
    from_service = {
        "redetermination": SERVICE + timedelta(days=5 + 120),
        "appeal": SERVICE + timedelta(days=180),
        "timely_filing": MEDICARE_FILING,
    }
    payers = column(["Medicare", "Aetna", "Medicare"])
    kinds = column(list(from_service))
    expected = column(list(from_service.values()))
    for blank in (M, "", None, column([None, "", None])):
        got = excel("AUDIT_DEADLINE", payers, SERVICE, blank, kinds, M)
        assert shown(got) == expected, blank
    # a remittance in some rows only: those count from it
    some = excel("AUDIT_DEADLINE", payers, SERVICE, column([REMIT, None, None]), kinds, M)
    assert shown(some)[0] == [MEDICARE_REDETERMINATION] and shown(some)[1:] == expected[1:]


def test_blank_rows_give_blank_cells(excel):
    # A column selected past the last row: rows without any date are blank, not messages.
    got = excel(
        "AUDIT_DEADLINE", column(["Aetna", None, None]), column([SERVICE, None, ""]), M, "appeal", M
    )
    assert shown(got) == [[SERVICE + timedelta(days=180)], [""], [""]]
    # a remittance without a service date answers the windows that count from the remittance
    got = excel(
        "AUDIT_DEADLINE",
        "Aetna",
        column([None, None]),
        column([REMIT, REMIT]),
        column(["appeal", "timely_filing"]),
        M,
    )
    assert shown(got) == [
        [COMMERCIAL_APPEAL],
        ["auditkit: dos is blank (the timely_filing deadline counts from the date of service)"],
    ]


def test_a_bad_date_is_a_message_in_its_own_row_only(excel):
    got = excel(
        "AUDIT_DEADLINE",
        "Medicare",
        column([SERVICE, "13/45/2026", SERVICE, SERVICE]),
        column([REMIT, REMIT, "Feb 30", date(2026, 1, 2)]),
        "redetermination",
        M,
    )
    assert shown(got) == [
        [MEDICARE_REDETERMINATION],
        ["auditkit: dos: not a date: '13/45/2026'"],
        ["auditkit: remit_date: not a date: 'Feb 30'"],
        ["auditkit: remit_date 2026-01-02 is before the date of service 2026-01-15"],
    ]


def test_kinds(excel):
    # one kind cell applies to every row: a blank or unknown one is one message
    unknown = excel("AUDIT_DEADLINE", "Aetna", column([SERVICE] * 3), M, "apeal", M)
    assert unknown == [
        [
            "auditkit: kind 'apeal' is not a deadline kind (use timely_filing, corrected_claim, "
            "appeal or redetermination)"
        ]
    ]
    blank = excel("AUDIT_DEADLINE", "Aetna", column([SERVICE] * 3), M, M, M)
    assert shown(blank)[0][0].startswith("auditkit: kind is blank (use timely_filing")
    # a kind per row: an unknown or missing one is that row's message; case and spaces do not
    # matter
    got = excel(
        "AUDIT_DEADLINE",
        "Aetna",
        column([SERVICE] * 4),
        M,
        column(["Timely Filing", "filing", None, "TIMELY-FILING"]),
        M,
    )
    assert shown(got) == [
        [COMMERCIAL_FILING],
        [
            "auditkit: kind 'filing' is not a deadline kind (use timely_filing, corrected_claim,"
            " appeal or redetermination)"
        ],
        ["auditkit: kind is blank (use timely_filing, corrected_claim, appeal or redetermination)"],
        [COMMERCIAL_FILING],
    ]


def test_ranges_of_different_lengths(excel):
    got = excel(
        "AUDIT_DEADLINE", column(["Aetna", "Medicare"]), column([SERVICE] * 3), M, "appeal", M
    )
    assert got == [
        [
            "auditkit: payer has 2 cells but dos has 3 (select ranges with the same number of "
            "rows, or one cell for all rows)"
        ]
    ]
    kinds = excel("AUDIT_DEADLINE", "Aetna", column([SERVICE] * 3), M, column(["appeal"] * 2), M)
    assert kinds[0][0].startswith("auditkit: dos has 3 cells but kind has 2")


def test_the_answer_takes_the_shape_of_the_rows(excel):
    # a row of dates gives a row of deadlines
    got = excel(
        "AUDIT_DEADLINE", "Aetna", [[SERVICE, SERVICE + timedelta(days=1)]], M, "timely_filing", M
    )
    assert shown(got) == [[COMMERCIAL_FILING, COMMERCIAL_FILING + timedelta(days=1)]]


def test_a_config_brings_payer_overrides_and_a_replacement_file(excel, tmp_path):
    packaged = (HERE / "deadlines.csv").read_text(encoding="utf-8")
    commercial_filing = "commercial,timely_filing,90,,date_of_service,0,"
    assert commercial_filing in packaged
    (tmp_path / "my_deadlines.csv").write_text(
        packaged.replace(commercial_filing, "commercial,timely_filing,120,,date_of_service,0,"),
        encoding="utf-8",
    )
    config = tmp_path / "auditkit.toml"
    config.write_text(
        '[reference]\ndeadlines = "my_deadlines.csv"\n\n'
        '[deadlines."Keystone Health"]\ntimely_filing = 180\nappeal = 60\n\n'
        '[deadlines."County Plan"]\npayer_class = "medicaid"\n',
        encoding="utf-8",
    )
    payers = column(["Aetna", " keystone  health ", "Keystone Health", "County Plan", "Medicare"])
    kinds = column(["timely_filing", "timely_filing", "appeal", "timely_filing", "appeal"])
    got = excel("AUDIT_DEADLINE", payers, SERVICE, REMIT, kinds, str(config))
    assert shown(got) == column(
        [
            SERVICE + timedelta(days=120),  # the replacement file's commercial row
            SERVICE + timedelta(days=180),  # the payer's own window (case and spaces ignored)
            REMIT + timedelta(days=60),
            SERVICE + timedelta(days=365),  # a payer put in the Medicaid class
            MEDICARE_REDETERMINATION,  # rows the config does not touch
        ]
    )
    # without the config, the packaged rules
    plain = excel("AUDIT_DEADLINE", payers, SERVICE, REMIT, kinds, M)
    assert shown(plain)[:2] == [[COMMERCIAL_FILING], [COMMERCIAL_FILING]]
    # an empty config cell is no config
    assert excel("AUDIT_DEADLINE", payers, SERVICE, REMIT, kinds, [[None]]) == plain


def test_a_bad_config_is_one_message(excel, tmp_path):
    config = tmp_path / "auditkit.toml"
    config.write_text('[deadlines."Keystone Health"]\nappeal = "soon"\n', encoding="utf-8")
    got = excel("AUDIT_DEADLINE", "Keystone Health", SERVICE, REMIT, "appeal", str(config))
    assert (
        got[0][0].startswith("auditkit: ") and '[deadlines."Keystone Health"] appeal' in got[0][0]
    )
    missing = excel("AUDIT_DEADLINE", "Aetna", SERVICE, REMIT, "appeal", str(tmp_path / "no.toml"))
    assert missing[0][0].startswith("auditkit: ") and "config file not found" in missing[0][0]


# -- the library --------------------------------------------------------------------------------


def test_deadline_table_says_which_rule_and_date():
    found = ranges.deadline_table(
        ["Medicare", "Medicare"], [SERVICE, SERVICE], [REMIT, None], "redetermination"
    )
    assert list(found.columns) == list(ranges.deadlines.DEADLINE_COLUMNS)
    assert list(found["deadline"]) == [
        pd.Timestamp(MEDICARE_REDETERMINATION),
        pd.Timestamp(SERVICE + timedelta(days=125)),
    ]
    assert list(found["deadline_kind"]) == ["redetermination"] * 2
    assert found["rule"].str.contains("42 CFR 405.942").all()
    assert found.loc[0, "source_date_used"].startswith("remittance date 2026-02-01")
    assert found.loc[1, "source_date_used"].startswith(
        "remittance date missing: date of service 2026-01-15 used"
    )
    assert found["problem"].isna().all()


def test_deadline_table_errors():
    with pytest.raises(InputError, match="dos is missing"):
        ranges.deadline_table("Aetna", None, None, "appeal")
    with pytest.raises(ConfigError, match=r'\[deadlines."X"\] apeal: unknown key'):
        ranges.deadline_table(
            "X", SERVICE, None, "appeal", config={"deadlines": {"X": {"apeal": 10}}}
        )
