"""A live tenant: seeded events (new alerts, triage, partner and PIM changes) written over time.

Sits beside the HTTP layer, on top of :mod:`alertgraph.rules` and :mod:`alertgraph.seed`: every
event is one audited :func:`alertgraph.store.transaction.run_write`, like an API write. The CLI
(``alertgraph simulate``) paces it; :mod:`alertgraph.simulate.tenant` decides what happens.
"""
