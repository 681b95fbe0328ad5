"""The audits, one module and one :class:`~auditkit.engine.contract.Audit` subclass each.

Nothing else lives here: the contract, the registry and the runner are in :mod:`auditkit.engine`,
the measures several audits share in :mod:`auditkit.measures`. ``docs/architecture.md`` says how
to add an audit.
"""
