"""The optional Claim lines sheet: every normalised line, flagged ones coloured by severity."""

from __future__ import annotations

import pandas as pd

from auditkit.claims import BY_NAME, COLUMNS, PROVENANCE
from auditkit.engine.result import SEVERITIES
from auditkit.ingest.model import ClaimLines
from auditkit.report.cells import make_table
from auditkit.report.findings import severity_rank
from auditkit.report.model import Block, Column, Sheet, Text, Title
from auditkit.report.safety import as_text
from auditkit.report.spill import spill

#: Numbering columns: shown without a thousands separator.
_ORDINALS = frozenset({"line_number", "source_row", "claim_frequency"})
#: Claim-line column kind (auditkit.claims) -> report column kind.
_LINE_KINDS = {
    "money": "currency",
    "int": "integer",
    "number": "number",
    "date": "date",
    "bool": "bool",
}


def line_sheets(lines: ClaimLines, findings: pd.DataFrame, max_rows: int) -> list[Sheet]:
    """The Claim lines sheet (and its continuation sheets when the lines do not fit on one).

    ``findings`` is the ordered findings frame; the columns 'flag' and 'flagged_by' say which
    lines its findings are about.
    """
    frame = lines.frame
    flag, flagged_by = line_flags(findings, frame)
    view = pd.DataFrame({"flag": flag.to_numpy(), "flagged_by": flagged_by.to_numpy()})
    columns = [Column("flag", "flag", "text", 9), Column("flagged_by", "flagged_by", "text")]
    data = {}
    for col in (*COLUMNS, *PROVENANCE):
        if col.name in frame.columns:
            data[col.name] = frame[col.name].to_numpy()
            kind = _LINE_KINDS.get(col.kind, "text")
            if col.name in _ORDINALS:
                kind = "ordinal"
            columns.append(Column(col.name, col.name, kind))
    extra = [c for c in frame.columns if c not in BY_NAME]
    for name in extra:
        data[name] = frame[name].to_numpy()
        columns.append(Column(str(name), str(name), "text"))
    view = pd.concat([view, pd.DataFrame(data)], axis=1)
    table = make_table("claim-lines", columns, view, row_look="flag")
    flagged = int(flag.notna().sum())
    intro: list[Block] = [
        Title("Claim lines"),
        Text(
            f"{len(frame):,} normalised claim lines; {flagged:,} flagged by an audit are "
            "coloured by their most serious finding (column 'flag'; 'flagged_by' lists the "
            "audits). Column names are auditkit's (see the README).",
            tone="note",
        ),
    ]
    sheets, _where = spill("Claim lines", "lines", intro, table, max_rows)
    return sheets


def line_flags(findings: pd.DataFrame, frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per claim line: the most serious severity of the findings about it, and their audits.

    A finding is about a line when its source file and row (columns, or keys of its evidence)
    match the line's, or else when its claim id and ``line`` (line number) do; a claim-scope
    finding is about every line of its claim.
    """
    empty = pd.Series(pd.NA, index=range(len(frame)), dtype="string")
    if not len(findings) or not len(frame):
        return empty, empty.copy()
    base = pd.DataFrame(
        {"audit": findings["audit"].astype("string"), "rank": severity_rank(findings["severity"])}
    )
    lines = pd.DataFrame({"pos": range(len(frame))})
    pairs = []
    source = _finding_sources(findings)
    if source is not None and {"source_file", "source_row"} <= set(frame.columns):
        lines["source_file"] = frame["source_file"].astype("string").to_numpy()
        lines["source_row"] = pd.to_numeric(frame["source_row"], errors="coerce").to_numpy()
        pairs.append(base.join(source, how="inner").merge(lines, on=["source_file", "source_row"]))
    elif {"claim_id", "line"} <= set(findings.columns) and {"claim_id", "line_number"} <= set(
        frame.columns
    ):
        keyed = base.assign(
            claim_id=as_text(findings["claim_id"]),
            line_number=pd.to_numeric(findings["line"], errors="coerce"),
        ).dropna(subset=["claim_id", "line_number"])
        lines["claim_id"] = as_text(frame["claim_id"]).to_numpy()
        lines["line_number"] = pd.to_numeric(frame["line_number"], errors="coerce").to_numpy()
        pairs.append(keyed.merge(lines, on=["claim_id", "line_number"]))
    if "claim_id" in findings.columns and "claim_id" in frame.columns:
        scope = as_text(findings.get("scope", pd.Series(None, index=findings.index))).str.lower()
        claim_level = (scope == "claim").fillna(False) & findings["claim_id"].notna()
        if claim_level.any():
            claims = base[claim_level].assign(claim_id=findings.loc[claim_level, "claim_id"])
            lines["claim_id"] = frame["claim_id"].to_numpy()
            claims["claim_id"] = claims["claim_id"].astype("string")
            lines["claim_id"] = lines["claim_id"].astype("string")
            pairs.append(claims.merge(lines[["pos", "claim_id"]], on="claim_id"))
    if not pairs:
        return empty, empty.copy()
    hits = pd.concat([p[["audit", "rank", "pos"]] for p in pairs], ignore_index=True)
    hits = hits.drop_duplicates(["pos", "audit"])
    worst = hits.groupby("pos")["rank"].min()
    flag = empty.copy()
    names = pd.Series([*SEVERITIES, pd.NA], dtype="string")
    flag.iloc[worst.index.to_numpy()] = names.iloc[worst.to_numpy()].to_numpy()
    # One join per flagged line (the audits that flagged it): few audits, so this is cheap.
    audits = hits.sort_values("audit").groupby("pos")["audit"].agg(", ".join)
    flagged_by = empty.copy()
    flagged_by.iloc[audits.index.to_numpy()] = audits.to_numpy()
    return flag, flagged_by


def _finding_sources(findings: pd.DataFrame) -> pd.DataFrame | None:
    """Source file and row of each finding that has them (a source position kept in the
    evidence only is moved to these columns when the findings are built)."""
    if not {"source_file", "source_row"} <= set(findings.columns):
        return None
    columns = {name: findings[name] for name in ("source_file", "source_row")}
    source = pd.DataFrame(
        {
            "source_file": as_text(columns["source_file"]),
            "source_row": pd.to_numeric(columns["source_row"], errors="coerce"),
        }
    ).dropna()
    return source if len(source) else None
