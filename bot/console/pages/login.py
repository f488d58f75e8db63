"""``/login`` and ``/logout``."""

from __future__ import annotations

from aiohttp import web

from bot.console.auth import SESSION_COOKIE, attempt_login, end_session_cookie, logout, start_session
from bot.console.security import current_staff, public, require_login, safe_next
from bot.console.views import redirect, render, see_other

routes = web.RouteTableDef()

MAX_FIELD_CHARS = 300


def _form_text(form: object, name: str) -> str:
    value = form.get(name) if hasattr(form, "get") else None
    return value[:MAX_FIELD_CHARS] if isinstance(value, str) else ""


@routes.get("/login", name="login")
@public
async def login_page(request: web.Request) -> web.StreamResponse:
    next_path = safe_next(request.query.get("next"))
    if current_staff(request) is not None:
        raise see_other(next_path)
    return render(request, "login.html", {"next": next_path, "error": None, "username": ""})


@routes.post("/login")
@public
async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username, password = _form_text(form, "username"), _form_text(form, "password")
    next_path = safe_next(_form_text(form, "next"))
    result = await attempt_login(request, username, password)
    context = {"next": next_path, "username": username}
    if result.retry_after:
        minutes = max(1, round(result.retry_after / 60))
        error = (
            f"Too many failed logins. Logging in is paused for about {minutes} minute"
            f"{'s' if minutes != 1 else ''}; ask an administrator if you are locked out."
        )
        return render(
            request,
            "login.html",
            {**context, "error": error},
            status=429,
            headers={"Retry-After": str(result.retry_after)},
        )
    if result.token is None:
        return render(request, "login.html", {**context, "error": "Wrong username or password."}, status=401)
    response = redirect(next_path)
    start_session(request, response, result.token)
    return response


@routes.post("/logout", name="logout")
@require_login
async def logout_(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await logout(request, token)
    response = redirect("/login")
    end_session_cookie(response)
    return response
