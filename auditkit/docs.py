"""Documentation generated from the code, so the README cannot drift from it."""

from __future__ import annotations


def audits_markdown() -> str:
    """The README's audit table: one row per registered audit."""
    from auditkit.audits.registry import all_audits

    rows = ["| id | what it flags | severities | columns needed |", "|---|---|---|---|"]
    for audit in all_audits():
        summary = audit.doc().summary.replace("|", "/")
        columns = ", ".join(f"`{c}`" for c in audit.columns)
        rows.append(f"| `{audit.id}` | {summary} | {', '.join(audit.severities)} | {columns} |")
    return "\n".join(rows)
