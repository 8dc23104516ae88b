"""The singleton containers that only hold collections: ``/security/partner`` and
``/identityGovernance/roleManagementAlerts``.

Graph answers a GET of one with the bare entity (its context URL and its ``id``), readable by
whoever may read the collections below it; routing.py resolves them, schema/endpoints.py lists them.
"""

from __future__ import annotations

from alertgraph.http.call import Call, Reply
from alertgraph.identity.auth import authorize
from alertgraph.schema.endpoints import entity_set


def get_container(call: Call) -> Reply:
    container = call.target.container
    assert container is not None
    authorize(call.principal, entity_set(container.guard), "read", request_id=call.request_id)
    # Neither type has structural properties besides the key; one container per tenant, so the
    # tenant id is its id.
    return Reply(
        body={
            "@odata.context": f"{call.service_root}/$metadata#{container.path}/$entity",
            "id": call.tenant,
        }
    )
