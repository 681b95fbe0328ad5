"""Documentation generated from the code, so the README cannot drift from it."""

from __future__ import annotations


def audits_markdown() -> str:
    """The README's audit table: one row per registered audit."""
    from auditkit.engine.registry import all_audits

    rows = ["| id | what it flags | severities | columns needed |", "|---|---|---|---|"]
    for audit in all_audits():
        summary = audit.doc().summary.replace("|", "/")
        columns = ", ".join(f"`{c}`" for c in audit.columns)
        rows.append(f"| `{audit.id}` | {summary} | {', '.join(audit.severities)} | {columns} |")
    return "\n".join(rows)


def update_readme(path: str = "README.md") -> bool:
    """Rewrite the generated blocks of the README in place; True when something changed."""
    import re
    from pathlib import Path

    from auditkit.claims import columns_markdown

    readme = Path(path)
    text = readme.read_text(encoding="utf-8")
    new = text
    for name, body in (("columns", columns_markdown()), ("audits", audits_markdown())):
        new = re.sub(
            rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)",
            lambda m, body=body: m.group(1) + body + "\n" + m.group(2),
            new,
            flags=re.S,
        )
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":  # python -m auditkit.docs: refresh the README's generated tables
    print("README updated" if update_readme() else "README already up to date")
