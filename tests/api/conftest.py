"""The API suite runs on the shared fixtures of tests/conftest.py (``app``, ``client``,
``headers``, ``store``) with the data builders of tests/factories.py; the names below stay
importable from here for tests written against this module."""

from __future__ import annotations

from tests.factories import TENANT_A, TENANT_B, alert, incident, insert, mint

__all__ = ["TENANT_A", "TENANT_B", "alert", "incident", "insert", "mint"]
