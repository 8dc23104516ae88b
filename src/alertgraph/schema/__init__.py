"""The schema: Graph's CSDL loaded as an entity data model, and the rows of the served entity sets.

First in the dependency order: everything else reads these; they import only errors.
"""
