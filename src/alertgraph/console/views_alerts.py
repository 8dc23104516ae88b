"""Console views of security alerts: the queue (filters, paging, counts, chart) and the alert page.

Every list and write is a Graph call through the dispatcher (shown on the page with its curl line);
the counts, the chart and the history read the store directly, after a Graph read proved access.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection
from starlette.responses import RedirectResponse, Response

from alertgraph.console.graph import Outcome, may, set_at
from alertgraph.console.web import Page, PageRoute, form, refused, view
from alertgraph.odata.counts import counts_of
from alertgraph.schema.endpoints import EntitySet
from alertgraph.store.database import TENANT, audit_table

ALERTS = "/beta/security/alerts_v2"
RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
TICKS_PER_DAY = 864_000_000_000
TICKS_AT_EPOCH = 621_355_968_000_000_000
CHART_DAYS = 30

#: the useful fields of each kind of evidence (dotted paths into the evidence object)
EVIDENCE_FIELDS: dict[str, tuple[str, ...]] = {
    "device": (
        "deviceDnsName",
        "osPlatform",
        "osBuild",
        "riskScore",
        "healthStatus",
        "mdeDeviceId",
        "lastIpAddress.ipAddress",
        "onboardingStatus",
    ),
    "file": (
        "fileDetails.fileName",
        "fileDetails.filePath",
        "fileDetails.sha256",
        "fileDetails.sha1",
        "fileDetails.fileSize",
        "detectionStatus",
    ),
    "process": (
        "processId",
        "processCommandLine",
        "imageFile.fileName",
        "parentProcessImageFile.fileName",
        "userAccount.accountName",
        "processCreationDateTime",
    ),
    "user": (
        "userAccount.accountName",
        "userAccount.domainName",
        "userAccount.userPrincipalName",
        "userAccount.azureAdUserId",
    ),
    "ip": ("ipAddress", "countryLetterCode", "location.city", "location.countryName"),
    "url": ("url",),
    "mailbox": ("primaryAddress", "displayName", "userAccount.userPrincipalName"),
    "analyzedMessage": (
        "subject",
        "senderIp",
        "recipientEmailAddress",
        "networkMessageId",
        "deliveryAction",
    ),
    "azureResource": ("resourceName", "resourceType", "resourceId"),
    "cloudApplication": ("displayName", "appId", "instanceName", "saasAppId"),
    "registryKey": ("registryHive", "registryKey"),
    "registryValue": ("registryHive", "registryKey", "registryValueName", "registryValue"),
}
COMMON_EVIDENCE = ("verdict", "remediationStatus", "roles")
KIND_LABELS = {
    "ip": "IP address",
    "url": "URL",
    "analyzedMessage": "email message",
    "azureResource": "Azure resource",
    "cloudApplication": "cloud application",
    "registryKey": "registry key",
    "registryValue": "registry value",
}


def enum_members(page: Page, name: str) -> list[str]:
    """The members a client may send (not unknownFutureValue, not the evolvable ones)."""
    enum = page.console.store.model.enums[name]
    return [
        member
        for member in enum.members
        if member != "unknownFutureValue" and member not in enum.evolvable_members
    ]


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def next_query(outcome_body: Any) -> str:
    """The query string of a response's @odata.nextLink ("" when there is no next page)."""
    link = outcome_body.get("@odata.nextLink") if isinstance(outcome_body, dict) else None
    return urlsplit(str(link)).query if link else ""


# ---- the queue --------------------------------------------------------------------------------


def queue(page: Page) -> Response:
    params = page.request.query_params
    chosen = {
        name: params.get(name, "")
        for name in ("severity", "status", "serviceSource", "assignedTo", "range")
    }
    clauses = []
    for name in ("severity", "status", "serviceSource", "assignedTo"):
        if chosen[name]:
            clauses.append(f"{name} eq {_literal(chosen[name])}")
    if chosen["range"] not in RANGES and chosen["range"]:
        # refused as a bad filter value is, rather than showing every alert as if it applied
        message = (
            f"Time range '{chosen['range']}' is not one of 24h, 7d and 30d; leave it empty "
            "for any time."
        )
        bad = Outcome.refusal(message)
        return _queue_view(page, chosen, bad, following="")
    if chosen["range"]:
        since = datetime.now(UTC) - RANGES[chosen["range"]]
        clauses.append(f"createdDateTime ge {since.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    # No $top: the queue takes the collection's own page size and follows @odata.nextLink.
    query = "$filter=" + quote(" and ".join(clauses), safe="'") if clauses else ""
    following = params.get("page", "")
    request = following or query
    outcome = page.graph("GET", f"{ALERTS}?{request}" if request else ALERTS)
    if not outcome.ok and isinstance(outcome.body, dict):
        # the message quotes the OData literal ('it''s'); say what the user typed instead
        error = outcome.body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            for value in chosen.values():
                if "'" in value:
                    error["message"] = error["message"].replace(_literal(value), f"'{value}'")
    return _queue_view(page, chosen, outcome, following)


def _queue_view(page: Page, chosen: dict[str, str], outcome: Outcome, following: str) -> Response:
    alerts = outcome.body.get("value", []) if outcome.ok else []
    kept = {name: value for name, value in chosen.items() if value}
    following_next = next_query(outcome.body)
    next_href = "?" + urlencode({**kept, "page": following_next}) if following_next else ""
    return view(
        page,
        "queue.html",
        status=200 if outcome.ok else outcome.status,
        outcome=outcome,
        alerts=alerts,
        chosen=chosen,
        severities=enum_members(page, "microsoft.graph.security.alertSeverity"),
        statuses=enum_members(page, "microsoft.graph.security.alertStatus"),
        sources=enum_members(page, "microsoft.graph.security.serviceSource"),
        ranges=[
            ("", "Any time"),
            ("24h", "Last 24 hours"),
            ("7d", "Last 7 days"),
            ("30d", "Last 30 days"),
        ],
        next_href=next_href,
        first_href="?" + urlencode(kept) if following else "",
    )


def summary(page: Page) -> Response:
    """Counts and the chart: their own page, which the queue loads after it has rendered.

    Counting scans every alert of the tenant (about 0.6 ms per 1,000), so the queue itself stays
    a keyset read of one page, and the tallies are remembered until the tenant's data changes;
    with JavaScript off the queue links here instead.
    """
    access = page.graph("GET", f"{ALERTS}?$top=1")
    if not access.ok:
        return refused(page, access, back=f"{page.request.scope['root_path']}/alerts")
    return view(page, "summary.html", summary=_summary(page))


def _alerts_set(page: Page) -> EntitySet:
    return set_at(ALERTS)


def _summary(page: Page) -> dict[str, Any]:
    """Counts by severity and status and alerts per day, for the signed-in tenant."""
    store = page.console.store
    es = _alerts_set(page)
    table = store.tables[es.name]
    tenant = page.principal.tenant
    severity_enum = store.model.enums["microsoft.graph.security.alertSeverity"]
    status_enum = store.model.enums["microsoft.graph.security.alertStatus"]
    today = datetime.now(UTC).date()
    first_day = today - timedelta(days=CHART_DAYS - 1)
    first_ticks = (
        TICKS_AT_EPOCH
        + int(datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC).timestamp())
        * 10_000_000
    )
    day = (table.c.createdDateTime / TICKS_PER_DAY).label("day")

    def tally(conn: Connection) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        # one pass over the (severity, status, ...) index gives both tallies
        pairs = conn.execute(
            select(table.c.severity, table.c.status, func.count())
            .where(table.c[TENANT] == tenant)
            .group_by(table.c.severity, table.c.status)
        ).all()
        per_day = conn.execute(
            select(day, func.count())
            .where(and_(table.c[TENANT] == tenant, table.c.createdDateTime >= first_ticks))
            .group_by(day)
        ).all()
        return tuple(map(tuple, pairs)), tuple(map(tuple, per_day))

    # remembered until the tenant's data changes, as a $count is (odata.counts)
    key = ("console summary", tenant, first_ticks)
    with store.reading() as conn:
        pairs, per_day = counts_of(store).remembered(conn, tenant, key, lambda: tally(conn))
    severities: dict[str, int] = {}
    statuses: dict[str, int] = {}
    for severity, status, n in pairs:
        name = severity_enum.by_value.get(severity, "unknown")
        severities[name] = severities.get(name, 0) + n
        name = status_enum.by_value.get(status, "unknown")
        statuses[name] = statuses.get(name, 0) + n
    counts = {int(d): n for d, n in per_day}
    first_index = first_ticks // TICKS_PER_DAY
    days = []
    for offset in range(CHART_DAYS):
        date = first_day + timedelta(days=offset)
        days.append((date.isoformat(), counts.get(first_index + offset, 0)))
    top = max([n for _, n in days] + [1])
    bars = [
        {
            "x": 4 + index * 20,
            "h": round(96 * n / top),
            "y": 100 - round(96 * n / top),
            "date": date,
            "count": n,
        }
        for index, (date, n) in enumerate(days)
    ]
    return {
        "severity": sorted(severities.items(), key=lambda item: -item[1]),
        "status": sorted(statuses.items(), key=lambda item: -item[1]),
        "bars": bars,
        "width": 8 + CHART_DAYS * 20,
        "total": sum(n for _, n in days),
        "first": days[0][0],
        "last": days[-1][0],
    }


# ---- one alert --------------------------------------------------------------------------------


def _dig(value: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def evidence_cards(evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cards = []
    for item in evidence or []:
        type_name = str(item.get("@odata.type", "")).rsplit(".", 1)[-1]
        kind = type_name.removesuffix("Evidence")
        paths = EVIDENCE_FIELDS.get(kind)
        if paths is None:
            paths = tuple(
                k
                for k, v in item.items()
                if not k.startswith("@") and not isinstance(v, (dict, list)) and v is not None
            )
        ordered = dict.fromkeys((*paths, *COMMON_EVIDENCE))
        fields = [(path, _dig(item, path)) for path in ordered]
        cards.append(
            {
                "kind": KIND_LABELS.get(kind, kind or "evidence"),
                "fields": [(name, value) for name, value in fields if value not in (None, "", [])],
                "raw": item,
            }
        )
    return cards


def history(page: Page, es: EntitySet, key: str) -> list[dict[str, Any]]:
    """The audit records of one entity, newest first (read after a Graph GET proved access)."""
    with page.console.store.engine.connect() as conn:
        rows = conn.execute(
            select(
                audit_table.c.at,
                audit_table.c.actor,
                audit_table.c.action,
                audit_table.c.changes,
                audit_table.c.request_id,
            )
            .where(
                audit_table.c[TENANT] == page.principal.tenant,
                audit_table.c.entity_set == es.name,
                audit_table.c.entity_id == key,
            )
            .order_by(audit_table.c.at.desc())
            .limit(200)
        ).all()
    return [
        {
            "at": _when(row.at),
            "actor": row.actor,
            "action": row.action,
            "changes": row.changes,
            "request_id": row.request_id,
        }
        for row in rows
    ]


def _when(at: int) -> str:
    seconds = (at - TICKS_AT_EPOCH) / 10_000_000
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def alert_page(page: Page) -> Response:
    key = page.request.path_params["alert_id"]
    outcome = page.graph("GET", f"{ALERTS}/{quote(key, safe='')}")
    if not outcome.ok:
        return refused(page, outcome, back=f"{page.request.scope['root_path']}/alerts")
    alert = outcome.body
    es = _alerts_set(page)
    return view(
        page,
        "alert.html",
        alert=alert,
        properties=[(k, v) for k, v in alert.items() if not k.startswith("@")],
        evidence=evidence_cards(alert.get("evidence") or []),
        history=history(page, es, key),
        can_write=may(page.principal, es, "write"),
        statuses=enum_members(page, "microsoft.graph.security.alertStatus"),
        classifications=enum_members(page, "microsoft.graph.security.alertClassification"),
        determinations=enum_members(page, "microsoft.graph.security.alertDetermination"),
        saved=page.request.query_params.get("saved") == "1",
    )


def triage(page: Page) -> Response:
    key = page.request.path_params["alert_id"]
    here = f"{page.request.scope['root_path']}/alerts/{quote(key, safe='')}"
    return triage_form(page, f"{ALERTS}/{quote(key, safe='')}", here)


def triage_form(page: Page, url: str, here: str) -> Response:
    """A triage form (alert or incident): one PATCH of what changed, then the comment.

    Exactly what an API client would send, so validation, audit and permissions are the API's;
    with nothing changed the PATCH still goes out, so a reader's post is refused with its 403.
    The save is all or nothing: the PATCH, which the API may refuse for many reasons, goes
    first, and the comment is checked beforehand for what the API refuses in one (NUL), so a
    refusal never leaves the PATCH applied without its comment.
    """
    values = form(page)
    current = page.graph("GET", url)
    if not current.ok:
        return refused(page, current, back=here)
    changes: dict[str, Any] = {}
    for name in ("status", "classification", "determination", "assignedTo"):
        if name not in values:
            continue
        sent = values[name].strip()
        if sent == (current.body.get(name) or ""):
            continue
        changes[name] = sent if sent or name != "assignedTo" else None
    comment = values.get("comment", "").strip()
    if "\x00" in comment:
        message = "Text in the request can't contain NUL (\\u0000); nothing was changed."
        bad = Outcome.refusal(message)
        return refused(page, bad, back=here)
    patched_any = False
    if changes or not comment:
        patched = page.graph("PATCH", url, changes)
        if not patched.ok and (changes or patched.status == 403):
            return refused(page, patched, back=here)
        patched_any = patched.ok and bool(changes)
    if comment:
        added = page.graph(
            "POST",
            f"{url}/comments",
            {"@odata.type": "microsoft.graph.security.alertComment", "comment": comment},
        )
        if not added.ok:
            note = "The other changes were saved; the comment was not." if patched_any else ""
            return refused(page, added, back=here, note=note)
    return RedirectResponse(f"{here}?saved=1", status_code=303)


ROUTES: list[PageRoute] = [
    ("/alerts", queue, ["GET"]),
    ("/summary/alerts", summary, ["GET"]),
    ("/alerts/{alert_id:path}", alert_page, ["GET"]),
    ("/alerts/{alert_id:path}", triage, ["POST"]),
]
