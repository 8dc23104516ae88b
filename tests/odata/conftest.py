"""The spec tables' app: spec_support.ALERTS loaded once per module and database, read by every
row of the tables (one test case each), which only read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .spec_support import ALERTS, Api, open_api


@pytest.fixture(scope="module")
def api(module_db_url: str) -> Iterator[Api]:
    with open_api(module_db_url) as opened:
        opened.load("alerts_v2", ALERTS)
        yield opened
