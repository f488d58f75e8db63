"""Administration (admins only): ``/admin/users`` (accounts: list, add, disable) and
``/admin/audit`` (the audit trail, newest first, filtered by actor and action)."""

from __future__ import annotations

import asyncio
import urllib.parse
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from bot.console.passwords import MIN_PASSWORD_CHARS, PasswordPolicyError, check_password
from bot.console.security import require_role, staff_of
from bot.console.views import CONFIG, PASSWORDS, in_session, record, render, see_other, url_for
from bot.store.models import StaffRole
from bot.store.repository import NotFound
from bot.store.staff import StaffError, StaffRepository, normalise_username

routes = web.RouteTableDef()

AUDIT_PAGE_SIZE = 50
MAX_FIELD_CHARS = 300


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip()[:MAX_FIELD_CHARS] if isinstance(value, str) else ""


def _users(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "username": u.username,
            "role": u.role.value,
            "timezone": u.timezone,
            "disabled": u.disabled,
            "created_at": u.created_at,
            "last_login_at": u.last_login_at,
        }
        for u in StaffRepository(session).users()
    ]


async def _users_page(
    request: web.Request, *, status: int = 200, error: str | None = None, form: dict[str, str] | None = None
) -> web.StreamResponse:
    users = await in_session(request, _users)
    context = {
        "users": users,
        "roles": [r.value for r in StaffRole],
        "min_password": MIN_PASSWORD_CHARS,
        "error": error,
        "notice": request.query.get("done", "") if status == 200 else "",
        "form": form or {"username": "", "role": "agent", "timezone": request.app[CONFIG].default_timezone},
    }
    return render(request, "admin/users.html", context, status=status)


def _done(request: web.Request, what: str) -> web.HTTPSeeOther:
    return see_other(url_for(request, "admin_users") + "?" + urllib.parse.urlencode({"done": what}))


@routes.get("/admin/users", name="admin_users")
@require_role("admin")
async def users(request: web.Request) -> web.StreamResponse:
    return await _users_page(request)


@routes.post("/admin/users", name="admin_add_user")
@require_role("admin")
async def add_user(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    raw_password = form.get("password")
    password = raw_password if isinstance(raw_password, str) else ""
    fields = {k: _field(form, k) for k in ("username", "role", "timezone")}
    try:
        username = normalise_username(fields["username"])
        check_password(password)
        if password != form.get("password_again"):
            raise PasswordPolicyError("the two passwords differ")
    except (StaffError, PasswordPolicyError) as exc:
        return await _users_page(request, status=400, error=str(exc), form=fields)
    password_hash = await asyncio.get_running_loop().run_in_executor(
        None, request.app[PASSWORDS].hash, password
    )

    def add(session: Session) -> None:
        StaffRepository(session).add_user(
            username, password_hash=password_hash, role=fields["role"], timezone=fields["timezone"]
        )
        record(session, request, "user.add", username, role=fields["role"], timezone=fields["timezone"])

    try:
        await in_session(request, add)
    except StaffError as exc:
        return await _users_page(request, status=400, error=str(exc), form=fields)
    raise _done(request, f"added {username}")


@routes.post("/admin/users/{username}/disable", name="admin_disable_user")
@require_role("admin")
async def disable_user(request: web.Request) -> web.StreamResponse:
    username = request.match_info["username"]
    if username == staff_of(request).username:
        return await _users_page(request, status=400, error="you cannot disable your own account")

    def disable(session: Session) -> None:
        user = StaffRepository(session).disable(username)
        record(session, request, "user.disable", user.username)

    try:
        await in_session(request, disable)
    except NotFound as exc:
        raise web.HTTPNotFound(text=str(exc)) from exc
    raise _done(request, f"disabled {username}")


@routes.get("/admin/audit", name="admin_audit")
@require_role("admin")
async def audit_trail(request: web.Request) -> web.StreamResponse:
    actor = request.query.get("actor", "").strip()[:64]
    action = request.query.get("action", "").strip()[:64]
    try:
        page = max(1, int(request.query.get("page", "1")))
    except ValueError:
        page = 1

    def load(session: Session) -> dict[str, Any]:
        found = StaffRepository(session).audit_page(
            actor=actor or None,
            action=action or None,
            limit=AUDIT_PAGE_SIZE,
            offset=(page - 1) * AUDIT_PAGE_SIZE,
        )
        entries = [
            {
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "target": e.target,
                "detail": e.detail,
                "client_address": e.client_address,
            }
            for e in found.entries
        ]
        return {"entries": entries, "total": found.total}

    data = await in_session(request, load)
    pages = max(1, -(-data["total"] // AUDIT_PAGE_SIZE))

    def link(n: int) -> str:
        query = {k: v for k, v in (("actor", actor), ("action", action)) if v}
        query["page"] = str(n)
        return url_for(request, "admin_audit") + "?" + urllib.parse.urlencode(query)

    context = {
        **data,
        "actor": actor,
        "action": action,
        "page": page,
        "pages": pages,
        "previous_url": link(page - 1) if page > 1 else None,
        "next_url": link(page + 1) if page < pages else None,
    }
    return render(request, "admin/audit.html", context)
