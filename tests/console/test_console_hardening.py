"""Console hardening, on SQLite and PostgreSQL: curl lines safe to paste into a shell,
forms taken from the console's own origin only (sign-in and sign-out included), honest and
all-or-nothing saves, and clear refusals where a 500 or a silent fallback used to be.
"""

from __future__ import annotations

import html
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from alertgraph.console.sessions import sessions_table
from tests.api.conftest import alert, incident, insert, mint
from tests.console.test_console_html import (
    _seed_demo,
    csrf_of,
    pim_configuration_page,
    seeded,
    sign_in,
)
from tests.factories import bearer

__all__ = ["seeded"]  # the fixture, shared with test_console_html

ALERTS = "/beta/security/alerts_v2"
PIM = "/beta/identityGovernance/roleManagementAlerts"


def curl_lines(page: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(r'<input class="curl"[^>]* value="([^"]*)"', page)]


def selected(page: str, name: str) -> str:
    """What a browser submits for a select: the selected option, else the first one."""
    found = re.search(rf'<select id="f-{name}" name="{name}">(.*?)</select>', page, re.S)
    assert found, name
    options = re.findall(r'<option value="([^"]*)"( selected)?>', found.group(1))
    chosen = [value for value, mark in options if mark] or [options[0][0]]
    return html.unescape(chosen[0])


def test_curl_lines_give_the_requested_url_to_a_shell(client, app, seeded) -> None:
    sign_in(client, mint(app))
    page = client.get("/console/alerts", params={"severity": "high"}).text
    [line] = curl_lines(page)
    assert shlex.split(line) == [
        "curl",
        "-X",
        "GET",
        "-H",
        "Authorization: Bearer $TOKEN",
        f"http://testserver{ALERTS}?$filter=severity%20eq%20'high'",
    ]
    assert '"Authorization: Bearer $TOKEN"' in line  # double quotes: the shell expands $TOKEN
    _seed_demo(seeded)
    pim = client.get("/console/pim").text
    [line] = curl_lines(pim)
    assert shlex.split(line)[-1].endswith(
        "scopeId%20eq%20'%2F'%20and%20scopeType%20eq%20'DirectoryRole'"
    )


def test_a_hostile_page_parameter_stays_inside_its_quotes(
    client, app, seeded, tmp_path: Path
) -> None:
    sign_in(client, mint(app))
    marker = tmp_path / "pwned"
    hostile = f"$top=1';touch {marker};'"
    page = client.get("/console/alerts", params={"page": hostile}).text
    [line] = curl_lines(page)
    url = f"http://testserver{ALERTS}?{hostile}"
    assert shlex.split(line)[-1] == url
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    assert not {";", "&", "|", "&&", "||", "(", ")"} & set(lexer)
    # pasted into a real shell, with curl standing in as a function: one argument, no command
    shell = f'curl() {{ printf "%s\\n" "$@"; }}; TOKEN=t; {line}'
    ran = subprocess.run(["sh", "-c", shell], capture_output=True, text=True, check=True)
    assert ran.stdout.splitlines() == ["-X", "GET", "-H", "Authorization: Bearer t", url]
    assert not marker.exists()


def test_a_cross_origin_sign_in_is_refused(client, app) -> None:
    token = mint(app)
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Referer": "http://evil.example/page"},
    ):
        response = client.post("/console/signin", data={"token": token}, headers=headers)
        assert response.status_code == 403, headers
        assert "posted from another site" in response.text
        assert "set-cookie" not in response.headers
    same = client.post(
        "/console/signin",
        data={"token": token},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert same.status_code == 303
    assert "alertgraph_console" in same.headers["set-cookie"]


def test_forms_need_the_full_own_origin(client, app, seeded) -> None:
    token = mint(app)
    sign_in(client, token)
    csrf = csrf_of(client.get("/console/alerts/a-mid").text)
    for origin in ("null", "https://testserver", "http://testserver:8080", "http://evil.example"):
        response = client.post(
            "/console/alerts/a-mid",
            data={"csrf": csrf, "status": "resolved"},
            headers={"Origin": origin},
        )
        assert response.status_code == 403, origin
    api = client.get(f"{ALERTS}/a-mid", headers={"Authorization": f"Bearer {token}"}).json()
    assert api["status"] == "new"
    for origin in ("http://testserver", "http://TestServer:80"):
        ok = client.post(
            "/console/alerts/a-mid",
            data={"csrf": csrf, "assignedTo": origin},
            headers={"Origin": origin},
            follow_redirects=False,
        )
        assert ok.status_code == 303, origin


def test_forms_work_over_https_and_refuse_plain_http_origins(app, seeded) -> None:
    with TestClient(app, base_url="https://testserver") as client:
        response = client.post("/console/signin", data={"token": mint(app)}, follow_redirects=False)
        assert "Secure" in response.headers["set-cookie"]
        csrf = csrf_of(client.get("/console/alerts/a-mid").text)
        refused = client.post(
            "/console/alerts/a-mid",
            data={"csrf": csrf, "status": "resolved"},
            headers={"Origin": "http://testserver"},
        )
        assert refused.status_code == 403
        saved = client.post(
            "/console/alerts/a-mid",
            data={"csrf": csrf, "status": "resolved"},
            headers={"Origin": "https://testserver"},
            follow_redirects=False,
        )
        assert saved.status_code == 303


def test_a_forged_sign_out_is_refused_and_says_so(client, app, seeded) -> None:
    sign_in(client, mint(app))
    csrf = csrf_of(client.get("/console/alerts").text)
    for data, headers in (
        ({}, {}),
        ({"csrf": "x" * 43}, {}),
        ({"csrf": csrf}, {"Origin": "http://evil.example"}),
    ):
        out = client.post("/console/signout", data=data, headers=headers, follow_redirects=False)
        assert out.status_code == 403
        assert "set-cookie" not in out.headers
        assert client.get("/console/alerts", follow_redirects=False).status_code == 200
    out = client.post("/console/signout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    with seeded.engine.connect() as conn:
        assert conn.execute(sessions_table.select()).first() is None


def test_pim_thresholds_that_are_not_whole_numbers_get_a_400(client, app, store) -> None:
    _seed_demo(store)
    token = mint(app)
    sign_in(client, token)
    alert_id, config_id, page = pim_configuration_page(client)
    csrf = csrf_of(page)
    url = f"{PIM}/alertConfigurations/{config_id}"
    before = client.get(url, headers={"Authorization": f"Bearer {token}"}).json()
    for value in ("²", "99999999999999999999999999", "١٢"):
        response = client.post(
            f"/console/pim/{alert_id}/configure",
            data={
                "csrf": csrf,
                "configId": config_id,
                "isEnabled": "false",
                "setting.globalAdminCountThreshold": value,
            },
        )
        assert response.status_code == 400, value
        assert "globalAdminCountThreshold" in response.text
        assert "from 0 to 2147483647" in response.text
    after = client.get(url, headers={"Authorization": f"Bearer {token}"}).json()
    assert after == before


def test_an_evolvable_status_survives_a_comment_only_save(client, app, store) -> None:
    insert(store, "incidents", [incident("900", status="awaitingAction")])
    token = mint(app)
    sign_in(client, token)
    page = client.get("/console/incidents/900").text
    data = {name: selected(page, name) for name in ("status", "classification", "determination")}
    assert data["status"] == "unknownFutureValue"
    saved = client.post(
        "/console/incidents/900",
        data={**data, "csrf": csrf_of(page), "assignedTo": "", "comment": "Looked at it"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    api = client.get(
        "/beta/security/incidents/900",
        headers={"Authorization": f"Bearer {token}", "Prefer": "include-unknown-enum-members"},
    ).json()
    assert api["status"] == "awaitingAction"
    assert [c["comment"] for c in api["comments"]] == ["Looked at it"]


def _resolve_with_comment(client: Any, comment: str) -> Any:
    """The alert a-mid's triage form, posted as the page gives it: resolved, with ``comment``."""
    page = client.get("/console/alerts/a-mid").text
    return client.post(
        "/console/alerts/a-mid",
        data={"csrf": csrf_of(page), "status": "resolved", "comment": comment},
    )


def test_a_refused_comment_changes_nothing(client, app, seeded) -> None:
    token = mint(app)
    sign_in(client, token)
    response = _resolve_with_comment(client, "nul\x00here")
    assert response.status_code == 400
    assert "NUL" in response.text
    api = client.get(f"{ALERTS}/a-mid", headers={"Authorization": f"Bearer {token}"}).json()
    assert api["status"] == "new"
    assert api["comments"] == []


def test_classification_lists_offer_no_value_the_api_refuses(client, app, store) -> None:
    insert(store, "alerts_v2", [alert("c1", classification="truePositive", determination="apt")])
    insert(store, "alerts_v2", [alert("c2")])
    insert(store, "incidents", [incident("901", classification="falsePositive")])
    sign_in(client, mint(app))
    page = client.get("/console/alerts/c1").text
    assert selected(page, "classification") == "truePositive"
    assert selected(page, "determination") == "apt"
    assert "(none)" not in page
    unset = client.get("/console/alerts/c2").text
    assert selected(unset, "classification") == ""
    assert '<option value="" selected>(none)</option>' in unset
    incident_page = client.get("/console/incidents/901").text
    assert selected(incident_page, "classification") == "falsePositive"
    assert selected(incident_page, "determination") == ""


def test_query_panel_shows_metadata_as_text(client, app, seeded) -> None:
    sign_in(client, mint(app))
    csrf = csrf_of(client.get("/console/query").text)
    run = client.post(
        "/console/query", data={"csrf": csrf, "method": "GET", "url": "/beta/$metadata"}
    )
    assert run.status_code == 200
    assert '<pre class="json">&lt;?xml version=' in run.text
    assert "b&#39;&lt;?xml" not in run.text


def test_clear_messages_for_a_large_form_an_unknown_range_and_quotes(client, app, seeded) -> None:
    token = mint(app)
    sign_in(client, token)
    large = _resolve_with_comment(client, "x" * 1_100_000)
    assert large.status_code == 413
    assert "too large" in large.text
    assert "CSRF" not in large.text
    api = client.get(f"{ALERTS}/a-mid", headers={"Authorization": f"Bearer {token}"}).json()
    assert api["status"] == "new"
    bogus = client.get("/console/alerts", params={"range": "bogus"})
    assert bogus.status_code == 400
    assert "Time range &#39;bogus&#39; is not one of 24h, 7d and 30d" in bogus.text
    assert "Newest alert" not in bogus.text
    quoted = client.get("/console/alerts", params={"status": "it's"})
    assert quoted.status_code == 400
    problem = re.search(r'<p class="problem" role="alert">(.*?)</p>', quoted.text, re.S).group(1)
    assert "&#39;it&#39;s&#39;" in problem
    assert "&#39;it&#39;&#39;s&#39;" not in problem


def test_console_without_its_slash_leads_to_the_console(client) -> None:
    # the address serve prints and the README gives
    moved = client.get("/console", follow_redirects=False)
    assert moved.status_code == 307
    assert moved.headers["location"] in ("console/", "http://testserver/console/")
    landed = client.get("/console")
    assert landed.status_code == 200
    assert "<form" in landed.text


def test_query_panel_refuses_a_member_given_twice_as_the_api_does(client, app, seeded) -> None:
    sign_in(client, mint(app))
    csrf = csrf_of(client.get("/console/query").text)
    before = client.get("/beta/security/alerts_v2/a-mid", headers=bearer(mint(app))).json()
    run = client.post(
        "/console/query",
        data={
            "csrf": csrf,
            "method": "PATCH",
            "url": "/beta/security/alerts_v2/a-mid",
            "body": '{"status": "resolved", "status": "new"}',
        },
    )
    assert run.status_code == 200
    assert "gives the member &#39;status&#39; twice" in run.text
    after = client.get("/beta/security/alerts_v2/a-mid", headers=bearer(mint(app))).json()
    assert after == before  # nothing was sent
