"""Governance: the audit log, promotion gates, evaluation, model cards, CI and privacy.

Submodules are imported on use: ``kiln.governance.audit``, ``.gates``, ``.policy``,
``.evaluate``, ``.promote``, ``.card``, ``.ci``, ``.privacy``.
"""
