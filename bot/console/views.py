"""What page handlers use: the database, templates, the audit trail, CSRF tokens.

    from bot.console.views import audit, in_session, render

    @routes.get("/things", name="things")
    @require_login
    async def things(request):
        rows = await in_session(request, lambda s: [...])     # a worker thread
        return render(request, "things/list.html", {"rows": rows})

See docs/console.md.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from markupsafe import Markup
from sqlalchemy.orm import Session

from bot.console.passwords import Passwords
from bot.console.security import LoginPolicy, Staff, current_staff, new_token
from bot.core.settings import DEFAULT_BANK_CONFIG
from bot.store.db import Database
from bot.store.staff import DEFAULT_STAFF_TIMEZONE, StaffRepository

T = TypeVar("T")

CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
# Before logging in, the login form's CSRF token is also kept in this cookie (double submit).
LOGIN_CSRF_COOKIE = "console_login_csrf"
_NEW_LOGIN_CSRF = "console.new_login_csrf"


@dataclass(frozen=True)
class ConsoleConfig:
    """How the console runs.

    Attributes:
        rasa_url: Rasa's HTTP API, for live-chat replies and resuming the assistant.
        rasa_token: its token (``Settings.rasa_token``).
        secure_cookies: mark cookies ``Secure`` (production, behind HTTPS).
        session_lifetime: a session ends this long after login, whatever happens.
        idle_timeout: … or this long after its last request.
        default_timezone: for pages seen before logging in.
        login: login throttling.
        bank_config: the bank configuration (``Settings.bank_config``): the service
            policy's targets for the queue and callbacks.
        tracker_store_url: Rasa's SQL tracker store (``Settings.tracker_store_url``), read
            to show which customers wrote again; None: not read.
        trust_proxy: the console runs behind a reverse proxy of the bank's: the client's
            address is the last ``X-Forwarded-For`` entry, the host ``X-Forwarded-Host``.
    """

    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str | None = None
    secure_cookies: bool = False
    session_lifetime: dt.timedelta = dt.timedelta(hours=8)
    idle_timeout: dt.timedelta = dt.timedelta(hours=1)
    default_timezone: str = DEFAULT_STAFF_TIMEZONE
    login: LoginPolicy = field(default_factory=LoginPolicy)
    bank_config: Path = DEFAULT_BANK_CONFIG
    tracker_store_url: str | None = None
    trust_proxy: bool = False


DATABASE = web.AppKey("database", Database)
CONFIG = web.AppKey("config", ConsoleConfig)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
PASSWORDS = web.AppKey("passwords", Passwords)
Clock = Callable[[], dt.datetime]
CLOCK: web.AppKey[Clock] = web.AppKey("clock")


def now(request: web.Request) -> dt.datetime:
    """The app's clock (fixed in tests)."""
    moment: dt.datetime = request.app[CLOCK]()
    return moment


async def in_session(request: web.Request, work: Callable[[Session], T]) -> T:
    """Run ``work(session)`` in a worker thread inside one transaction (committed when it
    returns, rolled back if it raises) and return its result. Return plain values or rows
    whose attributes ``work`` has read: lazy relationships cannot load afterwards."""
    database = request.app[DATABASE]

    def run() -> T:
        with database.session() as session:
            return work(session)

    return await asyncio.get_running_loop().run_in_executor(None, run)


def client_address(request: web.Request) -> str | None:
    """The client's address: with ``trust_proxy``, the last one the proxy added to
    ``X-Forwarded-For`` (earlier entries come from the client and prove nothing)."""
    if request.app[CONFIG].trust_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.remote


def actor(request: web.Request) -> str | None:
    staff = current_staff(request)
    return staff.username if staff else None


def record(
    session: Session, request: web.Request, action: str, target: str | None = None, **detail: Any
) -> None:
    """Add an audit entry inside ``session`` (so it commits with the change it records)."""
    StaffRepository(session).audit(
        action,
        actor=actor(request),
        target=target,
        detail=detail,
        client_address=client_address(request),
        at=now(request),
    )


async def audit(request: web.Request, action: str, target: str | None = None, **detail: Any) -> None:
    """Add an audit entry in its own transaction: who (the logged-in member of staff), what
    (``"handoff.claim"``), to what (a handoff reference, a username), from where, and
    ``detail`` (JSON values)."""
    await in_session(request, lambda s: record(s, request, action, target, **detail))


def csrf_token(request: web.Request) -> str:
    """The token forms and ``fetch`` calls send back: the session's, or before logging in
    the login form's (the middleware sets its cookie)."""
    staff = current_staff(request)
    if staff is not None:
        return staff.csrf_token
    token = request.get(_NEW_LOGIN_CSRF) or request.cookies.get(LOGIN_CSRF_COOKIE)
    if not token:
        token = new_token()
        request[_NEW_LOGIN_CSRF] = token
    return str(token)


def new_login_csrf(request: web.Request) -> str | None:
    """A login-form token made for this request, whose cookie must be set."""
    token: str | None = request.get(_NEW_LOGIN_CSRF)
    return token


def _localtime(ctx: Mapping[str, Any], value: dt.datetime | None, fmt: str = "%d %b %Y %H:%M %Z") -> str:
    if value is None:
        return ""
    staff = ctx.get("staff")
    zone = staff.timezone if isinstance(staff, Staff) else ctx.get("default_timezone", DEFAULT_STAFF_TIMEZONE)
    return value.astimezone(ZoneInfo(zone)).strftime(fmt)


def build_templates(directory: Any) -> jinja2.Environment:
    """Jinja2 with autoescaping, undefined names as errors, and the ``localtime`` filter
    (``{{ h.created_at|localtime }}``: in the member of staff's timezone)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["localtime"] = jinja2.pass_context(_localtime)
    return env


# The navigation: (label, route name, role needed); an entry shows once its route exists.
NAV: tuple[tuple[str, str, str], ...] = (
    ("Queue", "queue", "agent"),
    ("Callbacks", "callbacks", "agent"),
    ("Admin", "admin_users", "admin"),
)


def _nav(request: web.Request, staff: Staff | None) -> list[dict[str, Any]]:
    if staff is None:
        return []
    names = request.app.router.named_resources()
    entries = []
    for label, name, role in NAV:
        if name in names and staff.has_role(role):
            url = str(names[name].url_for())
            # "/admin/users" stands for every "/admin/…" page; "/callbacks" for itself only
            section = url.rsplit("/", 1)[0]
            current = request.path == url or (bool(section) and request.path.startswith(section + "/"))
            entries.append({"label": label, "url": url, "current": current})
    return entries


def url_for(request: web.Request, name: str, **parts: str) -> str:
    """The path of the named route (``url_for(request, "admin_users")``)."""
    return str(request.app.router[name].url_for(**parts))


def _hidden_input(name: str, value: str) -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(name, value)


def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """Render a template in the layout's context: ``staff`` (or None), ``csrf_token``,
    ``csrf_field()`` (the hidden input every form includes), ``nav``, ``url_for(name)``,
    ``request_path``."""
    staff = current_staff(request)
    token = csrf_token(request)
    page = request.app[TEMPLATES].get_template(template)
    values = {
        "staff": staff,
        "csrf_token": token,
        "csrf_field": lambda: _hidden_input(CSRF_FIELD, token),
        "nav": _nav(request, staff),
        "url_for": lambda name, **parts: url_for(request, name, **parts),
        "request_path": request.path,
        "default_timezone": request.app[CONFIG].default_timezone,
        **(context or {}),
    }
    return web.Response(
        text=page.render(values), content_type="text/html", charset="utf-8", status=status, headers=headers
    )


def see_other(location: str) -> web.HTTPSeeOther:
    """A 303 to ``location`` (after a POST): ``raise see_other(url_for(request, "queue"))``."""
    return web.HTTPSeeOther(location=location)


def redirect(location: str) -> web.Response:
    """A 303 to ``location`` to return (when the response needs a cookie set on it)."""
    return web.Response(status=303, headers={"Location": location})
