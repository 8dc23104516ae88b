"""Demo and benchmark data: the vocabulary, the world of a seed tenant and the records from it.

Output is Graph JSON that goes through store.importer like any user file.
"""
