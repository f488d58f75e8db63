"""The console's queue and callbacks pages against the running assistant: a customer who
asks for a person appears in the queue, is claimed from it, and is marked when they write
again; the queue open in a browser shows a new handoff without being reloaded; a callback
booked in a conversation is on /callbacks with its window in both timezones and the number
to dial, and its outcomes are recorded."""

from __future__ import annotations

import re
import secrets
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from bot.console.worklist import span_text
from bot.store.db import Database
from bot.store.models import AuditEntry
from bot.store.repository import HandoffRepository
from bot.store.staff import StaffRepository
from devtools.stack import Stack
from tests.support import handoffs

pytestmark = pytest.mark.integration

PASSWORD = "queue integration 1"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ROW = re.compile(r'<tr class="([^"]*)" data-reference="([^"]+)"')


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

    async def post(self, path: str, form: dict[str, str]) -> tuple[int, str, aiohttp.ClientResponse]:
        async with self.session.post(
            self.base + path, data={**form, "csrf": self.csrf}, allow_redirects=False
        ) as resp:
            return resp.status, await resp.text(), resp

    async def login(self, username: str) -> None:
        await self.get("/login")
        status, _, _ = await self.post("/login", {"username": username, "password": PASSWORD})
        assert status == 303, f"{username} could not log in"
        await self.get("/")


@pytest.fixture
async def agent(stack: Stack) -> AsyncIterator[tuple[str, Browser]]:
    name = f"queue.{secrets.token_hex(3)}"
    stack.add_staff_user(name, PASSWORD, role="agent", timezone="Europe/Madrid")
    browser = Browser(stack.console_url)
    await browser.login(name)
    yield name, browser
    await browser.session.close()


def rows(page: str) -> dict[str, str]:
    return {reference: classes for classes, reference in ROW.findall(page)}


def row_html(page: str, reference: str) -> str:
    start = page.index(f'data-reference="{reference}"')
    return page[start : page.index("</tr>", start)]


def audit(stack: Stack, action: str, target: str) -> list[tuple[str | None, dict[str, object]]]:
    db = Database(stack.env["DATABASE_URL"])
    try:
        with db.session() as s:
            found = s.query(AuditEntry).filter(AuditEntry.action == action, AuditEntry.target == target)
            return [(e.actor, dict(e.detail)) for e in found.order_by(AuditEntry.id)]
    finally:
        db.dispose()


async def test_a_customer_asking_for_a_person_is_in_the_queue_and_claimed_from_it(
    stack: Stack, agent: tuple[str, Browser]
) -> None:
    name, browser = agent
    sender = f"queue-{uuid.uuid4()}"
    meta = {"channel": "telegram"}
    stack.rest(sender, "hey my card got declined again lol can u check pls 🙏", metadata=meta)
    stack.rest(sender, "can i talk to a human pls", metadata=meta)
    [row] = handoffs(stack, sender)
    reference = row.reference
    assert row.kind.value == "live_chat" and row.status.value == "open"

    status, page, _ = await browser.get(f"/?kind=live_chat&assignee=%40nobody&q={reference[:-1]}")
    assert status == 200 and reference in rows(page)
    line = row_html(page, reference)
    assert f'<a href="/handoffs/{reference}">{reference}</a>' in line
    assert "Live chat" in line and "telegram" in line and row.reason in line
    assert f'action="/queue/{reference}/claim"' in line
    status, _, resp = await browser.get(f"/?q={reference.lower()}")
    assert status == 303 and resp.headers["Location"] == f"/handoffs/{reference}"

    status, _, resp = await browser.post(f"/queue/{reference}/claim", {"back": "/?assignee=%40me"})
    assert status == 303 and urllib.parse.unquote(resp.headers["Location"]) == "/?assignee=@me"
    status, page, _ = await browser.get("/?assignee=%40me")
    assert reference in rows(page) and f'action="/queue/{reference}/release"' in row_html(page, reference)
    assert "wrote-again" not in rows(page)[reference].split()
    [claimed] = handoffs(stack, sender)
    assert (claimed.status.value, claimed.assignee) == ("claimed", name)
    assert audit(stack, "handoff.claim", reference) == [(name, {"kind": "live_chat", "via": "queue"})]

    stack.rest(sender, "hello? are you there", metadata=meta)  # the assistant is paused: staff answer
    status, page, _ = await browser.get("/queue/rows?assignee=%40me")
    assert status == 200 and "wrote-again" in rows(page)[reference].split()
    assert "Customer wrote again" in row_html(page, reference)


async def test_the_queue_in_a_browser_shows_new_handoffs_without_a_reload(
    stack: Stack, agent: tuple[str, Browser], browser: webdriver.Chrome
) -> None:
    name, client = agent
    browser.delete_all_cookies()
    browser.get(f"{stack.console_url}/login")
    browser.find_element(By.ID, "username").send_keys(name)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: d.current_url.rstrip("/") == stack.console_url)
    browser.get(f"{stack.console_url}/?assignee=%40me")
    assert browser.find_elements(By.CSS_SELECTOR, "tr[data-reference]") == []

    sender = f"refresh-{uuid.uuid4()}"
    stack.rest(
        sender, "hey my card got declined again lol can u check pls 🙏", metadata={"channel": "telegram"}
    )
    stack.rest(sender, "can i talk to a human pls", metadata={"channel": "telegram"})
    [row] = handoffs(stack, sender)
    status, _, _ = await client.post(f"/queue/{row.reference}/claim", {})
    assert status == 303
    WebDriverWait(browser, 25, poll_frequency=0.5).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-reference="{row.reference}"]'),
        f"{row.reference} did not appear in the open queue",
    )
    assert browser.find_element(By.ID, "queue-refresh-state").get_attribute("hidden") is not None


async def _callbacks_row(browser: Browser, reference: str) -> tuple[str, str]:
    """The /callbacks page that lists ``reference``, and its row."""
    for number in range(1, 20):
        status, page, _ = await browser.get(f"/callbacks?page={number}")
        assert status == 200
        if reference in rows(page):
            return page, row_html(page, reference)
        if 'rel="next"' not in page:
            break
    raise AssertionError(f"{reference} is not on /callbacks")


async def test_a_booked_callback_is_on_the_callbacks_page_and_its_outcomes_are_recorded(
    stack: Stack, agent: tuple[str, Browser]
) -> None:
    name, browser = agent
    sender = f"callback-{uuid.uuid4()}"

    def say(text: str) -> list[dict[str, object]]:
        return stack.rest(sender, text, metadata={"channel": "socketio"})

    say("Hello. I'm not very good with computers and my new card still hasn't arrived.")
    say("yes please")
    question = say("07911 123456")
    buttons = question[-1]["buttons"]
    assert isinstance(buttons, list) and buttons
    say(buttons[0]["payload"])
    say("yes")
    [row] = handoffs(stack, sender)
    reference = row.reference
    assert row.kind.value == "callback" and row.window_start and row.window_end

    page, line = await _callbacks_row(browser, reference)
    customer = span_text(row.window_start, row.window_end, ZoneInfo(row.timezone or "Europe/London"))
    staff = span_text(row.window_start, row.window_end, ZoneInfo("Europe/Madrid"))
    assert f"Customer: {customer}" in line and f"You: {staff}" in line
    assert 'href="tel:+447911123456"' in line and "+44 7911 123456" in line
    assert "Agreed when booking" in line and "0 calls" in line
    assert 'value="reached"' in line and 'value="no_answer"' in line

    status, _, resp = await browser.post(f"/callbacks/{reference}/outcome", {"outcome": "no_answer"})
    assert status == 303 and f"done={reference}" in resp.headers["Location"]
    page, line = await _callbacks_row(browser, reference)
    assert "1 call, 1 unanswered" in line and "Try again after" in line
    status, page, _ = await browser.post(
        f"/callbacks/{reference}/outcome", {"outcome": "reached", "note": "card re-sent"}
    )
    assert status == 303
    status, page, _ = await browser.get(f"/callbacks?done={reference}&outcome=reached")
    assert f"{reference}: reached recorded." in page and reference not in rows(page)

    db = Database(stack.env["DATABASE_URL"])
    try:
        with db.session() as s:
            handoff = HandoffRepository(s).get(reference)
            assert (handoff.status.value, handoff.assignee) == ("done", name)
            attempts = [
                (a.outcome.value, a.by, a.note) for a in StaffRepository(s).callback_attempts(handoff)
            ]
    finally:
        db.dispose()
    assert attempts == [("no_answer", name, None), ("reached", name, "card re-sent")]
    assert audit(stack, "callback.attempt", reference) == [
        (name, {"outcome": "no_answer", "attempt": 1, "status": "open"}),
        (name, {"outcome": "reached", "attempt": 2, "status": "done"}),
    ]
