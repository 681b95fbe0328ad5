"""The audit engine: the contract every audit follows, the registry, the runner and what they
share (the run's context, findings builders, result shapes, statistics, message formatting).

Import from the modules: :func:`auditkit.engine.runner.run_audits`,
:mod:`auditkit.engine.registry`, :mod:`auditkit.engine.result`. This package's ``__init__``
imports nothing, so that an audit importing :mod:`auditkit.engine.contract` never pulls in the
registry that imports the audits.
"""
