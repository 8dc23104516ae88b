"""Request ids: ``request-id`` minted per answer, ``client-request-id`` echoed within bounds.

Used by :mod:`alertgraph.http.app` for every answer it writes and by :mod:`alertgraph.http.server`
for the answers the HTTP server writes before the app sees a request.
"""

from __future__ import annotations

import uuid

#: Graph's client-request-id is a GUID (36 characters); a longer value is cut to this length.
CLIENT_REQUEST_ID_MAX = 128


def new_request_id() -> str:
    return str(uuid.uuid4())


def client_request_id(sent: str | None, request_id: str) -> str:
    """The ``client-request-id`` to answer with: the client's, cut to 128 characters, or ours.

    Echoing an unbounded header would let one request make every answer (and every log line
    quoting it) as large as the server's header limit allows.
    """
    if not sent:
        return request_id
    return sent[:CLIENT_REQUEST_ID_MAX]
