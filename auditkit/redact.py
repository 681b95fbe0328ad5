"""Pseudonyms for what identifies a patient, so a workbook, its JSON and the terminal's output
can leave the practice (``--redact``).

What is replaced, and how:

* **Patient ids, names and claim ids** are replaced by keyed hashes (BLAKE2b, 64 bits, under a
  key that is never written anywhere): ``PT-...`` for a patient id, ``Patient ...`` for the name
  of a patient with an id (the id's pseudonym, so spelling variants of a name cannot link a
  row back), ``PATIENT-...`` for a name without an id, ``CLM-...`` for a claim id (in an 835
  the claim id is the patient control number, often the account number). One
  :class:`Redactor` (or one key shared by a batch) gives the same value the same pseudonym in
  every file, sheet, finding, ``covers`` key, message and the JSON, so cross-references hold.
  Claim ids are compared as the remittance join compares them (upper-case, trimmed, leading
  zeros dropped from all-digit ids): ``0001000055`` in an 835 and ``1000055`` in the export
  are one claim and get one pseudonym. Redaction runs after remittances are joined and before
  anything is audited, so the findings (their number and dollars) are those of the same run
  without ``--redact``.
* **Known patient values anywhere.** Every value seen in a patient id or name column (of any
  input: exports, remittances, the authorization export), and each part of a name ("Hall",
  "Joseph" of "Hall, Joseph"), is replaced wherever a whole cell of another text column
  equals it: a row whose cells are shifted puts a first name in the provider column.
* **Values where they cannot belong.** A row whose cells are shifted (an unquoted comma in a
  name moves every later cell one column right) carries a name or account number in a column
  where no other row has it. Such rows show themselves by values that cannot be read
  (``FileReport.unread_rows``): a row is *shifted* when it has an unreadable value in a column
  that reads well on most rows (a column unreadable on most rows is a format problem, not a
  shift). On a shifted row, a value of a text column (provider, payer, plan, code,
  authorization number, ...) that no other, well-read row has in that column is replaced by a
  pseudonym (``X-...``: pseudonymised rather than blanked, so a required column stays filled
  and the same stray value groups as one); a number that equals an all-digit patient id is
  blanked. A value that other rows have in the column (a real provider) is kept.
* **Messages.** A row problem's cell value is dropped and only its shape is said ("not a date
  (a 6-digit number)"); in every message and warning, quoted text that is not one of the
  file's headers is replaced by its shape, and known patient ids, claim ids and name parts of
  three or more characters by their pseudonyms (names by ``[name]``).

What is not covered: a shifted row whose cells all still read (the shift crossed text columns
only) and whose stray value is known from no patient column cannot be told from the data;
file names and headers are written as given.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from auditkit.claims import BY_NAME, IDENTIFYING
from auditkit.ingest.model import value_shape

if TYPE_CHECKING:
    from auditkit.ingest.model import ClaimLines, FileReport, RowProblem

#: Hex digits of a pseudonym: 64 bits, so a million distinct claim ids do not collide.
DIGEST_CHARS = 16
#: A name part shorter than this is not looked for in free text ("Li" would hit words).
MIN_TEXT_CHARS = 3
#: A column unreadable on more than this share of a file's lines has a format problem: its
#: unreadable values do not mark the row as shifted.
SHIFT_SIGNAL_SHARE = 0.5
#: Text columns whose values are written out as exported (the patient columns and the claim
#: id are pseudonymised whole).
FREE_TEXT: tuple[str, ...] = tuple(
    c.name
    for c in BY_NAME.values()
    if c.kind in ("text", "code") and c.name not in IDENTIFYING and c.name != "claim_id"
)
#: Numeric columns where a shifted all-digit account number can land.
NUMERIC: tuple[str, ...] = tuple(
    c.name for c in BY_NAME.values() if c.kind in ("money", "number", "int")
)

_WORD = re.compile(r"\w+")
_SEPARATORS = re.compile(r"([\-./#_]+)")
_QUOTED_OR_TOKEN = re.compile(r"""(?<!\w)('[^'\n]*'|"[^"\n]*")(?!\w)|\w(?:[\w\-./#]*\w)?""")


def _norm(value: str) -> str:
    return value.strip().upper()


def claim_key(value: str) -> str:
    """A claim id as the remittance join compares it (see :mod:`auditkit.ingest.x12_join`):
    upper-case, trimmed, and without leading zeros when all digits."""
    text = _norm(value)
    if text.isdigit():
        return text.lstrip("0") or "0"
    return text


def _claim_keys(values: pd.Series) -> pd.Series:
    """:func:`claim_key` of each value, on the whole column."""
    text = values.str.strip().str.upper()
    digits = text.str.fullmatch(r"\d+").fillna(False).astype(bool)
    stripped = text.str.lstrip("0").mask(lambda s: s == "", "0")
    return text.mask(digits, stripped)


class Redactor:
    """Replaces identifying values with pseudonyms that are stable within one run (or one
    batch, given one key); see the module docstring for what is replaced where."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)
        self._patients: dict[str, str] = {}  # normalised patient id -> pseudonym
        self._claims: dict[str, str] = {}  # claim_key -> pseudonym
        self._names: set[str] = set()  # normalised full names and name parts

    def pseudonym(self, value: str, prefix: str = "PT") -> str:
        digest = hashlib.blake2b(
            _norm(value).encode("utf-8"), key=self._key, digest_size=DIGEST_CHARS // 2
        )
        return f"{prefix}-{digest.hexdigest().upper()}"

    def claim(self, value: str) -> str:
        """The pseudonym of claim id ``value``."""
        key = claim_key(value)
        known = self._claims.get(key)
        if known is None:
            known = self._claims[key] = self.pseudonym(key, "CLM")
        return known

    # learning what identifies a patient

    def learn(self, *frames: pd.DataFrame) -> None:
        """Remember the patient ids, names and claim ids of ``frames`` (every input of a run,
        before any message is redacted: an 835's claim that matched no export line is named in
        the join's note)."""
        for frame in frames:
            if "patient_id" in frame.columns:
                self._patient_ids(_distinct(frame["patient_id"]))
            self._learn_names(frame)
            if "claim_id" in frame.columns:
                self._claim_ids(_distinct(frame["claim_id"]))

    def _learn_names(self, frame: pd.DataFrame) -> None:
        if "patient_name" in frame.columns:
            for value in _uniques(frame["patient_name"]):
                name = _norm(value)
                self._names.add(name)
                self._names.update(p for p in _WORD.findall(name) if len(p) >= 2)

    def _patient_ids(self, values: pd.Series) -> list[str]:
        """The pseudonym of each of the distinct ``values`` (patient ids), remembered."""
        return _pseudonyms(values, values.str.strip().str.upper(), self._patients, self, "PT")

    def _claim_ids(self, values: pd.Series) -> list[str]:
        """The pseudonym of each of the distinct ``values`` (claim ids), remembered."""
        return _pseudonyms(values, _claim_keys(values), self._claims, self, "CLM")

    def _known_cell(self, value: str) -> bool:
        text = _norm(value)
        return text in self._patients or text in self._names

    # the claim lines

    def frame(self, frame: pd.DataFrame, shifted: pd.Series | None = None) -> pd.DataFrame:
        """A copy of ``frame`` with patient ids, names and claim ids replaced by pseudonyms,
        cells of other text columns that hold a known patient value replaced, and, on the
        ``shifted`` rows (a boolean mask), values that do not belong in their column replaced
        or blanked (see the module docstring)."""
        self._learn_names(frame)  # the ids are learned as they are replaced
        out = frame.copy()
        if "patient_id" in out.columns:
            out["patient_id"] = _map_text(out["patient_id"], self._patient_ids)
            if "patient_name" in out.columns:
                named = ("Patient " + out["patient_id"].str[3:]).astype(out["patient_id"].dtype)
                # a name without an id still gets a pseudonym of its own
                alone = named.isna() & out["patient_name"].notna()
                if alone.any():
                    named[alone] = _map_text(out.loc[alone, "patient_name"], self._alone)
                out["patient_name"] = named
        elif "patient_name" in out.columns:
            out["patient_name"] = _map_text(out["patient_name"], self._alone)
        if "claim_id" in out.columns:
            out["claim_id"] = _map_text(out["claim_id"], self._claim_ids)
        if shifted is not None and not shifted.any():
            shifted = None
        for name in FREE_TEXT:
            if name in out.columns:
                out[name] = self._free_text(out[name], shifted)
        if shifted is not None:
            self._blank_account_numbers(out, shifted)
        return out

    def _alone(self, values: pd.Series) -> list[str]:
        """Pseudonyms of distinct patient names that come without a patient id."""
        return [self.pseudonym(v, "PATIENT") if v.strip() else v for v in values.tolist()]

    def _free_text(self, values: pd.Series, shifted: pd.Series | None) -> pd.Series:
        text = _as_text(values)
        stray = {v for v in _uniques(text) if self._known_cell(v)}
        if shifted is not None:
            mask = shifted.to_numpy(dtype=bool)
            belongs = {_norm(v) for v in _uniques(text[~mask])}
            stray.update(v for v in _uniques(text[mask]) if _norm(v) not in belongs)
        if not stray:
            return values
        table = {v: self.pseudonym(v, "X") for v in stray}
        replaced = text.map(table).astype(text.dtype)
        return text.mask(text.isin(list(stray)).fillna(False), replaced)

    def _blank_account_numbers(self, out: pd.DataFrame, shifted: pd.Series) -> None:
        digits = {k.lstrip("0") for k in self._patients if k.isdigit() and k.lstrip("0")}
        if not digits:
            return
        mask = shifted.to_numpy(dtype=bool)
        for name in NUMERIC:
            if name not in out.columns:
                continue
            numbers = pd.to_numeric(out[name], errors="coerce").astype("float64").to_numpy()
            whole = mask & np.isfinite(numbers) & (numbers == np.round(numbers)) & (numbers > 0)
            if not whole.any():
                continue
            hit = np.zeros(len(out), dtype=bool)
            hit[whole] = [str(int(n)) in digits for n in numbers[whole]]
            if hit.any():
                out.loc[hit, name] = pd.NA if out[name].dtype != "float64" else np.nan

    def shifted_rows(self, frame: pd.DataFrame, reports: Iterable[FileReport]) -> pd.Series:
        """The lines of ``frame`` whose cells are likely shifted: an unreadable value in a
        column that reads well on most lines of its file (``FileReport.unread_rows``)."""
        shifted = pd.Series(False, index=frame.index)
        if "source_file" not in frame.columns or "source_row" not in frame.columns:
            return shifted
        for report in reports:
            rows: set[int] = set()
            lines = max(int(report.rows), 1)
            for unread in report.unread_rows.values():
                if len(unread) <= SHIFT_SIGNAL_SHARE * lines:
                    rows.update(unread)
            if rows:
                in_file = frame["source_file"].astype("string").eq(report.path).fillna(False)
                at_row = pd.to_numeric(frame["source_row"], errors="coerce").isin(rows)
                shifted |= in_file.astype(bool) & at_row.astype(bool)
        return shifted

    def lines(self, lines: ClaimLines) -> ClaimLines:
        """``lines`` with the frame and every input's problems and warnings redacted (call
        :meth:`learn` first with the run's other inputs: remittances, authorizations)."""
        shifted = self.shifted_rows(lines.frame, lines.inputs)
        frame = self.frame(lines.frame, shifted)
        return dataclasses.replace(
            lines,
            frame=frame,
            inputs=[self.report(r) for r in lines.inputs],
            side_inputs=[self.report(r) for r in lines.side_inputs],
        )

    # messages

    def report(self, report: FileReport) -> FileReport:
        """A copy of ``report`` whose problems keep no cell value and whose messages and
        warnings name no patient and no claim."""
        headers = _headers(report)
        problems = [self.problem(p, headers) for p in report.problems]
        warnings = [self.text(w, headers) for w in report.warnings]
        return dataclasses.replace(report, problems=problems, warnings=warnings)

    def problem(self, problem: RowProblem, headers: Iterable[str] = ()) -> RowProblem:
        """``problem`` with its value replaced by the value's shape in the message."""
        message = self.text(problem.message, headers)
        if problem.value is not None:
            message = f"{message} ({value_shape(str(problem.value))})"
        return dataclasses.replace(problem, message=message, value=None)

    def text(self, text: str, headers: Iterable[str] = ()) -> str:
        """``text`` with quoted values that are not one of ``headers`` replaced by their shape
        and known patient ids, claim ids and names by their pseudonyms."""
        keep = set(headers)

        def swap(match: re.Match[str]) -> str:
            quoted = match.group(1)
            if quoted is None:
                return self._token(match.group(0))
            inner = quoted[1:-1]
            if inner in keep:
                return quoted
            known = self._known_token(inner, whole_cell=True)
            if known is not None:
                return f"'{known}'"
            return f"[{value_shape(inner)}]"

        return _QUOTED_OR_TOKEN.sub(swap, text)

    def _known_token(self, token: str, whole_cell: bool = False) -> str | None:
        if len(token.strip()) < MIN_TEXT_CHARS:
            return None
        # a claim id that is also an account number reads as the claim: messages name claims
        key = claim_key(token)
        if key in self._claims:
            return self._claims[key]
        text = _norm(token)
        if text in self._patients:
            return self._patients[text]
        if text in self._names:
            return "[name]"
        if whole_cell and any(p in self._names for p in _WORD.findall(text) if len(p) >= 3):
            return "[name]"
        return None

    def _token(self, token: str) -> str:
        known = self._known_token(token)
        if known is not None:
            return known
        if not _SEPARATORS.search(token):
            return token
        parts = _SEPARATORS.split(token)
        return "".join(
            part if i % 2 else (self._known_token(part) or part) for i, part in enumerate(parts)
        )

    def join_report(self, report: Any) -> Any:
        """A remittance join's report (:class:`auditkit.ingest.x12.JoinReport`) with its
        example claim ids replaced by their pseudonyms."""
        return dataclasses.replace(
            report,
            unmatched_remit_examples=[self.claim(c) for c in report.unmatched_remit_examples],
            unmatched_claim_examples=[self.claim(c) for c in report.unmatched_claim_examples],
        )


def _uniques(values: pd.Series) -> list[str]:
    return [str(v) for v in _as_text(values).dropna().unique() if str(v).strip()]


def _distinct(values: pd.Series) -> pd.Series:
    """The distinct values of a text column (no missing ones), as text."""
    return pd.Series(_as_text(values).dropna().unique())


def _pseudonyms(
    values: pd.Series, keys: pd.Series, known: dict[str, str], redactor: Redactor, prefix: str
) -> list[str]:
    """The pseudonym of each value (by its key, remembered in ``known``); blank stays blank."""
    out = []
    for value, key in zip(values.tolist(), keys.tolist(), strict=True):
        if not key:
            out.append(value)
            continue
        found = known.get(key)
        if found is None:
            found = known[key] = redactor.pseudonym(key, prefix)
        out.append(found)
    return out


def _map_text(values: pd.Series, pseudonyms: Callable[[pd.Series], list[str]]) -> pd.Series:
    """``values`` as text with each distinct value replaced by what ``pseudonyms`` gives the
    distinct values (computed once per distinct value, spread back to the lines by their codes:
    a practice has far fewer patients and claims than lines)."""
    text = _as_text(values)
    codes, uniques = pd.factorize(text)
    replaced = pd.array(pseudonyms(pd.Series(uniques, dtype=text.dtype)), dtype=text.dtype)
    return pd.Series(replaced.take(codes, allow_fill=True), index=values.index)


def _as_text(values: pd.Series) -> pd.Series:
    """``values`` as a string column, keeping the loader's storage (pyarrow) when it has one."""
    if isinstance(values.dtype, pd.StringDtype):
        return values
    return values.astype("string")


def _headers(report: FileReport) -> set[str]:
    """The file's own headers: quoted in messages, and not patient data."""
    names: set[str] = set(report.unmapped_headers) | set(report.ignored_headers)
    for header in report.mapping.values():
        names.update(header if isinstance(header, list) else [header])
    for header in list(names):
        names.update(part.strip() for part in header.split(" + "))
    names.update(p.column for p in report.problems if p.column)
    return names


def identifying_values(frame: pd.DataFrame) -> set[str]:
    """Every distinct identifying value in ``frame`` (used by tests and the leak check)."""
    values: set[str] = set()
    for name in IDENTIFYING:
        if name in frame.columns:
            values.update(str(v) for v in frame[name].dropna().unique() if str(v).strip())
    return values
