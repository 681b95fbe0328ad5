"""Every dollar counted once: the counting rule (auditkit.engine.money) and what the summary,
the JSON and the sample practices make of it."""

from __future__ import annotations

import pandas as pd
import pytest

from auditkit.engine.money import settle
from auditkit.engine.runner import run_audits
from auditkit.synth import generate
from auditkit.synth.revenue import fee_schedule

ORDER = ["a", "b", "c"]


def frame(*rows: tuple) -> pd.DataFrame:
    """Findings (audit, scope, dollars, covers, counted-eligible)."""
    return pd.DataFrame(rows, columns=["audit", "scope", "dollars_at_risk", "covers", "counted"])


def test_a_line_counted_by_two_findings_counts_in_the_more_specific_one() -> None:
    found = frame(
        ("a", "payer", 500.0, "C1:1|C2:1", True),  # a denial pattern over two denied lines
        ("b", "line", 80.0, "C1:1", True),  # the missing side modifier on one of them
    )
    assert settle(found, ORDER).tolist() == [False, True]


def test_among_equally_specific_findings_the_largest_wins_then_the_first_audit() -> None:
    found = frame(
        ("a", "line", 60.0, "C1:1", True),
        ("b", "line", 90.0, "C1:1", True),
        ("c", "line", 90.0, "C1:1", True),
        ("a", "line", 40.0, "C2:1", True),
    )
    assert settle(found, ORDER).tolist() == [False, True, False, True]


def test_roll_ups_zero_amounts_and_money_on_no_line() -> None:
    found = frame(
        ("a", "practice", 9000.0, "", False),  # A/R over 90 days: its claims carry the money
        ("a", "claim", 700.0, "C1:1|C1:2", True),
        ("b", "line", 0.0, "C1:1", True),  # no money: does not take the line from the claim
        ("c", "line", 250.0, "", True),  # an unbilled month: on no billed line
    )
    assert settle(found, ORDER).tolist() == [False, True, False, True]


def test_a_finding_that_loses_one_of_its_lines_is_not_counted() -> None:
    found = frame(
        ("a", "claim", 700.0, "C1:1|C1:2", True),
        ("b", "line", 100.0, "C1:2", True),
    )
    # Counting less rather than splitting: the claim's other line is left out of the total.
    assert settle(found, ORDER).tolist() == [False, True]


def test_naming_a_line_twice_does_not_compete_with_itself() -> None:
    assert settle(frame(("a", "claim", 5.0, "C1:1|C1:1", True)), ORDER).tolist() == [True]


@pytest.fixture(scope="module")
def messy_run():
    """A generated practice with its planted problems and a fee schedule: many lines are
    flagged by more than one audit."""
    lines = generate(6000, 17)
    return lines, run_audits(lines, fee_schedule=fee_schedule())


def test_the_total_counts_each_line_once_and_never_exceeds_the_charges(messy_run) -> None:
    lines, result = messy_run
    found = result.findings
    counted = found[found["counted"]]
    assert result.summary["dollars_at_risk"] == pytest.approx(counted["dollars_at_risk"].sum())
    # The plain sum would count some lines several times: that is what the rule prevents.
    assert found["dollars_at_risk"].sum() > result.summary["dollars_at_risk"]
    keys = counted["covers"][counted["covers"] != ""].str.split("|").explode()
    assert keys.is_unique, "a line's money is in at most one counted finding"
    on_lines = counted.loc[counted["covers"] != "", "dollars_at_risk"].sum()
    assert on_lines <= lines["charge"].sum()
    by_basis = result.summary["dollars_at_risk_by_basis"]
    assert sum(by_basis.values()) == pytest.approx(result.summary["dollars_at_risk"], abs=0.05)
    assert "none" not in by_basis


def test_every_amount_says_what_it_is(messy_run) -> None:
    _, result = messy_run
    found = result.findings
    priced = found[found["dollars_at_risk"] != 0]
    assert not priced.empty and (priced["dollars_basis"] != "none").all()
    # Roll-ups and rates are never in the total.
    assert not found.loc[found["audit"].eq("clean-claim-rate"), "dollars_at_risk"].any()
    aging = found[found["audit"].eq("ar-aging") & found["scope"].eq("practice")]
    assert not aging["counted"].any()
