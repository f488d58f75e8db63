"""The staff console: an aiohttp application of server-rendered pages.

``create_app`` builds it (no database connection is made until the first request). Every
request passes three middlewares, outermost first:

1. ``_errors_and_headers`` — security headers on every response (CSP without inline
   script, ``frame-ancestors 'none'``, nosniff, no referrer, no caching of pages), and
   error statuses rendered as the error page;
2. ``_session`` — the member of staff from the session cookie (absolute and idle expiry),
   anonymous visitors sent to ``/login`` (303) unless the route is ``@public``;
3. ``_csrf`` — POST, PUT, PATCH and DELETE need the CSRF token (form field ``csrf`` or
   header ``X-CSRF-Token``), and a WebSocket or cross-site request an ``Origin`` of this
   server; 403 otherwise.

The pages live in ``bot.console.pages``: each module has a ``routes`` table (see
docs/console.md).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import logging
import pkgutil
import urllib.parse
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.web_urldispatcher import StaticResource
from sqlalchemy.orm import Session

from bot.console import pages
from bot.console.auth import SESSION_COOKIE, end_session_cookie, set_cookie
from bot.console.passwords import Passwords
from bot.console.security import (
    PUBLIC,
    STAFF_KEY,
    Staff,
    access_of,
    current_staff,
    token_hash,
    tokens_match,
)
from bot.console.views import (
    CLOCK,
    CONFIG,
    CSRF_FIELD,
    CSRF_HEADER,
    DATABASE,
    LOGIN_CSRF_COOKIE,
    PASSWORDS,
    TEMPLATES,
    ConsoleConfig,
    build_templates,
    csrf_token,
    new_login_csrf,
    redirect,
    render,
)
from bot.core.clock import utc_now
from bot.store.db import Database
from bot.store.staff import StaffRepository

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
# A session's last-seen time is written at most this often (the idle limit's precision).
TOUCH_INTERVAL = dt.timedelta(seconds=60)
MAX_BODY_BYTES = 256 * 1024
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
ERROR_TITLES = {
    400: "Bad request",
    401: "Not logged in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    413: "Too large",
    429: "Too many attempts",
    500: "Something went wrong",
}


def _is_static(request: web.Request) -> bool:
    route = request.match_info.route
    return isinstance(getattr(route, "resource", None), StaticResource)


def _error_page(request: web.Request, status: int, message: str, headers: Any = None) -> web.Response:
    keep = {k: v for k, v in (headers or {}).items() if k in ("Retry-After", "Allow")}
    context = {"status": status, "title": ERROR_TITLES.get(status, "Error"), "message": message}
    return render(request, "error.html", context, status=status, headers=keep)


@web.middleware
async def _errors_and_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:  # a redirect: sent as raised, with the headers below
            _finish(request, exc)
            raise
        message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else ""
        response = _error_page(request, exc.status, message, exc.headers)
    except Exception:
        logger.exception("console.error method=%s path=%s", request.method, request.path)
        response = _error_page(request, 500, "")
    _finish(request, response)
    return response


def _finish(request: web.Request, response: web.StreamResponse) -> None:
    if response.prepared:  # a WebSocket or a stream sent its headers already
        return
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if _is_static(request):
        response.headers.setdefault("Cache-Control", "no-cache")
    else:
        response.headers.setdefault("Cache-Control", "no-store")
    token = new_login_csrf(request)
    if token:
        set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)


def _load_staff(session: Session, hashed: str, now: dt.datetime, config: ConsoleConfig) -> Staff | None:
    repo = StaffRepository(session)
    row = repo.session_by_token_hash(hashed)
    if row is None:
        return None
    user = row.user
    if row.expires_at <= now or row.last_seen_at + config.idle_timeout <= now or user.disabled:
        session.delete(row)
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
    return Staff(
        user_id=user.id,
        username=user.username,
        role=user.role,
        timezone=user.timezone,
        csrf_token=row.csrf_token,
        session_id=row.id,
    )


@web.middleware
async def _session(request: web.Request, handler: Any) -> web.StreamResponse:
    request[STAFF_KEY] = None
    token = request.cookies.get(SESSION_COOKIE)
    stale = False
    if token and not _is_static(request):
        database, config, now = request.app[DATABASE], request.app[CONFIG], request.app[CLOCK]()
        hashed = token_hash(token)

        def load() -> Staff | None:
            with database.session() as session:
                return _load_staff(session, hashed, now, config)

        staff = await asyncio.get_running_loop().run_in_executor(None, load)
        request[STAFF_KEY] = staff
        stale = staff is None
    if (
        request[STAFF_KEY] is None
        and not _is_static(request)
        and access_of(request.match_info.handler) != PUBLIC
    ):
        target = request.path_qs if request.method == "GET" else "/"
        query = "" if target == "/" else "?" + urllib.parse.urlencode({"next": target})
        response: web.StreamResponse = redirect(f"/login{query}")
    else:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if stale:
                end_session_cookie(exc)
            raise
    if stale and not response.prepared:
        end_session_cookie(response)
    return response


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    host = request.host
    if request.app[CONFIG].trust_proxy:
        host = request.headers.get("X-Forwarded-Host", host).split(",")[0].strip()
    return urllib.parse.urlsplit(origin).netloc == host


@web.middleware
async def _csrf(request: web.Request, handler: Any) -> web.StreamResponse:
    upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
    if upgrade and ("Origin" not in request.headers or not _same_origin(request)):
        raise web.HTTPForbidden(text="this connection must come from the console's own pages")
    if request.method not in SAFE_METHODS:
        if not _same_origin(request):
            raise web.HTTPForbidden(text="a request from another site was refused")
        given = request.headers.get(CSRF_HEADER)
        if given is None and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            form = await request.post()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
        staff = current_staff(request)
        expected = staff.csrf_token if staff else request.cookies.get(LOGIN_CSRF_COOKIE)
        if not tokens_match(expected, given):
            logger.warning("console.csrf_refused path=%s user=%s", request.path, staff and staff.username)
            # The form is shown again with a fresh token (an expired login page, for one).
            csrf_token(request)
            raise web.HTTPForbidden(
                text="the form was out of date or did not come from the console; "
                "reload the page and try again"
            )
    response: web.StreamResponse = await handler(request)
    return response


def _add_pages(app: web.Application) -> None:
    for module in sorted(pkgutil.iter_modules(pages.__path__), key=lambda m: m.name):
        loaded = importlib.import_module(f"{pages.__name__}.{module.name}")
        routes = getattr(loaded, "routes", None)
        if isinstance(routes, web.RouteTableDef):
            app.router.add_routes(routes)
        # A page with long-lived responses (event streams) ends them when the console stops.
        on_shutdown = getattr(loaded, "on_shutdown", None)
        if callable(on_shutdown):
            app.on_shutdown.append(on_shutdown)


def create_app(
    *,
    database: Database,
    config: ConsoleConfig,
    passwords: Passwords | None = None,
    clock: Any = utc_now,
    templates_dir: Path = TEMPLATES_DIR,
) -> web.Application:
    """Build the console (templates are loaded now; nothing connects until a request)."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_errors_and_headers, _session, _csrf])
    app[DATABASE] = database
    app[CONFIG] = config
    app[PASSWORDS] = passwords or Passwords()
    app[CLOCK] = clock
    app[TEMPLATES] = build_templates(templates_dir)
    _add_pages(app)
    app.router.add_static("/static/", STATIC_DIR, name="static", append_version=True)
    return app


def serve(app: web.Application, *, host: str, port: int) -> None:
    web.run_app(app, host=host, port=port, print=None)
