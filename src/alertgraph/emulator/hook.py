"""The emulator's two calls in the request flow (http/app.py): ``admit`` after authentication
(throttle, latency, faults, partial/evolvable choices) and ``finish`` (journal)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from sqlalchemy import bindparam, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from alertgraph.emulator import faults, journal, throttle
from alertgraph.emulator.spec import FaultSpec, ThrottleSpec, fault_spec, parse_throttle
from alertgraph.emulator.tables import controls_table, ensure_schema
from alertgraph.errors import GraphError, TooManyRequests
from alertgraph.odata.context import Rider
from alertgraph.schema.endpoints import EntitySet
from alertgraph.settings import Settings
from alertgraph.store.database import TENANT, Store
from alertgraph.store.prepared import Prepared

#: names the controls in kept read plans (alertgraph.odata.context.Rider)
CONTROLS_RIDER = "emulator-controls"

#: the security API's alert type: its lists are the ones Graph answers partially (206)
ALERT_TYPE = "microsoft.graph.security.alert"


class _Reply(Protocol):
    status: int
    body: Any
    headers: dict[str, str]


@dataclass(slots=True)
class Ticket:
    """What admit decided for one request, and what finish needs to journal it."""

    tenant: str
    app_id: str | None
    started: float
    partial: bool = False
    unknown_enums: bool = False
    journal: bool = False
    request_body: Any = None  # the parsed JSON body, journaled with --journal-bodies

    def shape(self, reply: _Reply, kind: str, entity_set: EntitySet | None) -> None:
        """Turn a 200 list of security alerts into Graph's partial answer when a fault chose it."""
        alert_list = (
            kind == "collection" and entity_set is not None and entity_set.type_name == ALERT_TYPE
        )
        if self.partial and alert_list and reply.status == 200:
            reply.body = faults.cut_to_partial(reply.body, reply.headers)
            reply.status = 206


@dataclass(frozen=True, slots=True)
class Controls:
    throttle: ThrottleSpec
    faults: FaultSpec | None


@dataclass(frozen=True, slots=True)
class Decision:
    """The faults chosen for one request: a delay first, then an error or a shaped answer."""

    wait_ms: float = 0
    error: GraphError | None = None
    partial: bool = False
    unknown_enums: bool = False

    def carry_out(self, ticket: Ticket) -> None:
        """After the delay: raise the injected error, or mark the ticket for shaping."""
        if self.error is not None:
            raise self.error
        ticket.partial = self.partial
        ticket.unknown_enums = self.unknown_enums


class Emulator:
    """Built once per app from the serve settings."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.throttle = parse_throttle(settings.throttle)
        self.faults = fault_spec_or_none(settings.faults)
        self.admin = settings.admin_api
        self.journal = settings.journal
        if self.admin or self.journal or self.faults or self.throttle.mode != "off":
            ensure_schema(store)
        table = controls_table
        stored = select(table.c.settings).where(table.c[TENANT] == bindparam("tenant", ""))
        #: asked on every request while the admin API is on: compiled once
        self._stored_controls = Prepared(stored, store.engine.dialect)
        self._controls_column = stored.scalar_subquery().label("_controls")
        #: tenants whose controls were not quiet when last read (a hint, never a decision)
        self._loud: set[str] = set()

    def controls(self, tenant: str) -> Controls:
        """The serve options overlaid by the tenant's run-time controls."""
        if not self.admin:
            return Controls(self.throttle, self.faults)
        with self.store.reading() as conn:
            found = self._stored_controls.rows(conn, {"tenant": tenant})
        return self._overlaid(tenant, found[0][0] if found else None)

    def _overlaid(self, tenant: str, stored: Mapping[str, Any] | None) -> Controls:
        controls = overlay(Controls(self.throttle, self.faults), stored)
        if controls.throttle.mode == "off" and controls.faults is None:
            self._loud.discard(tenant)
        else:
            self._loud.add(tenant)
        return controls

    def controls_rider(self, tenant: str) -> Rider | None:
        """The tenant's stored controls as a rider of the request's key lookup, when they are
        stored (admin API on) and were quiet when last read; None: decide before reading.

        The rider reads them in the lookup's own statement, so the answer is read before the
        controls are applied: the caller gives it only if :meth:`quiet_with` says the controls
        it carried are quiet, and otherwise admits the request as usual and reads again.
        """
        if not self.admin or tenant in self._loud:
            return None
        return Rider(CONTROLS_RIDER, self._controls_column)

    def quiet_with(self, tenant: str, rider: Rider) -> bool:
        """Whether the controls a rider carried admit the request untouched (as :meth:`quiet`)."""
        if not rider.carried:
            return False
        controls = self._overlaid(tenant, rider.value)
        return controls.throttle.mode == "off" and controls.faults is None

    def ticket(self, tenant: str, app_id: str | None, started: float) -> Ticket:
        """A request of ``tenant`` authenticated at ``started`` (time.monotonic())."""
        return Ticket(tenant, app_id, started, journal=self.journal)

    def quiet(self, tenant: str) -> bool:
        """Whether admitting ``tenant``'s requests writes nothing: no throttle and no faults."""
        if not self.admin and self.faults is None and self.throttle.mode == "off":
            return True
        controls = self.controls(tenant)
        return controls.throttle.mode == "off" and controls.faults is None

    def decide(self, ticket: Ticket, *, method: str, path: str) -> Decision | None:
        """The synchronous half of :meth:`admit` (database reads only, no waiting): raises a
        throttle refusal, or says what the request's faults are; ``None`` when none can apply."""
        if not self.admin and self.faults is None and self.throttle.mode == "off":
            return None
        tenant, app_id = ticket.tenant, ticket.app_id
        controls = self.controls(tenant)
        if controls.throttle.mode != "off":
            refusal = throttle.check(
                self.store, controls.throttle, tenant=tenant, app_id=app_id or "-", path=path
            )
            if refusal is not None:
                raise TooManyRequests(
                    f"Please retry again later. The request exceeds {refusal.scope}; "
                    f"retry after {refusal.retry_after} s.",
                    headers={"Retry-After": str(refusal.retry_after)},
                )
        spec = controls.faults
        if spec is None or not faults.applies(spec, method, path):
            return None
        sequence = faults.next_sequence(self.store, tenant)
        return Decision(
            wait_ms=faults.delay_ms(spec, tenant, sequence),
            error=faults.injected_error(spec, tenant, sequence),
            partial=faults.partial(spec, tenant, sequence),
            unknown_enums=spec.unknown_enums,
        )

    async def admit(self, ticket: Ticket, *, method: str, path: str) -> None:
        """Decide the request's fate; raises the GraphError it must fail with, if any."""
        if not self.admin and self.faults is None and self.throttle.mode == "off":
            return
        decision = await run_in_threadpool(self.decide, ticket, method=method, path=path)
        if decision is None:
            return
        if decision.wait_ms:
            await asyncio.sleep(decision.wait_ms / 1000)
        decision.carry_out(ticket)

    async def finish(self, ticket: Ticket | None, request: Request, response: Response) -> None:
        """Journal the request (with ``--journal``) once its response is built."""
        if ticket is None or not ticket.journal:
            return
        bodies = self.settings.journal_bodies
        entry = {
            "tenant": ticket.tenant,
            "at": time.time() - (time.monotonic() - ticket.started),
            "method": request.method,
            "url": str(request.url),
            "status": response.status_code,
            "latency_ms": round((time.monotonic() - ticket.started) * 1000, 3),
            "app_id": ticket.app_id,
            "request_id": response.headers.get("request-id", ""),
            "client_request_id": response.headers.get("client-request-id"),
            "request_headers": journal.clean_headers(request.headers.items()),
            "response_headers": journal.clean_headers(response.headers.items()),
            "request_body": (
                orjson.dumps(ticket.request_body).decode()
                if bodies and ticket.request_body is not None
                else None
            ),
            "response_body": journal.body_text(bytes(response.body)) if bodies else None,
        }
        await run_in_threadpool(
            journal.record, self.store, entry, keep=self.settings.journal_max_entries
        )


def fault_spec_or_none(text: str | None) -> FaultSpec | None:
    from alertgraph.emulator.spec import parse_faults_option

    return parse_faults_option(text) if text else None


def overlay(base: Controls, stored: Mapping[str, Any] | None) -> Controls:
    """Run-time controls replace the serve options they name (``None`` clears faults)."""
    if not stored:
        return base
    throttle_spec = base.throttle
    if "throttle" in stored:
        throttle_spec = parse_throttle(str(stored["throttle"]))
    fault = base.faults
    if "faults" in stored:
        fault = fault_spec(stored["faults"]) if stored["faults"] is not None else None
    return Controls(throttle_spec, fault)
