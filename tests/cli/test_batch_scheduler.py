"""`auditkit batch --scheduler`: relative paths, workers that cannot see the folder, and the
mapping-file hint of a client whose headers are unknown."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditkit import batch
from auditkit.cli import cli
from auditkit.errors import InputError

runner = CliRunner()


def run(*args: object):
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _index(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "index.csv", encoding="utf-8") as handle:
        return {r["client"]: r for r in csv.DictReader(handle)}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_relative_paths_work_on_a_dask_cluster(
    clients: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed")
    work = tmp_path / "work"
    work.mkdir()
    shutil.move(str(clients), work / "clients")
    (work / "settings").mkdir()
    (work / "settings" / "mapping.toml").write_text("[columns]\n", encoding="utf-8")
    # The workers start in this process's current folder; the command then runs from another
    # one, so a relative path that reached a worker unresolved would not be found there.
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        monkeypatch.chdir(work)
        result = run(
            "batch",
            "clients",
            "--out",
            "audits",
            "--mapping",
            "settings/mapping.toml",
            "--scheduler",
            cluster.scheduler_address,
        )
    assert result.exit_code == 1, result.output
    rows = _index(work / "audits")
    assert {k: r["status"] for k, r in rows.items()} == {
        "alpha_pain": "ok",
        "beacon_spine": "ok",
        "cedar_clinic": "error",
    }
    assert (work / "audits" / "alpha_pain.xlsx").is_file()
    assert (work / "audits" / "beacon_spine.json").is_file()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_workers_that_cannot_see_the_folder_stop_with_one_clear_line(
    clients: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed")
    # An in-process worker that sees nothing, as a worker on a machine without the share would.
    monkeypatch.setattr(batch, "_missing_paths", lambda paths: list(paths))
    monkeypatch.chdir(tmp_path)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        result = run(
            "batch", "clients", "--out", "audits", "--scheduler", cluster.scheduler_address
        )
    assert result.exit_code == 2, result.output
    error = result.output.strip().splitlines()[-1]
    assert error.startswith(f"auditkit: error: {clients.resolve()}: not found on Dask worker ")
    assert "shared (mounted) at the same path on every Dask worker" in error
    assert not (tmp_path / "audits" / "index.csv").exists()


class _FakeDask:
    def __init__(self, seen: dict[str, bool]) -> None:
        self.seen = seen

    def run(self, function, paths):
        return {
            worker: [] if sees else function(paths) + ["/elsewhere"]
            for worker, sees in self.seen.items()
        }


def test_check_names_the_path_and_the_worker() -> None:
    batch.check_workers_see(_FakeDask({"tcp://a:1": True}), ["/nope"])  # every worker sees it
    with pytest.raises(InputError) as caught:
        batch.check_workers_see(
            _FakeDask({"tcp://a:1": True, "tcp://b:1": False}), ["/definitely/not/here"]
        )
    text = str(caught.value)
    assert text.startswith("/definitely/not/here: not found on Dask worker tcp://b:1")
    assert "same path on every Dask worker" in text and "\n" not in text


#: A clean export whose claim-id header no alias knows.
UNKNOWN_HEADERS = """Ticket Ref,DOS,Rend Prov,Primary Ins,Proc Code,Mod 1,Units,Dx1,Chg Amt,Ins Paid,Status
C1,01/05/2026,Dr. Clean,Aetna,99213,,1,M54.16,150.00,95.00,Paid
C2,01/06/2026,Dr. Clean,Aetna,99214,,1,M54.16,210.00,140.00,Paid
"""


def _client(root: Path, name: str, mapping: str | None = None) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "charges.csv").write_text(UNKNOWN_HEADERS, encoding="utf-8")
    if mapping:
        (folder / mapping).write_text('[columns]\npayer = "Primary Ins"\n', encoding="utf-8")


def test_unknown_headers_hint_names_the_clients_mapping_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    root = Path("clients")
    _client(root, "valley")
    _client(root, "summit", "mapping.toml")
    _client(root, "lakeside", "lakeside.mapping.toml")
    (root / "loose.csv").write_text(UNKNOWN_HEADERS, encoding="utf-8")
    result = run("batch", "clients", "--out", "audits", "--jobs", "1")
    assert result.exit_code == 1, result.output
    rows = _index(tmp_path / "audits")
    assert {r["status"] for r in rows.values()} == {"error"}
    valley = rows["valley"]["error"]
    assert "no column found for required claim_id" in valley
    assert f"add {Path('clients/valley/mapping.toml')} to map the missing columns" in valley
    assert '[columns] claim_id = "Header"' in valley and "--mapping" not in valley
    summit = rows["summit"]["error"]
    assert f"edit {Path('clients/summit/mapping.toml')} to map the missing columns" in summit
    lakeside = rows["lakeside"]["error"]
    assert f"edit {Path('clients/lakeside/lakeside.mapping.toml')} to map" in lakeside
    loose = rows["loose"]["error"]
    assert "folder of its own with a mapping.toml, or pass --mapping" in loose
    # the same words on the terminal as in the index
    assert f"add {Path('clients/valley/mapping.toml')}" in result.output


def test_unknown_headers_hint_with_a_batch_wide_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _client(Path("clients"), "valley")
    Path("all.toml").write_text('[columns]\npayer = "Primary Ins"\n', encoding="utf-8")
    run("batch", "clients", "--out", "audits", "--jobs", "1", "--mapping", "all.toml")
    error = _index(tmp_path / "audits")["valley"]["error"]
    assert f"add {Path('clients/valley/mapping.toml')} (it takes precedence over all.toml)" in error


def test_other_client_errors_keep_their_hint(clients: Path, tmp_path: Path) -> None:
    run("batch", clients, "--out", tmp_path / "o", "--jobs", "1")
    error = _index(tmp_path / "o")["cedar_clinic"]["error"]
    assert "mapping.toml" not in error
