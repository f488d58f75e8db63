"""Logging in and out: throttling, password checks, sessions, and their audit entries.

Audit actions: ``login`` (actor and target the username), ``login.failed`` (no actor; the
typed username as target when it is a valid username; ``reason`` ``unknown user``,
``wrong password`` or ``disabled``), ``login.throttled`` and ``logout``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiohttp import web

from bot.console.passwords import PasswordPolicyError
from bot.console.security import new_token, token_hash
from bot.console.views import CLOCK, CONFIG, DATABASE, LOGIN_CSRF_COOKIE, PASSWORDS, client_address
from bot.store.staff import USERNAME_PATTERN, StaffRepository

logger = logging.getLogger(__name__)

SESSION_COOKIE = "console_session"


@dataclass(frozen=True)
class LoginResult:
    """``token`` (the new session's cookie value) on success; ``retry_after`` seconds when
    throttled; neither for a wrong username or password."""

    token: str | None = None
    retry_after: int = 0

    @property
    def ok(self) -> bool:
        return self.token is not None


@dataclass(frozen=True)
class _Account:
    password_hash: str | None  # None: no such user
    disabled: bool


async def attempt_login(request: web.Request, username: str, password: str) -> LoginResult:
    """Check a login and, when it is right and not throttled (``ConsoleConfig.login``),
    open a session."""
    database, passwords, config = request.app[DATABASE], request.app[PASSWORDS], request.app[CONFIG]
    policy = config.login
    now = request.app[CLOCK]()
    address = client_address(request)
    typed = username.strip().lower()
    name = typed if USERNAME_PATTERN.fullmatch(typed) else None
    loop = asyncio.get_running_loop()

    def throttled_or_account() -> int | _Account:
        with database.session() as session:
            repo = StaffRepository(session)
            user = repo.user(name) if name else None
            retry = 0
            if name:
                since = now - policy.window
                if user is not None and user.last_login_at is not None and user.last_login_at > since:
                    since = user.last_login_at
                failures = repo.audit_times("login.failed", since=since, target=name)
                retry = policy.retry_after(failures, policy.per_user, now)
            if address:
                failures = repo.audit_times("login.failed", since=now - policy.window, client_address=address)
                retry = max(retry, policy.retry_after(failures, policy.per_address, now))
            if retry:
                repo.audit(
                    "login.throttled",
                    actor=None,
                    target=name,
                    detail={"retry_after": retry},
                    client_address=address,
                    at=now,
                )
                return retry
            if user is None:
                return _Account(None, False)
            return _Account(user.password_hash, bool(user.disabled))

    found = await loop.run_in_executor(None, throttled_or_account)
    if isinstance(found, int):
        logger.warning("console.login_throttled username=%s address=%s", name, address)
        return LoginResult(retry_after=found)

    def verify() -> bool:
        if found.password_hash is None:
            passwords.verify_dummy(password)
            return False
        return passwords.verify(found.password_hash, password)

    right = await loop.run_in_executor(None, verify)
    if not right or found.disabled:
        reason = "unknown user" if found.password_hash is None else "wrong password"
        if right:
            reason = "disabled"
        if name is None:
            reason = "invalid username"

        def failed() -> None:
            with database.session() as session:
                StaffRepository(session).audit(
                    "login.failed",
                    actor=None,
                    target=name,
                    detail={"reason": reason},
                    client_address=address,
                    at=now,
                )

        await loop.run_in_executor(None, failed)
        logger.info("console.login_failed username=%s reason=%s", name, reason)
        return LoginResult()

    assert name is not None and found.password_hash is not None
    # A hash made with older parameters is replaced while the password is at hand (a
    # password shorter than today's rule keeps its old hash).
    rehashed = None
    if passwords.needs_rehash(found.password_hash):
        try:
            rehashed = await loop.run_in_executor(None, passwords.hash, password)
        except PasswordPolicyError:
            rehashed = None
    token = new_token()

    def open_session() -> None:
        with database.session() as session:
            repo = StaffRepository(session)
            user = repo.get_user(name)
            if rehashed:
                user.password_hash = rehashed
            repo.purge_sessions(now=now, idle=config.idle_timeout)
            repo.create_session(
                user,
                token_hash=token_hash(token),
                csrf_token=new_token(),
                now=now,
                lifetime=config.session_lifetime,
                client_address=address,
            )
            repo.audit("login", actor=name, target=name, client_address=address, at=now)

    await loop.run_in_executor(None, open_session)
    logger.info("console.login username=%s", name)
    return LoginResult(token=token)


async def logout(request: web.Request, token: str) -> None:
    """End the session with that cookie token (audited as ``logout``)."""
    database, now = request.app[DATABASE], request.app[CLOCK]()
    address = client_address(request)

    def end() -> None:
        with database.session() as session:
            repo = StaffRepository(session)
            row = repo.session_by_token_hash(token_hash(token))
            if row is None:
                return
            name = row.user.username
            repo.end_session(token_hash(token))
            repo.audit("logout", actor=name, target=name, client_address=address, at=now)

    await asyncio.get_running_loop().run_in_executor(None, end)


def set_cookie(
    request: web.Request, response: web.StreamResponse, name: str, value: str, *, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.app[CONFIG].secure_cookies,
    )


def start_session(request: web.Request, response: web.StreamResponse, token: str) -> None:
    """Give the browser its session cookie (after a login)."""
    lifetime = int(request.app[CONFIG].session_lifetime.total_seconds())
    set_cookie(request, response, SESSION_COOKIE, token, max_age=lifetime)
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/")


def end_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")
