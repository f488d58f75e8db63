"""Who may open a page, and the tokens behind a login.

- Every route needs a logged-in member of staff unless its handler is marked ``@public``;
  ``@require_role("supervisor")`` also needs that role or a higher one
  (agent < supervisor < admin). ``@require_login`` says the default out loud.
- A session cookie carries a random token; the database keeps only its SHA-256
  (``token_hash``). Each session has its own CSRF token.
- Login throttling counts ``login.failed`` audit entries: ``LoginPolicy`` says how many, in
  what window.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from bot.store.models import StaffRole

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)

ROLE_RANK = {StaffRole.agent: 0, StaffRole.supervisor: 1, StaffRole.admin: 2}
ACCESS_ATTRIBUTE = "__console_access__"
PUBLIC = "public"
LOGGED_IN = "login"
STAFF_KEY = "console.staff"  # request[STAFF_KEY]: the Staff of the request, or None
TOKEN_BYTES = 32


@dataclass(frozen=True)
class Staff:
    """The logged-in member of staff of a request."""

    user_id: int
    username: str
    role: StaffRole
    timezone: str
    csrf_token: str
    session_id: int

    def has_role(self, role: str | StaffRole) -> bool:
        """Whether this member of staff has ``role`` or a higher one."""
        return ROLE_RANK[self.role] >= ROLE_RANK[StaffRole(role)]


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokens_match(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return secrets.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def access_of(handler: Any) -> str:
    """``public``, ``login`` or the role a handler requires (``login`` when unmarked)."""
    return str(getattr(handler, ACCESS_ATTRIBUTE, LOGGED_IN))


def current_staff(request: web.Request) -> Staff | None:
    staff: Staff | None = request.get(STAFF_KEY)
    return staff


def staff_of(request: web.Request) -> Staff:
    """The logged-in member of staff (in a handler that requires a login)."""
    staff = current_staff(request)
    if staff is None:
        raise web.HTTPUnauthorized(text="not logged in")
    return staff


def public(handler: H) -> H:
    """Mark a handler as open to anonymous visitors (the login page)."""
    setattr(handler, ACCESS_ATTRIBUTE, PUBLIC)
    return handler


def require_login(handler: H) -> H:
    """The handler needs a logged-in member of staff (the default for every route)."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        staff_of(request)
        return await handler(request)

    setattr(wrapper, ACCESS_ATTRIBUTE, LOGGED_IN)
    return wrapper  # type: ignore[return-value]


def require_role(role: str | StaffRole) -> Callable[[H], H]:
    """The handler needs ``role`` or a higher one; others get the 403 page."""
    needed = StaffRole(role)

    def decorate(handler: H) -> H:
        @functools.wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            check_role(request, needed)
            return await handler(request)

        setattr(wrapper, ACCESS_ATTRIBUTE, needed.value)
        return wrapper  # type: ignore[return-value]

    return decorate


def check_role(request: web.Request, role: str | StaffRole) -> Staff:
    """The request's member of staff if they have ``role`` (or higher); 403 otherwise."""
    staff = staff_of(request)
    if not staff.has_role(role):
        raise web.HTTPForbidden(text=f"this page is for the {StaffRole(role).value} role")
    return staff


def safe_next(target: str | None) -> str:
    """A local path to go to after logging in (never another site)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or not target.isprintable()
    ):
        return "/"
    return target


@dataclass(frozen=True)
class LoginPolicy:
    """Login throttling: after ``per_user`` failures for one username, or ``per_address``
    from one address, within ``window``, logins are refused (even with the right password)
    until the oldest of them leaves the window. A successful login clears a username's
    count. The address limit is higher because an office's staff often share one address."""

    per_user: int = 5
    per_address: int = 20
    window: dt.timedelta = dt.timedelta(minutes=15)

    def retry_after(self, failures: Sequence[dt.datetime], limit: int, now: dt.datetime) -> int:
        """Seconds until fewer than ``limit`` of ``failures`` (oldest first) are in the
        window; 0 when that is already so."""
        if len(failures) < limit:
            return 0
        frees_at = failures[-limit] + self.window
        return max(1, math.ceil((frees_at - now).total_seconds()))
