"""The triage console: a second face beside http/, server-rendered HTML at ``/console``.

It reads and writes only through Graph calls (alertgraph.http.internal hands it a dispatcher), so
the same read engine (alertgraph.odata), write handlers, validation, audit and permissions apply as
for an API client holding the signed-in token. Templates and static files ship inside this package.
"""

from alertgraph.console.app import console_app

__all__ = ["console_app"]
