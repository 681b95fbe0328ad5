"""Facts defined once: the export suffixes the readers accept are the ones batch mode and the
macro's folder scan pick up; the claim-status groups are the ones every measure uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditkit import claims
from auditkit.batch import discover_clients
from auditkit.excel.macro import _exports
from auditkit.excel.xl_settings import all_settings
from auditkit.ingest.formats import EXPORT_SUFFIXES


@pytest.mark.parametrize("suffix", [".xlsb", ".ods", ".tsv", ".era"])
def test_batch_and_macro_find_every_kind_of_export_the_readers_take(
    tmp_path: Path, suffix: str
) -> None:
    assert suffix in EXPORT_SUFFIXES
    client = tmp_path / "valley"
    client.mkdir()
    export = client / f"jan{suffix}"
    export.write_bytes(b"x")
    (client / "notes.docx").write_bytes(b"x")
    (found,) = discover_clients(tmp_path)
    assert found.inputs == [str(export)]
    setting = next(s for s in all_settings() if s.key == "auditkit_export")
    assert _exports(str(client), client, setting, tmp_path / "book.xlsm") == [export]


def test_status_groups_nest() -> None:
    assert set(claims.PAID_STATUSES) < set(claims.ADJUDICATED_STATUSES)
    assert set(claims.ADJUDICATED_STATUSES) < set(claims.SETTLED_STATUSES)
    assert set(claims.SETTLED_STATUSES) | {"pending"} == set(claims.STATUSES)
    assert "pending" in claims.OPEN_STATUSES and "paid" not in claims.OPEN_STATUSES
