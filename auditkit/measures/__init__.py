"""Practice measures shared by several audits and the summary: the key indicators
(:mod:`~auditkit.measures.kpis`), the revenue measures behind them (A/R, days to pay, denial
causes, underpaid lines: :mod:`~auditkit.measures.revenue`), the coding view the coding-rule
audits read (:mod:`~auditkit.measures.coding`) and the ``[kpis]`` settings.
"""
