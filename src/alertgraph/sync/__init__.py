"""Sync: pull a tenant's alerts from Graph (or another alertgraph) into the local store.

Above :mod:`alertgraph.store` (records go through the importer, unchanged) and beside the HTTP
layer: :mod:`~alertgraph.sync.client` talks to the upstream, :mod:`~alertgraph.sync.anonymize`
replaces identities, :mod:`~alertgraph.sync.pull` decides what to fetch and writes it.
"""
