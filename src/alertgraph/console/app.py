"""Assembles the console: the pages of views_alerts.py, views_more.py and views_emulator.py on
web.py's machinery."""

from __future__ import annotations

from starlette.types import ASGIApp

from alertgraph.console import views_alerts, views_emulator, views_more
from alertgraph.console.graph import Dispatch
from alertgraph.console.web import make_app
from alertgraph.identity.auth import Authenticator
from alertgraph.settings import Settings
from alertgraph.store.database import Store


def console_app(
    store: Store, settings: Settings, authenticator: Authenticator, dispatch: Dispatch
) -> ASGIApp:
    """The console, to be mounted at ``/console`` by the HTTP app."""
    pages = views_alerts.ROUTES + views_more.ROUTES + views_emulator.routes(store, settings)
    return make_app(store, settings, authenticator, dispatch, pages)
