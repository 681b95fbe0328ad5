"""The work list (auditkit.measures.worklist) and its deadline table (deadlines.csv): one
hand-written case per item type, per deadline kind, and per rule about what leaves the list."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from audit_helpers import make_lines

import auditkit
from auditkit import reference
from auditkit.config import REFERENCE_KEYS
from auditkit.engine.settings import load_settings
from auditkit.errors import ConfigError
from auditkit.measures.worklist import WORKLIST_COLUMNS, payer_classes, work_list
from auditkit.reference.deadlines import deadline_rules

AS_OF = "2024-06-01"


def items(lines: pd.DataFrame, as_of: str = AS_OF, **kwargs: object) -> pd.DataFrame:
    """The work list indexed by claim id (each case's claims have one line)."""
    out = work_list(lines, as_of, **kwargs)
    assert list(out.columns) == list(WORKLIST_COLUMNS)
    return out.set_index("claim_id")


def day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# --------------------------------------------------------------------------------------------
# the packaged table


def test_packaged_deadlines_hold_the_regulations_and_mark_the_defaults() -> None:
    """42 CFR 424.44: a Medicare claim is filed within one calendar year of the service.
    42 CFR 405.942: a redetermination is asked for within 120 days of receiving the initial
    determination, and the notice counts as received 5 days after its date. Everything else
    depends on the state or the contract: defaults, low confidence, said so in the source."""
    rules = deadline_rules().set_index(["payer_class", "kind"])
    filing = rules.loc[("medicare", "timely_filing")]
    assert (filing["months"], filing["days"], filing["measured_from"]) == (12, 0, "date_of_service")
    assert "424.44" in filing["source"] and filing["confidence"] == "C"
    appeal = rules.loc[("medicare", "redetermination")]
    assert (appeal["days"], appeal["presumed_receipt_days"], appeal["slot"]) == (120, 5, "appeal")
    assert appeal["measured_from"] == "remittance_date" and "405.942" in appeal["source"]
    assert rules.loc[("medicaid", "timely_filing"), "days"] == 365
    assert rules.loc[("commercial", "timely_filing"), "days"] == 90
    assert rules.loc[("commercial", "corrected_claim"), "days"] == 90
    assert rules.loc[("commercial", "appeal"), "days"] == 180
    defaults = rules.drop(index="medicare", level="payer_class")
    assert set(defaults["confidence"]) == {"V"}
    assert defaults["source"].str.contains("DEFAULT").all()
    assert "deadlines" in REFERENCE_KEYS, "replaceable from [reference] like every table"


def test_a_replacement_deadline_file_from_the_config_is_used(tmp_path: Path) -> None:
    """A practice whose commercial contracts allow 365 days to file replaces the table."""
    (tmp_path / "my_deadlines.csv").write_text(
        "payer_class,kind,days,months,measured_from,source,confidence\n"
        "commercial,timely_filing,365,,date_of_service,our contracts,C\n"
        "default,timely_filing,90,,date_of_service,x,V\n"
        "default,corrected_claim,90,,remittance_date,x,V\n"
        "default,appeal,180,,remittance_date,x,V\n",
        encoding="utf-8",
    )
    (tmp_path / "auditkit.toml").write_text('[reference]\ndeadlines = "my_deadlines.csv"\n')
    config = load_settings(tmp_path / "auditkit.toml")
    rules = deadline_rules(config.reference["deadlines"])
    assert (rules["presumed_receipt_days"] == 0).all(), "a file may leave that column out"
    lines = make_lines(
        [{"claim_id": "U1", "payer": "Acme Health", "status": "pending", "charge": 90.0}],
        {"date_of_service": "2024-03-04", "submitted_date": None},
    )
    lines["submitted_date"] = pd.NaT
    got = items(lines, deadlines=rules).loc["U1"]
    assert got["deadline"] == day("2025-03-04") and "our contracts" in got["deadline_rule"]


@pytest.mark.parametrize(
    ("row", "column", "says"),
    [
        ("commercial,appeal,,,remittance_date,x,V", "days", "exactly one of them"),
        ("commercial,appeal,30,2,remittance_date,x,V", "days", "exactly one of them"),
        ("commercial,appeal,thirty,,remittance_date,x,V", "days", "whole number"),
        ("commercial,appeals,30,,remittance_date,x,V", "kind", "one of"),
        ("default,redetermination,30,,remittance_date,x,V", "kind", "one row per payer class"),
    ],
)
def test_a_bad_deadline_file_names_row_and_column(
    tmp_path: Path, row: str, column: str, says: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "payer_class,kind,days,months,measured_from,source,confidence\n"
        "default,timely_filing,90,,date_of_service,x,V\n"
        "default,corrected_claim,90,,remittance_date,x,V\n"
        "default,appeal,180,,remittance_date,x,V\n" + row + "\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        deadline_rules(path)
    assert str(err.value).startswith(f"{path}, row 5, column '{column}'")
    assert says in str(err.value)


def test_a_deadline_file_without_a_default_row_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "payer_class,kind,days,months,measured_from,source,confidence\n"
        "commercial,appeal,30,,remittance_date,x,V\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="no 'default' row for timely_filing, corrected_claim"):
        deadline_rules(path)


def test_payer_classes_read_names_and_plans() -> None:
    payers = pd.Series(["Medicare", "Keystone", "State MEDICAID", "Humana", "", None])
    plans = pd.Series(["Part B", "Medicare Part B", None, "Medicare Advantage", None, None])
    got = payer_classes(payers, plans).tolist()
    assert got == ["medicare", "medicare", "medicaid", "commercial", "default", "default"]


# --------------------------------------------------------------------------------------------
# item types and deadline kinds


def test_medicare_denial_to_appeal_is_a_redetermination_from_receipt() -> None:
    """42 CFR 405.942: 120 days from receipt of the initial determination, receipt presumed 5
    days after the remittance's date: remittance 2024-04-01 -> received 04-06 -> 08-04."""
    lines = make_lines(
        [
            {
                "claim_id": "M1",
                "payer": "Medicare",
                "status": "denied",
                "denial_codes": "CO-50",
                "charge": 400.0,
                "paid_date": "2024-04-01",
            }
        ]
    )
    got = items(lines).loc["M1"]
    assert got["item"] == "denied" and got["action"] == "appeal"
    assert got["deadline_kind"] == "redetermination"
    assert got["deadline"] == day("2024-08-04") and got["days_left"] == 64
    assert (
        got["deadline_source_date_used"] == "remittance date 2024-04-01 + 5 days presumed receipt"
    )
    assert got["reason"] == "CO-50 not medically necessary" and got["cause"] == "medical necessity"
    assert got["amount"] == 400.0 and got["amount_basis"] == "charge (no expected payment known)"
    assert "405.942" in got["deadline_rule"] and "confidence C" in got["deadline_rule"]


def test_commercial_denial_a_corrected_claim_fixes_counts_from_the_remittance() -> None:
    """A missing modifier (CO-4) is fixed by a corrected claim: the commercial default gives 90
    days from the remittance (a default: contracts differ)."""
    lines = make_lines(
        [
            {
                "claim_id": "K1",
                "status": "denied",
                "denial_codes": "CO-4",
                "charge": 250.0,
                "paid_date": "2024-04-15",
            }
        ]
    )
    got = items(lines).loc["K1"]
    assert (got["action"], got["deadline_kind"]) == ("correct_and_resubmit", "corrected_claim")
    assert got["deadline"] == day("2024-07-14") and got["days_left"] == 43
    assert got["deadline_rule"].startswith("commercial corrected_claim: 90 days")


def test_commercial_denial_to_appeal_has_180_days_and_uses_the_expected_payment() -> None:
    lines = make_lines(
        [
            {
                "claim_id": "K2",
                "status": "denied",
                "denial_codes": "CO-197",
                "charge": 900.0,
                "paid_date": "2024-05-01",
                "cpt": "64483",
            }
        ]
    )
    expected = pd.Series([512.34], index=lines.index)
    got = items(lines, expected=expected).loc["K2"]
    assert (got["action"], got["deadline_kind"]) == ("appeal", "appeal")
    assert got["deadline"] == day("2024-10-28")
    assert got["reason"] == "CO-197 prior authorization absent"
    assert (got["amount"], got["amount_basis"]) == (512.34, "expected payment")


def test_unsubmitted_medicare_charge_has_a_year_from_the_date_of_service() -> None:
    """42 CFR 424.44: filed within 1 calendar year after the date of service."""
    lines = make_lines(
        [
            {"claim_id": "S1", "payer": "Medicare", "status": "pending", "charge": 150.0},
            # the export does give submission dates: S1's blank one means not sent yet
            {"claim_id": "S0", "payer": "Medicare", "status": "paid", "charge": 90.0,
             "paid": 72.0, "adjustment": 18.0, "submitted_date": "2024-03-01",
             "paid_date": "2024-03-20"},
        ],
        {"date_of_service": "2024-02-29"},
    )  # fmt: skip
    got = items(lines).loc["S1"]
    assert (got["item"], got["action"]) == ("not_submitted", "submit")
    assert got["deadline_kind"] == "timely_filing"
    assert got["deadline"] == day("2025-02-28"), "12 calendar months, not 365 days"
    assert got["deadline_source_date_used"] == "date of service 2024-02-29"
    assert got["reason"] == "not submitted to the payer"


def test_rejected_medicaid_line_is_resent_within_the_filing_limit() -> None:
    """A rejected claim never reached adjudication: a new claim within the (state's) filing
    limit, 365 days by default."""
    lines = make_lines(
        [
            {
                "claim_id": "R1",
                "payer": "Ohio Medicaid",
                "status": "rejected",
                "charge": 75.0,
                "submitted_date": "2024-01-12",
            }
        ],
        {"date_of_service": "2024-01-10"},
    )
    got = items(lines).loc["R1"]
    assert (got["item"], got["action"]) == ("rejected", "correct_and_resubmit")
    assert got["deadline_kind"] == "timely_filing" and got["deadline"] == day("2025-01-09")
    assert got["deadline_rule"].startswith("medicaid timely_filing: 365 days")


def test_pending_past_the_usual_time_is_followed_up_and_a_recent_one_is_not() -> None:
    lines = make_lines(
        [
            {"claim_id": "P1", "status": "pending", "submitted_date": "2024-04-01"},
            {"claim_id": "P2", "status": "pending", "submitted_date": "2024-05-20"},
        ],
        {"date_of_service": "2024-03-28", "charge": 120.0},
    )
    got = items(lines)
    assert list(got.index) == ["P1"]
    assert (got.loc["P1", "item"], got.loc["P1", "action"]) == ("pending", "follow_up")
    assert got.loc["P1", "deadline_kind"] == "timely_filing"
    assert got.loc["P1", "reason"] == "no payer decision after 61 days (usual for this payer: 30)"


def test_the_usual_time_to_pay_is_the_payers_own_median() -> None:
    """Five paid lines of Slowpay took 80 days: a pending line 61 days old is not late yet."""
    paid = [
        {"status": "paid", "submitted_date": "2024-01-01", "paid_date": "2024-03-21"}
    ] * 5  # 80 days
    lines = make_lines(
        [*paid, {"claim_id": "P1", "status": "pending", "submitted_date": "2024-04-01"}],
        {"payer": "Slowpay", "charge": 100.0, "paid": 0.0},
    )
    assert work_list(lines, AS_OF).empty
    assert items(lines, "2024-06-21").loc["P1", "item"] == "pending"  # 81 days


def test_partially_paid_balance_and_underpayment() -> None:
    """A partly paid line's open balance is appealed; a paid line $40 under the expected
    payment is an underpayment; $0.50 under is within the tolerance."""
    lines = make_lines(
        [
            {"claim_id": "B1", "status": "partially_paid", "charge": 300.0, "paid": 100.0,
             "adjustment": 50.0, "patient_responsibility": 20.0},
            {"claim_id": "U1", "status": "paid", "charge": 300.0, "allowed": 160.0, "paid": 128.0},
            {"claim_id": "U2", "status": "paid", "charge": 300.0, "allowed": 199.5, "paid": 160.0},
        ],
        {"paid_date": "2024-05-10"},
    )  # fmt: skip
    expected = pd.Series([float("nan"), 200.0, 200.0], index=lines.index)
    got = items(lines, expected=expected)
    assert set(got.index) == {"B1", "U1"}
    assert (got.loc["B1", "item"], got.loc["B1", "amount"]) == ("partially_paid", 130.0)
    assert got.loc["B1", "amount_basis"].startswith("open balance")
    assert (got.loc["U1", "item"], got.loc["U1", "amount"]) == ("underpaid", 40.0)
    assert got.loc["U1", "amount_basis"] == "expected payment - allowed"
    assert got.loc["U1", "reason"] == "paid $40.00 below the expected $200.00"
    assert (got.loc["U1", "action"], got.loc["U1", "deadline_kind"]) == ("appeal", "appeal")
    assert got.loc["U1", "deadline"] == day("2024-11-06")


# --------------------------------------------------------------------------------------------
# what leaves the list


def test_a_denial_paid_later_on_a_corrected_claim_is_not_on_the_list() -> None:
    """D1 was denied (CO-4); the practice sent corrected claim D2 (new number, same patient,
    code and date), which was paid. D3 was denied and replaced under its own number
    (frequency 7), now paid. Neither denial is work any more."""
    lines = make_lines(
        [
            {"claim_id": "D1", "status": "denied", "denial_codes": "CO-4", "submitted_date": "2024-03-05",
             "paid_date": "2024-03-20"},
            {"claim_id": "D2", "status": "paid", "paid": 80.0, "submitted_date": "2024-03-25",
             "paid_date": "2024-04-10", "claim_frequency": 1},
            {"claim_id": "D3", "status": "denied", "denial_codes": "CO-16", "patient_id": "P2",
             "submitted_date": "2024-03-05", "paid_date": "2024-03-20", "claim_frequency": 1},
            {"claim_id": "D3", "status": "paid", "paid": 80.0, "patient_id": "P2",
             "submitted_date": "2024-03-05", "paid_date": "2024-03-20", "claim_frequency": 7},
        ],
        {"patient_id": "P1", "cpt": "64483", "date_of_service": "2024-03-01", "charge": 300.0},
    )  # fmt: skip
    assert work_list(lines, AS_OF).empty


def test_a_line_of_the_same_claim_does_not_close_its_twin_and_a_later_denial_carries_on() -> None:
    """Right and left injections billed together: the left one paid, the right one denied
    (CO-4): the right one is still work. E1 was denied, resubmitted as E2 and denied again:
    only E2, the latest, is on the list."""
    lines = make_lines(
        [
            {"claim_id": "T1", "line_number": 1, "status": "paid", "paid": 90.0, "modifiers": "LT",
             "patient_id": "P1"},
            {"claim_id": "T1", "line_number": 2, "status": "denied", "denial_codes": "CO-4",
             "modifiers": "RT", "patient_id": "P1"},
            {"claim_id": "E1", "status": "denied", "denial_codes": "CO-50", "patient_id": "P2",
             "paid_date": "2024-03-20"},
            {"claim_id": "E2", "status": "denied", "denial_codes": "CO-50", "patient_id": "P2",
             "paid_date": "2024-04-20"},
        ],
        {"cpt": "20610", "submitted_date": "2024-03-05", "charge": 200.0},
    )  # fmt: skip
    got = work_list(lines, AS_OF)
    assert list(zip(got["claim_id"], got["line"], strict=True)) == [("T1", 2), ("E2", 1)]


def test_a_passed_deadline_goes_to_write_off_review_after_the_open_items() -> None:
    """A commercial denial decided 2023-10-01 had 180 days to appeal (2024-03-29): by June it
    is a write-off to review, with the money lost, listed after the items still in time
    even though it is the largest."""
    lines = make_lines(
        [
            {"claim_id": "W1", "status": "denied", "denial_codes": "CO-50", "charge": 5000.0,
             "paid_date": "2023-10-01"},
            {"claim_id": "A1", "status": "denied", "denial_codes": "CO-50", "charge": 100.0,
             "paid_date": "2024-05-01"},
        ]
    )  # fmt: skip
    got = work_list(lines, AS_OF)
    assert got["claim_id"].tolist() == ["A1", "W1"] and got["rank"].tolist() == [1, 2]
    lost = got.set_index("claim_id").loc["W1"]
    assert lost["action"] == "write_off_review" and lost["deadline_kind"] == "appeal"
    assert lost["deadline"] == day("2024-03-29") and lost["days_left"] == -64
    assert lost["amount"] == 5000.0 and pd.isna(lost["priority"])


def test_a_pending_claim_submitted_in_time_is_not_written_off() -> None:
    """The payer had the claim before the filing limit: follow up, do not write it off."""
    lines = make_lines(
        [{"claim_id": "P1", "status": "pending", "submitted_date": "2024-01-05", "charge": 60.0}],
        {"date_of_service": "2024-01-02"},
    )
    got = items(lines).loc["P1"]
    assert got["action"] == "follow_up" and got["days_left"] < 0


# --------------------------------------------------------------------------------------------
# ranking, overrides, missing dates


def test_ranking_weighs_money_by_the_square_root_of_days_left() -> None:
    """$100 due in 1 day (priority 100) outranks $1,000 due in 121 days (90.91) and $60 due in
    4 days (30); the formula is amount / sqrt(max(days_left, 1))."""
    lines = make_lines(
        [
            {"claim_id": "BIG", "charge": 1000.0, "paid_date": "2024-04-03"},  # 180d: 09-30
            {"claim_id": "SOON", "charge": 100.0, "paid_date": "2023-12-05"},  # 180d: 06-02
            {"claim_id": "SMALL", "charge": 60.0, "paid_date": "2023-12-08"},  # 180d: 06-05
        ],
        {"status": "denied", "denial_codes": "CO-50"},
    )
    got = work_list(lines, AS_OF)
    assert got["claim_id"].tolist() == ["SOON", "BIG", "SMALL"]
    assert got["days_left"].tolist() == [1, 121, 4]
    assert got["priority"].tolist() == [100.0, 90.91, 30.0]


def test_a_payer_override_replaces_its_windows_and_class() -> None:
    """Keystone's contract allows 60 days to appeal; "County Plan" is a Medicaid plan whose
    name does not say so, and files within 180 days."""
    lines = make_lines(
        [
            {"claim_id": "K1", "payer": "Keystone", "status": "denied", "denial_codes": "CO-50",
             "paid_date": "2024-05-01"},
            {"claim_id": "K2", "payer": "Other", "status": "denied", "denial_codes": "CO-50",
             "paid_date": "2024-05-01"},
            {"claim_id": "C1", "payer": "County Plan", "status": "rejected",
             "date_of_service": "2024-01-10"},
        ],
        {"charge": 100.0},
    )  # fmt: skip
    overrides = {
        " keystone ": {"appeal": 60},
        "County Plan": {"payer_class": "medicaid", "timely_filing": 180},
    }
    got = items(lines, overrides=overrides)
    assert got.loc["K1", "deadline"] == day("2024-06-30")
    assert got.loc["K1", "deadline_rule"].startswith("override for this payer: 60 days")
    assert got.loc["K2", "deadline"] == day("2024-10-28"), "other payers keep the table's"
    assert got.loc["C1", "deadline"] == day("2024-07-08")
    with pytest.raises(ConfigError, match=r'\[deadlines."Keystone"\] appeal: expected a whole'):
        work_list(lines, AS_OF, overrides={"Keystone": {"appeal": "60"}})
    with pytest.raises(ConfigError, match=r'\[deadlines."Keystone"\] apeal: unknown key'):
        work_list(lines, AS_OF, overrides={"Keystone": {"apeal": 60}})


def test_missing_remittance_date_says_what_was_used_instead() -> None:
    """No remittance date: the submission date (the earliest the remittance can be, so the
    deadline is not later than the real one), else the date of service."""
    lines = make_lines(
        [
            {"claim_id": "N1", "submitted_date": "2024-03-10"},
            {"claim_id": "N2"},
            {"claim_id": "N3", "payer": "Medicare"},
        ],
        {"status": "denied", "denial_codes": "CO-50", "date_of_service": "2024-03-01",
         "charge": 10.0},
    )  # fmt: skip
    lines["paid_date"] = pd.NaT
    got = items(lines)
    assert got.loc["N1", "deadline_source_date_used"] == (
        "remittance date missing: submitted date 2024-03-10 used (the earliest possible)"
    )
    assert got.loc["N1", "deadline"] == day("2024-09-06")
    assert got.loc["N2", "deadline_source_date_used"] == (
        "remittance date missing: date of service 2024-03-01 used"
    )
    assert got.loc["N3", "deadline_source_date_used"] == (
        "remittance date missing: date of service 2024-03-01 used + 5 days presumed receipt"
    )
    assert got.loc["N3", "deadline"] == day("2024-07-04")


def test_work_list_of_a_real_csv_export(tmp_path: Path) -> None:
    """From export bytes to the list: the reader's canonical columns are all it needs."""
    path = tmp_path / "export.csv"
    path.write_text(
        "claim_id,date_of_service,rendering_provider,payer,cpt,charge,paid,status,denial_codes,"
        "paid_date\n"
        "X1,2024-03-01,Dr. Lee,Medicare,64483,800.00,0,denied,CO-50,2024-04-01\n"
        "X2,2024-03-01,Dr. Lee,Medicare,99213,120.00,96.00,paid,,2024-04-01\n",
        encoding="utf-8",
    )
    lines = auditkit.load(path).frame
    got = work_list(lines, AS_OF)
    assert got["claim_id"].tolist() == ["X1"]
    assert got.loc[0, "deadline"] == day("2024-08-04") and got.loc[0, "provider"] == "Dr. Lee"


def test_without_a_status_column_the_list_is_empty() -> None:
    lines = make_lines([{"claim_id": "Z1", "charge": 10.0}])
    assert work_list(lines, AS_OF).empty
    assert list(work_list(lines, AS_OF).columns) == list(WORKLIST_COLUMNS)


def test_reference_table_loader_knows_deadlines() -> None:
    assert len(reference.table("deadlines")) == len(deadline_rules())
