"""Stable pseudonyms for patient-identifying columns, so a workbook can leave the practice.

The same patient gets the same pseudonym across all files of one run (one :class:`Redactor`),
and different pseudonyms in different runs unless the caller supplies the same key. Pseudonyms
are keyed hashes (HMAC-SHA256), so they cannot be reversed without the key, which is never
written anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import pandas as pd

from auditkit.claims import IDENTIFYING


class Redactor:
    """Replaces identifying values with pseudonyms that are stable within one run."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)

    def pseudonym(self, value: str, prefix: str = "PT") -> str:
        digest = hmac.new(self._key, value.strip().upper().encode("utf-8"), hashlib.sha256)
        return f"{prefix}-{digest.hexdigest()[:10].upper()}"

    def _column(self, values: pd.Series, prefix: str) -> pd.Series:
        # Work on the distinct values only: a practice has far fewer patients than lines.
        text = values.astype("string")
        uniques = text.dropna().unique()
        table = {v: self.pseudonym(str(v), prefix) for v in uniques}
        return text.map(table, na_action="ignore").astype("string")

    def frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return a copy of ``frame`` with patient ids and names replaced by pseudonyms.

        A patient's name is pseudonymised from the patient id when both are present, so the
        name column cannot be linked back through spelling variants.
        """
        out = frame.copy()
        if "patient_id" in out.columns:
            out["patient_id"] = self._column(out["patient_id"], "PT")
            if "patient_name" in out.columns:
                out["patient_name"] = ("Patient " + out["patient_id"].str[3:]).astype("string")
        elif "patient_name" in out.columns:
            out["patient_name"] = self._column(out["patient_name"], "PATIENT")
        return out


def identifying_values(frame: pd.DataFrame) -> set[str]:
    """Every distinct identifying value in ``frame`` (used by tests and the leak check)."""
    values: set[str] = set()
    for name in IDENTIFYING:
        if name in frame.columns:
            values.update(str(v) for v in frame[name].dropna().unique() if str(v).strip())
    return values
