"""Per-endpoint write behaviour: body validation, alert/incident consistency, merge, manual alerts,
partner activity logs and PIM actions. Called by http.writes; writes through store.transaction.
"""
