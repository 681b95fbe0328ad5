"""The revenue side of the synthetic data: its planted patterns and the two side tables.

The revenue patterns (``slow-collection``, ``ar-aging``, ``pre-submission-edits``,
``denial-root-cause``, ``auth-mismatch``, ``underpayment``) are planted by
:mod:`auditkit.synth.revenue_plant`; its public names (:func:`plant`,
:data:`REVENUE_AUDIT_IDS`, the payers and codes of each pattern, ...) are re-exported here.

:func:`authorization_export` and :func:`fee_schedule` make the side tables (canonical column
names of :mod:`auditkit.ingest.side_tables`); :func:`write_side_tables` writes them as a
practice would export them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from auditkit.claims import LIST_SEP
from auditkit.synth import catalog as cat
from auditkit.synth.flavours import FLAVOURS
from auditkit.synth.generator import generate_with_truth
from auditkit.synth.revenue_plant import (
    CLEAN_FLOOR,
    DENYING_PAYER,
    EDIT_MIN_CLAIMS,
    EDIT_SHARE,
    EDITED_CODES,
    FACET_INJECTIONS,
    MEDICARE_OPD_AUTH,
    N_CONTROLS,
    OUTLIER_CODE,
    PVD_MIN_DENIED,
    REVENUE_AUDIT_IDS,
    SCS_CODES,
    SIBLING,
    SLOW_MIN_LINES,
    SLOW_PAYER,
    SMALL_TABLE,
    TPI_CODES,
    UNDERPAYING_PAYER,
    count,
    needs_auth_mask,
    plant,
)
from auditkit.synth.samples import BUNDLED

__all__ = [
    "CLEAN_FLOOR",
    "DENYING_PAYER",
    "EDITED_CODES",
    "EDIT_MIN_CLAIMS",
    "EDIT_SHARE",
    "FACET_INJECTIONS",
    "MEDICARE_OPD_AUTH",
    "N_CONTROLS",
    "OUTLIER_CODE",
    "PVD_MIN_DENIED",
    "REVENUE_AUDIT_IDS",
    "SCS_CODES",
    "SIBLING",
    "SLOW_MIN_LINES",
    "SLOW_PAYER",
    "SMALL_TABLE",
    "TPI_CODES",
    "UNDERPAYING_PAYER",
    "authorization_export",
    "count",
    "fee_schedule",
    "needs_auth_mask",
    "plant",
    "side_table_paths",
    "write_authorizations",
    "write_fee_schedule",
    "write_side_tables",
]


def authorization_export(frame: pd.DataFrame, truth: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """The practice's authorization log for ``frame``: for every claim that carries an
    authorization number, one approval row per non-visit code (its units, and a 120-day window
    starting up to 20 days before the date of service), with the planted problems of
    ``truth["auth-mismatch"]`` (dropped rows, swapped codes, shifted dates, fewer units).

    Columns are the side-table names of :mod:`auditkit.ingest.side_tables`.
    """
    f = frame[frame["authorization_number"].notna()]
    f = f[~f["cpt"].str.startswith("992")]
    spec = truth.get("auth-mismatch", {"expect": [], "controls": []})
    planted = pd.DataFrame([*spec["expect"], *spec["controls"]])
    for col in ("problem", "planted", "approved_instead", "approved_units", "start_date",
                "end_date", "claim_id", "cpt"):  # fmt: skip
        if col not in planted.columns:
            planted[col] = pd.NA
    drop = set(planted.loc[planted["planted"] == "dropped", "claim_id"].astype(str))
    f = f[~f["claim_id"].isin(drop)]
    rows = f.groupby(["claim_id", "cpt"], sort=True, observed=True).agg(
        units=("units", "sum"),
        number=("authorization_number", "first"),
        patient=("patient_id", "first"),
        payer=("payer", "first"),
    )
    rows = rows.reset_index()
    rows["units"] = rows["units"].astype("float64")
    rows["claim_dos"] = rows["claim_id"].map(f.groupby("claim_id")["date_of_service"].min())
    lead = pd.to_timedelta(rows["claim_id"].astype("int64") % 21, unit="D")
    rows["start"] = rows["claim_dos"] - lead
    rows["end"] = rows["start"] + pd.Timedelta(days=120)

    by_line = planted.dropna(subset=["cpt"]).astype({"claim_id": str, "cpt": str})
    swaps = by_line[by_line["problem"] == "code"].set_index(["claim_id", "cpt"])
    units = by_line[by_line["problem"] == "units"].set_index(["claim_id", "cpt"])
    key = pd.MultiIndex.from_frame(rows[["claim_id", "cpt"]].astype(str))
    swapped = pd.Series(swaps["approved_instead"].reindex(key).to_numpy(), index=rows.index)
    fewer = pd.Series(units["approved_units"].reindex(key).to_numpy(), index=rows.index)
    rows["units"] = fewer.astype("float64").fillna(rows["units"])
    rows["cpt"] = swapped.fillna(rows["cpt"]).astype("string")
    windows = planted.dropna(subset=["end_date"]).drop_duplicates("claim_id")
    windows = windows.astype({"claim_id": str}).set_index("claim_id")
    end = pd.to_datetime(rows["claim_id"].map(windows["end_date"]))
    start = pd.to_datetime(rows["claim_id"].map(windows["start_date"]))
    rows["end"] = end.fillna(rows["end"])
    # An approval ending on the date of service (a boundary control) starts before it.
    default_start = rows["start"].where(
        rows["start"] <= rows["end"], rows["end"] - pd.Timedelta(days=30)
    )
    rows["start"] = start.fillna(default_start)
    out = pd.DataFrame(
        {
            "authorization_number": rows["number"].astype("string"),
            "patient_id": rows["patient"].astype("string"),
            "payer": rows["payer"].astype("string"),
            "approved_codes": rows["cpt"].astype("string"),
            "approved_units": rows["units"],
            "start_date": rows["start"].astype("datetime64[ns]"),
            "end_date": rows["end"].astype("datetime64[ns]"),
        }
    )
    out = out.sort_values(["start_date", "authorization_number"], kind="stable")
    return out.reset_index(drop=True)


def fee_schedule() -> pd.DataFrame:
    """The practice's contracted allowed amounts: every payer x code of the catalog, per unit,
    with facility rates (places of service 22 and 24) for procedures and add-ons."""
    rows = []
    for payer in cat.PAYERS:  # 7 payers x ~40 codes: a small table built once
        for code in cat.CODES:
            base = code.base_rate * payer.rate
            if code.kind in ("procedure", "addon"):
                rows.append((payer.name, code.code, None, "11", round(base, 2)))
                for pos in ("22", "24"):
                    rows.append((payer.name, code.code, None, pos, round(base * 0.72, 2)))
            else:
                rows.append((payer.name, code.code, None, None, round(base, 2)))
    out = pd.DataFrame(rows, columns=["payer", "cpt", "modifier", "place_of_service", "allowed"])
    return out.astype(
        {"payer": "string", "cpt": "string", "modifier": "string", "place_of_service": "string"}
    )


# --- writing the side tables -------------------------------------------------------------------


def write_authorizations(frame: pd.DataFrame, truth: dict[str, Any], path: str | Path) -> Path:
    """The authorization export as a PM system writes it (CSV, MM/DD/YYYY, codes "64493; 64494")."""
    table = authorization_export(frame, truth)
    out = pd.DataFrame(
        {
            "Auth #": table["authorization_number"],
            "Patient Acct": table["patient_id"],
            "Payer": table["payer"],
            "Approved CPT": table["approved_codes"].str.replace(LIST_SEP, "; ", regex=False),
            "Units Approved": table["approved_units"].map(lambda u: f"{u:g}"),
            "Start Date": table["start_date"].dt.strftime("%m/%d/%Y"),
            "End Date": table["end_date"].dt.strftime("%m/%d/%Y"),
            "Status": "Approved",
        }
    )
    target = Path(path)
    out.to_csv(target, index=False, lineterminator="\r\n", encoding="utf-8")
    return target


def write_fee_schedule(path: str | Path) -> Path:
    """The contract fee schedule as a CSV (Payer, CPT Code, Modifier, POS, Contract Rate)."""
    table = fee_schedule()
    out = pd.DataFrame(
        {
            "Payer": table["payer"],
            "CPT Code": table["cpt"],
            "Modifier": table["modifier"].fillna(""),
            "POS": table["place_of_service"].fillna(""),
            "Contract Rate": table["allowed"].map(lambda a: f"{a:.2f}"),
        }
    )
    target = Path(path)
    out.to_csv(target, index=False, lineterminator="\r\n", encoding="utf-8")
    return target


def side_table_paths(flavour: str, out_dir: str | Path) -> dict[str, Path]:
    """Where a sample's authorization export and the shared fee schedule go."""
    stem = Path(FLAVOURS[flavour].filename).stem.split("_")[0]
    out = Path(out_dir)
    return {"auths": out / f"{stem}_authorizations.csv", "fee_schedule": out / "fee_schedule.csv"}


def write_side_tables(
    flavour: str, out_dir: str | Path, *, n_lines: int | None = None, seed: int | None = None
) -> dict[str, Path]:
    """Write the authorization export of one sample and the fee schedule next to it."""
    default_lines, default_seed = BUNDLED[flavour]
    frame, truth = generate_with_truth(
        default_lines if n_lines is None else n_lines, default_seed if seed is None else seed
    )
    paths = side_table_paths(flavour, out_dir)
    write_authorizations(frame, truth, paths["auths"])
    write_fee_schedule(paths["fee_schedule"])
    return paths
