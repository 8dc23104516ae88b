"""The API fixtures (app, client, store, settings) serve the console tests too."""

from tests.api.conftest import app, client, settings, store

__all__ = ["app", "client", "settings", "store"]
