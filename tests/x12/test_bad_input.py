"""Bad 835 input: one clear InputError naming the file and the segment, never a traceback.

Trailer counts and control numbers that do not match are warnings (see test_real_world.py);
here they are errors only with ``strict_x12``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from auditkit.errors import InputError
from auditkit.ingest.x12 import iter_835, read_835, read_claim_lines

FIXTURES = Path(__file__).parent / "fixtures"
BAD = FIXTURES / "bad"

# file: (segment number in the error, words the message must hold). The truncated, se_count,
# unknown_segment and no_iea files are facet_co4.835 cut or edited; the segment numbers are
# positions in that file (one segment a line).
CASES = {
    # 6 ISA elements, then a line break
    "bad_isa.835": (1, "segment 1 (ISA): the interchange header is not valid"),
    # ST*837 in segment 3
    "claim_837.835": (3, "segment 3 (ST): this is an 837 claim file, not an 835 remittance"),
    "empty.835": (None, "the file is empty"),
    # ends after GE (segment 49): no IEA
    "no_iea.835": (49, "no IEA; the file looks truncated"),
    "random_text.835": (1, "segment 1: this is not an X12 835 file"),
    # SE is segment 48 (46 segments ST..SE after ISA and GS); SE01 edited to 45 (an error
    # with strict_x12 only, see STRICT_ONLY)
    "se_count.835": (48, "segment 48 (SE): segment count says 45 but the transaction has 46"),
    # cut after segment 25 (the LQ of claim FAC1001)
    "truncated.835": (25, "segment 25 (LQ): the file ends inside transaction 0411"),
    # XYZ inserted as segment 19
    "unknown_segment.835": (19, "segment 19 (XYZ): 'XYZ' is not a segment of an 835 (5010)"),
}


#: Files whose only fault is a trailer count or control number: refused with strict_x12 only.
STRICT_ONLY = {"se_count.835"}


def test_every_bad_file_has_a_case() -> None:
    assert sorted(p.name for p in BAD.glob("*.835")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_file_raises_one_clear_error(name: str) -> None:
    row, words = CASES[name]
    path = BAD / name
    for reader in (read_claim_lines, read_835):
        with pytest.raises(InputError) as caught:
            reader(path, strict_x12=True)
        if name not in STRICT_ONLY:  # refused whether strict or not
            with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
                reader(path)
        error = caught.value
        assert error.row == row
        assert error.path == str(path)
        text = str(error)
        assert words in text
        assert text.startswith(str(path))
        assert "\n" not in text and "Traceback" not in text


def test_unknown_segment_lists_the_valid_ones() -> None:
    with pytest.raises(InputError) as caught:
        read_835(BAD / "unknown_segment.835")
    assert "valid segments are AMT, BPR, CAS, CLP" in str(caught.value)


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = (FIXTURES / "facet_co4.835").read_text()
    assert old in text
    path = tmp_path / "edited.835"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("LX*2~", "ST*835*0412~", "segment 26 (ST): a new transaction starts before SE"),
        ("CLP*FAC1001", "CLX*FAC1001", "segment 12 (CLX): 'CLX' is not a segment"),
        (
            "ST*835*0411",
            "ST*835*0411~CAS*CO*4*1",
            "segment 4 (CAS): an adjustment (CAS) before any",
        ),
    ],
)
def test_structural_errors(tmp_path: Path, old: str, new: str, words: str) -> None:
    with pytest.raises(InputError) as caught:
        read_claim_lines(_edited(tmp_path, old, new))
    assert words in str(caught.value)


def test_iter_835_yields_good_transactions_before_the_bad_one(tmp_path: Path) -> None:
    # a stream: the first transaction is whole before the second, cut short, is found out
    text = (FIXTURES / "reversal_repay.835").read_text()
    path = tmp_path / "cut.835"
    path.write_text(text[: text.index("CLP*REV3001*1*880*440.51")])
    seen = []
    with pytest.raises(InputError, match="no SE"):
        for txn in iter_835(path):
            seen.append(txn.control_number)
    assert seen == ["1001"]


def test_one_bad_file_does_not_spoil_the_others() -> None:
    # each file is read on its own: the error names only the bad one
    results, errors = {}, {}
    for name in ["facet_co4.835", "bad/truncated.835", "epidural_co151.835"]:
        try:
            results[name] = read_claim_lines(FIXTURES / name)[0]
        except InputError as exc:
            errors[name] = str(exc)
    assert sorted(results) == ["epidural_co151.835", "facet_co4.835"]
    assert len(results["facet_co4.835"]) == 5 and len(results["epidural_co151.835"]) == 6
    assert list(errors) == ["bad/truncated.835"]
    assert "truncated.835" in errors["bad/truncated.835"]


def test_missing_file() -> None:
    with pytest.raises(InputError, match="cannot open the file"):
        read_835(FIXTURES / "no-such-file.835")
