"""What happens in a simulated tenant: each event planned from the seeded RNG, then written.

Planning draws every random value first (content, ids, choices) against a virtual clock; the write
then runs in one :func:`run_write` (which may start over without drawing again) and moves every
timestamp onto the transaction's instant. So a seed gives the same events, ids and content whatever
the real clock says, and no timestamp is later than the server's clock.
"""

from __future__ import annotations

import copy
import random
import re
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from alertgraph.rules.alerts_incidents import (
    ALERTS,
    INCIDENTS,
    add_comments,
    align_incidents,
    incident_url,
    update_alert,
    update_incident,
)
from alertgraph.rules.merge import merge_incidents
from alertgraph.rules.partner import PARTNER_ALERTS, update_partner_alert
from alertgraph.rules.pim import PIM_ALERTS, PIM_INCIDENTS, incident_count
from alertgraph.seed.detections import TEMPLATES
from alertgraph.seed.pim_catalogue import PIM_KINDS
from alertgraph.seed.records import (
    PIM_PATH,
    SEVERITIES,
    VERDICT_CHOICE,
    build_alert,
    partner_alert_records,
    pim_alert_records,
    stamp,
)
from alertgraph.seed.vocab import ANALYSTS, ROLES, comment_text, guid
from alertgraph.seed.world import World
from alertgraph.store.codec import (
    TICKS_PER_SECOND,
    format_datetime,
    now_ticks,
    parse_datetime,
    ticks_from_datetime,
)
from alertgraph.store.database import PARENT, TENANT, Store
from alertgraph.store.importer import import_records
from alertgraph.store.transaction import Actor, Tx, run_write

MINUTE = 60 * TICKS_PER_SECOND
DAY = 1440 * MINUTE
#: The virtual clock content is generated against (event n happens at BASE + n minutes).
BASE = ticks_from_datetime(datetime(2025, 1, 1, tzinfo=UTC))
#: The default mix: weight of each event kind (new alerts are 40 %, more when nothing is open).
MIX: tuple[tuple[str, int], ...] = (
    ("alert", 40),
    ("triage", 22),
    ("comment", 8),
    ("incident", 8),
    ("merge", 2),
    ("partner", 6),
    ("partner_alert", 4),
    ("pim", 10),
)
KINDS = tuple(kind for kind, _ in MIX)
#: New alerts sharing a device, user or detection with one of this many recent ones correlate.
WINDOW = 6
#: Triage picks among this many of the most recently created open items.
RECENT = 40
OPEN_INCIDENT = ("active", "inProgress", "awaitingAction")
PIM_ASSIGNMENTS = (
    "RolesAssignedOutsidePimAlert",
    "RedundantAssignmentAlert",
    "StaleSignInAlert",
    "TooManyGlobalAdminsAssignedToTenantAlert",
)
_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?Z")


def moved(value: Any, offset: int, limit: int) -> Any:
    """``value`` with every date-time moved by ``offset`` ticks, none later than ``limit``."""
    if isinstance(value, str) and _DATETIME.fullmatch(value):
        return format_datetime(min(limit, parse_datetime(value) + offset))
    if isinstance(value, dict):
        return {key: moved(item, offset, limit) for key, item in value.items()}
    if isinstance(value, list):
        return [moved(item, offset, limit) for item in value]
    return value


def _correlation_keys(alert: dict[str, Any]) -> frozenset[str]:
    """The device, user and detection of an alert: what XDR correlates incidents on."""
    keys = {"detector:" + str(alert.get("detectorId"))}
    for item in alert.get("evidence") or []:
        if item.get("hostName"):
            keys.add("host:" + item["hostName"])
        account = item.get("userAccount")
        if isinstance(account, dict) and account.get("userPrincipalName"):
            keys.add("user:" + account["userPrincipalName"])
    return frozenset(keys)


class SimulatedTenant:
    """One tenant kept alive: ``step()`` performs the next event and says which kind it was."""

    def __init__(self, store: Store, tenant: str, seed: int) -> None:
        self.store = store
        self.tenant = tenant
        self.seed = seed
        self.world = World(random.Random(seed), tenant)
        self.rng = self.world.rng
        self.events = 0
        self.recent: deque[tuple[frozenset[str], str]] = deque(maxlen=WINDOW)
        # Customers and subscriptions of the partner's book: new partner alerts are about them.
        self.partner_deck = partner_alert_records(self.world, 16, BASE)
        self.weights = [weight for _, weight in MIX]

    # -- the tenant's world -----------------------------------------------------------------

    def prepare(self) -> bool:
        """Give an empty tenant its PIM catalogue (users and roles of the seed world); True if so.

        Uses a second world from the same seed (the same people), so the events that follow draw
        the same numbers whether or not the tenant was empty.
        """
        table = self.store.tables[PIM_ALERTS.name]
        with self.store.engine.connect() as conn:
            count = conn.execute(
                select(func.count()).select_from(table).where(table.c[TENANT] == self.tenant)
            ).scalar_one()
        if count:
            return False
        world = World(random.Random(self.seed), self.tenant)
        records = pim_alert_records(world, now_ticks())
        raised = next(
            nav.name for nav in PIM_ALERTS.navigations if nav.target == PIM_INCIDENTS.name
        )
        for record in records:  # a fresh catalogue: nothing raised yet
            record[raised] = []
            record["incidentCount"] = 0
            record["isActive"] = False
        import_records(
            self.store,
            PIM_PATH,
            ((f"PIM alert {n}", record) for n, record in enumerate(records)),
            tenant=self.tenant,
        )
        return True

    # -- events -----------------------------------------------------------------------------

    def step(self) -> str:
        """Plan and write the next event; returns its kind (a new alert when nothing fits)."""
        virtual = BASE + self.events * MINUTE
        self.events += 1
        kind = self.rng.choices(KINDS, self.weights)[0]
        handler: Callable[[int], bool] = getattr(self, "_" + kind)
        if handler(virtual):
            return kind
        self._alert(virtual)
        return "alert"

    def _write(self, name: str, work: Callable[[Tx], Any]) -> Any:
        actor = Actor(self.tenant, name, None, f"simulate-{self.seed}-{self.events}")
        return run_write(self.store, actor, work)

    def _recent(self, es_name: str, statuses: tuple[str, ...], order: str) -> list[dict[str, Any]]:
        """Id and status of the newest items of a set in one of ``statuses`` (newest first)."""
        table = self.store.tables[es_name]
        status = self.store.properties(es_name)["status"].type
        codec = self.store.codec
        stored = [codec.to_column(status, name, "status") for name in statuses]
        query = (
            select(table.c.id, table.c.status)
            .where(table.c[TENANT] == self.tenant, table.c.status.in_(stored))
            .order_by(table.c[order].desc(), table.c.id)
            .limit(RECENT)
        )
        with self.store.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [{"id": key, "status": codec.from_column(status, value)} for key, value in rows]

    def _alert(self, virtual: int) -> bool:
        """A new alert; joins a recent open incident it shares a device, user or detection with."""
        rng = self.rng
        template = rng.choice(TEMPLATES)
        record = build_alert(
            self.world,
            template=template,
            created=virtual,
            now=virtual,
            incident_id="0",
            severity=SEVERITIES.pick(rng),
            status="new",
            verdict=VERDICT_CHOICE.pick(rng),
        )
        alert_id = f"{template.id_prefix}{guid(rng)}_{rng.randint(1, 3)}"
        record.update(
            id=alert_id,
            providerAlertId=alert_id[2:],
            alertWebUrl=f"https://security.microsoft.com/alerts/{alert_id}?tid={self.tenant}",
            comments=[],
        )
        keys = _correlation_keys(record)
        joined = next((iid for recent, iid in self.recent if recent & keys), None)
        fresh_id = rng.randint(10**8, 10**9)

        def work(tx: Tx) -> str:
            alert = moved(record, tx.now_ticks - virtual, tx.now_ticks)
            incident = tx.get(INCIDENTS, joined) if joined else None
            if incident is None or incident.get("status") not in OPEN_INCIDENT:
                incident_id = fresh_id
                while tx.get(INCIDENTS, str(incident_id), lock=False) is not None:
                    incident_id += 1
                incident = self._new_incident(tx, str(incident_id), alert)
            else:
                name = "Multi-stage incident involving " + " & ".join(
                    dict.fromkeys([*alert["categories"], "multiple alerts"])
                )
                tx.update(INCIDENTS, incident, {"displayName": name}, action="correlate")
            alert["incidentId"] = incident["id"]
            alert["incidentWebUrl"] = incident_url(incident["id"], self.tenant)
            tx.insert(ALERTS, alert, action="create")
            align_incidents(tx, [incident["id"]])
            return str(incident["id"])

        incident_id = self._write("Microsoft 365 Defender", work)
        self.recent.appendleft((keys, incident_id))
        return True

    def _new_incident(self, tx: Tx, incident_id: str, alert: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {
            "@odata.type": "#" + INCIDENTS.type_name,
            "id": incident_id,
            "tenantId": self.tenant,
            "displayName": alert["title"],
            "incidentWebUrl": incident_url(incident_id, self.tenant),
            "severity": alert["severity"],
            "status": "active",
            "classification": "unknown",
            "determination": "unknown",
            "lastModifiedBy": "Microsoft 365 Defender-AlertCorrelation",
            "createdDateTime": tx.now,
            "lastUpdateDateTime": tx.now,
            "description": alert["description"],
            "recommendedActions": alert["recommendedActions"],
            "systemTags": list(alert["systemTags"]),
            "customTags": [],
            "comments": [],
        }
        tx.insert(INCIDENTS, record, action="create")
        return record

    def _triage(self, _virtual: int) -> bool:
        """An analyst takes a new alert (inProgress, assigned) or resolves one with a verdict."""
        found = self._recent(ALERTS.name, ("new", "inProgress"), order="createdDateTime")
        if not found:
            return False
        rng = self.rng
        pick = rng.choice(found)
        analyst = rng.choice(ANALYSTS)
        changes: dict[str, Any]
        if pick["status"] == "new":
            changes = {"status": "inProgress", "assignedTo": analyst}
        else:
            classification, determination = VERDICT_CHOICE.pick(rng)
            changes = {
                "status": "resolved",
                "classification": classification,
                "determination": determination,
            }
        self._write(analyst, lambda tx: update_alert(tx, pick["id"], changes))
        return True

    def _comment(self, _virtual: int) -> bool:
        found = self._recent(ALERTS.name, ("new", "inProgress"), order="createdDateTime")
        if not found:
            return False
        rng = self.rng
        pick = rng.choice(found)
        text = comment_text(rng, rng.choice(TEMPLATES), pick["status"])
        analyst = rng.choice(ANALYSTS)
        self._write(analyst, lambda tx: add_comments(tx, ALERTS, pick["id"], [text]))
        return True

    def _incident(self, _virtual: int) -> bool:
        """An analyst takes an incident, or closes it (its alerts follow)."""
        found = self._recent(INCIDENTS.name, OPEN_INCIDENT, order="createdDateTime")
        if not found:
            return False
        rng = self.rng
        pick = rng.choice(found)
        analyst = rng.choice(ANALYSTS)
        changes: dict[str, Any] = {"status": "inProgress", "assignedTo": analyst}
        if pick["status"] != "active":
            classification, determination = VERDICT_CHOICE.pick(rng)
            changes = {
                "status": "resolved",
                "classification": classification,
                "determination": determination,
            }
        self._write(analyst, lambda tx: update_incident(tx, pick["id"], changes))
        return True

    def _merge(self, _virtual: int) -> bool:
        found = self._recent(INCIDENTS.name, OPEN_INCIDENT, order="createdDateTime")
        if len(found) < 2:
            return False
        rng = self.rng
        pair = [item["id"] for item in rng.sample(found[:10], 2)]
        analyst = rng.choice(ANALYSTS)
        self._write(
            analyst,
            lambda tx: merge_incidents(
                tx, pair, comment="Same campaign; merged.", reasons="sameCampaign"
            ),
        )
        return True

    def _partner(self, _virtual: int) -> bool:
        """A partner's staff moves an alert along active -> investigating -> resolved."""
        found = self._recent(
            PARTNER_ALERTS.name, ("active", "investigating"), order="detectedDateTime"
        )
        if not found:
            return False
        rng = self.rng
        pick = rng.choice(found)
        changes: dict[str, Any] = {"status": "investigating"}
        if pick["status"] == "investigating":
            reason = rng.choice(("legitimate", "ignore", "fraud"))
            changes = {"status": "resolved", "resolvedReason": reason}
        staff = rng.choice(self.world.partner_staff)
        self._write(staff, lambda tx: update_partner_alert(tx, pick["id"], changes))
        return True

    def _partner_alert(self, virtual: int) -> bool:
        rng = self.rng
        record = copy.deepcopy(rng.choice(self.partner_deck))
        first = virtual - rng.randint(10 * MINUTE, 2 * DAY)
        record.update(
            id=guid(rng),
            status="active",
            activityLogs=[],
            resolvedBy=None,
            resolvedOnDateTime=None,
            resolvedReason=None,
            detectedDateTime=stamp(virtual),
            firstObservedDateTime=stamp(first, 0),
            lastObservedDateTime=stamp(rng.randint(first, virtual), 0),
        )

        def work(tx: Tx) -> None:
            alert = moved(record, tx.now_ticks - virtual, tx.now_ticks)
            tx.insert(PARTNER_ALERTS, alert, action="create")

        self._write("Microsoft Partner Center", work)
        return True

    def _pim(self, virtual: int) -> bool:
        """A role assignment appears or goes away; the simulator's scan follows at once."""
        table = self.store.tables[PIM_ALERTS.name]
        query = (
            select(table.c.id)
            .where(table.c[TENANT] == self.tenant, table.c.alertDefinitionId.is_not(None))
            .order_by(table.c.id)
        )
        with self.store.engine.connect() as conn:
            alerts = [
                key
                for key in conn.execute(query).scalars()
                if any(key.endswith("_" + name) for name in PIM_ASSIGNMENTS)
            ]
        if not alerts:
            return False
        rng = self.rng
        alert_id = rng.choice(alerts)
        name = next(name for name in PIM_ASSIGNMENTS if alert_id.endswith("_" + name))
        person = rng.choice(self.world.users)
        role, template = ROLES[0] if "GlobalAdmins" in name else rng.choice(ROLES)
        kind = next(kind for kind in PIM_KINDS if kind.name == name)
        incident: dict[str, Any] = {
            "@odata.type": f"#microsoft.graph.{kind.incident_type}",
            "id": person["id"],
            "assigneeId": person["id"],
            "assigneeDisplayName": person["displayName"],
            "assigneeUserPrincipalName": person["userPrincipalName"],
        }
        if "GlobalAdmins" not in name:
            incident.update(
                roleDisplayName=role, roleTemplateId=template, roleDefinitionId=template
            )
        if name in ("RolesAssignedOutsidePimAlert", "StaleSignInAlert"):
            incident["assignmentCreatedDateTime"] = stamp(virtual - rng.randint(0, 40 * DAY))
        if name == "StaleSignInAlert":
            incident["lastSignInDateTime"] = None
        if name == "RedundantAssignmentAlert":
            incident["lastActivationDateTime"] = None

        def work(tx: Tx) -> None:
            alert = tx.require(PIM_ALERTS, alert_id)
            existing = tx.get(PIM_INCIDENTS, person["id"], parent=alert_id)
            if existing is not None:  # the assignment was removed
                tx.delete(PIM_INCIDENTS, existing, action="unassign")
            else:
                placed = moved(incident, tx.now_ticks - virtual, tx.now_ticks)
                tx.insert(PIM_INCIDENTS, {**placed, PARENT: alert_id}, action="assign")
            count = incident_count(tx, alert_id)
            tx.update(
                PIM_ALERTS,
                alert,
                {
                    "incidentCount": count,
                    "isActive": count > 0,
                    "lastScannedDateTime": tx.now,
                    "lastModifiedDateTime": tx.now,
                },
                action="scan",
            )

        self._write("MS-PIM", work)
        return True
