"""The console's Starlette app: sign-in, sessions, CSRF, security headers and page rendering.

Views (views_alerts.py, views_more.py) get a :class:`Page` that knows the signed-in principal and
calls Graph through the dispatcher; this module turns their answers into HTML responses.
"""

from __future__ import annotations

import functools
import hmac
import json
import shlex
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import jinja2
import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alertgraph.console import sessions
from alertgraph.console.graph import Dispatch, Outcome
from alertgraph.errors import GraphError, Unauthorized
from alertgraph.identity.auth import Authenticator, Principal
from alertgraph.settings import Settings
from alertgraph.store.database import Store

COOKIE = "alertgraph_console"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # not no-referrer: under it browsers send ``Origin: null`` with every form post, and the
    # origin check below needs the real origin; nothing is sent to other sites either way
    (b"referrer-policy", b"same-origin"),
]
MAX_FORM_BYTES = 1_048_576


class SecurityHeaders:
    """Adds the CSP, nosniff and frame denial to every console response (pages and static)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += SECURITY_HEADERS
                if not scope["path"].startswith(f"{scope.get('root_path', '')}/static"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass
class Console:
    store: Store
    settings: Settings
    authenticator: Authenticator
    dispatch: Dispatch
    templates: jinja2.Environment
    key: bytes = b""


@dataclass
class Page:
    """One signed-in request: who, where, and the Graph calls it made (shown on the page)."""

    console: Console
    request: Request
    principal: Principal
    session: sessions.Session
    calls: list[dict[str, str]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return str(self.request.base_url).rstrip("/")

    def graph(self, method: str, path_and_query: str, body: Any = None, **kw: Any) -> Outcome:
        """One Graph call as this principal; remembered with its curl line for the page."""
        outcome = self.console.dispatch(
            self.principal, method, path_and_query, body, base_url=self.base_url, **kw
        )
        url = f"{self.base_url}{path_and_query}"
        # every interpolated value is shell-quoted: a URL holds ' (OData literals) and whatever
        # a query parameter brought; only $TOKEN, in double quotes, is left for the shell
        words = ["curl", "-X", shlex.quote(method), '-H "Authorization: Bearer $TOKEN"']
        if body is not None:
            try:
                text = orjson.dumps(body).decode()
            except orjson.JSONEncodeError:  # an integer past 64 bits: the API refused it
                text = json.dumps(body)
            words += ["-H", shlex.quote("Content-Type: application/json")]
            words += [shlex.quote(url), "-d", shlex.quote(text)]
        else:
            words.append(shlex.quote(url))
        curl = " ".join(words)
        self.calls.append(
            {
                "method": method,
                "url": url,
                "shown": _readable(url),
                "curl": curl,
                "status": str(outcome.status),
            }
        )
        return outcome


def _readable(url: str) -> str:
    from urllib.parse import unquote

    return unquote(url)


#: a view runs in the thread pool (database code is synchronous) and returns the response
View = Callable[[Page], Response]


#: a page route: path, view, methods (views_alerts.ROUTES, views_more.ROUTES)
PageRoute = tuple[str, View, list[str]]


def make_app(
    store: Store,
    settings: Settings,
    authenticator: Authenticator,
    dispatch: Dispatch,
    pages: list[PageRoute],
) -> ASGIApp:
    """The console app: sign-in, static files and the given signed-in pages (CSRF on POST)."""
    sessions.ensure_schema(store)
    templates = jinja2.Environment(
        loader=jinja2.PackageLoader("alertgraph.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates.filters["pretty"] = lambda value: orjson.dumps(
        value, option=orjson.OPT_INDENT_2
    ).decode()
    templates.filters["q"] = lambda value: quote(str(value), safe="")
    console = Console(store, settings, authenticator, dispatch, templates)
    static_dir = resources.files("alertgraph.console") / "static"

    def page(view: View, *, write: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await _signed_in(console, request, view, write=write)

        return endpoint

    routes = [
        Route("/", page(_home)),
        Route("/signin", functools.partial(_signin_page, console), methods=["GET"]),
        Route("/signin", functools.partial(_signin_post, console), methods=["POST"]),
        Route("/signout", functools.partial(_signout, console), methods=["POST"]),
        Route(
            "/favicon.ico", functools.partial(_favicon, (static_dir / "favicon.ico").read_bytes())
        ),
        Mount("/static", StaticFiles(directory=str(static_dir)), name="static"),
    ]
    for path, view, methods in pages:
        routes.append(Route(path, page(view, write="POST" in methods), methods=methods))
    return SecurityHeaders(Starlette(routes=routes))


def _home(page: Page) -> Response:
    return RedirectResponse(f"{page.request.scope.get('root_path', '')}/alerts", 303)


async def _favicon(icon: bytes, request: Request) -> Response:
    return Response(icon, media_type="image/x-icon")


# ---- rendering --------------------------------------------------------------------------------


def render(
    console: Console,
    page: Page | None,
    request: Request,
    template: str,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    html = console.templates.get_template(template).render(
        root=root,
        page=page,
        principal=page.principal if page else None,
        csrf=page.session.csrf if page else "",
        calls=page.calls if page else [],
        **values,
    )
    return HTMLResponse(html, status_code=status)


def view(page: Page, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    return render(page.console, page, page.request, template, status, **values)


def refused(page: Page, outcome: Outcome, back: str, note: str = "") -> HTMLResponse:
    """The Graph error of a write, with the status the API gave (403 stays 403)."""
    return view(page, "error.html", status=outcome.status, outcome=outcome, back=back, note=note)


# ---- sessions ---------------------------------------------------------------------------------


async def _signed_in(console: Console, request: Request, view_fn: View, *, write: bool) -> Response:
    root = request.scope.get("root_path", "")
    if not console.key:
        console.key = await run_in_threadpool(sessions.cookie_key, console.store)
    session = await run_in_threadpool(
        sessions.find_session, console.store, console.key, request.cookies.get(COOKIE)
    )
    principal: Principal | None = None
    if session is not None:
        try:
            principal = await run_in_threadpool(
                console.authenticator.authenticate,
                f"Bearer {session.token}",
                request_id=str(uuid.uuid4()),
            )
        except GraphError:
            principal = None
    if session is None or principal is None:
        if write:
            return render(
                console,
                None,
                request,
                "signin.html",
                401,
                message="Your session has ended; sign in again.",
            )
        return RedirectResponse(f"{root}/signin", status_code=303)
    page = Page(console, request, principal, session)
    if write:
        form = await own_form(console, page, request)
        if isinstance(form, HTMLResponse):
            return form
        page.request.state.form = form
        if not hmac.compare_digest(str(form.get("csrf", "")), session.csrf):
            return forbidden(console, page, request, WRONG_CSRF)
    return await run_in_threadpool(view_fn, page)


WRONG_CSRF = "The form's CSRF token is missing or wrong; reload the page and submit it again."
FOREIGN = (
    "The form was posted from another site ({origin}); the console takes forms from its own "
    "pages only."
)
TOO_LARGE = (
    f"The form is too large (over {MAX_FORM_BYTES // 1024} KiB); nothing was changed. Shorten "
    "the comment or value and submit it again."
)


def forbidden(
    console: Console,
    page: Page | None,
    request: Request,
    message: str,
    *,
    status: int = 403,
    code: str = "Forbidden",
) -> HTMLResponse:
    """The console's own refusal of a form (before any Graph call), in the API's error shape."""
    origin = request.headers.get("origin") or request.headers.get("referer") or ""
    outcome = Outcome.refusal(message.format(origin=origin), status, code)
    root = request.scope.get("root_path", "")
    back = f"{root}/alerts" if page is not None else f"{root}/signin"
    return render(
        console, page, request, "error.html", status, outcome=outcome, back=back, own=True
    )


DEFAULT_PORTS = {"http": 80, "https": 443}


def foreign_origin(request: Request) -> bool:
    """Whether a post comes from another origin than the console's own (scheme, host, port).

    The Origin header decides, or without it the Referer; ``null`` (a sandboxed frame, a
    redirect chain, a data: page) is foreign. A post with neither (curl) passes: it still needs
    the session's CSRF token on every form but the sign-in.
    """
    claimed = request.headers.get("origin")
    if claimed is None:
        claimed = request.headers.get("referer")
        if claimed is None:
            return False
    own = request.url
    try:
        parts = urlsplit(claimed.strip())
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return True
    if not parts.scheme or not parts.hostname:
        return True  # "null" and anything else that names no origin
    return (parts.scheme.lower(), parts.hostname.lower(), port) != (
        own.scheme,
        (own.hostname or "").lower(),
        own.port or DEFAULT_PORTS.get(own.scheme),
    )


async def own_form(
    console: Console, page: Page | None, request: Request
) -> dict[str, str] | HTMLResponse:
    """The form of a post from the console's own origin, or the refusal to send instead: another
    origin (403) or a form over MAX_FORM_BYTES (413)."""
    if foreign_origin(request):
        return forbidden(console, page, request, FOREIGN)
    form = await read_form(request)
    if form is None:
        return forbidden(console, page, request, TOO_LARGE, status=413, code="RequestTooLarge")
    return form


async def read_form(request: Request) -> dict[str, str] | None:
    """An url-encoded form (all the console's forms are): {} for another kind of body, None
    when it is larger than MAX_FORM_BYTES (the caller says so rather than judge an empty form)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return {}
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_FORM_BYTES:
            return None
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def form(page: Page) -> dict[str, str]:
    values: dict[str, str] = page.request.state.form
    return values


def _cookie(
    console: Console, request: Request, response: Response, value: str, expires: int
) -> None:
    response.set_cookie(
        COOKIE,
        value,
        max_age=max(0, expires - int(time.time())),
        path=request.scope.get("root_path", "") or "/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )


async def _signin_page(console: Console, request: Request) -> Response:
    code = request.query_params.get("code")
    if code is not None:
        token = await run_in_threadpool(sessions.redeem_signin_code, console.store, code)
        if token is None:
            return render(
                console,
                None,
                request,
                "signin.html",
                400,
                message="That sign-in link was already used or has expired. Paste a token instead.",
            )
        return await _start_session(console, request, token)
    return render(console, None, request, "signin.html", message="")


async def _signin_post(console: Console, request: Request) -> Response:
    # login CSRF: a hostile page must not sign its visitor in to the attacker's tenant
    data = await own_form(console, None, request)
    if isinstance(data, HTMLResponse):
        return data
    token = str(data.get("token", "")).strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    return await _start_session(console, request, token)


async def _start_session(console: Console, request: Request, token: str) -> Response:
    root = request.scope.get("root_path", "")
    try:
        claims = await run_in_threadpool(console.authenticator.verify, token)
        principal = await run_in_threadpool(
            console.authenticator.authenticate, f"Bearer {token}", request_id=str(uuid.uuid4())
        )
    except Unauthorized as exc:
        return render(
            console,
            None,
            request,
            "signin.html",
            401,
            message=f"The server did not accept that token: {exc.message}",
        )
    except GraphError as exc:
        return render(console, None, request, "signin.html", exc.status, message=exc.message)
    if not console.key:
        console.key = await run_in_threadpool(sessions.cookie_key, console.store)
    expiry = int(claims.get("exp", time.time() + sessions.MAX_SESSION_SECONDS))
    value = await run_in_threadpool(
        sessions.open_session, console.store, console.key, token, principal.tenant, expiry
    )
    response = RedirectResponse(f"{root}/alerts", status_code=303)
    _cookie(
        console,
        request,
        response,
        value,
        min(expiry, int(time.time()) + sessions.MAX_SESSION_SECONDS),
    )
    return response


async def _signout(console: Console, request: Request) -> Response:
    root = request.scope.get("root_path", "")
    cookie = request.cookies.get(COOKIE)
    if not console.key:
        console.key = await run_in_threadpool(sessions.cookie_key, console.store)
    session = await run_in_threadpool(sessions.find_session, console.store, console.key, cookie)
    if session is None:
        return RedirectResponse(f"{root}/signin", status_code=303)  # no session to end
    # a forged sign-out is refused as any forged form is, so the page never claims an end that
    # did not happen
    if foreign_origin(request):
        return forbidden(console, None, request, FOREIGN)
    data = await read_form(request) or {}
    if not hmac.compare_digest(str(data.get("csrf", "")), session.csrf):
        return forbidden(console, None, request, WRONG_CSRF)
    await run_in_threadpool(sessions.close_session, console.store, cookie)
    response = RedirectResponse(f"{root}/signin", status_code=303)
    response.delete_cookie(COOKIE, path=root or "/")
    return response
