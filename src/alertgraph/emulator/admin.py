"""The admin API under ``/_alertgraph/`` (admin tokens only, tenant-scoped unless server-wide,
every action audited); drives spec.py, snapshots.py and journal.py over HTTP."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alertgraph.emulator import journal, snapshots
from alertgraph.emulator.hook import Emulator
from alertgraph.emulator.spec import fault_spec, parse_throttle
from alertgraph.emulator.tables import controls_table
from alertgraph.errors import BadRequest, Forbidden, GraphError, NotFound, Unauthorized, as_json
from alertgraph.identity.auth import Authenticator, AuthSettings
from alertgraph.schema.edm import INTEGER_RANGES
from alertgraph.settings import Settings
from alertgraph.store.codec import is_guid, now_ticks
from alertgraph.store.database import TENANT, Store, audit_table

_DIGITS = re.compile(r"[0-9]{1,100}")

PREFIX = "/_alertgraph"
ADMIN_AUDIENCE = "api://alertgraph-admin"
ADMIN_CLIENT_ID = "a1e47a9a-0000-4000-8000-00000000ad01"
TENANT_ADMIN = "AlertGraph.Emulator.Admin"
SERVER_ADMIN = "AlertGraph.Emulator.ServerAdmin"
AUDIT_SET = "_alertgraph"
#: the journal's sequence numbers are 64-bit integers; a larger 'after' can't be bound
MAX_SEQ = INTEGER_RANGES["Edm.Int64"][1]
#: the most journal entries one request returns (documented)
MAX_TOP = 1000


def admin_authenticator(store: Store, settings: Settings) -> Authenticator:
    return Authenticator(
        store,
        AuthSettings(leeway_seconds=settings.token_leeway_seconds, audiences=(ADMIN_AUDIENCE,)),
    )


def mint_admin(
    store: Store, settings: Settings, *, tenant: str, server_wide: bool, expires_in: int = 43200
) -> str:
    """An admin token for ``tenant``, server-wide with ``server_wide``."""
    role = SERVER_ADMIN if server_wide else TENANT_ADMIN
    return admin_authenticator(store, settings).mint(
        tenant=tenant, app_id=ADMIN_CLIENT_ID, roles=[role], expires_in=expires_in
    )


class _Admin:
    tenant: str
    actor: str
    request_id: str
    server_wide: bool = False


Admin = _Admin


Handler = Callable[[Request, _Admin], Awaitable[tuple[int, Any]]]


def admin_routes(store: Store, settings: Settings, emulator: Emulator) -> list[Route]:
    authenticator = admin_authenticator(store, settings)

    def audit(admin: _Admin, action: str, subject: str, details: dict[str, Any]) -> None:
        record_action(store, admin, action, subject, details)

    def route(path: str, methods: list[str], handler: Handler) -> Route:
        async def endpoint(request: Request) -> Response:
            request_id = str(uuid.uuid4())
            client_request_id = request.headers.get("client-request-id") or request_id
            try:
                admin = await run_in_threadpool(_authenticate, authenticator, request, request_id)
                status, body = await handler(request, admin)
            except GraphError as error:
                date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
                payload = error.body(
                    date=date, request_id=request_id, client_request_id=client_request_id
                )
                headers = {**error.headers, "request-id": request_id}
                return Response(
                    orjson.dumps(payload), error.status, headers, media_type="application/json"
                )
            headers = {"request-id": request_id, "client-request-id": client_request_id}
            if body is None:
                return Response(status_code=status, headers=headers)
            return Response(orjson.dumps(body), status, headers, media_type="application/json")

        return Route(PREFIX + path, endpoint, methods=methods)

    async def get_controls(request: Request, admin: _Admin) -> tuple[int, Any]:
        controls = await run_in_threadpool(emulator.controls, admin.tenant)
        return 200, {
            "tenant": admin.tenant,
            "throttle": str(controls.throttle),
            "faults": controls.faults.as_json() if controls.faults else None,
        }

    async def patch_controls(request: Request, admin: _Admin) -> tuple[int, Any]:
        body = await _json_object(request)
        try:
            stored = checked_controls(body)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        await run_in_threadpool(store_controls, store, admin.tenant, stored)
        await run_in_threadpool(audit, admin, "controls.update", "controls", stored)
        return await get_controls(request, admin)

    async def delete_controls(request: Request, admin: _Admin) -> tuple[int, Any]:
        await run_in_threadpool(store_controls, store, admin.tenant, None)
        await run_in_threadpool(audit, admin, "controls.clear", "controls", {})
        return 204, None

    async def list_snapshots(request: Request, admin: _Admin) -> tuple[int, Any]:
        found = await run_in_threadpool(snapshots.listing, store, admin.tenant)
        return 200, {"value": [snapshot.as_json() for snapshot in found]}

    async def save_snapshot(request: Request, admin: _Admin) -> tuple[int, Any]:
        body = _only(await _json_object(request), "name")
        name = body.get("name")
        if not isinstance(name, str):
            raise BadRequest('Give the snapshot\'s name: {"name": "before-test"}.')
        saved = await _snapshot_call(snapshots.save, store, admin.tenant, name)
        await run_in_threadpool(audit, admin, "snapshot.save", name, {"counts": saved.counts})
        return 201, saved.as_json()

    async def restore_snapshot(request: Request, admin: _Admin) -> tuple[int, Any]:
        name = request.path_params["name"]
        restored = await _snapshot_call(snapshots.restore, store, admin.tenant, name)
        await run_in_threadpool(audit, admin, "snapshot.restore", name, {})
        return 200, restored.as_json()

    async def delete_snapshot(request: Request, admin: _Admin) -> tuple[int, Any]:
        name = request.path_params["name"]
        await _snapshot_call(snapshots.delete, store, admin.tenant, name)
        await run_in_threadpool(audit, admin, "snapshot.delete", name, {})
        return 204, None

    async def reset(request: Request, admin: _Admin) -> tuple[int, Any]:
        body = _only(await _json_object(request, optional=True), "demo")
        demo = body.get("demo", False)
        if not isinstance(demo, bool):
            raise BadRequest(f"'demo' must be true or false, got {as_json(demo)}.")
        counts = await run_in_threadpool(lambda: snapshots.reset(store, admin.tenant, demo=demo))
        await run_in_threadpool(audit, admin, "tenant.reset", admin.tenant, {"demo": demo})
        return 200, {"tenant": admin.tenant, "counts": counts}

    async def read_journal(request: Request, admin: _Admin) -> tuple[int, Any]:
        after = _whole(_parameter(request, "after", "0"), "after", MAX_SEQ)
        top = _whole(_parameter(request, "top", "100"), "top", MAX_TOP)
        rows = await run_in_threadpool(
            lambda: journal.entries(store, tenant=admin.tenant, after=after, limit=top)
        )
        return 200, journal.har(rows, version=_version())

    return [
        route("/controls", ["GET"], get_controls),
        route("/controls", ["PATCH"], patch_controls),
        route("/controls", ["DELETE"], delete_controls),
        route("/snapshots", ["GET"], list_snapshots),
        route("/snapshots", ["POST"], save_snapshot),
        route("/snapshots/{name}/restore", ["POST"], restore_snapshot),
        route("/snapshots/{name}", ["DELETE"], delete_snapshot),
        route("/reset", ["POST"], reset),
        route("/journal", ["GET"], read_journal),
    ]


def record_action(
    store: Store, admin: _Admin, action: str, subject: str, details: dict[str, Any]
) -> None:
    """Write one admin action to the audit log (the admin API's and the console's)."""
    record = {
        TENANT: admin.tenant,
        "id": uuid.uuid4().hex,
        "at": now_ticks(),
        "request_id": admin.request_id,
        "actor": admin.actor,
        "app_id": ADMIN_CLIENT_ID,
        "entity_set": AUDIT_SET,
        "entity_id": subject,
        "action": action,
        "changes": details,
    }
    with store.engine.begin() as conn:
        conn.execute(insert(audit_table).values(**record))


def checked_controls(body: Mapping[str, Any]) -> dict[str, Any]:
    """The controls to store for ``{"throttle": ..., "faults": ...}``; ValueError names the
    mistake and what is allowed."""
    unknown = sorted(set(body) - {"throttle", "faults"})
    if unknown:
        raise ValueError(
            f'Unknown control {as_json(unknown[0])}; the controls are "throttle" and "faults".'
        )
    stored: dict[str, Any] = {}
    if "throttle" in body:
        throttle = body["throttle"]
        if not isinstance(throttle, str):
            raise ValueError(
                f"throttle {as_json(throttle)} is not off, graph or N/S: a string, "
                'e.g. "10/5" for 10 requests per 5 seconds'
            )
        stored["throttle"] = str(parse_throttle(throttle))
    if "faults" in body:
        faults = body["faults"]
        if faults is not None and not isinstance(faults, dict):
            raise ValueError(
                f"faults must be an object (or null for no faults), got {as_json(faults)}"
            )
        stored["faults"] = fault_spec(faults).as_json() if faults is not None else None
    return stored


def admin_of_token(authenticator: Authenticator, token: str, request_id: str) -> _Admin:
    """The admin an admin token stands for, acting on its own tenant; Unauthorized for any other
    token (a Graph token included), Forbidden without an admin role."""
    try:
        claims = authenticator.verify(token)
    except Unauthorized as exc:
        raise Unauthorized(
            f"{exc.message} The admin API takes only admin tokens (alertgraph token --admin), "
            "never Graph tokens."
        ) from None
    roles = claims.get("roles") or []
    if SERVER_ADMIN not in roles and TENANT_ADMIN not in roles:
        raise Forbidden("The token carries no admin role.")
    admin = _Admin()
    admin.tenant = str(claims["tid"])
    admin.actor = f"admin:{claims.get('oid', '')}"
    admin.request_id = request_id
    admin.server_wide = SERVER_ADMIN in roles
    return admin


def _authenticate(authenticator: Authenticator, request: Request, request_id: str) -> _Admin:
    credentials = request.headers.getlist("authorization")
    if len(credentials) != 1:
        raise Unauthorized(
            "The admin API needs one Authorization header with an admin token "
            "(alertgraph token --admin)."
        )
    admin = admin_of_token(authenticator, credentials[0].partition(" ")[2].strip(), request_id)
    named = _parameter(request, "tenant", "") if "tenant" in request.query_params else None
    if named is not None and not is_guid(named):  # as the CLI's --tenant requires
        raise BadRequest(
            f"'tenant' must be a tenant id, a GUID like 00000000-0000-4000-8000-000000000001; "
            f"got {as_json(named)}."
        )
    if named is not None and named != admin.tenant:
        if not admin.server_wide:
            raise Forbidden(
                f"This admin token is scoped to tenant {admin.tenant}; only a server-wide admin "
                "token (alertgraph token --admin --server-wide) may name another tenant."
            )
        admin.tenant = named
    return admin


async def _json_object(request: Request, *, optional: bool = False) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip() and optional:
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(value, dict):
        raise BadRequest("The request body must be a JSON object.")
    return value


def _only(body: dict[str, Any], *members: str) -> dict[str, Any]:
    """``body`` when it has no member but ``members``; an unknown one (a typo) is refused before
    anything is done, not ignored."""
    unknown = sorted(set(body) - set(members))
    if unknown:
        allowed = ", ".join(f'"{member}"' for member in members)
        raise BadRequest(
            f"Unknown member {as_json(unknown[0])} in the request body; allowed: {allowed}."
        )
    return body


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("alertgraph")
    except PackageNotFoundError:
        return "unknown"


def _parameter(request: Request, name: str, default: str) -> str:
    """The query parameter's one value; a repeated one is refused, not silently the last."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise BadRequest(
            f"The query parameter '{name}' is given {len(values)} times; give it once."
        )
    return values[0] if values else default


def _whole(text: str, name: str, most: int) -> int:
    # ASCII digits only (str.isdigit() also takes '²', which int() refuses), and few enough to
    # convert; the range check keeps 'after' within the 64-bit column
    number = int(text) if _DIGITS.fullmatch(text) else None
    if number is None or number > most:
        raise BadRequest(f"'{name}' must be a whole number from 0 to {most}, got {as_json(text)}.")
    return number


async def _snapshot_call(function: Callable[..., Any], *args: Any) -> Any:
    try:
        return await run_in_threadpool(function, *args)
    except snapshots.SnapshotError as exc:
        if str(exc).startswith("no snapshot"):
            raise NotFound(f"{str(exc)[0].upper()}{str(exc)[1:]}.") from None
        raise BadRequest(str(exc)) from None


def store_controls(store: Store, tenant: str, stored: dict[str, Any] | None) -> None:
    """Merge ``stored`` into the tenant's controls (None clears them); new faults restart the
    tenant's request numbering, so a seed replays from the request after the change."""
    table = controls_table
    from sqlalchemy import select

    with store.engine.begin() as conn:
        current = conn.execute(select(table.c.settings).where(table.c[TENANT] == tenant)).scalar()
        merged = None if stored is None else {**(current or {}), **stored}
        values: dict[str, Any] = {"settings": merged}
        if stored is None or "faults" in stored:
            values["sequence"] = 0
        insert_ = (postgresql.insert if store.dialect == "postgresql" else sqlite.insert)(table)
        conn.execute(
            insert_.values(
                {TENANT: tenant, "sequence": 0, "settings": merged}
            ).on_conflict_do_update(index_elements=[TENANT], set_=values)
        )
