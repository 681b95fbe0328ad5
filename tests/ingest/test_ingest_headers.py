"""Header recognition: synonyms, numbered list columns, the header row, near misses."""

from __future__ import annotations

import pytest

from auditkit.claims import BY_NAME, COLUMNS
from auditkit.ingest import closest_headers
from auditkit.ingest.headers import (
    SynonymTable,
    best_header_row,
    count_columns,
    find_header_row,
    header_key,
    match_headers,
    score_row,
    synonyms,
)
from auditkit.ingest.mapping import load_mapping

# What PM systems call the columns (from the issue), and what each must be recognised as.
SPELLINGS = {
    "cpt": ["Proc Code", "CPT/HCPCS", "Procedure", "CPT Code", "HCPCS"],
    "rendering_provider": ["Rend Prov", "Rendering Physician", "Rendering Provider", "Provider"],
    "payer": ["Primary Ins", "Carrier", "Insurance", "Payer", "Primary Insurance"],
    "date_of_service": ["DOS", "Service Date", "Date of Service", "From Date"],
    "charge": ["Chg Amt", "Charges", "Charge Amount", "Billed"],
    "paid": ["Ins Paid", "Pmt", "Paid Amount", "Payment"],
    "allowed": ["Allowed", "Allowed Amt"],
    "adjustment": ["Adj", "Adjustment", "Write Off"],
    "patient_responsibility": ["Pt Resp", "Patient Balance"],
    "denial_codes": ["Denial Code", "Adj Reason", "Reason Code", "CARC"],
    "remark_codes": ["Remark", "RARC"],
    "modifiers": ["Modifiers", "Mods"],
    "diagnosis_codes": ["Diagnosis Codes"],
    "claim_id": ["Claim #", "Claim No", "Claim ID", "Encounter", "Visit #"],
    "patient_id": ["Acct #", "MRN", "Patient Account"],
    "patient_name": ["Patient", "Patient Name"],
    "status": ["Status", "Claim Status"],
    "units": ["Units", "Qty"],
    "place_of_service": ["POS"],
    "authorization_number": ["Auth #", "Prior Auth"],
    "submitted_date": ["Submitted", "Bill Date", "Date Billed"],
    "paid_date": ["Paid Date", "Check Date", "Posted"],
    "claim_frequency": ["Freq", "Claim Frequency"],
    "edited_before_submission": ["Edited", "Scrubber Edit"],
    "muscles_treated": ["Muscles", "Muscles Injected"],
    "spinal_levels": ["Levels", "Spinal Levels"],
    "laterality": ["Side", "Laterality"],
    "imaging_guidance": ["Guidance", "Imaging"],
    "cpm_minutes": ["CPM Minutes", "Care Mgmt Min"],
    "denial_group": ["Grp", "Group Code"],
}


@pytest.mark.parametrize(
    ("header", "name"), [(h, name) for name, hs in SPELLINGS.items() for h in hs]
)
def test_synonym_recognised(header, name):
    rec = synonyms().recognise(header)
    assert rec is not None and rec.name == name and rec.order is None


@pytest.mark.parametrize("header", ["CLAIM_#", "claim no.", "  Claim   # ", "Claim-No", "claim_no"])
def test_matching_ignores_case_spacing_and_punctuation(header):
    assert synonyms().recognise(header).name == "claim_id"


def test_every_canonical_column_has_spellings():
    table = synonyms()
    for col in COLUMNS:
        assert table.spellings(col.name), col.name
        # the canonical name itself is always understood
        assert table.recognise(col.name).name == col.name


def test_header_key():
    assert header_key("Claim #") == header_key("CLAIM NO") == "claimno"
    assert header_key("Dx-1") == "dx1"


@pytest.mark.parametrize(
    ("header", "name", "order"),
    [
        ("Mod 1", "modifiers", 1),
        ("Modifier 4", "modifiers", 4),
        ("MOD2", "modifiers", 2),
        ("Dx1", "diagnosis_codes", 1),
        ("Dx 12", "diagnosis_codes", 12),
        ("Diag 3", "diagnosis_codes", 3),
        ("ICD 1", "diagnosis_codes", 1),
        ("ICD-10 2", "diagnosis_codes", 2),
        ("Diag A", "diagnosis_codes", 1),
        ("Diag L", "diagnosis_codes", 12),
        ("CARC 2", "denial_codes", 2),
        ("RARC1", "remark_codes", 1),
    ],
)
def test_numbered_list_columns(header, name, order):
    rec = synonyms().recognise(header)
    assert (rec.name, rec.order) == (name, order)


def test_icd10_alone_is_a_whole_column_not_the_tenth():
    rec = synonyms().recognise("ICD-10")
    assert rec.name == "diagnosis_codes" and rec.order is None


def test_numbered_columns_read_in_numeric_order():
    headers = ["Claim #", "Dx10", "Dx2", "Dx1", "Mod 2", "Mod 1", "Dx9"]
    match = match_headers(headers)
    assert [headers[p] for p in match.columns["diagnosis_codes"]] == ["Dx1", "Dx2", "Dx9", "Dx10"]
    assert [headers[p] for p in match.columns["modifiers"]] == ["Mod 1", "Mod 2"]


def test_two_headers_for_one_column_first_synonym_wins_and_is_reported():
    headers = ["Provider", "Rendering Provider", "Claim #"]
    match = match_headers(headers)
    assert match.columns["rendering_provider"] == [1]
    assert match.unmapped == [0]
    assert any("'Provider' also looks like rendering_provider" in w for w in match.warnings)


def test_known_but_unused_headers_are_ignored_not_unmapped():
    match = match_headers(["Claim #", "Proc Desc", "Rendering NPI", "Colour"])
    assert match.ignored == [1, 2] and match.unmapped == [3]


def test_unknown_headers_are_unmapped_and_blank_ones_ignored():
    match = match_headers(["Claim #", "Favourite Colour", "", "DOS"])
    assert match.unmapped == [1]
    assert match.as_report(["Claim #", "Favourite Colour", "", "DOS"]) == {
        "claim_id": "Claim #",
        "date_of_service": "DOS",
    }


def test_find_header_row_below_titles():
    grid = [
        ["Charge Detail Report", "", ""],
        ["Date range: 01/01/2024 - 03/31/2024", "", ""],
        ["", "", ""],
        ["Claim #", "DOS", "Proc Code"],
        ["C1", "01/02/2024", "20552"],
    ]
    assert find_header_row(grid) == 3


def test_find_header_row_ignores_data_rows_with_header_like_words():
    grid = [["Claim", "Status", "Paid"], ["C1", "Paid", "10"]]
    assert find_header_row(grid) == 0


def test_find_header_row_fallback_to_fullest_row():
    grid = [["Report"], ["a", "b", "c"], ["1", "2", "3"]]
    assert find_header_row(grid) == 1
    assert find_header_row([["", ""], []]) == -1


def test_one_header_row_search_for_any_synonym_table():
    # the search side tables use with their own table: most distinct columns, earliest on a tie
    table = SynonymTable({header_key("Auth #"): ("auth", 0), header_key("Units"): ("units", 0)}, ())
    grid = [
        ["Authorizations", ""],
        ["Auth #", "Units"],
        ["Units", "Auth #"],
        ["A1", "3"],
    ]
    assert best_header_row(grid, table) == (1, 2)
    assert best_header_row([["A1", "3"]], table) == (-1, 0)
    # a header a mapping names counts as a column of its own
    assert count_columns(["Auth #", "Services Approved"], table) == 1
    assert count_columns(["Auth #", "Services Approved"], table, {"servicesapproved"}) == 2
    # the same search with the claim table is find_header_row's
    claims = [["Charge Detail Report"], ["Claim #", "DOS", "Proc Code"], ["C1", "1/2/24", "20552"]]
    assert best_header_row(claims, synonyms()) == (1, 3)
    assert find_header_row(claims) == 1


def test_mapping_headers_count_towards_the_header_row():
    mapping = load_mapping({"columns": {"claim_id": "Ticket No Zz", "cpt": "Service Zz"}})
    row = ["Ticket No Zz", "Service Zz", "Unknown"]
    assert score_row(row) == 0
    assert score_row(row, mapping) == 2
    assert find_header_row([["Title"], row, ["C1", "20552", "x"]], mapping) == 1


def test_closest_headers():
    headers = ["Servce Date", "Provider Nm", "Totally Unrelated", "CPT Codes"]
    assert closest_headers("date_of_service", headers)[0] == "Servce Date"
    assert closest_headers("cpt", headers)[0] == "CPT Codes"
    assert closest_headers("payer", ["Colour"]) == []


def test_auxiliary_column_is_known():
    assert "denial_group" not in BY_NAME  # not canonical: only feeds denial_codes
    assert synonyms().recognise("Grp").name == "denial_group"
