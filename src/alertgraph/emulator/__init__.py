"""Emulator controls for testing Graph clients: throttling, faults, snapshots, a request journal.

Place in the pipeline: http/app.py calls :meth:`Emulator.admit` once per Graph request, after
authentication and before any work, and :meth:`Emulator.finish` with the response. Everything these
controls share (counters, settings, snapshots, journal) lives in the database, so every worker and
replica on one database applies the same limits and sees the same state.
"""
