"""Numbers as text for finding messages."""

from __future__ import annotations


def pct(rate: float) -> str:
    """0.934 -> '93%' (for messages)."""
    return "n/a" if rate is None or rate != rate else f"{rate * 100:.0f}%"


def money(amount: float) -> str:
    """1234.5 -> '$1,235' (for messages)."""
    return "$0" if amount is None or amount != amount else f"${amount:,.0f}"
