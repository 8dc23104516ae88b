"""Emulator controls for testing Graph clients: throttling, faults, snapshots, a request journal.
Place in the pipeline: after authentication, before any work (http/app.py calls hook.Emulator);
all shared state lives in the database, so every replica applies the same."""
