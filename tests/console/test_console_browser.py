"""The console in Debian's Chromium, driven by Playwright, against a real ``serve --demo``.

Every page is watched for JavaScript errors, failed requests and HTTP errors (the favicon
included, though Chromium may cancel its tab-icon fetch on navigation); changes made in the
browser are checked through the Graph API.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from alertgraph.store.database import Store
from tests.api.conftest import alert, insert
from tests.live import LiveServer, live_server

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOSTILE = "<img src=x onerror=alert(1)> \"Quoted\" & 'single' <script>alert(2)</script>"
ALERTS = "/beta/security/alerts_v2"


@dataclass
class Demo:
    server: LiveServer
    link: str
    token: str
    tenant: str

    def api(self, path: str, token: str | None = None) -> Any:
        response = httpx.get(
            f"{self.server.base}{path}",
            headers={"Authorization": f"Bearer {token or self.token}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("console-browser")
    database_url = f"sqlite:///{folder / 'alertgraph.db'}"
    with live_server(database_url, folder, "--demo") as server:
        log = server.log()
        link = re.search(r"Console:\s+(\S+/console/signin\?code=\S+)", log)
        token = re.search(r"Dev token \(12 h, every permission\): (\S+)", log)
        tenant = re.search(r"Tenant:\s+(\S+)", log)
        assert link, log
        assert token, log
        assert tenant, log
        store = Store.open(database_url)
        try:  # an alert whose title is HTML, added beside the demo data
            insert(
                store,
                "alerts_v2",
                [alert("hostile-1", title=HOSTILE, createdDateTime="2099-01-01T00:00:00Z")],
                tenant=tenant.group(1),
            )
        finally:
            store.engine.dispose()
        yield Demo(server, link.group(1), token.group(1), tenant.group(1))
        requests = [line for line in server.log().splitlines() if 'HTTP/1.1"' in line]
        assert requests
        assert not [line for line in requests if token.group(1) in line]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install -y chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Watch:
    """What went wrong in a page: script errors, console errors, failed or refused requests."""

    problems: list[str] = field(default_factory=list)
    allowed_status: set[int] = field(default_factory=set)

    def _console(self, message: Any) -> None:
        refused = any(f"status of {status} " in message.text for status in self.allowed_status)
        if message.type == "error" and not refused:
            self.problems.append(f"console {message.type}: {message.text}")

    def _request_failed(self, request: Any) -> None:
        # Chromium fetches the tab icon after the load event and cancels that fetch when the
        # next navigation starts, so an aborted icon fetch says nothing about the server (the
        # icon itself is fetched and checked directly where it matters).
        cancelled_icon = (
            request.url.endswith("/favicon.svg")
            and request.resource_type != "image"  # the header's <img> of it is still watched
            and "ERR_ABORTED" in (request.failure or "")
        )
        if not cancelled_icon:
            self.problems.append(f"failed: {request.url} {request.failure}")

    def attach(self, page: Any) -> None:
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", self._console)
        page.on("requestfailed", self._request_failed)
        page.on(
            "response",
            lambda response: (
                self.problems.append(f"{response.status}: {response.url}")
                if response.status >= 400 and response.status not in self.allowed_status
                else None
            ),
        )
        page.on("dialog", lambda dialog: self.problems.append(f"dialog: {dialog.message}"))


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    opened = browser.new_context()
    yield opened
    opened.close()


def open_page(context: Any) -> tuple[Any, Watch]:
    page = context.new_page()
    watch = Watch()
    watch.attach(page)
    return page, watch


def sign_in_with_token(page: Any, base: str, token: str) -> None:
    page.goto(f"{base}/console/alerts")
    assert page.url.endswith("/console/signin")
    page.get_by_label("Token", exact=True).fill(token)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(r".*/console/alerts$"))


def test_demo_link_signs_in_once_then_filter_and_triage(demo: Demo, context: Any) -> None:
    page, watch = open_page(context)
    page.goto(demo.link)
    page.wait_for_url(re.compile(r".*/console/alerts$"))
    assert page.get_by_role("heading", name="Alert queue").is_visible()
    assert "code=" not in page.url
    # counts and the chart arrive after the queue, in place
    page.get_by_role("heading", name="By severity").wait_for()
    assert page.locator("#summary svg rect").count() == 30

    page.get_by_label("Severity", exact=True).select_option("high")
    page.wait_for_url(re.compile(r".*severity=high.*"))
    badges = page.locator("table.list tbody td:nth-child(2)").all_inner_texts()
    assert badges
    assert set(badges) == {"high"}
    assert "$filter=severity eq 'high'" in page.locator("code.url").first.inner_text()

    first = page.locator("table.list tbody a").first
    title = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r".*/console/alerts/[^/?]+$"))
    alert_id = page.url.rsplit("/", 1)[1]
    assert page.get_by_role("heading", name=title, exact=True).is_visible()

    page.get_by_label("Status", exact=True).select_option("resolved")
    page.get_by_label("Classification", exact=True).select_option("truePositive")
    page.get_by_label("Determination", exact=True).select_option("malware")
    page.get_by_label("Assigned to", exact=True).fill("browser@contoso.com")
    page.get_by_label("Comment", exact=True).fill("Checked in Chromium")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r".*saved=1$"))
    assert page.get_by_role("status").inner_text() == "Saved."

    api = demo.api(f"{ALERTS}/{alert_id}")
    assert api["status"] == "resolved"
    assert api["classification"] == "truePositive"
    assert api["determination"] == "malware"
    assert api["assignedTo"] == "browser@contoso.com"
    assert api["comments"][-1]["comment"] == "Checked in Chromium"
    assert watch.problems == []

    # the link worked once: a second browser gets the sign-in form instead
    again, _ = open_page(context.browser.new_context())
    response = again.goto(demo.link)
    assert response.status == 400
    assert again.get_by_label("Token", exact=True).is_visible()
    again.context.close()


def test_reader_sees_disabled_controls_and_is_refused(demo: Demo, context: Any) -> None:
    reader = demo.server.token(
        "--user",
        "reader@contoso.com",
        "--scope",
        "SecurityAlert.Read.All",
        "--directory-role",
        "Security Reader",
    )
    page, watch = open_page(context)
    sign_in_with_token(page, demo.server.base, reader)
    page.locator("table.list tbody a").first.click()
    page.wait_for_url(re.compile(r".*/console/alerts/[^/?]+$"))
    alert_id = page.url.rsplit("/", 1)[1]
    before = demo.api(f"{ALERTS}/{alert_id}")
    for label in ("Status", "Classification", "Determination", "Assigned to", "Comment"):
        assert page.get_by_label(label, exact=True).is_disabled(), label
    assert page.get_by_role("button", name="Save", exact=True).is_disabled()

    # forge the post: re-enable the form in the page and submit it anyway
    watch.allowed_status.add(403)
    page.evaluate("document.querySelector('form.triage fieldset').disabled = false")
    page.get_by_label("Status", exact=True).select_option("resolved")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Save", exact=True).click()
    assert posted.value.status == 403
    api_refusal = httpx.patch(
        f"{demo.server.base}{ALERTS}/{alert_id}",
        json={"status": "resolved"},
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert api_refusal.status_code == 403
    assert api_refusal.json()["error"]["code"] in page.content()
    assert demo.api(f"{ALERTS}/{alert_id}")["status"] == before["status"]
    assert watch.problems == []


def test_html_in_titles_is_shown_as_text(demo: Demo, context: Any) -> None:
    page, watch = open_page(context)
    sign_in_with_token(page, demo.server.base, demo.token)
    link = page.get_by_role("link", name=HOSTILE, exact=True)
    assert link.count() == 1
    assert "hostile-1" in (link.get_attribute("href") or "")
    link.click()
    assert page.get_by_role("heading", name=HOSTILE, exact=True).is_visible()
    assert page.locator("img[src=x]").count() == 0
    assert watch.problems == []  # no dialog opened, no script ran


def test_every_page_loads_without_errors(demo: Demo, context: Any) -> None:
    page, watch = open_page(context)
    sign_in_with_token(page, demo.server.base, demo.token)
    favicon = page.request.get(f"{demo.server.base}/console/static/favicon.svg")
    assert favicon.status == 200
    visited = []
    for section, link_pattern in (
        ("Alerts", "/console/alerts/"),
        ("Incidents", "/console/incidents/"),
        ("Partner alerts", "/console/partner/"),
        ("PIM alerts", "/console/pim/"),
    ):
        page.get_by_role("navigation", name="Sections").get_by_role(
            "link", name=section, exact=True
        ).click()
        page.wait_for_load_state()
        visited.append(page.url)
        page.locator(f"table.list tbody a[href*='{link_pattern}']").first.click()
        page.wait_for_load_state()
        visited.append(page.url)
    page.get_by_role("link", name="Query").click()
    page.get_by_label("URL", exact=True).fill(f"{ALERTS}?$orderby=title&$top=1")
    page.get_by_role("button", name="Run").click()
    page.wait_for_load_state()
    assert "Graph would reject this with 400" in page.content()
    assert len(visited) == 8
    assert watch.problems == [], visited


def test_core_flows_work_with_javascript_off(demo: Demo, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page, watch = open_page(context)
        sign_in_with_token(page, demo.server.base, demo.token)
        page.get_by_label("Severity", exact=True).select_option("medium")
        page.get_by_label("Status", exact=True).select_option("new")
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_url(re.compile(r".*severity=medium.*status=new.*"))
        rows = page.locator("table.list tbody tr").all_inner_texts()
        assert rows
        assert all("medium" in row and "new" in row for row in rows)
        page.locator("table.list tbody a").first.click()
        page.wait_for_url(re.compile(r".*/console/alerts/[^/?]+$"))
        alert_id = page.url.rsplit("/", 1)[1]
        page.get_by_label("Status", exact=True).select_option("inProgress")
        page.get_by_label("Comment", exact=True).fill("Triaged without JavaScript")
        page.keyboard.press("Tab")
        page.get_by_role("button", name="Save", exact=True).press("Enter")
        page.wait_for_url(re.compile(r".*saved=1$"))
        api = demo.api(f"{ALERTS}/{alert_id}")
        assert api["status"] == "inProgress"
        assert api["comments"][-1]["comment"] == "Triaged without JavaScript"
        assert watch.problems == []
    finally:
        context.close()


def test_session_cookie_is_secure_under_tls(tmp_path: Path) -> None:
    with live_server(f"sqlite:///{tmp_path / 'tls.db'}", tmp_path, "--tls") as server:
        token = server.token()
        response = httpx.post(
            f"{server.base}/console/signin", data={"token": token}, verify=server.verify
        )
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
        assert token not in server.log()
        # without --demo there is no sign-in code: the link leads to the form
        assert f"Console:   {server.base}/console  (sign in with a token)" in server.log()


def test_keyboard_moves_through_filters_and_applies_them(demo: Demo, context: Any) -> None:
    page, watch = open_page(context)
    sign_in_with_token(page, demo.server.base, demo.token)
    severity = page.get_by_label("Severity", exact=True)
    severity.focus()
    page.keyboard.press("ArrowDown")  # "Any" -> the first severity, without leaving the page
    page.keyboard.press("ArrowDown")
    chosen = severity.input_value()
    assert chosen
    assert page.url.endswith("/console/alerts")
    page.keyboard.press("Tab")  # Status
    page.keyboard.press("Tab")  # Service source
    page.keyboard.press("Tab")  # Assigned to
    page.keyboard.press("Tab")  # Time range
    page.keyboard.press("Tab")  # Apply filters
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*severity={chosen}.*"))
    badges = page.locator("table.list tbody td:nth-child(2)").all_inner_texts()
    assert badges
    assert set(badges) == {chosen}
    assert watch.problems == []


def test_emulator_snapshot_restores_a_change_made_through_the_api(demo: Demo, context: Any) -> None:
    page, watch = open_page(context)
    sign_in_with_token(page, demo.server.base, demo.token)
    page.get_by_role("link", name="Emulator", exact=True).click()
    page.wait_for_url(re.compile(r".*/console/emulator$"))
    # a Graph session sees the controls disabled until it gives an admin token
    assert page.get_by_role("button", name="Save snapshot", exact=True).is_disabled()
    page.get_by_label("Admin token", exact=True).fill(demo.server.token("--admin"))
    page.get_by_role("button", name="Unlock controls", exact=True).click()
    page.wait_for_url(re.compile(r".*done=unlocked$"))

    alert = demo.api(f"{ALERTS}?$top=1&$filter=status eq 'new'")["value"][0]
    page.get_by_label("Snapshot name", exact=True).fill("before-browser")
    page.get_by_role("button", name="Save snapshot", exact=True).click()
    page.wait_for_url(re.compile(r".*done=saved$"))
    assert page.get_by_role("cell", name="before-browser", exact=True).is_visible()

    changed = httpx.patch(
        f"{demo.server.base}{ALERTS}/{alert['id']}",
        json={"status": "resolved"},
        headers={"Authorization": f"Bearer {demo.token}"},
        timeout=10,
    )
    assert changed.status_code == 200, changed.text
    assert demo.api(f"{ALERTS}/{alert['id']}")["status"] == "resolved"

    page.get_by_role("button", name="Restore before-browser", exact=True).click()
    page.wait_for_url(re.compile(r".*done=restored$"))
    assert page.get_by_role("status").inner_text() == "Snapshot restored."
    assert demo.api(f"{ALERTS}/{alert['id']}")["status"] == "new"

    # the journal refreshes in place when asked to (the Refresh link works without it)
    with page.expect_response(re.compile(r".*/console/emulator/journal$")) as reloaded:
        page.get_by_label("Auto-refresh every 3 seconds").check()
    assert reloaded.value.status == 200
    page.get_by_label("Auto-refresh every 3 seconds").uncheck()
    page.get_by_role("button", name="Delete before-browser", exact=True).click()
    page.wait_for_url(re.compile(r".*done=deleted$"))
    assert watch.problems == []
