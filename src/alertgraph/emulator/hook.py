"""The emulator's two calls in the request flow (http/app.py): ``admit`` after authentication
(throttle, latency, faults, partial/evolvable choices) and ``finish`` (journal)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from alertgraph.emulator import faults, journal, throttle
from alertgraph.emulator.spec import FaultSpec, ThrottleSpec, fault_spec, parse_throttle
from alertgraph.emulator.tables import controls_table, ensure_schema
from alertgraph.errors import TooManyRequests
from alertgraph.schema.endpoints import EntitySet
from alertgraph.settings import Settings
from alertgraph.store.database import TENANT, Store

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

    def controls(self, tenant: str) -> Controls:
        """The serve options overlaid by the tenant's run-time controls."""
        if not self.admin:
            return Controls(self.throttle, self.faults)
        table = controls_table
        with self.store.reading() as conn:
            stored = conn.execute(
                select(table.c.settings).where(table.c[TENANT] == tenant)
            ).scalar()
        return overlay(Controls(self.throttle, self.faults), stored)

    def ticket(self, tenant: str, app_id: str | None, started: float) -> Ticket:
        """A request of ``tenant`` authenticated at ``started`` (time.monotonic())."""
        return Ticket(tenant, app_id, started, journal=self.journal)

    async def admit(self, ticket: Ticket, *, method: str, path: str) -> None:
        """Decide the request's fate; raises the GraphError it must fail with, if any."""
        tenant, app_id = ticket.tenant, ticket.app_id
        if not self.admin and self.faults is None and self.throttle.mode == "off":
            return
        controls = await run_in_threadpool(self.controls, tenant)
        if controls.throttle.mode != "off":
            refusal = await run_in_threadpool(
                throttle.check,
                self.store,
                controls.throttle,
                tenant=tenant,
                app_id=app_id or "-",
                path=path,
            )
            if refusal is not None:
                raise TooManyRequests(
                    f"Please retry again later. The request exceeds {refusal.scope}; "
                    f"retry after {refusal.retry_after} s.",
                    headers={"Retry-After": str(refusal.retry_after)},
                )
        spec = controls.faults
        if spec is None or not faults.applies(spec, method, path):
            return
        sequence = await run_in_threadpool(faults.next_sequence, self.store, tenant)
        wait = faults.delay_ms(spec, tenant, sequence)
        if wait:
            await asyncio.sleep(wait / 1000)
        error = faults.injected_error(spec, tenant, sequence)
        if error is not None:
            raise error
        ticket.partial = faults.partial(spec, tenant, sequence)
        ticket.unknown_enums = spec.unknown_enums

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
