"""The staff console as shipped, beside the running assistant: anonymous visitors sent to
the login page, five wrong passwords throttling a username, logging in, an agent kept out
of the admin pages, a POST without its CSRF token refused, a handoff the assistant made
shown in the queue, and logging out ending the session."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest

from devtools.stack import Stack
from tests.support import handoffs

pytestmark = pytest.mark.integration

PASSWORD = "integration password 1"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Browser:
    def __init__(self, base: str) -> None:
        self.base = base
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def get(self, path: str) -> tuple[int, str, aiohttp.ClientResponse]:
        async with self.session.get(self.base + path, allow_redirects=False) as resp:
            text = await resp.text()
        found = CSRF.search(text)
        if found:
            self.csrf = found.group(1)
        return resp.status, text, resp

    async def post(
        self, path: str, form: dict[str, str], *, csrf: bool = True
    ) -> tuple[int, str, aiohttp.ClientResponse]:
        data = {**form, **({"csrf": self.csrf} if csrf else {})}
        async with self.session.post(self.base + path, data=data, allow_redirects=False) as resp:
            return resp.status, await resp.text(), resp

    async def login(self, username: str, password: str) -> tuple[int, str, aiohttp.ClientResponse]:
        await self.get("/login")
        return await self.post("/login", {"username": username, "password": password})


@pytest.fixture
async def browsers(stack: Stack) -> AsyncIterator[list[Browser]]:
    opened = [Browser(stack.console_url) for _ in range(3)]
    yield opened
    for b in opened:
        await b.session.close()


async def test_staff_console_login_roles_csrf_and_logout(stack: Stack, browsers: list[Browser]) -> None:
    suffix = secrets.token_hex(3)
    agent, admin = f"agent.{suffix}", f"admin.{suffix}"
    stack.add_staff_user(agent, PASSWORD, role="agent", timezone="Europe/Madrid")
    stack.add_staff_user(admin, PASSWORD, role="admin")
    sender = f"console-{uuid.uuid4()}"
    meta = {"channel": "telegram"}
    stack.rest(sender, "hey my card got declined again lol can u check pls 🙏", metadata=meta)
    stack.rest(sender, "can i talk to a human pls", metadata=meta)
    [row] = handoffs(stack, sender)
    b, other, admin_browser = browsers

    status, _, resp = await b.get("/")
    assert status == 303 and resp.headers["Location"] == "/login"
    status, page, resp = await b.get("/login")
    assert status == 200 and '<label for="password">' in page
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]

    for _ in range(5):
        status, page, _ = await b.post("/login", {"username": agent, "password": "not the password"})
        assert status == 401 and "Wrong username or password." in page
    status, page, resp = await b.post("/login", {"username": agent, "password": PASSWORD})
    assert status == 429 and int(resp.headers["Retry-After"]) > 0
    assert "Too many failed logins" in page

    # Throttling is per username: the admin logs in from the same address.
    status, _, resp = await admin_browser.login(admin, PASSWORD)
    assert status == 303
    cookie = resp.cookies["console_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    status, page, _ = await admin_browser.get("/admin/audit?action=login.*")
    assert status == 200 and "login.throttled" in page and page.count("login.failed") >= 5

    # The admin adds a second agent through the page; that agent logs in.
    second = f"second.{suffix}"
    await admin_browser.get("/admin/users")
    form = {"username": second, "role": "agent", "timezone": "Europe/Paris"}
    status, _, _ = await admin_browser.post(
        "/admin/users", {**form, "password": PASSWORD, "password_again": PASSWORD}
    )
    assert status == 303
    status, _, _ = await other.login(second, PASSWORD)
    assert status == 303

    status, page, _ = await other.get("/")
    assert status == 200 and second in page and row.reference in page, "the queue shows the live chat"
    status, page, _ = await other.get("/admin/audit")
    assert status == 403 and "Not allowed" in page
    status, _, _ = await other.post("/logout", {}, csrf=False)
    assert status == 403
    status, _, _ = await other.get("/")
    assert status == 200, "a refused POST leaves the session alone"
    token = next(m.value for m in other.session.cookie_jar if m.key == "console_session")
    status, _, resp = await other.post("/logout", {})
    assert status == 303 and resp.headers["Location"] == "/login"
    status, _, resp = await other.get("/")
    assert status == 303 and resp.headers["Location"] == "/login"
    # The old cookie, replayed, is dead on the server too.
    async with aiohttp.ClientSession(cookies={"console_session": token}) as replay:
        async with replay.get(stack.console_url + "/", allow_redirects=False) as resp:
            assert resp.status == 303

    status, page, _ = await admin_browser.get(f"/admin/audit?actor={admin}")
    assert "user.add" in page and second in page
