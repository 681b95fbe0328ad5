"""auditkit: audits pain-management billing data and writes colour-coded findings to Excel."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
