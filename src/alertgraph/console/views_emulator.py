"""The Emulator page: the tenant's throttle and faults, snapshots, reset and request journal.

Every action runs the emulator package's own functions (alertgraph.emulator.admin, snapshots,
journal) and is audited as the admin API audits it. Like that API, it accepts only an admin token
(``alertgraph token --admin``), given once on this page and kept beside the session; a Graph token
alone sees the state read-only. With ``serve --no-admin-api`` the page offers nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from starlette.responses import RedirectResponse, Response

from alertgraph.console import sessions
from alertgraph.console.graph import Outcome
from alertgraph.console.web import Page, PageRoute, form, refused, view
from alertgraph.emulator import journal, snapshots
from alertgraph.emulator.admin import (
    Admin,
    admin_authenticator,
    admin_of_token,
    checked_controls,
    record_action,
    store_controls,
)
from alertgraph.emulator.hook import Emulator
from alertgraph.emulator.spec import FAULT_STATUSES
from alertgraph.errors import GraphError
from alertgraph.settings import Settings
from alertgraph.store.database import Store

#: journal entries the page shows, newest first
JOURNAL_ROWS = 50
#: what a finished action says on the page it redirects to (?done=...)
DONE = {
    "unlocked": "Controls unlocked with the admin token.",
    "locked": "Controls locked; the admin token was forgotten.",
    "controls": "Throttle and faults updated.",
    "cleared": "Run-time controls cleared: the serve options apply again.",
    "saved": "Snapshot saved.",
    "restored": "Snapshot restored.",
    "deleted": "Snapshot deleted.",
    "reset": "Tenant reset.",
}
FAULT_FIELDS = ("rate", "status", "seed", "latency", "jitter", "partial", "path", "method")
NEEDS_ADMIN = (
    "The emulator controls take only an admin token (alertgraph token --admin), never a Graph "
    "token: unlock them on the Emulator page first."
)


def _problem(status: int, code: str, message: str) -> Outcome:
    return Outcome(status, {}, {"error": {"code": code, "message": message}})


def routes(store: Store, settings: Settings) -> list[PageRoute]:
    """The page and its forms (one Emulator per console: the serve options and the overlay)."""
    emulator = Emulator(store, settings)
    authenticator = admin_authenticator(store, settings)

    def back(page: Page) -> str:
        return f"{page.request.scope.get('root_path', '')}/emulator"

    def current_admin(page: Page) -> Admin | None:
        """The admin token kept with this session, verified again (it may have expired)."""
        token = sessions.admin_token(store, page.session)
        if token is None:
            return None
        try:
            admin = admin_of_token(authenticator, token, str(uuid.uuid4()))
        except GraphError:
            return None
        if admin.tenant != page.principal.tenant and not admin.server_wide:
            return None
        admin.tenant = page.principal.tenant  # the page acts on the signed-in tenant only
        return admin

    def off(page: Page, status: int = 200) -> Response:
        return view(page, "emulator.html", status=status, admin_api=False)

    def show(page: Page) -> Response:
        if not settings.admin_api:
            return off(page)
        admin = current_admin(page)
        controls = emulator.controls(page.principal.tenant)
        faults = controls.faults.as_json() if controls.faults else {}
        return view(
            page,
            "emulator.html",
            admin_api=True,
            admin=admin,
            done=DONE.get(page.request.query_params.get("done", ""), ""),
            throttle=str(controls.throttle),
            faults=faults,
            faults_on=controls.faults is not None,
            statuses=FAULT_STATUSES,
            snapshots=[_snapshot_row(s) for s in snapshots.listing(store, page.principal.tenant)],
            journal_on=settings.journal,
            entries=_journal_rows(store, page.principal.tenant) if admin else [],
        )

    def journal_part(page: Page) -> Response:
        if not settings.admin_api:
            return off(page)
        admin = current_admin(page)
        return view(
            page,
            "emulator_journal.html",
            admin=admin,
            journal_on=settings.journal,
            entries=_journal_rows(store, page.principal.tenant) if admin else [],
        )

    def unlock(page: Page) -> Response:
        if not settings.admin_api:
            return off(page, 403)
        token = form(page).get("admin_token", "").strip().removeprefix("Bearer ").strip()
        try:
            admin = admin_of_token(authenticator, token, str(uuid.uuid4()))
        except GraphError as error:
            return refused(page, _problem(error.status, error.code, error.message), back(page))
        if admin.tenant != page.principal.tenant and not admin.server_wide:
            message = (
                f"This admin token is for tenant {admin.tenant}; you are signed in to tenant "
                f"{page.principal.tenant}. Use alertgraph token --admin --tenant "
                f"{page.principal.tenant} (or a server-wide admin token)."
            )
            return refused(page, _problem(403, "Forbidden", message), back(page))
        sessions.grant_admin(store, page.session, token, page.session.expires_at)
        return RedirectResponse(f"{back(page)}?done=unlocked", 303)

    def lock(page: Page) -> Response:
        sessions.revoke_admin(store, page.session)
        return RedirectResponse(f"{back(page)}?done=locked", 303)

    def action(run: Callable[[Page, Admin], str | Outcome]) -> Callable[[Page], Response]:
        """An admin form: admin API on, an admin token kept, then ``run`` (which audits)."""

        def endpoint(page: Page) -> Response:
            if not settings.admin_api:
                return off(page, 403)
            admin = current_admin(page)
            if admin is None:
                return refused(page, _problem(403, "Forbidden", NEEDS_ADMIN), back(page))
            result = run(page, admin)
            if isinstance(result, Outcome):
                return refused(page, result, back(page))
            return RedirectResponse(f"{back(page)}?done={result}", 303)

        return endpoint

    def set_controls(page: Page, admin: Admin) -> str | Outcome:
        values = form(page)
        body: dict[str, Any] = {"throttle": values.get("throttle", "off")}
        if values.get("faults_on"):
            spec: dict[str, Any] = {
                key: values[key].strip() for key in FAULT_FIELDS if values.get(key, "").strip()
            }
            spec["unknownEnums"] = bool(values.get("unknownEnums"))
            body["faults"] = spec
        else:
            body["faults"] = None
        try:
            stored = checked_controls(body)
        except ValueError as exc:
            return _problem(400, "BadRequest", str(exc))
        store_controls(store, admin.tenant, stored)
        record_action(store, admin, "controls.update", "controls", stored)
        return "controls"

    def clear_controls(page: Page, admin: Admin) -> str | Outcome:
        store_controls(store, admin.tenant, None)
        record_action(store, admin, "controls.clear", "controls", {})
        return "cleared"

    def snapshot_call(function: Callable[..., Any], name: str) -> Any:
        try:
            return function(store, name)
        except snapshots.SnapshotError as exc:
            text = str(exc)
            status, code = (
                (404, "NotFound") if text.startswith("no snapshot") else (400, "BadRequest")
            )
            return _problem(status, code, f"{text[0].upper()}{text[1:]}.")

    def save(page: Page, admin: Admin) -> str | Outcome:
        name = form(page).get("name", "").strip()
        saved = snapshot_call(lambda s, n: snapshots.save(s, admin.tenant, n), name)
        if isinstance(saved, Outcome):
            return saved
        record_action(store, admin, "snapshot.save", name, {"counts": saved.counts})
        return "saved"

    def restore(page: Page, admin: Admin) -> str | Outcome:
        name = form(page).get("name", "")
        restored = snapshot_call(lambda s, n: snapshots.restore(s, admin.tenant, n), name)
        if isinstance(restored, Outcome):
            return restored
        record_action(store, admin, "snapshot.restore", name, {})
        return "restored"

    def delete(page: Page, admin: Admin) -> str | Outcome:
        name = form(page).get("name", "")
        gone = snapshot_call(lambda s, n: snapshots.delete(s, admin.tenant, n), name)
        if isinstance(gone, Outcome):
            return gone
        record_action(store, admin, "snapshot.delete", name, {})
        return "deleted"

    def reset(page: Page, admin: Admin) -> str | Outcome:
        demo = bool(form(page).get("demo"))
        snapshots.reset(store, admin.tenant, demo=demo)
        record_action(store, admin, "tenant.reset", admin.tenant, {"demo": demo})
        return "reset"

    return [
        ("/emulator", show, ["GET"]),
        ("/emulator/journal", journal_part, ["GET"]),
        ("/emulator/unlock", unlock, ["POST"]),
        ("/emulator/lock", lock, ["POST"]),
        ("/emulator/controls", action(set_controls), ["POST"]),
        ("/emulator/controls/clear", action(clear_controls), ["POST"]),
        ("/emulator/snapshots/save", action(save), ["POST"]),
        ("/emulator/snapshots/restore", action(restore), ["POST"]),
        ("/emulator/snapshots/delete", action(delete), ["POST"]),
        ("/emulator/reset", action(reset), ["POST"]),
    ]


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _snapshot_row(snapshot: snapshots.Snapshot) -> dict[str, Any]:
    counts = ", ".join(f"{n} {name}" for name, n in sorted(snapshot.counts.items()) if n)
    return {"name": snapshot.name, "created": _when(snapshot.created_at), "counts": counts}


def _journal_rows(store: Store, tenant: str) -> list[dict[str, Any]]:
    rows = journal.latest(store, tenant=tenant, count=JOURNAL_ROWS)[::-1]
    return [
        {
            "seq": row["seq"],
            "at": _when(float(row["at"])),
            "method": row["method"],
            "url": unquote(str(row["url"])),  # readable; the template escapes it
            "status": row["status"],
            "latency": f"{float(row['latency_ms']):.1f}",
            "app_id": row["app_id"] or "",
            "request_id": row["request_id"],
        }
        for row in rows
    ]
