"""Assembles the console: the pages of views_alerts.py and views_more.py on web.py's machinery."""

from __future__ import annotations

from starlette.types import ASGIApp

from alertgraph.console import views_alerts, views_more
from alertgraph.console.graph import Dispatch
from alertgraph.console.web import make_app
from alertgraph.identity.auth import Authenticator
from alertgraph.settings import Settings
from alertgraph.store.database import Store


def console_app(
    store: Store, settings: Settings, authenticator: Authenticator, dispatch: Dispatch
) -> ASGIApp:
    """The console, to be mounted at ``/console`` by the HTTP app."""
    # The emulator's controls (throttling and fault switches, snapshots, the tenant's request
    # journal) get their pages here, as one more ROUTES list, and a link in base.html's nav.
    return make_app(
        store, settings, authenticator, dispatch, views_alerts.ROUTES + views_more.ROUTES
    )
