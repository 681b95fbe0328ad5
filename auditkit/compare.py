"""Compare two audit runs: which findings are new, which were resolved, which persist.

Findings are matched by their stable ``key`` (:mod:`auditkit.engine.keys`): the same problem
in the same place has the same key in the next run. A run is read from auditkit's audit JSON
(``auditkit audit --json``) or taken from an audit just run (``auditkit audit --baseline``).

Reading: auditkit writes the findings array one finding per line (see
:func:`auditkit.pipeline.write_json`), so a large file (a million findings, over a gigabyte) is
read line by line: the head is parsed as JSON, the findings' fields a comparison needs are
parsed in batches by pyarrow's JSON reader (columns, no Python object per finding), and each
finding's own text is re-read from the file by its byte offset only when it is written out.
Messages are not held: a sheet that shows
them reads them back (:meth:`Run.messages`). A file laid out another way (re-indented by another tool) is read whole with ``json.load``.
A file written before findings had keys gets them computed from the same fields, the same way;
findings of one place are then numbered in file order.

Redaction: ``--redact`` replaces claim ids by pseudonyms under a key that is new on every run,
so line and claim findings of two redacted runs never match (they show as resolved and new).
Compare unredacted runs; a note says so when both runs look redacted.

Dollars: the comparison's totals add only findings counted in their run's total (``counted``),
so money two findings share is not added twice; each finding's dollars are of the kind its
``dollars_basis`` names.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from auditkit.engine.keys import hashes, key_text, occurrences
from auditkit.errors import InputError

__all__ = [
    "Comparison",
    "Run",
    "compare",
    "compare_json",
    "read_run",
    "run_from_result",
    "write_compare_json",
]

#: The finding fields a comparison reads (the rest of each finding is kept as its JSON text).
FIELDS: tuple[str, ...] = (
    "key",
    "audit",
    "severity",
    "scope",
    "provider",
    "payer",
    "cpt",
    "claim_id",
    "line",
    "dollars_at_risk",
    "dollars_basis",
    "counted",
)
_TEXT_FIELDS = ("key", "audit", "severity", "scope", "provider", "payer", "cpt", "claim_id")
_FINDINGS_LINE = b'  "findings": ['
_BATCH = 50_000
#: What the comparison's dollars are.
DOLLARS_BASIS = (
    "dollars at risk of findings counted in their run's total (counted: true), each of the "
    "kind its dollars_basis names; a finding whose money another finding counts adds nothing"
)
REDACTION_NOTE = (
    "Both runs look redacted: claim ids are new pseudonyms on every redacted run, so line and "
    "claim findings cannot match across runs and show as resolved and new. Compare unredacted "
    "runs."
)
_PSEUDONYM = re.compile(r"^CL-[0-9A-F]{6,}$")


@dataclass
class Run:
    """One run's findings for comparing: ``table`` (the :data:`FIELDS`, one row per finding,
    keys unique), the JSON ``head`` (``summary``, ``auditkit_version``, ...), and each
    finding's JSON text on demand (:meth:`records`)."""

    name: str
    head: dict[str, Any]
    table: pd.DataFrame
    #: Keys were computed here (the file predates keys).
    computed_keys: bool = False
    _path: Path | None = None
    _offsets: np.ndarray | None = None
    _lengths: np.ndarray | None = None
    _texts: list[str] | None = None
    _records: Any = None
    _messages: Any = None

    def messages(self, positions: np.ndarray) -> list[str]:
        """The message of the findings at ``positions`` (read from their JSON text when asked:
        a million messages are not held for a comparison that writes no sheet)."""
        out: list[str] = []
        for start in range(0, len(positions), 10_000):
            part = np.asarray(positions[start : start + 10_000], dtype=np.int64)
            if self._messages is not None:
                out.extend(self._messages(part))
                continue
            texts = self.records(part)
            out.extend(str(json.loads(t).get("message") or "") for t in texts)
        return out

    def records(self, positions: np.ndarray) -> list[str]:
        """The JSON text of the findings at ``positions`` of :attr:`table`, as the audit JSON
        has them."""
        positions = np.asarray(positions, dtype=np.int64)
        if self._records is not None:
            return self._records(positions)
        if self._texts is not None:
            return [self._texts[i] for i in positions]
        out: list[str] = []
        if self._path is None or self._offsets is None or self._lengths is None:
            return out
        with open(self._path, "rb") as handle:
            for i in positions:
                handle.seek(int(self._offsets[i]))
                out.append(handle.read(int(self._lengths[i])).decode("utf-8"))
        return out

    @property
    def redacted(self) -> bool:
        """Whether the run's claim ids all look like redaction pseudonyms (``CL-`` + hex)."""
        claims = self.table["claim_id"].dropna().astype(str)
        claims = claims[claims != ""]
        return bool(len(claims)) and bool(claims.head(1000).str.match(_PSEUDONYM.pattern).all())


def _refuse(path: Path, why: str) -> InputError:
    return InputError(
        f"{path}: not an auditkit audit JSON ({why})",
        hint="pass files written by auditkit audit --json",
    )


def _check_head(head: Any, path: Path) -> dict[str, Any]:
    if not isinstance(head, dict) or "auditkit_version" not in head:
        raise _refuse(path, "no auditkit_version")
    if not isinstance(head.get("summary"), dict) or not isinstance(head.get("audits"), list):
        raise _refuse(path, "no summary or audits")
    return head


def _raw(records: list[dict[str, Any]]) -> pd.DataFrame:
    data = {name: [r.get(name) for r in records] for name in FIELDS}
    return pd.DataFrame(data, columns=list(FIELDS))


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    return _typed(_raw(records))


#: Fields with few distinct values, held as categories.
_FEW = ("audit", "severity", "scope", "provider", "payer", "cpt", "dollars_basis")


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    for name in _TEXT_FIELDS:
        table[name] = table[name].astype("string[pyarrow]")
    table["dollars_basis"] = table["dollars_basis"].astype("string[pyarrow]").fillna("none")
    for name in _FEW:
        table[name] = table[name].astype("category")
    table["line"] = pd.to_numeric(table["line"], errors="coerce").astype("Int64")
    table["dollars_at_risk"] = pd.to_numeric(table["dollars_at_risk"], errors="coerce").fillna(0.0)
    table["counted"] = table["counted"].astype("boolean").fillna(False).astype(bool)
    return table.reset_index(drop=True)


def _parse_batch(lines: list[bytes]) -> pd.DataFrame:
    """The :data:`FIELDS` of findings (one JSON object per line) as columns."""
    import pyarrow as pa
    import pyarrow.json as pj

    schema = pa.schema(
        [
            *((n, pa.string()) for n in (*_TEXT_FIELDS, "dollars_basis")),
            ("line", pa.int64()),
            ("dollars_at_risk", pa.float64()),
            ("counted", pa.bool_()),
        ]
    )
    data = b"\n".join(lines)
    try:
        table = pj.read_json(
            io.BytesIO(data),
            read_options=pj.ReadOptions(block_size=max(len(data) + 1, 1 << 20)),
            parse_options=pj.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="ignore"
            ),
        )
        frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
        return frame[list(FIELDS)]
    except (pa.ArrowInvalid, ValueError):  # a value of another type: the slow, forgiving way
        return _raw([json.loads(line) for line in lines])


def _read_lines(path: Path) -> Run | None:
    """The run read line by line, or None when the file is not laid out as auditkit writes."""
    head_bytes: list[bytes] = []
    offsets: list[int] = []
    lengths: list[int] = []
    parts: list[pd.DataFrame] = []
    batch: list[bytes] = []
    at = 0
    with open(path, "rb") as handle:
        for line in handle:
            at += len(line)
            if line.startswith(_FINDINGS_LINE):
                break
            head_bytes.append(line)
            if len(head_bytes) == 1 and not line.lstrip().startswith(b"{"):
                return None
        else:
            return None
        try:
            head = json.loads(b"".join(head_bytes).rstrip().rstrip(b",") + b"}")
        except (ValueError, UnicodeDecodeError):
            return None
        head = _check_head(head, path)
        closed = line[len(_FINDINGS_LINE) :].strip().startswith(b"]")
        while not closed:
            line = handle.readline()
            if not line:
                return None
            start = at
            at += len(line)
            text = line.strip()
            if text.startswith(b"]"):
                break
            if not text.startswith(b"{"):
                return None
            text = text.rstrip(b",")
            offsets.append(start + line.index(b"{"))
            lengths.append(len(text))
            batch.append(text)
            if len(batch) >= _BATCH:
                parts.append(_parse_batch(batch))
                batch = []
    if batch:
        parts.append(_parse_batch(batch))
    # Typed once joined, so each field's categories are those of the whole run.
    table = _typed(pd.concat(parts, ignore_index=True)) if parts else _frame([])
    return Run(
        name=str(path),
        head=head,
        table=table,
        _path=path,
        _offsets=np.asarray(offsets, dtype=np.int64),
        _lengths=np.asarray(lengths, dtype=np.int64),
    )


def read_run(path: str | Path) -> Run:
    """An audit JSON as a :class:`Run` (see the module docstring for how it is read). Raises
    :class:`~auditkit.errors.InputError` (one line) for a file that is not one."""
    path = Path(path)
    try:
        run = _read_lines(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if run is None:
        try:
            with open(path, encoding="utf-8") as handle:
                doc = json.load(handle)
        except (ValueError, UnicodeDecodeError):
            raise _refuse(path, "not JSON") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        head = _check_head(doc, path)
        findings = head.get("findings")
        if not isinstance(findings, list) or not all(isinstance(f, dict) for f in findings):
            raise _refuse(path, "no findings array")
        run = Run(
            name=str(path),
            head={k: v for k, v in head.items() if k not in ("findings", "worklist")},
            table=_frame(findings),
            _texts=[json.dumps(f, ensure_ascii=False) for f in findings],
        )
    _ensure_keys(run)
    return run


def _ensure_keys(run: Run) -> None:
    """Keys for a file written before keys existed (computed from the fields, numbered in file
    order), and unique keys in a file whose keys repeat (a hand-edited one)."""
    table = run.table
    if len(table) and table["key"].isna().any():
        h = hashes(table)
        table["key"] = key_text(h, occurrences(h)).to_numpy()
        run.computed_keys = True
    if table["key"].duplicated().any():
        seq = table.groupby("key", sort=False).cumcount().to_numpy() + 1
        extra = pd.Series(np.where(seq > 1, "#" + pd.Series(seq).astype(str), ""))
        table["key"] = (table["key"].reset_index(drop=True) + extra).astype("string[pyarrow]")


def run_from_result(
    result: Any,
    head: dict[str, Any] | None = None,
    name: str = "this run",
    *,
    json_records: Callable[[Any, pd.DataFrame], list[str]],
) -> Run:
    """The findings of an audit just run (an :class:`~auditkit.engine.result.AuditResult`) as
    a :class:`Run` (for ``auditkit audit --baseline``). ``json_records(found, core)`` gives the
    findings' JSON text (:func:`auditkit.pipeline.json_records`; passed in, so that this module
    does not import the pipeline that imports it)."""
    found = result.found
    core = found.core
    table = pd.DataFrame(
        {
            "key": found.keys(core).reset_index(drop=True),
            **{n: core[n].reset_index(drop=True) for n in _TEXT_FIELDS if n != "key"},
            "line": core["line"].reset_index(drop=True),
            "dollars_at_risk": core["dollars_at_risk"].reset_index(drop=True),
            "dollars_basis": core["dollars_basis"].reset_index(drop=True),
            "counted": core["counted"].reset_index(drop=True),
        }
    )

    def records(positions: np.ndarray) -> list[str]:
        out: list[str] = []
        for start in range(0, len(positions), 10_000):
            out.extend(json_records(found, core.iloc[positions[start : start + 10_000]]))
        return out

    summary = head.get("summary") if head else None
    run = Run(
        name=name,
        head={
            "summary": summary if summary is not None else _jsonable(result.summary),
            **(head or {}),
        },
        table=_typed(table),
        _records=records,
        _messages=lambda at: found.messages(core.iloc[at]).fillna("").tolist(),
    )
    return run


def _jsonable(value: Any) -> Any:
    from auditkit.engine.findingset import jsonable

    return jsonable(value)


# -- the comparison --------------------------------------------------------------------------


@dataclass
class Comparison:
    """What changed from ``before`` to ``after``: positions in each run's table of the findings
    ``new`` (after), ``resolved`` (before) and ``persisting`` (both, aligned), the key
    indicators side by side (``kpis``: name, before, after, change) and the totals."""

    before: Run
    after: Run
    new: np.ndarray
    resolved: np.ndarray
    persisting_before: np.ndarray
    persisting_after: np.ndarray
    kpis: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    #: Findings of ``before`` from audits that did not run in ``after`` (skipped, or not
    #: selected): not resolved, only not checked again (positions in before's table).
    unchecked: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def _dollars(self, run: Run, positions: np.ndarray) -> float:
        table = run.table
        counted = table["counted"].to_numpy()[positions]
        return round(float(table["dollars_at_risk"].to_numpy()[positions][counted].sum()), 2)

    @property
    def totals(self) -> dict[str, Any]:
        """Counts and counted dollars of each kind of change."""
        before_p = self._dollars(self.before, self.persisting_before)
        after_p = self._dollars(self.after, self.persisting_after)
        return {
            "new": {"findings": len(self.new), "dollars": self._dollars(self.after, self.new)},
            "resolved": {
                "findings": len(self.resolved),
                "dollars": self._dollars(self.before, self.resolved),
            },
            "persisting": {
                "findings": len(self.persisting_after),
                "dollars_before": before_p,
                "dollars_after": after_p,
                "change": round(after_p - before_p, 2),
            },
            "not_rechecked": {
                "findings": len(self.unchecked),
                "dollars": self._dollars(self.before, self.unchecked),
            },
        }

    @property
    def sentence(self) -> str:
        """The change in one sentence a consultant can hand to a client."""
        t = self.totals
        res, new, per = t["resolved"], t["new"], t["persisting"]

        def many(n: int, word: str) -> str:
            return f"{n:,} {word}{'s' if n != 1 else ''}"

        change = per["change"]
        sign = "+" if change > 0 else "-" if change < 0 else "±"
        return (
            f"Since the last audit: {many(res['findings'], 'finding')} resolved "
            f"(${res['dollars']:,.2f} at risk); {new['findings']:,} new (${new['dollars']:,.2f}); "
            f"{per['findings']:,} persisting (${per['dollars_after']:,.2f} now, "
            f"{sign}${abs(change):,.2f} since)."
        )


def _flat(summary: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in summary.items():
        if key == "benchmarks":
            continue
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        elif value is None or isinstance(value, str | int | float | bool):
            out[f"{prefix}{key}"] = value
    return out


def kpi_rows(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """The key indicators of two summaries side by side: one row per name in either (nested
    ones as ``a.b``), ``change`` = after - before where both are numbers."""
    old, new = _flat(before or {}), _flat(after or {})
    rows = []
    for name in [*old, *(k for k in new if k not in old)]:
        b, a = old.get(name), new.get(name)
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
        change = round(a - b, 10) if numbers else None
        rows.append({"name": name, "before": b, "after": a, "change": change})
    return rows


def compare(before: Run, after: Run) -> Comparison:
    """Match the findings of two runs by key (see the module docstring)."""
    # Keys of both runs as codes of one set of distinct keys (Arrow; no Python text per key).
    both = pd.concat([before.table["key"], after.table["key"]], ignore_index=True).astype(
        "string[pyarrow]"
    )
    codes = pd.factorize(both)[0]
    nb = len(before.table)
    slots = int(codes.max()) + 1 if len(codes) else 0
    at_before = np.full(slots, -1, dtype=np.int64)
    at_before[codes[:nb]] = np.arange(nb)
    at_after = np.full(slots, -1, dtype=np.int64)
    at_after[codes[nb:]] = np.arange(len(codes) - nb)
    in_before = at_before[codes[nb:]]
    in_after = at_after[codes[:nb]]
    new = np.flatnonzero(in_before < 0)
    gone = np.flatnonzero(in_after < 0)
    ran = {a.get("id") for a in after.head.get("audits") or [] if a.get("status") == "ran"}
    if after.head.get("audits") is not None:
        rechecked = before.table["audit"].isin(list(ran)).to_numpy()[gone]
    else:
        rechecked = np.ones(len(gone), dtype=bool)
    resolved, unchecked = gone[rechecked], gone[~rechecked]
    pa_ = np.flatnonzero(in_before >= 0)
    notes = []
    if len(unchecked):
        notes.append(
            f"{len(unchecked):,} earlier findings are from audits that did not run this time "
            "(skipped or not selected): not counted as resolved."
        )
    if before.redacted and after.redacted:
        notes.append(REDACTION_NOTE)
    if before.computed_keys or after.computed_keys:
        which = before.name if before.computed_keys else after.name
        notes.append(
            f"{which} was written before findings had keys: its keys were computed from each "
            "finding's audit, scope and place."
        )
    return Comparison(
        before=before,
        after=after,
        new=new,
        resolved=resolved,
        persisting_before=in_before[pa_],
        persisting_after=pa_,
        kpis=kpi_rows(before.head.get("summary", {}), after.head.get("summary", {})),
        notes=notes,
        unchecked=unchecked,
    )


def _persisting_records(cmp: Comparison, start: int, stop: int) -> list[str]:
    """The persisting findings (after's text) with ``dollars_change``: before, after, change."""
    texts = cmp.after.records(cmp.persisting_after[start:stop])
    b = cmp.before.table["dollars_at_risk"].to_numpy()[cmp.persisting_before[start:stop]]
    a = cmp.after.table["dollars_at_risk"].to_numpy()[cmp.persisting_after[start:stop]]
    out = []
    for text, x, y in zip(texts, b, a, strict=True):
        change = json.dumps(
            {"before": float(x), "after": float(y), "change": round(float(y) - float(x), 2)}
        )
        out.append(text.rstrip()[:-1] + f', "dollars_change": {change}}}')
    return out


def compare_head(cmp: Comparison) -> dict[str, Any]:
    """The comparison's JSON without its finding arrays."""
    from auditkit import __version__

    return {
        "auditkit_compare": __version__,
        "before": {
            "path": cmp.before.name,
            "auditkit_version": cmp.before.head.get("auditkit_version"),
        },
        "after": {
            "path": cmp.after.name,
            "auditkit_version": cmp.after.head.get("auditkit_version"),
        },
        "summary": cmp.sentence,
        "totals": cmp.totals,
        "dollars_basis": DOLLARS_BASIS,
        "notes": cmp.notes,
        "kpis": _jsonable(cmp.kpis),
    }


def compare_json(cmp: Comparison) -> dict[str, Any]:
    """The comparison as one dict (every finding as Python objects; small runs)."""
    doc = compare_head(cmp)
    doc["new"] = [json.loads(t) for t in cmp.after.records(cmp.new)]
    doc["resolved"] = [json.loads(t) for t in cmp.before.records(cmp.resolved)]
    n = len(cmp.persisting_after)
    doc["persisting"] = [json.loads(t) for t in _persisting_records(cmp, 0, n)]
    return doc


def write_compare_json(cmp: Comparison, path: str | Path) -> Path:
    """The comparison as JSON, written a slice of findings at a time, one finding per line:
    the head, then ``new``, ``resolved`` and ``persisting`` arrays of finding objects as in the
    audit JSON (persisting ones with ``dollars_change``: before, after, change)."""
    from auditkit.fileio import atomic_write

    head = json.dumps(_jsonable(compare_head(cmp)), indent=2, ensure_ascii=False)
    step = 10_000

    def array(handle: Any, name: str, n: int, texts: Any) -> None:
        handle.write(f',\n  "{name}": ['.encode())
        for start in range(0, n, step):
            lead = b"\n    " if start == 0 else b",\n    "
            handle.write(lead + ",\n    ".join(texts(start, start + step)).encode("utf-8"))
        handle.write(b"\n  ]" if n else b"]")

    def write(handle: Any) -> None:
        handle.write(head[: head.rindex("}")].rstrip().encode("utf-8"))
        array(handle, "new", len(cmp.new), lambda s, e: cmp.after.records(cmp.new[s:e]))
        array(
            handle,
            "resolved",
            len(cmp.resolved),
            lambda s, e: cmp.before.records(cmp.resolved[s:e]),
        )
        array(
            handle,
            "persisting",
            len(cmp.persisting_after),
            lambda s, e: _persisting_records(cmp, s, e),
        )
        handle.write(b"\n}\n")

    return atomic_write(path, write)
