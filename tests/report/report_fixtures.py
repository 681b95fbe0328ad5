"""Synthetic claim lines and audit results for the report and workbook tests.

The audit engine is written elsewhere; these helpers build results of the documented shape
(``auditkit.engine.result``) from a small synthetic practice, so the numbers in the summary and
the tables agree with the lines and findings (no real patients: names are made up).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from auditkit.claims import conform
from auditkit.engine.result import FINDING_COLUMNS, AuditResult, AuditRun
from auditkit.ingest.model import ClaimLines, FileReport, RowProblem

PROVIDERS = ("Dr. Ana Lee", "Dr. Ben Ortiz", "Dr. Cara Singh", "Dr. Dev Patel")
PAYERS = ("Medicare", "Aetna", "BlueCross", "Cigna", "UnitedHealthcare")
CODES = ("20552", "20553", "64483", "64493", "99214", "62323")

RUNS = (
    AuditRun(
        "tpi-ratio",
        "Trigger-point 20552/20553 mix",
        "ran",
        why="Billing 20553 (3 or more muscles) when fewer were injected is an overpayment risk.",
        fix="Document the muscles injected; bill 20552 for one or two muscles.",
    ),
    AuditRun(
        "paid-vs-denied",
        "Denied lines",
        "ran",
        why="Denied lines are revenue not collected until they are corrected and resubmitted.",
        fix="Work denials by reason code; correct and resubmit within the payer's time limit.",
    ),
    AuditRun(
        "clean-claim-rate",
        "Clean-claim rate",
        "ran",
        why="Claims edited or resubmitted cost staff time and delay payment.",
        fix="Fix the most common edit reasons at charge entry.",
    ),
    AuditRun("laterality-missing", "Laterality missing", "skipped", reason="no laterality column"),
)


def make_lines(n: int = 240, seed: int = 7, files: int = 2) -> ClaimLines:
    """``n`` synthetic claim lines (about 2 lines per claim) read from ``files`` exports."""
    rng = np.random.default_rng(seed)
    claim_no = np.arange(n) // 2
    start = date(2026, 1, 5)
    frame = pd.DataFrame(
        {
            "claim_id": [f"CLM{1000 + c}" for c in claim_no],
            "date_of_service": [start + timedelta(days=int(c % 80)) for c in claim_no],
            "rendering_provider": [PROVIDERS[c % len(PROVIDERS)] for c in claim_no],
            "payer": [PAYERS[(c * 7) % len(PAYERS)] for c in claim_no],
            "cpt": rng.choice(CODES, n),
            "line_number": (np.arange(n) % 2) + 1,
            "patient_name": [f"Patient {c:04d}" for c in claim_no],
            "modifiers": rng.choice(["", "25", "RT", "50", "59,RT"], n),
            "units": rng.integers(1, 3, n).astype(float),
            "charge": rng.choice([150.0, 250.0, 480.0, 1200.0], n),
            "status": rng.choice(["paid", "paid", "paid", "denied", "partially_paid"], n),
        }
    )
    frame["paid"] = np.where(frame["status"] == "denied", 0.0, frame["charge"] * 0.6)
    per_file = int(np.ceil(n / files))
    frame["source_file"] = [f"export_{i // per_file + 1}.csv" for i in range(n)]
    frame["source_row"] = [i % per_file + 2 for i in range(n)]
    frame = conform(frame)
    inputs = []
    for k in range(files):
        rows = int((frame["source_file"] == f"export_{k + 1}.csv").sum())
        inputs.append(
            FileReport(
                path=f"exports/export_{k + 1}.csv",
                rows=rows,
                header_row=1,
                encoding="utf-8",
                delimiter=",",
                mapping={
                    "claim_id": "Claim #",
                    "date_of_service": "DOS",
                    "rendering_provider": "Rendering",
                    "payer": "Primary Ins",
                    "cpt": "CPT",
                    "modifiers": ["Mod1", "Mod2"],
                    "charge": "Charges",
                },
                unmapped_headers=["Notes"],
                problems=[RowProblem(row=17, column="DOS", message="not a date: '13/45/2026'")]
                if k == 0
                else [],
            )
        )
    return ClaimLines(frame=frame, inputs=inputs)


def make_findings(lines: ClaimLines) -> pd.DataFrame:
    """Findings of the three audits over ``lines``: line-, claim- and provider-scope."""
    frame = lines.frame
    records: list[dict[str, Any]] = []
    tpi = frame[frame["cpt"] == "20553"]
    for _, row in tpi.iloc[:12].iterrows():
        records.append(
            {
                "audit": "tpi-ratio",
                "severity": "medium" if row["charge"] < 400 else "high",
                "scope": "line",
                "provider": row["rendering_provider"],
                "payer": row["payer"],
                "cpt": "20553",
                "claim_id": row["claim_id"],
                "line": int(row["line_number"]),
                "dollars_at_risk": float(row["charge"]) * 0.3,
                "message": f"20553 billed with {int(row['units'])} muscles documented",
                "why": "",
                "fix": "",
                "evidence": {"muscles": int(row["units"])},
                "source_file": row["source_file"],
                "source_row": int(row["source_row"]),
            }
        )
    records.append(
        {
            "audit": "tpi-ratio",
            "severity": "info",
            "scope": "provider",
            "provider": PROVIDERS[0],
            "message": f"{PROVIDERS[0]} billed 20553 on 41 of 44 trigger-point lines (93%)",
            "evidence": {"lines": 44, "n_20553": 41, "group_share": 0.52},
        }
    )
    denied = frame[frame["status"] == "denied"]
    for _, row in denied.iterrows():
        records.append(
            {
                "audit": "paid-vs-denied",
                "severity": "high" if row["charge"] >= 1000 else "low",
                "scope": "line",
                "provider": row["rendering_provider"],
                "payer": row["payer"],
                "cpt": row["cpt"],
                "claim_id": row["claim_id"],
                "line": int(row["line_number"]),
                "dollars_at_risk": float(row["charge"]),
                "message": f"Line denied by {row['payer']}: {row['cpt']} for ${row['charge']:,.2f}",
                "fix": "Appeal with the operative note." if row["charge"] >= 1000 else "",
                "evidence": {"status": "denied"},
                "source_file": row["source_file"],
                "source_row": int(row["source_row"]),
            }
        )
    for claim in frame["claim_id"].unique()[:5]:
        records.append(
            {
                "audit": "clean-claim-rate",
                "severity": "low",
                "scope": "claim",
                "claim_id": claim,
                "message": f"Claim {claim} was resubmitted before payment",
                "evidence": {"resubmissions": 1},
            }
        )
    findings = pd.DataFrame.from_records(records)
    for col in FINDING_COLUMNS:
        if col not in findings.columns:
            findings[col] = None
    return findings[list(FINDING_COLUMNS)]


def make_tables(lines: ClaimLines) -> dict[str, pd.DataFrame]:
    frame = lines.frame
    claims = frame.groupby("claim_id").agg(
        provider=("rendering_provider", "first"),
        denied=("status", lambda s: bool((s == "denied").any())),
    )
    by_provider = claims.groupby("provider").agg(claims=("denied", "size"), dirty=("denied", "sum"))
    by_provider["clean"] = by_provider["claims"] - by_provider["dirty"]
    by_provider["rate"] = by_provider["clean"] / by_provider["claims"]
    tpi = frame[frame["cpt"].isin(["20552", "20553"])]
    mix = pd.crosstab(tpi["rendering_provider"], tpi["cpt"]).reindex(columns=["20552", "20553"])
    mix = mix.fillna(0).astype(int).rename(columns={"20552": "n_20552", "20553": "n_20553"})
    mix["share_20553"] = mix["n_20553"] / (mix["n_20552"] + mix["n_20553"])
    denied = frame["status"] == "denied"
    by_payer = frame.assign(denied=denied, denied_dollars=frame["charge"].where(denied, 0.0))
    by_payer = by_payer.groupby("payer").agg(
        lines=("claim_id", "size"),
        denied=("denied", "sum"),
        denied_dollars=("denied_dollars", "sum"),
    )
    by_payer["rate"] = by_payer["denied"] / by_payer["lines"]
    return {
        "clean_claim_rate_by_provider": by_provider.reset_index()[
            ["provider", "claims", "clean", "rate"]
        ],
        "tpi_mix_by_provider": mix.rename_axis("provider").reset_index(),
        "denial_rate_by_payer": by_payer.reset_index()[
            ["payer", "lines", "denied", "rate", "denied_dollars"]
        ],
    }


def make_result(lines: ClaimLines | None = None) -> AuditResult:
    """A complete, self-consistent result for ``lines`` (made when not given)."""
    lines = lines if lines is not None else make_lines()
    frame = lines.frame
    findings = make_findings(lines)
    tables = make_tables(lines)
    denied = frame["status"] == "denied"
    by_claim = tables["clean_claim_rate_by_provider"]
    tpi = tables["tpi_mix_by_provider"]
    severity = findings["severity"].value_counts()
    summary = {
        "lines": len(frame),
        "claims": int(frame["claim_id"].nunique()),
        "providers": int(frame["rendering_provider"].nunique()),
        "payers": int(frame["payer"].nunique()),
        "period_start": frame["date_of_service"].min(),
        "period_end": frame["date_of_service"].max(),
        "clean_claim_rate": float(by_claim["clean"].sum() / by_claim["claims"].sum()),
        "clean_claim_target": 0.95,
        "denial_rate": float(frame.loc[denied, "claim_id"].nunique() / frame["claim_id"].nunique()),
        "denial_rate_dollars": float(frame.loc[denied, "charge"].sum() / frame["charge"].sum()),
        "denied_dollars": float(frame.loc[denied, "charge"].sum()),
        "charges": float(frame["charge"].sum()),
        "paid": float(frame["paid"].sum()),
        "findings_by_severity": {
            s: int(severity.get(s, 0)) for s in ("high", "medium", "low", "info")
        },
        "dollars_at_risk": float(findings["dollars_at_risk"].sum()),
        "tpi_20553_share": float(tpi["n_20553"].sum() / (tpi["n_20552"] + tpi["n_20553"]).sum()),
    }
    runs = []
    for run in RUNS:
        count = int((findings["audit"] == run.id).sum())
        runs.append(AuditRun(**{**run.__dict__, "findings": count}))
    config = {
        "tpi-ratio": {"max_share_20553": 0.6, "min_lines": 10},
        "clean-claim-rate": {"target": 0.95},
    }
    return AuditResult(
        findings=findings, summary=summary, audits=runs, tables=tables, config=config
    )
