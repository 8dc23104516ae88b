"""Console views beyond the alert queue: incidents, partner alerts, PIM alerts and the Query panel.

Like views_alerts.py, every read and write is a Graph call through the dispatcher, shown on the
page; forms post here and become the PATCH or action an API client would send.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import orjson
from starlette.responses import RedirectResponse, Response

from alertgraph.console.graph import Outcome, may, set_at
from alertgraph.console.views_alerts import enum_members, history, next_query, triage_form
from alertgraph.console.web import Page, PageRoute, form, refused, view
from alertgraph.errors import BadRequest
from alertgraph.rules.pim import PERCENT_PROPERTIES
from alertgraph.rules.validate import refuse_repeated_members
from alertgraph.schema.edm import INTEGER_RANGES

INCIDENTS = "/beta/security/incidents"
PARTNER = "/beta/security/partner/securityAlerts"
PIM = "/beta/identityGovernance/roleManagementAlerts"
PIM_SCOPE = "$filter=" + quote("scopeId eq '/' and scopeType eq 'DirectoryRole'", safe="'")
QUERY_METHODS = ("GET", "POST", "PATCH")
INTEGER = re.compile(r"-?[0-9]{1,20}")


def _key(page: Page, name: str = "key") -> str:
    return str(page.request.path_params[name])


def _root(page: Page) -> str:
    return str(page.request.scope.get("root_path", ""))


def _listing(page: Page, path: str, query: str) -> tuple[Any, list[Any], str]:
    following = page.request.query_params.get("page", "")
    request = following or query
    outcome = page.graph("GET", f"{path}?{request}" if request else path)
    rows = outcome.body.get("value", []) if outcome.ok else []
    nxt = next_query(outcome.body)
    return outcome, rows, ("?" + urlencode({"page": nxt}) if nxt else "")


# ---- incidents --------------------------------------------------------------------------------


def _list_view(page: Page, path: str, template: str) -> Response:
    """One page of a collection through the Graph handlers, rendered with ``template``."""
    outcome, rows, next_href = _listing(page, path, "")
    return view(
        page,
        template,
        status=200 if outcome.ok else outcome.status,
        outcome=outcome,
        rows=rows,
        next_href=next_href,
    )


def incidents(page: Page) -> Response:
    return _list_view(page, INCIDENTS, "incidents.html")


def incident_page(page: Page) -> Response:
    key = _key(page)
    url = f"{INCIDENTS}/{quote(key, safe='')}"
    outcome = page.graph("GET", url)
    if not outcome.ok:
        return refused(page, outcome, back=f"{_root(page)}/incidents")
    alerts = page.graph("GET", f"{url}/alerts?$top=100")
    es = set_at(INCIDENTS)
    return view(
        page,
        "incident.html",
        incident=outcome.body,
        alerts=alerts.body.get("value", []) if alerts.ok else [],
        properties=[(k, v) for k, v in outcome.body.items() if not k.startswith("@")],
        history=history(page, es, key),
        can_write=may(page.principal, es, "write"),
        statuses=enum_members(page, "microsoft.graph.security.incidentStatus"),
        classifications=enum_members(page, "microsoft.graph.security.alertClassification"),
        determinations=enum_members(page, "microsoft.graph.security.alertDetermination"),
        saved=page.request.query_params.get("saved") == "1",
    )


def incident_triage(page: Page) -> Response:
    key = _key(page)
    url = f"{INCIDENTS}/{quote(key, safe='')}"
    here = f"{_root(page)}/incidents/{quote(key, safe='')}"
    return triage_form(page, url, here)


# ---- partner alerts ---------------------------------------------------------------------------


def partner_alerts(page: Page) -> Response:
    return _list_view(page, PARTNER, "partner_list.html")


def partner_page(page: Page) -> Response:
    key = _key(page)
    outcome = page.graph("GET", f"{PARTNER}/{quote(key, safe='')}")
    if not outcome.ok:
        return refused(page, outcome, back=f"{_root(page)}/partner")
    es = set_at(PARTNER)
    return view(
        page,
        "partner.html",
        alert=outcome.body,
        properties=[(k, v) for k, v in outcome.body.items() if not k.startswith("@")],
        can_write=may(page.principal, es, "write"),
        statuses=enum_members(page, "microsoft.graph.partner.security.securityAlertStatus"),
        reasons=enum_members(page, "microsoft.graph.partner.security.securityAlertResolvedReason"),
        saved=page.request.query_params.get("saved") == "1",
    )


def partner_update(page: Page) -> Response:
    key = _key(page)
    here = f"{_root(page)}/partner/{quote(key, safe='')}"
    values = form(page)
    body: dict[str, Any] = {"status": values.get("status", "")}
    if values.get("resolvedReason"):
        body["resolvedReason"] = values["resolvedReason"]
    patched = page.graph("PATCH", f"{PARTNER}/{quote(key, safe='')}", body)
    if not patched.ok:
        return refused(page, patched, back=here)
    return RedirectResponse(f"{here}?saved=1", status_code=303)


# ---- PIM alerts -------------------------------------------------------------------------------


def pim_alerts(page: Page) -> Response:
    outcome = page.graph("GET", f"{PIM}/alerts?$expand=alertDefinition&{PIM_SCOPE}")
    return view(
        page,
        "pim_list.html",
        status=200 if outcome.ok else outcome.status,
        outcome=outcome,
        rows=outcome.body.get("value", []) if outcome.ok else [],
        can_write=may(page.principal, set_at(f"{PIM}/alerts"), "write"),
        operation=page.request.query_params.get("operation", ""),
    )


CONFIG_FIXED = ("id", "alertDefinitionId", "scopeId", "scopeType", "alertDefinition")


def pim_page(page: Page) -> Response:
    key = _key(page)
    url = f"{PIM}/alerts/{quote(key, safe='')}"
    outcome = page.graph("GET", url)
    if not outcome.ok:
        return refused(page, outcome, back=f"{_root(page)}/pim")
    definition = page.graph("GET", f"{url}/alertDefinition")
    configuration = page.graph("GET", f"{url}/alertConfiguration")
    incidents_out = page.graph("GET", f"{url}/alertIncidents?$top=100")
    config = configuration.body if configuration.ok and isinstance(configuration.body, dict) else {}
    settings = [
        (name, value)
        for name, value in config.items()
        if not name.startswith("@")
        and name not in CONFIG_FIXED
        and name != "isEnabled"
        and not isinstance(value, (dict, list))
    ]
    operation_id = page.request.query_params.get("operation", "")
    operation = None
    if operation_id:
        operation = page.graph("GET", f"{PIM}/operations/{quote(operation_id, safe=':')}")
    return view(
        page,
        "pim.html",
        alert=outcome.body,
        definition=definition.body if definition.ok else None,
        config=config,
        config_type=str(config.get("@odata.type", "")),
        settings=settings,
        incidents=incidents_out.body.get("value", []) if incidents_out.ok else [],
        operation=operation.body if operation is not None and operation.ok else None,
        can_write=may(page.principal, set_at(f"{PIM}/alerts"), "write"),
        saved=page.request.query_params.get("saved") == "1",
    )


def _pim_here(page: Page) -> str:
    return f"{_root(page)}/pim/{quote(_key(page), safe='')}"


def pim_dismiss(page: Page) -> Response:
    patched = page.graph("PATCH", f"{PIM}/alerts/{quote(_key(page), safe='')}", {"isActive": False})
    if not patched.ok:
        return refused(page, patched, back=_pim_here(page))
    return RedirectResponse(f"{_pim_here(page)}?saved=1", status_code=303)


def pim_refresh(page: Page) -> Response:
    """POST refresh, then follow the operation's Location (the console shows its final state)."""
    started = page.graph("POST", f"{PIM}/alerts/{quote(_key(page), safe='')}/refresh")
    if not started.ok:
        return refused(page, started, back=_pim_here(page))
    operation = urlsplit(started.headers.get("Location", "")).path.rsplit("/", 1)[-1]
    return RedirectResponse(f"{_pim_here(page)}?operation={operation}", status_code=303)


def pim_refresh_all(page: Page) -> Response:
    started = page.graph(
        "POST", f"{PIM}/alerts/refresh", {"scopeId": "/", "scopeType": "DirectoryRole"}
    )
    if not started.ok:
        return refused(page, started, back=f"{_root(page)}/pim")
    operation = urlsplit(started.headers.get("Location", "")).path.rsplit("/", 1)[-1]
    return RedirectResponse(f"{_root(page)}/pim?operation={operation}", status_code=303)


def pim_operation(page: Page) -> Response:
    outcome = page.graph("GET", f"{PIM}/operations/{quote(_key(page), safe=':')}")
    if not outcome.ok:
        return refused(page, outcome, back=f"{_root(page)}/pim")
    return view(
        page,
        "json_page.html",
        heading="Refresh operation",
        value=outcome.body,
        back=f"{_root(page)}/pim",
    )


def pim_remediate(page: Page) -> Response:
    incident = str(page.request.path_params["incident"])
    done = page.graph(
        "POST",
        f"{PIM}/alerts/{quote(_key(page), safe='')}/alertIncidents/"
        f"{quote(incident, safe='')}/remediate",
    )
    if not done.ok:
        return refused(page, done, back=_pim_here(page))
    return RedirectResponse(f"{_pim_here(page)}?saved=1", status_code=303)


def pim_configure(page: Page) -> Response:
    """PATCH the alert's configuration: isEnabled and the thresholds its type declares."""
    values = form(page)
    config_id = values.get("configId", "")
    config_url = f"{PIM}/alertConfigurations/{quote(config_id, safe='')}"
    current = page.graph("GET", config_url)
    if not current.ok:
        return refused(page, current, back=_pim_here(page))
    body: dict[str, Any] = {"@odata.type": current.body.get("@odata.type", "")}
    body["isEnabled"] = values.get("isEnabled") == "true"
    for name, before in current.body.items():
        if name.startswith("@") or name in CONFIG_FIXED or name == "isEnabled":
            continue
        if f"setting.{name}" not in values:
            continue
        sent = values[f"setting.{name}"].strip()
        if isinstance(before, int) and not isinstance(before, bool):
            # ASCII digits only ("²".isdigit() is true) and within Int32, the thresholds' type:
            # anything else is refused here, as the API would, before anything is sent
            low, high = INTEGER_RANGES["Edm.Int32"]
            if not INTEGER.fullmatch(sent) or not low <= int(sent) <= high:
                top = 100 if name in PERCENT_PROPERTIES else high
                message = (
                    f"The request body has a problem: {name}: '{sent}' is not a whole number "
                    f"from 0 to {top}; nothing was changed."
                )
                bad = Outcome.refusal(message)
                return refused(page, bad, back=_pim_here(page))
            body[name] = int(sent)
        else:
            body[name] = sent
    patched = page.graph("PATCH", config_url, body)
    if not patched.ok:
        return refused(page, patched, back=_pim_here(page))
    return RedirectResponse(f"{_pim_here(page)}?saved=1", status_code=303)


# ---- Query ------------------------------------------------------------------------------------


def query_page(page: Page) -> Response:
    return view(
        page,
        "query.html",
        method="GET",
        url="/beta/security/alerts_v2?$top=5&$filter=severity eq 'high'",
        body="",
        outcome=None,
        lint=[],
        shown_body="",
    )


def query_run(page: Page) -> Response:
    values = form(page)
    method = values.get("method", "GET").upper()
    url = values.get("url", "").strip()
    text = values.get("body", "").strip()
    lint: list[str] = []
    parts = urlsplit(url)
    path_and_query = parts.path + (f"?{parts.query}" if parts.query else "")
    if parts.netloc:
        lint.append(f"Only the path counts here; the host '{parts.netloc}' was ignored.")
    if method not in QUERY_METHODS:
        lint.append(f"Method {method} is not one this API serves; use GET, POST or PATCH.")
        method = "GET"
    body: Any = None
    if text:
        try:
            body = orjson.loads(text)
            refuse_repeated_members(text)  # as the HTTP layer does
        except (orjson.JSONDecodeError, BadRequest) as exc:
            problem = (
                exc.message
                if isinstance(exc, BadRequest)
                else f"The body is not valid JSON ({exc})."
            )
            lint.append(f"{problem} Graph answers 400 BadRequest.")
            return view(
                page,
                "query.html",
                status=200,
                method=method,
                url=url,
                body=text,
                outcome=None,
                lint=lint,
                shown_body="",
            )
    if " " in path_and_query:
        lint.append(
            "The URL holds raw spaces; Graph clients send them percent-encoded (%20). "
            "The console encoded them for you."
        )
        path_and_query = path_and_query.replace(" ", "%20")
    if method == "GET" and not page.console.settings.strict_graph:
        strict = page.console.dispatch(
            page.principal, method, path_and_query, None, base_url=page.base_url, strict=True
        )
        if not strict.ok:
            lint.append(
                f"Graph would reject this with {strict.status} {strict.error_code}: "
                f"{strict.error_message}"
            )
    if isinstance(body, list) and path_and_query.split("?")[0].endswith("/comments"):
        lint.append(
            "Graph answers a JSON array of comments with 400 'Empty Payload'; send one "
            "alertComment object."
        )
    outcome = page.graph(method, path_and_query, body)
    if not lint and outcome.ok:
        lint.append("Nothing here that Graph would reject.")
    shown = outcome.body if isinstance(outcome.body, (dict, list)) else None
    if isinstance(outcome.body, bytes):  # $metadata is XML: show the text, not a bytes repr
        outcome.body = outcome.body.decode("utf-8", "replace")
    return view(
        page,
        "query.html",
        method=method,
        url=url,
        body=text,
        outcome=outcome,
        lint=lint,
        shown_body=orjson.dumps(shown, option=orjson.OPT_INDENT_2).decode()
        if shown is not None
        else str(outcome.body or ""),
    )


ROUTES: list[PageRoute] = [
    ("/incidents", incidents, ["GET"]),
    ("/incidents/{key:path}", incident_page, ["GET"]),
    ("/incidents/{key:path}", incident_triage, ["POST"]),
    ("/partner", partner_alerts, ["GET"]),
    ("/partner/{key:path}", partner_page, ["GET"]),
    ("/partner/{key:path}", partner_update, ["POST"]),
    ("/pim", pim_alerts, ["GET"]),
    ("/pim/refresh", pim_refresh_all, ["POST"]),
    ("/pim/operations/{key:path}", pim_operation, ["GET"]),
    ("/pim/{key}/dismiss", pim_dismiss, ["POST"]),
    ("/pim/{key}/refresh", pim_refresh, ["POST"]),
    ("/pim/{key}/configure", pim_configure, ["POST"]),
    ("/pim/{key}/incidents/{incident}/remediate", pim_remediate, ["POST"]),
    ("/pim/{key:path}", pim_page, ["GET"]),
    ("/query", query_page, ["GET"]),
    ("/query", query_run, ["POST"]),
]
