"""The synthetic samples with planted truth, and how a truth entity is matched to findings.

The generator (:mod:`auditkit.synth`) plants known cases for every audit in
:data:`auditkit.synth.AUDIT_IDS` and returns, per audit, ``{"expect": [entity, ...],
"controls": [entity, ...]}`` (see sample_exports/README.md, "Truth files"). An entity is a dict
whose keys say what kind of thing it is (a line, a claim, a provider, a code at a payer, ...):
:data:`KINDS` holds one matcher per kind, used for every audit, and :func:`hits` picks it.

:data:`SAMPLES` lists where the truth is checked (test_sample_truths.py): draws of the generator
(restricted to the columns an export flavour carries), the bundled export files read back by
:func:`auditkit.load`, and a clinicore export written afresh; each with its side tables (the
authorization export and the fee schedule) and the audits checked on it.
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import auditkit
from auditkit import synth
from auditkit.engine.runner import run_audits
from auditkit.ingest.side_tables import read_authorizations, read_fee_schedule
from auditkit.synth import revenue, samples

#: Every audit the generator plants cases for.
AUDIT_IDS: tuple[str, ...] = tuple(synth.AUDIT_IDS)
#: The three headline audits; their patterns (like the revenue ones) are sized for the bundled
#: samples' sizes and seeds.
HEADLINE = ("tpi-ratio", "paid-vs-denied", "clean-claim-rate")
REVENUE: tuple[str, ...] = tuple(revenue.REVENUE_AUDIT_IDS)
#: The coding-rule audits: every other planted audit. Their cases hold at any size.
CODING_AUDITS = tuple(a for a in AUDIT_IDS if a not in HEADLINE + REVENUE)

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_exports"


# --------------------------------------------------------------------------------------------
# matching an entity to findings

Entity = dict[str, Any]
#: A matcher gives the mask of the findings (of one audit) that are about an entity.
Matcher = Callable[[pd.DataFrame, Entity], pd.Series]


def _scope(mine: pd.DataFrame, scope: str) -> pd.Series:
    return mine["scope"] == scope


def _practice(mine: pd.DataFrame, e: Entity) -> pd.Series:
    """The whole practice (``{"scope": "practice"}``): the finding at that scope."""
    return _scope(mine, e["scope"])


def _claims(mine: pd.DataFrame, e: Entity) -> pd.Series:
    """A session or a patient (``claim_ids``): a finding on any of its claims."""
    return mine["claim_id"].isin([str(c) for c in e["claim_ids"]])


def _line(mine: pd.DataFrame, e: Entity) -> pd.Series:
    """A claim line (``claim_id``, ``line``, ``cpt``): the line finding about it."""
    mask = _scope(mine, "line") & (mine["claim_id"] == str(e["claim_id"]))
    return mask & (mine["line"] == e["line"]) & (mine["cpt"] == e["cpt"])


def _claim(mine: pd.DataFrame, e: Entity) -> pd.Series:
    """A claim (``claim_id`` without ``line``): the claim finding about it."""
    return _scope(mine, "claim") & (mine["claim_id"] == str(e["claim_id"]))


def _provider(mine: pd.DataFrame, e: Entity) -> pd.Series:
    """A provider, at a code (``cpt``) and a payer when the entity names them."""
    mask = _scope(mine, "provider") & (mine["provider"] == e["provider"])
    for key in ("cpt", "payer"):
        if key in e:
            mask &= mine[key] == e[key]
    return mask


def _family_at_payer(mine: pd.DataFrame, e: Entity) -> pd.Series:
    """A procedure family at a payer: the payer finding whose evidence names the family."""
    family = mine["evidence"].map(lambda evidence: evidence.get("family"))
    return _scope(mine, "payer") & (mine["payer"] == e["payer"]) & (family == e["family"])


def _code(mine: pd.DataFrame, e: Entity) -> pd.Series:
    """A code (``cpt``), at a payer when the entity names one."""
    mask = _scope(mine, "code") & (mine["cpt"] == e["cpt"])
    if "payer" in e:
        mask &= mine["payer"] == e["payer"]
    return mask


def _payer(mine: pd.DataFrame, e: Entity) -> pd.Series:
    """A payer as a whole."""
    return _scope(mine, "payer") & (mine["payer"] == e["payer"])


@dataclass(frozen=True)
class Kind:
    name: str
    #: An entity is of the first kind whose keys it all has.
    keys: frozenset[str]
    match: Matcher


KINDS: tuple[Kind, ...] = (
    Kind("practice", frozenset({"scope"}), _practice),
    Kind("session or patient", frozenset({"claim_ids"}), _claims),
    Kind("line", frozenset({"claim_id", "line"}), _line),
    Kind("claim", frozenset({"claim_id"}), _claim),
    Kind("provider", frozenset({"provider"}), _provider),
    Kind("family at a payer", frozenset({"family", "payer"}), _family_at_payer),
    Kind("code", frozenset({"cpt"}), _code),
    Kind("payer", frozenset({"payer"}), _payer),
)


def kind_of(entity: Entity) -> Kind:
    for kind in KINDS:
        if kind.keys <= entity.keys():
            return kind
    raise ValueError(f"no kind of entity has the keys of {entity}")


def hits(findings: pd.DataFrame, audit: str, entity: Entity) -> pd.DataFrame:
    """The findings of ``audit`` about ``entity``."""
    mine = findings[findings["audit"] == audit]
    return mine[kind_of(entity).match(mine, entity).astype(bool)]


def names_the_cause(found: pd.DataFrame, entity: Entity) -> bool:
    """The findings say what was planted, when the entity says it: the denial ``cause`` or the
    authorization ``problem`` is in their evidence."""
    for key in ("cause", "problem"):
        named = [evidence.get(key) for evidence in found["evidence"]]
        if key in entity and entity[key] not in named:
            return False
    return True


def explained_by(findings: pd.DataFrame, audit: str, entities: Iterable[Entity]) -> pd.Series:
    """Which of ``audit``'s findings are about one of ``entities`` (a mask on its findings)."""
    mine = findings[findings["audit"] == audit]
    explained = pd.Series(False, index=mine.index)
    for entity in entities:
        explained |= mine.index.isin(hits(findings, audit, entity).index)
    return explained


# --------------------------------------------------------------------------------------------
# the samples


@dataclass
class Sample:
    """Claim lines with their planted truth and side tables, and the audits checked on them."""

    name: str
    lines: Any  # a canonical DataFrame, or the ClaimLines auditkit.load returns
    truth: dict[str, dict[str, Any]]
    auths: Any
    fee_schedule: Any
    audits: tuple[str, ...]

    def run(self, select: Iterable[str], *, side_tables: bool = True) -> pd.DataFrame:
        """The findings of the audits in ``select``, given the side tables or not."""
        side = {"auths": self.auths, "fee_schedule": self.fee_schedule} if side_tables else {}
        return run_audits(self.lines, select=list(select), **side).findings

    @functools.cached_property
    def findings(self) -> pd.DataFrame:
        """All the checked audits in one run, with the side tables, as a user runs them."""
        return self.run(self.audits)

    def entry(self, audit: str) -> dict[str, Any]:
        """The truth of ``audit``: ``{"expect": [...], "controls": [...], ...}``."""
        assert audit in self.truth, f"{self.name} predates {audit}: regenerate the samples"
        return self.truth[audit]


def _draw(name: str, audits: tuple[str, ...], flavour: str, n_lines: int, seed: int) -> Sample:
    """A draw of the generator, restricted to the columns ``flavour``'s export carries, with
    the side tables sample_exports/generate.py writes for it."""
    frame, truth = synth.generate_with_truth(n_lines, seed)
    columns = [c for c in frame.columns if c in synth.FLAVOURS[flavour].columns]
    auths = revenue.authorization_export(frame, truth)
    return Sample(name, frame[columns], truth, auths, revenue.fee_schedule(), audits)


def _files(name: str, audits: tuple[str, ...], flavour: str, folder: Path) -> Sample:
    """``flavour``'s export, planted truth and side tables in ``folder``, read as a user would."""
    paths = samples.sample_paths(flavour, folder)
    side = revenue.side_table_paths(flavour, folder)
    return Sample(
        name,
        auditkit.load([paths["export"]]),
        json.loads(paths["planted"].read_text(encoding="utf-8")),
        read_authorizations(side["auths"]),
        read_fee_schedule(side["fee_schedule"]),
        audits,
    )


def _written(name: str, audits: tuple[str, ...], flavour: str) -> Sample:
    """``flavour``'s files as the generator writes them now (in a temporary folder)."""
    with tempfile.TemporaryDirectory() as folder:
        samples.write_sample(flavour, folder)
        revenue.write_side_tables(flavour, folder)
        return _files(name, audits, flavour, Path(folder))


#: (flavour whose columns are kept, lines, seed): the bundled samples' draws, then two other
#: draws for the coding audits (whose cases do not depend on the bundled sizes and seeds).
BUNDLED_DRAWS = [(f, *samples.BUNDLED[f]) for f in sorted(samples.BUNDLED)]
OTHER_DRAWS = [("medirev", 2000, 3), ("clinicore", 5000, 8)]
#: The export written afresh: UTF-16 text, the hardest of the three to read back.
WRITTEN = "clinicore"


def _export_name(flavour: str) -> str:
    return samples.sample_paths(flavour, SAMPLE_DIR)["export"].name


#: sample name -> (the audits checked on it, how to make it from its name and those audits).
_SOURCES: dict[str, tuple[tuple[str, ...], Callable[[str, tuple[str, ...]], Sample]]] = {
    **{
        f"{f}-{n}-{s}": (AUDIT_IDS, functools.partial(_draw, flavour=f, n_lines=n, seed=s))
        for f, n, s in BUNDLED_DRAWS
    },
    **{
        f"{f}-{n}-{s}": (CODING_AUDITS, functools.partial(_draw, flavour=f, n_lines=n, seed=s))
        for f, n, s in OTHER_DRAWS
    },
    **{
        _export_name(f): (AUDIT_IDS, functools.partial(_files, flavour=f, folder=SAMPLE_DIR))
        for f in sorted(samples.BUNDLED)
    },
    f"written-{_export_name(WRITTEN)}": (AUDIT_IDS, functools.partial(_written, flavour=WRITTEN)),
}
#: sample name -> the audits checked on it.
SAMPLES: dict[str, tuple[str, ...]] = {name: audits for name, (audits, _) in _SOURCES.items()}


@functools.cache
def sample(name: str) -> Sample:
    """The sample called ``name``, made once per test session."""
    audits, make = _SOURCES[name]
    return make(name, audits)
