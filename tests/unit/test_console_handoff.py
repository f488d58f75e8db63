"""The conversation page of the staff console in-process (aiohttp test servers, SQLite, a
fixed clock) against a fake of Rasa's HTTP API: the transcript, persona card and masked
profile; who may reply, take over, transfer and end a live chat; notes, persona
corrections and ratings; the audit trail; live updates over server-sent events."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from argon2 import PasswordHasher

from bot.console.app import create_app
from bot.console.handoff_view import allowed, display_name, masked_phone, persona_card
from bot.console.pages import handoff as handoff_page
from bot.console.passwords import Passwords
from bot.console.security import Staff
from bot.console.views import ConsoleConfig
from bot.core.settings import PROJECT_ROOT
from bot.handoff.request import HandoffRequest
from bot.persona.catalogue import PersonaCatalogue
from bot.store.db import Database
from bot.store.models import StaffRole
from bot.store.repository import HandoffRepository
from bot.store.seed import parse_seed, seed_customers
from bot.store.staff import StaffRepository
from tests.support import EVENT_TIMESTAMP, FixedClock

FAST = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
TOKEN = "rasa-api-token"
SENDER = "web-session-1"
ENDED_TEXT = "The chat with our team has ended. You're talking to the assistant again."


# --- a fake of Rasa's HTTP API: the trackers, the outbound endpoint, events appended


class FakeRasa:
    def __init__(self) -> None:
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.sent: list[dict[str, Any]] = []
        self.appended: list[tuple[str, list[dict[str, Any]]]] = []
        self.down = False
        self.app = web.Application()
        self.app.router.add_get("/conversations/{sender}/tracker", self.tracker)
        self.app.router.add_post("/conversations/{sender}/tracker/events", self.append)
        self.app.router.add_post("/webhooks/outbound/send", self.send)

    def _check(self, request: web.Request) -> None:
        if self.down:
            raise web.HTTPServiceUnavailable()
        given = request.query.get("token") or request.headers.get("Authorization", "").removeprefix("Bearer ")
        if given != TOKEN:
            raise web.HTTPUnauthorized()

    async def tracker(self, request: web.Request) -> web.Response:
        self._check(request)
        events = self.events.get(request.match_info["sender"], [])
        paused = False
        for e in events:
            paused = {"pause": True, "resume": False}.get(e["event"], paused)
        return web.json_response(
            {
                "sender_id": request.match_info["sender"],
                "events": events,
                "paused": paused,
                "slots": {"persona": "quick_mobile", "language": "en", "customer_profile": {"name": "Sam"}},
                "latest_input_channel": "socketio",
            }
        )

    async def append(self, request: web.Request) -> web.Response:
        self._check(request)
        body = await request.json()
        sender = request.match_info["sender"]
        self.appended.append((sender, body))
        self.events.setdefault(sender, []).extend(body)
        return web.json_response({})

    async def send(self, request: web.Request) -> web.Response:
        self._check(request)
        body = await request.json()
        self.sent.append(body)
        text = ENDED_TEXT if body.get("response") else body["text"]
        metadata = {
            "author": body["author"],
            **({"author_name": body["author_name"]} if "author_name" in body else {}),
        }
        self.say_bot(body["conversation_id"], text, metadata=metadata)
        return web.json_response({"delivered": True, "channel": "socketio", "reason": None})

    def say_customer(self, sender: str, text: str, intent: str = "card_arrival") -> None:
        self.events.setdefault(sender, []).append(
            {
                "event": "user",
                "timestamp": EVENT_TIMESTAMP + len(self.events.get(sender, [])),
                "text": text,
                "parse_data": {"intent": {"name": intent, "confidence": 0.9}},
                "input_channel": "socketio",
                "metadata": {},
            }
        )

    def say_bot(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> None:
        self.events.setdefault(sender, []).append(
            {
                "event": "bot",
                "timestamp": EVENT_TIMESTAMP + len(self.events.get(sender, [])),
                "text": text,
                "data": {},
                "metadata": metadata or {},
            }
        )


# --- a browser: its own cookies against the console


class Browser:
    def __init__(self, server: TestServer) -> None:
        self.server = server
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def get(self, path: str, **kwargs: Any) -> tuple[int, str]:
        async with self.session.get(self.server.make_url(path), allow_redirects=False, **kwargs) as resp:
            text = await resp.text()
        found = CSRF.search(text)
        if found:
            self.csrf = found.group(1)
        return resp.status, text

    async def post(
        self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> tuple[int, str]:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf", self.csrf)
        async with self.session.post(
            self.server.make_url(path), data=form, allow_redirects=False, **kwargs
        ) as resp:
            return resp.status, await resp.text()

    async def login(self, username: str) -> None:
        await self.get("/login")
        status, _ = await self.post("/login", {"username": username, "password": PASSWORD, "next": "/"})
        assert status == 303, f"{username} could not log in"
        await self.get("/")


@pytest.fixture
def console_db(tmp_path: Path, catalogue: PersonaCatalogue) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'bank.db'}")
    db.upgrade()
    seed_customers(db, parse_seed(PROJECT_ROOT / "demo" / "customers.yml", personas=catalogue.ids))
    with db.session() as s:
        staff = StaffRepository(s)
        for name, role in (("ana.agent", "agent"), ("bo.agent", "agent"), ("sam.super", "supervisor")):
            staff.add_user(name, password_hash=FAST.hash(PASSWORD), role=role, timezone="Europe/London")
        staff.add_user("cy.gone", password_hash=FAST.hash(PASSWORD), role="agent", timezone="Europe/London")
        staff.disable("cy.gone")
    yield db
    db.dispose()


@pytest.fixture
def live_chat(console_db: Database) -> str:
    request = HandoffRequest(
        kind="live_chat",
        reason="asked for a person in the chat",
        sender_id=SENDER,
        customer_ref="C-1004",
        persona="quick_mobile",
        persona_confidence=0.74,
        persona_evidence=["casual: 'lol'", "emoji: '🙏'"],
        language="en",
        channel="socketio",
        transcript=[{"at": "2026-11-23T10:00:00+00:00", "from": "customer", "text": "my card got declined"}],
    )
    with console_db.session() as s:
        HandoffRepository(s).add(request)
    return request.reference


@pytest.fixture
async def rasa() -> AsyncIterator[tuple[FakeRasa, TestServer]]:
    fake = FakeRasa()
    fake.say_customer(SENDER, "hey my card got declined again lol, call me on 07911 123456 🙏")
    fake.say_bot(SENDER, "Sorry about that. Is there anything else?")
    fake.say_customer(SENDER, "can i talk to a human pls", intent="request_human")
    fake.events[SENDER].append({"event": "pause", "timestamp": EVENT_TIMESTAMP + 10})
    fake.say_customer(SENDER, "hello?? still there")
    async with TestServer(fake.app) as server:
        yield fake, server


@pytest.fixture
async def browser(
    console_db: Database, clock: FixedClock, rasa: tuple[FakeRasa, TestServer]
) -> AsyncIterator[Callable[[], Browser]]:
    config = ConsoleConfig(rasa_url=str(rasa[1].make_url("")).rstrip("/"), rasa_token=TOKEN)
    app = create_app(database=console_db, config=config, passwords=FAST, clock=clock)
    opened: list[Browser] = []
    async with TestServer(app) as server:

        def open_browser() -> Browser:
            opened.append(Browser(server))
            return opened[-1]

        yield open_browser
        for b in opened:
            await b.session.close()


async def logged_in(browser: Callable[[], Browser], name: str) -> Browser:
    b = browser()
    await b.login(name)
    return b


def audit(db: Database, reference: str) -> list[tuple[str | None, str, dict[str, Any]]]:
    with db.session() as s:
        page = StaffRepository(s).audit_page(target=reference, limit=100)
        return [(e.actor, e.action, dict(e.detail)) for e in reversed(page.entries)]


def assignee(db: Database, reference: str) -> tuple[str, str | None]:
    with db.session() as s:
        h = HandoffRepository(s).get(reference)
        return h.status.value, h.assignee


# --- the rules, without a server


def staff(name: str, role: str = "agent") -> Staff:
    return Staff(
        user_id=1, username=name, role=StaffRole(role), timezone="Europe/London", csrf_token="t", session_id=1
    )


@pytest.mark.parametrize(
    ("who", "role", "status", "owner", "expected"),
    [
        ("ana", "agent", "open", None, {"claim"}),
        ("ana", "agent", "claimed", "ana", {"reply", "transfer", "end"}),
        ("bo", "agent", "claimed", "ana", set()),
        ("sam", "supervisor", "claimed", "ana", {"take_over", "transfer", "end"}),
        ("sam", "supervisor", "claimed", "sam", {"reply", "transfer", "end"}),
        ("ana", "agent", "done", "ana", set()),
        ("sam", "admin", "cancelled", "ana", set()),
    ],
)
def test_who_may_do_what_with_a_live_chat(
    who: str, role: str, status: str, owner: str | None, expected: set[str]
) -> None:
    rules = allowed(staff(who, role), kind="live_chat", status=status, assignee=owner)
    granted = {name for name in ("claim", "reply", "take_over", "transfer", "end") if getattr(rules, name)}
    assert granted == expected
    assert (rules.read_only is None) == ("reply" in expected)


def test_the_read_only_note_says_who_has_it() -> None:
    assert allowed(staff("bo"), kind="live_chat", status="claimed", assignee="ana").read_only == (
        "Claimed by ana: read-only for you."
    )
    supervisor = allowed(staff("sam", "supervisor"), kind="live_chat", status="claimed", assignee="ana")
    assert supervisor.read_only == "Claimed by ana: read-only for you. You may take it over."
    callback = allowed(staff("ana"), kind="callback", status="claimed", assignee="ana")
    assert not callback.reply and not callback.end and callback.transfer


def test_persona_card_advice_and_masking(catalogue: PersonaCatalogue) -> None:
    card = persona_card(catalogue, "phone_first", language="es")
    assert card is not None and card.name == "Phone-first, channel-averse"
    assert card.how_to_talk[0] == "Write in Spanish, the language of the conversation."
    assert "Offer a phone call early: they would rather speak to someone." in card.how_to_talk
    assert "Avoid sending them to: chat, app." in card.how_to_talk
    assert "speak to a person" in card.goals and card.tone["empathy"] == "high"
    blocked = persona_card(
        catalogue, "phone_first", language="en", no_calls="customer said they cannot hear or use the phone"
    )
    assert blocked is not None and "phone" not in blocked.preferred_channels
    assert (
        "Do not offer or arrange a phone call (customer said they cannot hear or use the phone): keep to writing."
        in blocked.how_to_talk
    )
    assert not any("Offer a phone call" in advice for advice in blocked.how_to_talk)
    assert persona_card(catalogue, "nobody", language="en") is None
    assert persona_card(catalogue, None, language="en") is None
    assert masked_phone("+447911123456") == "+•••••••••456"
    assert display_name("ana.garcia") == "Ana" and display_name("bo") == "Bo"


# --- the page


async def test_the_page_shows_the_conversation_persona_profile_and_reason(
    browser: Callable[[], Browser], live_chat: str
) -> None:
    ana = await logged_in(browser, "ana.agent")
    status, page = await ana.get(f"/handoffs/{live_chat}")
    assert status == 200
    assert "asked for a person in the chat" in page
    assert "hey my card got declined again lol" in page and "07911 123456" not in page, "masked"
    assert "••••• •••456" in page
    assert "Handed to a person" in page and "while with a person" in page
    assert page.count("while with a person") == 1, "only the message sent while paused"
    assert "Quick mobile messenger" in page and "74% confident" in page and "casual: &#39;lol&#39;" in page
    assert "Keep replies short" in page and "solve it in the app without waiting" in page
    assert "C-1004" in page and "+•••••••••456" in page and "7700 123456" not in page
    assert SENDER not in page, "the conversation id (a phone number on SMS) is not shown"
    assert "Open: claim it to reply." in page and 'data-testid="claim"' in page
    assert 'id="reply-text"' not in page
    assert (await ana.get("/handoffs/LC-NOPE00"))[0] == 404


async def test_anonymous_visitors_are_sent_to_log_in(browser: Callable[[], Browser], live_chat: str) -> None:
    visitor = browser()
    status, _ = await visitor.get(f"/handoffs/{live_chat}")
    assert status == 303
    assert (await visitor.get(f"/handoffs/{live_chat}/events"))[0] == 303


async def test_only_the_member_of_staff_who_claimed_it_replies(
    browser: Callable[[], Browser],
    live_chat: str,
    console_db: Database,
    rasa: tuple[FakeRasa, TestServer],
) -> None:
    fake = rasa[0]
    ana, bo = await logged_in(browser, "ana.agent"), await logged_in(browser, "bo.agent")
    await bo.get(f"/handoffs/{live_chat}")
    assert (await ana.post(f"/handoffs/{live_chat}/claim"))[0] == 303
    assert assignee(console_db, live_chat) == ("claimed", "ana.agent")
    status, page = await bo.post(f"/handoffs/{live_chat}/claim")
    assert status == 409 and "Someone has claimed it already." in page

    _, page = await ana.get(f"/handoffs/{live_chat}")
    assert 'id="reply-text"' in page and "Suggested replies" in page
    assert "I&#39;m Ana from the" in page, "the greeting names the member of staff"
    _, page = await bo.get(f"/handoffs/{live_chat}")
    assert "Claimed by ana.agent: read-only for you." in page and 'id="reply-text"' not in page

    refused = await bo.post(
        f"/handoffs/{live_chat}/reply", {"text": "hi from bo"}, headers={"Accept": "application/json"}
    )
    assert refused[0] == 403 and json.loads(refused[1])["error"].startswith("Claimed by ana.agent")
    assert (await bo.post(f"/handoffs/{live_chat}/reply", {"text": "hi from bo"}))[0] == 403
    assert fake.sent == []

    status, body = await ana.post(
        f"/handoffs/{live_chat}/reply",
        {"text": "Hi Sam, I'm Ana. Let me look."},
        headers={"Accept": "application/json"},
    )
    assert status == 200 and json.loads(body) == {
        "ok": True,
        "delivered": True,
        "channel": "socketio",
        "reason": None,
    }
    assert fake.sent == [
        {
            "conversation_id": SENDER,
            "author": "staff",
            "text": "Hi Sam, I'm Ana. Let me look.",
            "author_name": "ana.agent",
        }
    ]
    assert (await ana.post(f"/handoffs/{live_chat}/reply", {"text": "  "}))[0] == 400
    assert (await ana.post(f"/handoffs/{live_chat}/reply", {"text": "x" * 5001}))[0] == 400
    assert (await ana.post(f"/handoffs/{live_chat}/reply", {"text": "no token"}, csrf=False))[0] == 403
    status, _ = await ana.post(f"/handoffs/{live_chat}/reply", {"text": "A plain form post."})
    assert status == 303 and len(fake.sent) == 2

    _, page = await bo.get(f"/handoffs/{live_chat}")
    assert "ana.agent (staff)" in page and "Let me look." in page, "staff replies are in the transcript"
    actions = audit(console_db, live_chat)
    assert actions[0] == ("ana.agent", "handoff.claim", {})
    assert actions[1] == (
        "ana.agent",
        "handoff.reply",
        {"chars": 29, "delivered": True, "channel": "socketio"},
    )
    assert len(actions) == 3 and all("Let me look" not in json.dumps(d) for *_, d in actions), (
        "never the text"
    )


async def test_a_supervisor_takes_over_and_an_agent_cannot(
    browser: Callable[[], Browser], live_chat: str, console_db: Database
) -> None:
    ana, bo, sam = [await logged_in(browser, n) for n in ("ana.agent", "bo.agent", "sam.super")]
    await ana.post(f"/handoffs/{live_chat}/claim")
    await bo.get(f"/handoffs/{live_chat}")
    assert (await bo.post(f"/handoffs/{live_chat}/take-over"))[0] == 403
    _, page = await sam.get(f"/handoffs/{live_chat}")
    assert "You may take it over." in page and 'data-testid="take-over"' in page
    assert (await sam.post(f"/handoffs/{live_chat}/take-over"))[0] == 303
    assert assignee(console_db, live_chat) == ("claimed", "sam.super")
    assert (await ana.post(f"/handoffs/{live_chat}/reply", {"text": "still me?"}))[0] == 403
    assert ("sam.super", "handoff.take_over", {"from": "ana.agent"}) in audit(console_db, live_chat)


async def test_transfer_to_an_active_colleague(
    browser: Callable[[], Browser], live_chat: str, console_db: Database
) -> None:
    ana, bo = await logged_in(browser, "ana.agent"), await logged_in(browser, "bo.agent")
    await ana.post(f"/handoffs/{live_chat}/claim")
    _, page = await ana.get(f"/handoffs/{live_chat}")
    options = re.findall(r'<option value="([^"]+)">', page.split('id="transfer-to"')[1].split("</select>")[0])
    assert options == ["bo.agent", "sam.super"], "active colleagues only, not the assignee"
    await bo.get(f"/handoffs/{live_chat}")
    assert (await bo.post(f"/handoffs/{live_chat}/transfer", {"to": "bo.agent"}))[0] == 403
    status, page = await ana.post(f"/handoffs/{live_chat}/transfer", {"to": "cy.gone"})
    assert status == 400 and "choose an active colleague" in page
    assert (await ana.post(f"/handoffs/{live_chat}/transfer", {"to": "bo.agent"}))[0] == 303
    assert assignee(console_db, live_chat) == ("claimed", "bo.agent")
    assert (await ana.post(f"/handoffs/{live_chat}/reply", {"text": "me again"}))[0] == 403
    assert (await bo.post(f"/handoffs/{live_chat}/reply", {"text": "Bo here."}))[0] == 303
    assert ("ana.agent", "handoff.transfer", {"from": "ana.agent", "to": "bo.agent"}) in audit(
        console_db, live_chat
    )


async def test_notes_stay_internal(
    browser: Callable[[], Browser], live_chat: str, console_db: Database, rasa: tuple[FakeRasa, TestServer]
) -> None:
    bo = await logged_in(browser, "bo.agent")
    await bo.get(f"/handoffs/{live_chat}")
    assert (await bo.post(f"/handoffs/{live_chat}/notes", {"text": "Card blocked by fraud rules."}))[0] == 303
    status, page = await bo.post(f"/handoffs/{live_chat}/notes", {"text": "   "})
    assert status == 400 and "a note must have 1-4000 characters" in page
    _, page = await bo.get(f"/handoffs/{live_chat}")
    notes = page.split('<section id="notes"')[1]
    assert "Card blocked by fraud rules." in notes and "bo.agent" in notes
    assert "Card blocked" not in page.split('id="transcript"')[1].split("</ol>")[0]
    assert rasa[0].sent == [], "never sent to the customer"
    assert audit(console_db, live_chat) == [("bo.agent", "handoff.note", {})]


async def test_ending_the_chat_tells_the_customer_resumes_the_assistant_and_closes_it(
    browser: Callable[[], Browser], live_chat: str, console_db: Database, rasa: tuple[FakeRasa, TestServer]
) -> None:
    fake = rasa[0]
    ana, bo = await logged_in(browser, "ana.agent"), await logged_in(browser, "bo.agent")
    await ana.post(f"/handoffs/{live_chat}/claim")
    await bo.get(f"/handoffs/{live_chat}")
    assert (await bo.post(f"/handoffs/{live_chat}/end"))[0] == 403

    fake.down = True
    status, page = await ana.post(f"/handoffs/{live_chat}/end")
    assert status == 502 and "The chat was not ended" in page
    assert assignee(console_db, live_chat) == ("claimed", "ana.agent"), "nothing changed"
    assert "could not be read from the assistant" in page and "my card got declined" in page, (
        "the stored transcript"
    )

    fake.down = False
    assert (await ana.post(f"/handoffs/{live_chat}/end"))[0] == 303
    assert fake.sent == [
        {
            "conversation_id": SENDER,
            "author": "assistant",
            "response": "utter_live_chat_ended",
            "values": {},
        }
    ]
    assert fake.appended == [(SENDER, [{"event": "resume"}, {"event": "action", "name": "action_listen"}])]
    assert assignee(console_db, live_chat) == ("done", "ana.agent")
    assert audit(console_db, live_chat)[-1] == ("ana.agent", "handoff.end", {"customer_told": True})
    _, page = await ana.get(f"/handoffs/{live_chat}")
    assert "This handoff is done" in page and "The assistant answers again" in page
    assert 'data-testid="end-chat"' not in page
    assert (await ana.post(f"/handoffs/{live_chat}/end"))[0] == 403


async def test_persona_corrections_name_another_persona_and_ratings_are_kept(
    browser: Callable[[], Browser], live_chat: str, console_db: Database
) -> None:
    bo = await logged_in(browser, "bo.agent")
    _, page = await bo.get(f"/handoffs/{live_chat}")
    assert '<option value="quick_mobile" selected>Quick mobile messenger (current)</option>' in page
    status, page = await bo.post(
        f"/handoffs/{live_chat}/persona", {"persona": "quick_mobile", "note": "same"}
    )
    assert status == 400 and "The persona is quick_mobile already" in page
    assert (await bo.post(f"/handoffs/{live_chat}/persona", {"persona": "shopper"}))[0] == 400
    note = {"persona": "time_pressed", "note": "in a hurry, not casual"}
    assert (await bo.post(f"/handoffs/{live_chat}/persona", note))[0] == 303
    _, page = await bo.get(f"/handoffs/{live_chat}")
    assert "corrected by staff to time_pressed" in page and "Persona: Time-pressed" in page
    assert "bo.agent: quick_mobile → time_pressed" in page
    assert (await bo.post(f"/handoffs/{live_chat}/persona", {"persona": "time_pressed"}))[0] == 400

    assert (await bo.post(f"/handoffs/{live_chat}/rating", {"persona_right": "no"}))[0] == 400
    assert (await bo.post(f"/handoffs/{live_chat}/rating", {"persona_right": "no", "useful": "yes"}))[
        0
    ] == 303
    assert (await bo.post(f"/handoffs/{live_chat}/rating", {"persona_right": "yes", "useful": "yes"}))[
        0
    ] == 303
    with console_db.session() as s:
        [rating] = StaffRepository(s).persona_ratings(live_chat)
        assert (rating.by, rating.persona_right, rating.useful) == ("bo.agent", True, True)
    assert audit(console_db, live_chat) == [
        ("bo.agent", "persona.correct", {"inferred": "quick_mobile", "to": "time_pressed"}),
        ("bo.agent", "persona.rate", {"persona_right": False, "useful": True}),
        ("bo.agent", "persona.rate", {"persona_right": True, "useful": True}),
    ]


# --- live updates


async def read_events(response: aiohttp.ClientResponse, wanted: str, timeout: float = 5.0) -> dict[str, Any]:
    """The next event named ``wanted``: its id and data."""
    deadline = time.monotonic() + timeout
    event: dict[str, Any] = {}
    while time.monotonic() < deadline:
        raw = await asyncio.wait_for(response.content.readline(), deadline - time.monotonic())
        line = raw.decode().rstrip("\n")
        if not line:
            if event.get("event") == wanted:
                return event
            event = {}
        elif line.startswith("id: "):
            event["id"] = int(line[4:])
        elif line.startswith("event: "):
            event["event"] = line[7:]
        elif line.startswith("data: "):
            event["data"] = json.loads(line[6:])
    raise AssertionError(f"no {wanted!r} event")


async def test_new_messages_stream_to_the_page(
    browser: Callable[[], Browser], live_chat: str, rasa: tuple[FakeRasa, TestServer]
) -> None:
    fake = rasa[0]
    ana = await logged_in(browser, "ana.agent")
    await ana.post(f"/handoffs/{live_chat}/claim")
    _, page = await ana.get(f"/handoffs/{live_chat}")
    cursor = int(re.search(r'data-cursor="(\d+)"', page).group(1))  # type: ignore[union-attr]
    url = ana.server.make_url(f"/handoffs/{live_chat}/events?after={cursor}")
    async with ana.session.get(url) as stream:
        assert stream.status == 200 and stream.headers["Content-Type"].startswith("text/event-stream")
        assert stream.headers["Cache-Control"] == "no-store"
        started = time.monotonic()
        fake.say_customer(SENDER, "how do I change my PIN?", intent="change_pin")
        items = await read_events(stream, "items")
        assert time.monotonic() - started < 2
        assert items["id"] == cursor + 1 and items["data"]["count"] == cursor + 1
        assert (
            "how do I change my PIN?" in items["data"]["html"]
            and "while with a person" in items["data"]["html"]
        )
        suggestions = await read_events(stream, "suggestions")
        assert "Answer: change pin" in suggestions["data"]["html"], "suggestions follow the latest question"

    async with ana.session.get(url, headers={"Last-Event-ID": str(cursor + 1)}) as again:
        await ana.post(f"/handoffs/{live_chat}/notes", {"text": "a note changes nothing here"})
        fake.say_bot(SENDER, "Staff reply", metadata={"author": "staff", "author_name": "ana.agent"})
        items = await read_events(again, "items")
        assert items["id"] == cursor + 2, "from where the page was, not from the start"
        assert "ana.agent (staff)" in items["data"]["html"]

    async with ana.session.get(ana.server.make_url(f"/handoffs/{live_chat}/events")) as fresh:
        reset = await read_events(fresh, "reset")
        assert reset["data"]["count"] == cursor + 2 and "hey my card got declined" in reset["data"]["html"]


async def test_a_stream_reports_changes_of_hands_and_an_unreachable_assistant(
    browser: Callable[[], Browser], live_chat: str, rasa: tuple[FakeRasa, TestServer]
) -> None:
    fake = rasa[0]
    ana, bo = await logged_in(browser, "ana.agent"), await logged_in(browser, "bo.agent")
    async with bo.session.get(bo.server.make_url(f"/handoffs/{live_chat}/events?after=0")) as stream:
        first = await read_events(stream, "state")
        assert first["data"] == {"status": "open", "assignee": None}, "the page checks what it showed"
        await ana.get(f"/handoffs/{live_chat}")
        await ana.post(f"/handoffs/{live_chat}/claim")
        state = await read_events(stream, "state")
        assert state["data"] == {"status": "claimed", "assignee": "ana.agent"}
        fake.down = True
        down = await read_events(stream, "rasa")
        assert down["data"]["ok"] is False
        fake.down = False
        assert (await read_events(stream, "rasa"))["data"]["ok"] is True


async def test_the_console_stopping_ends_open_streams(browser: Callable[[], Browser], live_chat: str) -> None:
    ana = await logged_in(browser, "ana.agent")
    async with ana.session.get(ana.server.make_url(f"/handoffs/{live_chat}/events")) as stream:
        await read_events(stream, "reset")
        started = time.monotonic()
        await handoff_page.on_shutdown(ana.server.app)
        rest = await asyncio.wait_for(stream.content.read(), 5)
        assert time.monotonic() - started < 2 and b"event: items" not in rest


async def test_a_callback_page_shows_the_callback_masked_and_no_chat(
    browser: Callable[[], Browser], console_db: Database
) -> None:
    start = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.timezone.utc)
    request = HandoffRequest(
        kind="callback",
        reason="asked to be called",
        sender_id="rest-9",
        transcript=[{"at": "2026-11-23T10:00:00+00:00", "from": "customer", "text": "ring me please"}],
        callback_number="+34612345678",
        window_start=start,
        window_end=start + dt.timedelta(hours=2),
        timezone="Europe/Madrid",
        language="es",
    )
    with console_db.session() as s:
        HandoffRepository(s).add(request)
        StaffRepository(s).record_callback_attempt(request.reference, outcome="no_answer", by="bo.agent")
    ana = await logged_in(browser, "ana.agent")
    status, page = await ana.get(f"/handoffs/{request.reference}")
    assert status == 200 and "+••••••••678" in page and "612345678" not in page
    assert "Mon 23 Nov 15:00–17:00 Europe/Madrid" in page, "the window in the customer's time"
    assert "Mon 23 Nov 14:00" in page, "…and in the member of staff's"
    assert "no answer — bo.agent" in page
    assert "ring me please" in page, "the stored transcript while Rasa has no such conversation"
    assert "Open: claim it to take it on." in page and 'id="reply-text"' not in page
    await ana.post(f"/handoffs/{request.reference}/claim")
    _, page = await ana.get(f"/handoffs/{request.reference}")
    assert "A callback: the customer is called back" in page and 'data-testid="end-chat"' not in page
    assert (await ana.post(f"/handoffs/{request.reference}/end"))[0] == 403
    assert (await ana.post(f"/handoffs/{request.reference}/reply", {"text": "hi"}))[0] == 403
