"""The staff console in-process (aiohttp test server, SQLite, a fixed clock): passwords,
login and its throttling, sessions and their expiry, CSRF, roles, the audit trail, the
admin pages, security headers and times in the member of staff's timezone."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from argon2 import PasswordHasher

from bot.console.app import SESSION_COOKIE, create_app
from bot.console.passwords import PasswordPolicyError, Passwords
from bot.console.security import LoginPolicy, token_hash
from bot.console.views import LOGIN_CSRF_COOKIE, ConsoleConfig
from bot.handoff.request import HandoffRequest
from bot.store.db import Database
from bot.store.repository import HandoffRepository
from bot.store.staff import StaffRepository
from tests.support import FixedClock

# Cheap argon2 parameters: the tests check behaviour, not cost.
FAST = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Browser:
    """One browser: its own cookie jar against the test server."""

    def __init__(self, server: TestServer) -> None:
        self.server = server
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def get(self, path: str, **kwargs: Any) -> tuple[aiohttp.ClientResponse, str]:
        async with self.session.get(self.server.make_url(path), allow_redirects=False, **kwargs) as resp:
            text = await resp.text()
        found = CSRF.search(text)
        if found:
            self.csrf = found.group(1)
        return resp, text

    async def post(
        self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> tuple[aiohttp.ClientResponse, str]:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf", self.csrf)
        async with self.session.post(
            self.server.make_url(path), data=form, allow_redirects=False, **kwargs
        ) as resp:
            return resp, await resp.text()

    async def login(self, username: str, password: str = PASSWORD) -> aiohttp.ClientResponse:
        await self.get("/login")
        resp, _ = await self.post("/login", {"username": username, "password": password, "next": "/"})
        if resp.status == 303:
            await self.get("/")  # the token of the session, for the next form
        return resp

    def cookie(self, name: str) -> str | None:
        for morsel in self.session.cookie_jar:
            if morsel.key == name:
                return morsel.value
        return None


@pytest.fixture
def console_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'bank.db'}")
    db.upgrade()
    yield db
    db.dispose()


def add_user(db: Database, name: str, role: str = "agent", *, timezone: str = "Europe/London") -> None:
    with db.session() as s:
        StaffRepository(s).add_user(name, password_hash=FAST.hash(PASSWORD), role=role, timezone=timezone)


@pytest.fixture
def users(console_db: Database) -> None:
    add_user(console_db, "ana.agent", "agent")
    add_user(console_db, "sam.super", "supervisor")
    add_user(console_db, "ada.admin", "admin", timezone="Europe/Madrid")


@pytest.fixture
async def server(console_db: Database, clock: FixedClock, users: None) -> AsyncIterator[TestServer]:
    app = create_app(database=console_db, config=ConsoleConfig(), passwords=FAST, clock=clock)
    async with TestServer(app) as running:
        yield running


@pytest.fixture
async def browser(server: TestServer) -> AsyncIterator[Callable[[], Browser]]:
    opened: list[Browser] = []

    def open_browser() -> Browser:
        opened.append(Browser(server))
        return opened[-1]

    yield open_browser
    for b in opened:
        await b.session.close()


async def logged_in(browser: Callable[[], Browser], name: str) -> Browser:
    b = browser()
    resp = await b.login(name)
    assert resp.status == 303, f"{name} could not log in"
    return b


def audit_actions(db: Database, **filters: Any) -> list[tuple[str | None, str, str | None]]:
    with db.session() as s:
        page = StaffRepository(s).audit_page(limit=1000, **filters)
        return [(e.actor, e.action, e.target) for e in reversed(page.entries)]


# --- passwords


def test_passwords_hash_with_argon2id_and_verify() -> None:
    hashed = FAST.hash(PASSWORD)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert FAST.hash(PASSWORD) != hashed, "salted"
    assert FAST.verify(hashed, PASSWORD)
    assert not FAST.verify(hashed, PASSWORD + " ")
    assert not FAST.verify("not a hash", PASSWORD)
    assert not FAST.verify(hashed, "x" * 10_000)


@pytest.mark.parametrize(("password", "message"), [("short", "at least 12"), ("x" * 257, "at most 256")])
def test_the_password_rule(password: str, message: str) -> None:
    with pytest.raises(PasswordPolicyError, match=message):
        FAST.hash(password)


def test_hashes_made_with_other_parameters_need_rehashing() -> None:
    old = FAST.hash(PASSWORD)
    assert not FAST.needs_rehash(old)
    assert Passwords(PasswordHasher(time_cost=2, memory_cost=8, parallelism=1)).needs_rehash(old)
    assert FAST.needs_rehash("garbage")


# --- anonymous visitors, headers


@pytest.mark.parametrize("path", ["/", "/admin/audit", "/admin/users?x=1", "/no/such/page"])
async def test_anonymous_visitors_are_sent_to_the_login_page(
    browser: Callable[[], Browser], path: str
) -> None:
    resp, _ = await browser().get(path)
    assert resp.status == 303
    assert resp.headers["Location"].startswith("/login")
    assert resp.headers["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" in resp.headers
    if path != "/":
        assert "next=" in resp.headers["Location"]


async def test_the_login_page_is_labelled_and_every_response_has_security_headers(
    browser: Callable[[], Browser],
) -> None:
    b = browser()
    resp, text = await b.get("/login")
    assert resp.status == 200
    assert '<label for="username">' in text and '<label for="password">' in text
    assert "<script>" not in text and "style=" not in text
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin", "Origin kept on own forms"
    assert resp.headers["Cache-Control"] == "no-store"
    css, body = await b.get("/static/console.css")
    assert css.status == 200 and css.content_type == "text/css" and ":focus-visible" in body
    assert css.headers["X-Content-Type-Options"] == "nosniff"


# --- logging in


async def test_login_opens_a_session_with_a_strict_httponly_cookie(
    browser: Callable[[], Browser], console_db: Database
) -> None:
    b = browser()
    await b.get("/login?next=/admin/users")
    resp, _ = await b.post("/login", {"username": "Ada.Admin", "password": PASSWORD, "next": "/admin/users"})
    assert resp.status == 303 and resp.headers["Location"] == "/admin/users"
    cookie = resp.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    assert not cookie["secure"]
    page, text = await b.get("/admin/users")
    assert page.status == 200 and "ada.admin" in text
    with console_db.session() as s:
        stored = StaffRepository(s).session_by_token_hash(token_hash(cookie.value))
        assert stored is not None and stored.client_address == "127.0.0.1"
        assert cookie.value not in {stored.token_hash, stored.csrf_token}
    assert audit_actions(console_db, action="login") == [("ada.admin", "login", "ada.admin")]


async def test_secure_cookies_when_configured(console_db: Database, clock: FixedClock, users: None) -> None:
    app = create_app(
        database=console_db, config=ConsoleConfig(secure_cookies=True), passwords=FAST, clock=clock
    )
    async with TestServer(app) as running:
        b = Browser(running)
        try:
            page, _ = await b.get("/login")
            login_cookie = page.cookies[LOGIN_CSRF_COOKIE]
            assert login_cookie["secure"]
            # Over plain HTTP the client keeps Secure cookies to itself: send it as HTTPS would.
            cookie = {"Cookie": f"{LOGIN_CSRF_COOKIE}={login_cookie.value}"}
            resp, _ = await b.post("/login", {"username": "ana.agent", "password": PASSWORD}, headers=cookie)
            assert resp.status == 303 and resp.cookies[SESSION_COOKIE]["secure"]
        finally:
            await b.session.close()


@pytest.mark.parametrize(
    ("username", "password", "reason", "target"),
    [
        ("ana.agent", "wrong password!!", "wrong password", "ana.agent"),
        ("nobody", PASSWORD, "unknown user", "nobody"),
        ("not a username at all", PASSWORD, "invalid username", None),
    ],
)
async def test_a_failed_login_says_nothing_about_which_part_was_wrong(
    browser: Callable[[], Browser],
    console_db: Database,
    username: str,
    password: str,
    reason: str,
    target: str | None,
) -> None:
    b = browser()
    await b.get("/login")
    resp, text = await b.post("/login", {"username": username, "password": password})
    assert resp.status == 401 and "Wrong username or password." in text
    assert SESSION_COOKIE not in resp.cookies
    with console_db.session() as s:
        entry = StaffRepository(s).audit_page(action="login.failed").entries[0]
        assert (entry.actor, entry.target, entry.detail) == (None, target, {"reason": reason})


async def test_a_disabled_account_cannot_log_in(browser: Callable[[], Browser], console_db: Database) -> None:
    with console_db.session() as s:
        StaffRepository(s).disable("sam.super")
    resp = await browser().login("sam.super")
    assert resp.status == 401
    with console_db.session() as s:
        assert StaffRepository(s).audit_page(action="login.failed").entries[0].detail == {
            "reason": "disabled"
        }


@pytest.mark.parametrize(
    "target", ["//evil.example/phish", "https://evil.example/", "/\\evil", "/a\r\nSet-Cookie: x=1"]
)
async def test_logging_in_goes_only_to_local_pages(browser: Callable[[], Browser], target: str) -> None:
    b = browser()
    await b.get("/login")
    resp, _ = await b.post("/login", {"username": "ana.agent", "password": PASSWORD, "next": target})
    assert resp.status == 303 and resp.headers["Location"] == "/"


@pytest.mark.parametrize(("trust_proxy", "address"), [(True, "10.0.0.9"), (False, "127.0.0.1")])
async def test_behind_the_banks_proxy_the_address_is_the_one_it_forwarded(
    console_db: Database, clock: FixedClock, users: None, trust_proxy: bool, address: str
) -> None:
    app = create_app(
        database=console_db, config=ConsoleConfig(trust_proxy=trust_proxy), passwords=FAST, clock=clock
    )
    async with TestServer(app) as running:
        b = Browser(running)
        try:
            await b.get("/login")
            # The first entry is whatever the client claimed; the last is what the proxy saw.
            forwarded = {"X-Forwarded-For": "6.6.6.6, 10.0.0.9"}
            await b.post("/login", {"username": "ana.agent", "password": "wrong one"}, headers=forwarded)
        finally:
            await b.session.close()
    with console_db.session() as s:
        assert StaffRepository(s).audit_page(action="login.failed").entries[0].client_address == address


# --- throttling


async def test_five_failures_throttle_the_username_even_for_the_right_password(
    browser: Callable[[], Browser], console_db: Database, clock: FixedClock
) -> None:
    b = browser()
    await b.get("/login")
    for _ in range(5):
        resp, _ = await b.post("/login", {"username": "ana.agent", "password": "not the password"})
        assert resp.status == 401
        clock.advance(minutes=1)
    resp, text = await b.post("/login", {"username": "ana.agent", "password": PASSWORD})
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) == 10 * 60  # when the first failure leaves the window
    assert "Too many failed logins" in text and "about 10 minutes" in text
    assert SESSION_COOKIE not in resp.cookies
    assert audit_actions(console_db, action="login.throttled") == [(None, "login.throttled", "ana.agent")]
    # Another member of staff at the same address is not affected.
    assert (await browser().login("sam.super")).status == 303
    clock.advance(minutes=9)
    assert (await b.login("ana.agent")).status == 429
    clock.advance(minutes=1)
    assert (await b.login("ana.agent")).status == 303


async def test_unknown_usernames_are_throttled_too(browser: Callable[[], Browser]) -> None:
    b = browser()
    await b.get("/login")
    statuses = []
    for _ in range(6):
        resp, _ = await b.post("/login", {"username": "guess", "password": "not the password"})
        statuses.append(resp.status)
    assert statuses == [401] * 5 + [429]


async def test_a_successful_login_clears_the_count(browser: Callable[[], Browser], clock: FixedClock) -> None:
    b = browser()
    await b.get("/login")
    for _ in range(4):
        await b.post("/login", {"username": "ana.agent", "password": "not the password"})
    clock.advance(seconds=5)
    assert (await b.login("ana.agent")).status == 303
    other = browser()
    await other.get("/login")
    for _ in range(4):
        resp, _ = await other.post("/login", {"username": "ana.agent", "password": "not the password"})
        assert resp.status == 401
    assert (await other.login("ana.agent")).status == 303


async def test_many_failures_from_one_address_throttle_it(
    console_db: Database, clock: FixedClock, users: None
) -> None:
    config = ConsoleConfig(login=LoginPolicy(per_user=5, per_address=3))
    app = create_app(database=console_db, config=config, passwords=FAST, clock=clock)
    async with TestServer(app) as running:
        b = Browser(running)
        try:
            await b.get("/login")
            for name in ("x1", "x2", "x3"):
                await b.post("/login", {"username": name, "password": "not the password"})
            resp = await b.login("ana.agent")
        finally:
            await b.session.close()
    assert resp.status == 429


def test_retry_after_counts_from_the_oldest_failure_that_matters() -> None:
    policy = LoginPolicy(per_user=2, window=dt.timedelta(minutes=15))
    now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
    failures = [now - dt.timedelta(minutes=m) for m in (14, 10, 2)]
    assert policy.retry_after(failures, 2, now) == 5 * 60
    assert policy.retry_after(failures[:1], 2, now) == 0


# --- sessions


async def test_a_session_ends_after_an_hour_idle(browser: Callable[[], Browser], clock: FixedClock) -> None:
    b = await logged_in(browser, "ana.agent")
    clock.advance(minutes=59)
    assert (await b.get("/"))[0].status == 200
    clock.advance(minutes=59)
    assert (await b.get("/"))[0].status == 200, "each request counts as activity"
    clock.advance(minutes=61)
    resp, _ = await b.get("/")
    assert resp.status == 303 and resp.headers["Location"] == "/login"
    assert b.cookie(SESSION_COOKIE) in (None, ""), "the dead session's cookie is removed"


async def test_a_session_ends_eight_hours_after_login_however_busy(
    browser: Callable[[], Browser], clock: FixedClock
) -> None:
    b = await logged_in(browser, "ana.agent")
    for _ in range(15):
        clock.advance(minutes=30)
        assert (await b.get("/"))[0].status == 200
    clock.advance(minutes=30)
    assert (await b.get("/"))[0].status == 303


async def test_logout_ends_the_session_on_the_server(
    browser: Callable[[], Browser], console_db: Database
) -> None:
    b = await logged_in(browser, "ana.agent")
    token = b.cookie(SESSION_COOKIE)
    resp, _ = await b.post("/logout")
    assert resp.status == 303 and resp.headers["Location"] == "/login"
    # The old cookie, replayed, no longer works.
    replay = browser()
    replay.session.cookie_jar.update_cookies({SESSION_COOKIE: token or ""})
    assert (await replay.get("/"))[0].status == 303
    assert audit_actions(console_db, action="logout") == [("ana.agent", "logout", "ana.agent")]


async def test_a_forged_session_cookie_is_anonymous(browser: Callable[[], Browser]) -> None:
    b = browser()
    b.session.cookie_jar.update_cookies({SESSION_COOKIE: "made-up"})
    assert (await b.get("/"))[0].status == 303


# --- CSRF


async def test_posts_without_the_right_csrf_token_are_refused(
    browser: Callable[[], Browser], console_db: Database
) -> None:
    b = await logged_in(browser, "ada.admin")
    resp, text = await b.post("/logout", csrf=False)
    assert resp.status == 403 and "reload the page" in text
    resp, _ = await b.post("/logout", {"csrf": "wrong"})
    assert resp.status == 403
    form = {
        "username": "eve",
        "role": "admin",
        "timezone": "UTC",
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    resp, _ = await b.post("/admin/users", form, csrf=False)
    assert resp.status == 403
    with console_db.session() as s:
        assert StaffRepository(s).user("eve") is None
    assert (await b.get("/"))[0].status == 200, "still logged in"
    # The header works as well as the form field (for script).
    resp, _ = await b.post("/logout", csrf=False, headers={"X-CSRF-Token": b.csrf})
    assert resp.status == 303


async def test_the_login_form_has_its_own_csrf_token(browser: Callable[[], Browser]) -> None:
    b = browser()
    await b.get("/login")
    resp, _ = await b.post("/login", {"username": "ana.agent", "password": PASSWORD}, csrf=False)
    assert resp.status == 403
    fresh = browser()  # never saw the login form: no token cookie
    resp, _ = await fresh.post("/login", {"username": "ana.agent", "password": PASSWORD, "csrf": "guess"})
    assert resp.status == 403


async def test_a_post_from_another_site_is_refused_even_with_the_token(
    browser: Callable[[], Browser],
) -> None:
    b = await logged_in(browser, "ana.agent")
    resp, _ = await b.post("/logout", headers={"Origin": "https://evil.example"})
    assert resp.status == 403
    resp, _ = await b.post("/logout", headers={"Origin": str(b.server.make_url("/")).rstrip("/")})
    assert resp.status == 303


# --- roles


@pytest.mark.parametrize("name", ["ana.agent", "sam.super"])
@pytest.mark.parametrize("path", ["/admin/audit", "/admin/users"])
async def test_only_admins_open_admin_pages(browser: Callable[[], Browser], name: str, path: str) -> None:
    b = await logged_in(browser, name)
    resp, text = await b.get(path)
    assert resp.status == 403 and "Not allowed" in text and "admin role" in text
    _, queue = await b.get("/")
    assert 'href="/admin/users"' not in queue, "no Admin link for them"


async def test_admins_see_the_admin_navigation(browser: Callable[[], Browser]) -> None:
    b = await logged_in(browser, "ada.admin")
    resp, text = await b.get("/admin/audit")
    assert resp.status == 200
    assert '<a href="/admin/users" aria-current="page">Admin</a>' in text
    assert "ada.admin" in text and "admin</span>" in text
    assert '<a href="/callbacks" aria-current="page">' not in text, "only the page's own section is current"
    _, callbacks = await b.get("/callbacks")
    assert '<a href="/callbacks" aria-current="page">' in callbacks
    assert '<a href="/admin/users" aria-current="page">' not in callbacks


async def test_an_agent_cannot_post_to_admin_pages(
    browser: Callable[[], Browser], console_db: Database
) -> None:
    b = await logged_in(browser, "ana.agent")
    resp, _ = await b.post("/admin/users/sam.super/disable")
    assert resp.status == 403
    with console_db.session() as s:
        assert StaffRepository(s).get_user("sam.super").disabled is False


# --- admin pages and the audit trail


async def test_an_admin_adds_a_user_who_can_then_log_in(
    browser: Callable[[], Browser], console_db: Database
) -> None:
    admin = await logged_in(browser, "ada.admin")
    form = {
        "username": "New.Agent",
        "role": "agent",
        "timezone": "Europe/Paris",
        "password": "a fresh password",
        "password_again": "a fresh password",
    }
    resp, _ = await admin.post("/admin/users", form)
    assert resp.status == 303
    _, page = await admin.get(resp.headers["Location"])
    assert "Done: added new.agent." in page and "Europe/Paris" in page
    assert ("ada.admin", "user.add", "new.agent") in audit_actions(console_db)
    newcomer = browser()
    assert (await newcomer.login("new.agent", "a fresh password")).status == 303


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"username": "x"}, "invalid username"),
        ({"password": "short", "password_again": "short"}, "at least 12"),
        ({"password_again": "something else!"}, "the two passwords differ"),
        ({"timezone": "Nowhere/Town"}, "unknown timezone"),
        ({"username": "ana.agent"}, "exists already"),
    ],
)
async def test_a_bad_new_user_is_refused_with_the_reason(
    browser: Callable[[], Browser], console_db: Database, changes: dict[str, str], message: str
) -> None:
    admin = await logged_in(browser, "ada.admin")
    form = {
        "username": "fresh",
        "role": "agent",
        "timezone": "UTC",
        "password": PASSWORD,
        "password_again": PASSWORD,
        **changes,
    }
    resp, text = await admin.post("/admin/users", form)
    assert resp.status == 400 and message in text
    assert not [a for a in audit_actions(console_db) if a[1] == "user.add"]


async def test_disabling_a_user_ends_their_sessions(
    browser: Callable[[], Browser], console_db: Database
) -> None:
    agent = await logged_in(browser, "ana.agent")
    admin = await logged_in(browser, "ada.admin")
    resp, _ = await admin.post("/admin/users/ana.agent/disable")
    assert resp.status == 303
    assert (await agent.get("/"))[0].status == 303
    assert (await browser().login("ana.agent")).status == 401
    assert ("ada.admin", "user.disable", "ana.agent") in audit_actions(console_db)
    resp, text = await admin.post("/admin/users/ada.admin/disable")
    assert resp.status == 400 and "your own account" in text
    resp, _ = await admin.post("/admin/users/nobody/disable")
    assert resp.status == 404


async def test_the_audit_page_filters_pages_and_escapes(
    browser: Callable[[], Browser], console_db: Database, clock: FixedClock
) -> None:
    with console_db.session() as s:
        repo = StaffRepository(s)
        for n in range(60):
            repo.audit("handoff.claim", actor="ana.agent", target=f"LC-{n:04d}", at=clock.at)
        repo.audit("user.add", actor="cli", target="<script>x</script>", detail={"role": "<b>"}, at=clock.at)
    admin = await logged_in(browser, "ada.admin")
    _, first = await admin.get("/admin/audit?action=handoff.claim")
    assert "60 entries" in first and "page 1 of 2" in first and first.count("LC-") == 50
    assert 'href="/admin/audit?action=handoff.claim&amp;page=2"' in first
    _, second = await admin.get("/admin/audit?action=handoff.claim&page=2")
    assert second.count("LC-") == 10
    _, mine = await admin.get("/admin/audit?actor=cli")
    assert "&lt;script&gt;x&lt;/script&gt;" in mine and "<script>x" not in mine and "&lt;b&gt;" in mine
    _, logins = await admin.get("/admin/audit?action=login.*")
    assert "ada.admin" in logins and "LC-" not in logins


async def test_times_are_shown_in_the_staff_members_timezone(
    browser: Callable[[], Browser], console_db: Database, clock: FixedClock
) -> None:
    created = dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.timezone.utc)
    request = HandoffRequest(
        kind="live_chat", reason="wants a person", sender_id="s-1", transcript=[], created_at=created
    )
    with console_db.session() as s:
        HandoffRepository(s).add(request)
    madrid = await logged_in(browser, "ada.admin")  # Europe/Madrid
    london = await logged_in(browser, "ana.agent")  # Europe/London
    assert "01 Jul 2026 11:30 CEST" in (await madrid.get("/"))[1]
    _, page = await london.get("/")
    assert "01 Jul 2026 10:30 BST" in page and request.reference in page and "wants a person" in page


async def test_unknown_pages_get_the_error_page_with_headers(browser: Callable[[], Browser]) -> None:
    b = await logged_in(browser, "ana.agent")
    resp, text = await b.get("/no/such/page")
    assert resp.status == 404 and "Not found" in text and "Back to the queue" in text
    assert resp.headers["Content-Security-Policy"].startswith("default-src 'self'")


async def test_websockets_must_come_from_the_console(browser: Callable[[], Browser]) -> None:
    b = await logged_in(browser, "ana.agent")
    headers = {"Upgrade": "websocket", "Connection": "Upgrade", "Origin": "https://evil.example"}
    resp, _ = await b.get("/", headers=headers)
    assert resp.status == 403
