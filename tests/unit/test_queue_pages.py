"""The console's queue (``/``, ``/queue/rows``, claim and release) and callbacks
(``/callbacks``, outcomes) in-process: aiohttp test server, SQLite, a fixed clock, a
tracker store written as Rasa's ``events`` table."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from argon2 import PasswordHasher

from bot.console.app import create_app
from bot.console.pages.queue import normalise_reference
from bot.console.passwords import Passwords
from bot.console.views import ConsoleConfig
from bot.console.worklist import span_text, wait_label
from bot.handoff.request import HandoffRequest
from bot.store.db import Database
from bot.store.models import AuditEntry, Customer
from bot.store.repository import HandoffRepository
from bot.store.staff import StaffRepository
from tests.support import FixedClock

FAST = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ROW = re.compile(r'<tr class="([^"]*)" data-reference="([^"]+)"')
NOW = dt.datetime(2026, 11, 23, 10, 20, tzinfo=dt.timezone.utc)  # a Monday, 11:20 in Madrid


class Browser:
    """One member of staff's browser against the test server."""

    def __init__(self, server: TestServer) -> None:
        self.server = server
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def get(self, path: str) -> tuple[aiohttp.ClientResponse, str]:
        async with self.session.get(self.server.make_url(path), allow_redirects=False) as resp:
            text = await resp.text()
        found = CSRF.search(text)
        if found:
            self.csrf = found.group(1)
        return resp, text

    async def post(
        self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True
    ) -> tuple[aiohttp.ClientResponse, str]:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf", self.csrf)
        async with self.session.post(self.server.make_url(path), data=form, allow_redirects=False) as resp:
            return resp, await resp.text()

    async def login(self, username: str) -> None:
        await self.get("/login")
        resp, _ = await self.post("/login", {"username": username, "password": PASSWORD, "next": "/"})
        assert resp.status == 303, f"{username} could not log in"
        await self.get("/callbacks")  # the session's CSRF token, for the forms


def rows(page: str) -> dict[str, str]:
    """Reference → the row's classes, in the page's order."""
    return {reference: classes for classes, reference in ROW.findall(page)}


def row_html(page: str, reference: str) -> str:
    start = page.index(f'data-reference="{reference}"')
    return page[start : page.index("</tr>", start)]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'bank.db'}")
    database.upgrade()
    with database.session() as s:
        staff = StaffRepository(s)
        for name, role, zone in (
            ("ana", "agent", "Europe/Madrid"),
            ("bo", "agent", "Europe/London"),
            ("sam", "supervisor", "Europe/London"),
        ):
            staff.add_user(name, password_hash=FAST.hash(PASSWORD), role=role, timezone=zone)
        s.add(Customer(customer_ref="no-calls", consent_to_calls=False, display_name="Mr Pérez"))
    yield database
    database.dispose()


@pytest.fixture
def tracker_store(tmp_path: Path) -> Path:
    """An empty tracker store with the columns of Rasa's ``events`` table."""
    path = tmp_path / "tracker.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
            "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
            "action_name VARCHAR(255), data TEXT)"
        )
    return path


def customer_wrote(store: Path, sender_id: str, at: dt.datetime, type_name: str = "user") -> None:
    with sqlite3.connect(store) as conn:
        conn.execute(
            "INSERT INTO events (sender_id, type_name, timestamp) VALUES (?, ?, ?)",
            (sender_id, type_name, at.timestamp()),
        )


@pytest.fixture
async def browser(
    db: Database, clock: FixedClock, tracker_store: Path
) -> AsyncIterator[Callable[[str], Any]]:
    config = ConsoleConfig(tracker_store_url=f"sqlite:///{tracker_store}")
    app = create_app(database=db, config=config, passwords=FAST, clock=clock)
    opened: list[Browser] = []
    async with TestServer(app) as server:

        async def logged_in(name: str) -> Browser:
            b = Browser(server)
            opened.append(b)
            await b.login(name)
            return b

        yield logged_in
        for b in opened:
            await b.session.close()


def add(
    db: Database,
    reference: str,
    *,
    minutes_ago: float = 1,
    status: str = "open",
    assignee: str | None = None,
    **fields: Any,
) -> str:
    kind = "callback" if reference.startswith("CB") else "live_chat"
    values: dict[str, Any] = {"persona": "default", "language": "en", "channel": "rest", **fields}
    if kind == "callback":
        values.setdefault("callback_number", "+447911123456")
    with db.session() as s:
        repo = HandoffRepository(s)
        repo.add(
            HandoffRequest(
                kind=kind,
                reason=f"reason of {reference}",
                sender_id=f"sender-{reference}",
                transcript=[],
                reference=reference,
                created_at=NOW - dt.timedelta(minutes=minutes_ago),
                **values,
            )
        )
        if status != "open":
            repo.transition(reference, "claimed", assignee=assignee or "ana")
        if status in ("done", "cancelled"):
            repo.transition(reference, status)
    return reference


@pytest.fixture
def mixed(db: Database) -> Database:
    add(db, "LC-AAAA", minutes_ago=9, persona="phone_first", language="en", channel="rest")
    add(db, "LC-BBBB", minutes_ago=8, status="claimed", assignee="ana", persona="technical", language="es")
    add(db, "CB-CCCC", minutes_ago=7, persona="phone_first", language="fr", channel="twilio")
    add(db, "CB-DDDD", minutes_ago=6, status="claimed", assignee="bo", channel="telegram")
    add(db, "LC-EEEE", minutes_ago=5, status="done", assignee="ana")
    return db


def audit_entries(db: Database, action: str) -> list[tuple[str | None, str | None, dict[str, Any]]]:
    with db.session() as s:
        found = s.query(AuditEntry).filter(AuditEntry.action == action).order_by(AuditEntry.id)
        return [(e.actor, e.target, dict(e.detail)) for e in found]


# --- helpers


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("LC-7KM3QZ", "LC-7KM3QZ"), ("lc 7km3qz", "LC-7KM3QZ"), ("cb7k", "CB-7K"), ("cb", "CB"), (" x1 ", "X1")],
)
def test_references_as_typed_or_read_out(typed: str, stored: str) -> None:
    assert normalise_reference(typed) == stored


@pytest.mark.parametrize(
    ("minutes", "label"),
    [
        (0.5, "<1 min"),
        (1, "1 min"),
        (12, "12 min"),
        (59, "59 min"),
        (125, "2 h 05 min"),
        (60 * 27, "1 d 3 h"),
    ],
)
def test_wait_labels(minutes: float, label: str) -> None:
    assert wait_label(NOW - dt.timedelta(minutes=minutes), NOW) == label


def test_a_window_in_a_timezone() -> None:
    from zoneinfo import ZoneInfo

    start = dt.datetime(2026, 11, 24, 13, 0, tzinfo=dt.timezone.utc)
    assert (
        span_text(start, start + dt.timedelta(hours=2), ZoneInfo("Europe/Madrid"))
        == "Tue 24 Nov, 14:00–16:00 CET"
    )
    late = start + dt.timedelta(hours=10)
    assert span_text(late, late + dt.timedelta(hours=2), ZoneInfo("Europe/London")) == (
        "Tue 24 Nov, 23:00–Wed 25 Nov, 01:00 GMT"
    )


# --- the queue


async def test_the_queue_needs_a_login(db: Database, clock: FixedClock) -> None:
    app = create_app(database=db, config=ConsoleConfig(), passwords=FAST, clock=clock)
    async with TestServer(app) as server, aiohttp.ClientSession() as client:
        for path in ("/", "/queue/rows", "/callbacks"):
            async with client.get(server.make_url(path), allow_redirects=False) as resp:
                assert resp.status == 303 and resp.headers["Location"].startswith("/login")


async def test_the_default_queue_is_open_and_claimed_handoffs_longest_waiting_first(
    mixed: Database, browser: Callable[[str], Any]
) -> None:
    ana = await browser("ana")
    resp, page = await ana.get("/")
    assert resp.status == 200
    assert list(rows(page)) == ["LC-AAAA", "LC-BBBB", "CB-CCCC", "CB-DDDD"]
    assert "4 handoffs, longest waiting first" in page
    first = row_html(page, "LC-AAAA")
    assert '<a href="/handoffs/LC-AAAA">LC-AAAA</a>' in first
    for shown in ("Live chat", "open", "9 min", "phone first", "English", "rest", "reason of LC-AAAA"):
        assert shown in first, shown
    assert "you" in row_html(page, "LC-BBBB") and "bo" in row_html(page, "CB-DDDD")
    assert 'src="/static/queue.js' in page and "<script>" not in page
    assert 'data-refresh-url="/queue/rows"' in page
    assert 'href="/callbacks"' in page, "the navigation has the callbacks page"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=live_chat", ["LC-AAAA", "LC-BBBB"]),
        ("kind=callback", ["CB-CCCC", "CB-DDDD"]),
        ("status=open", ["LC-AAAA", "CB-CCCC"]),
        ("status=claimed", ["LC-BBBB", "CB-DDDD"]),
        ("status=done", ["LC-EEEE"]),
        ("status=any", ["LC-AAAA", "LC-BBBB", "CB-CCCC", "CB-DDDD", "LC-EEEE"]),
        ("persona=phone_first", ["LC-AAAA", "CB-CCCC"]),
        ("language=es", ["LC-BBBB"]),
        ("channel=telegram", ["CB-DDDD"]),
        ("assignee=bo", ["CB-DDDD"]),
        ("assignee=%40me", ["LC-BBBB"]),
        ("assignee=%40me&status=any", ["LC-BBBB", "LC-EEEE"]),
        ("assignee=%40nobody", ["LC-AAAA", "CB-CCCC"]),
        ("assignee=%40nobody&kind=callback", ["CB-CCCC"]),
        ("q=cb", ["CB-CCCC", "CB-DDDD"]),
        ("q=lc-", ["LC-AAAA", "LC-BBBB", "LC-EEEE"]),  # a search looks at every status
        ("q=lc-&status=active", ["LC-AAAA", "LC-BBBB"]),
        ("language=de", []),
    ],
)
async def test_each_filter_narrows_the_queue(
    mixed: Database, browser: Callable[[str], Any], query: str, expected: list[str]
) -> None:
    ana = await browser("ana")
    resp, page = await ana.get(f"/?{query}")
    assert resp.status == 200
    assert list(rows(page)) == expected
    _, fragment = await ana.get(f"/queue/rows?{query}")
    assert list(rows(fragment)) == expected, "the refresh keeps the filters"


async def test_the_filters_show_what_is_chosen(mixed: Database, browser: Callable[[str], Any]) -> None:
    ana = await browser("ana")
    _, page = await ana.get("/?kind=callback&assignee=%40nobody&language=fr")
    assert '<option value="callback" selected>' in page
    assert '<option value="@nobody" selected>' in page
    assert '<option value="fr" selected>' in page
    assert '<option value="active" selected>' in page, "open or claimed unless chosen otherwise"
    assert 'data-refresh-url="/queue/rows?kind=callback&amp;language=fr&amp;assignee=%40nobody"' in page


@pytest.mark.parametrize("query", ["kind=email", "status=closed", "page=0", "page=two", "page=-1"])
async def test_parameters_that_cannot_be_used_are_refused(
    mixed: Database, browser: Callable[[str], Any], query: str
) -> None:
    ana = await browser("ana")
    resp, page = await ana.get(f"/?{query}")
    assert resp.status == 400
    assert query.split("=")[1] in page


@pytest.mark.parametrize("typed", ["LC-BBBB", "lc-bbbb", "lc bbbb", "LCBBBB", "LC-EEEE"])
async def test_a_whole_reference_opens_the_handoff(
    mixed: Database, browser: Callable[[str], Any], typed: str
) -> None:
    ana = await browser("ana")
    resp, _ = await ana.get(f"/?q={typed.replace(' ', '+')}")
    assert resp.status == 303
    assert resp.headers["Location"] == f"/handoffs/{normalise_reference(typed)}"


async def test_fifty_a_page_with_links_that_keep_the_filters(
    db: Database, browser: Callable[[str], Any]
) -> None:
    for i in range(120):
        add(db, f"LC-{i:04d}", minutes_ago=200 - i, language="es")
    ana = await browser("ana")
    _, first = await ana.get("/?language=es")
    assert list(rows(first)) == [f"LC-{i:04d}" for i in range(50)]
    assert "120 handoffs" in first and "page 1 of 3" in first
    assert 'href="/?language=es&amp;page=2" rel="next"' in first
    assert 'href="/?language=es&amp;page=3">Last' in first
    _, third = await ana.get("/?language=es&page=3")
    assert list(rows(third)) == [f"LC-{i:04d}" for i in range(100, 120)]
    assert 'href="/?language=es&amp;page=2" rel="prev"' in third and 'rel="next"' not in third
    _, beyond = await ana.get("/?language=es&page=9")
    assert rows(beyond) == {} and "Nothing to show on this page" in beyond


async def test_live_chats_waiting_past_the_target_and_overdue_callbacks_stand_out(
    db: Database, browser: Callable[[str], Any]
) -> None:
    add(db, "LC-LATE", minutes_ago=6)
    add(db, "LC-SOON", minutes_ago=4)
    add(db, "LC-TAKEN", minutes_ago=30, status="claimed", assignee="bo")
    opened, later = NOW - dt.timedelta(minutes=10), NOW + dt.timedelta(hours=2)
    add(db, "CB-LATE", minutes_ago=60, window_start=opened, window_end=opened + dt.timedelta(hours=2))
    add(db, "CB-SOON", minutes_ago=50, window_start=later, window_end=later + dt.timedelta(hours=2))
    ana = await browser("ana")
    _, page = await ana.get("/")
    classes = rows(page)
    assert [r for r, c in classes.items() if "late" in c.split()] == ["CB-LATE", "LC-LATE"]
    assert "Late: over 5 min" in row_html(page, "LC-LATE")
    assert "Late" not in row_html(page, "LC-SOON") and "Late" not in row_html(page, "LC-TAKEN")
    assert "Overdue since" in row_html(page, "CB-LATE") and "23 Nov 11:10" in row_html(page, "CB-LATE")
    assert "call from" in row_html(page, "CB-SOON") and "23 Nov 13:20" in row_html(page, "CB-SOON")


async def test_customers_who_wrote_again_are_marked(
    db: Database, browser: Callable[[str], Any], tracker_store: Path
) -> None:
    for reference in ("LC-WROTE", "LC-BEFORE", "LC-ANSWERED", "LC-AGAIN", "LC-ENDED"):
        add(db, reference, minutes_ago=10, status="done" if reference == "LC-ENDED" else "claimed")
    after, before = NOW - dt.timedelta(minutes=2), NOW - dt.timedelta(minutes=12)
    customer_wrote(tracker_store, "sender-LC-WROTE", after)
    customer_wrote(tracker_store, "sender-LC-BEFORE", before)
    customer_wrote(
        tracker_store, "sender-LC-BEFORE", after, type_name="bot"
    )  # the assistant, not the customer
    customer_wrote(tracker_store, "sender-LC-ANSWERED", NOW - dt.timedelta(minutes=5))
    customer_wrote(tracker_store, "sender-LC-AGAIN", after)
    customer_wrote(tracker_store, "sender-LC-ENDED", after)
    with db.session() as s:
        staff = StaffRepository(s)
        staff.audit("handoff.reply", actor="ana", target="LC-ANSWERED", at=NOW - dt.timedelta(minutes=3))
        staff.audit("handoff.reply", actor="ana", target="LC-AGAIN", at=NOW - dt.timedelta(minutes=4))
    ana = await browser("ana")
    _, page = await ana.get("/?status=any")
    marked = [r for r, c in rows(page).items() if "wrote-again" in c.split()]
    assert marked == ["LC-WROTE", "LC-AGAIN"]
    assert "Customer wrote again" in row_html(page, "LC-WROTE") and "11:18" in row_html(page, "LC-WROTE")


async def test_the_queue_works_without_the_tracker_store(
    mixed: Database, browser: Callable[[str], Any], tracker_store: Path
) -> None:
    tracker_store.unlink()
    ana = await browser("ana")
    resp, page = await ana.get("/")
    assert resp.status == 200 and len(rows(page)) == 4
    assert "whether customers wrote again is not shown" in page


async def test_times_are_in_the_staff_members_timezone(
    mixed: Database, browser: Callable[[str], Any]
) -> None:
    ana, bo = await browser("ana"), await browser("bo")
    _, madrid = await ana.get("/queue/rows")
    _, london = await bo.get("/queue/rows")
    assert 'Updated <time datetime="2026-11-23T10:20:00+00:00">11:20:00</time>' in madrid
    assert ">10:20:00</time>" in london
    assert "<html" not in madrid and "<table" in madrid, "the refresh gets the table alone"


async def test_claim_from_the_queue(mixed: Database, browser: Callable[[str], Any]) -> None:
    ana, bo = await browser("ana"), await browser("bo")
    resp, _ = await ana.post("/queue/LC-AAAA/claim", {"back": "/?kind=live_chat"})
    assert resp.status == 303 and resp.headers["Location"] == "/?kind=live_chat"
    _, page = await ana.get("/?assignee=%40me")
    assert list(rows(page)) == ["LC-AAAA", "LC-BBBB"]
    assert 'action="/queue/LC-AAAA/release"' in row_html(page, "LC-AAAA")
    assert audit_entries(mixed, "handoff.claim") == [
        ("ana", "LC-AAAA", {"kind": "live_chat", "via": "queue"})
    ]
    resp, page = await bo.post("/queue/LC-AAAA/claim", {"back": "/"})
    assert resp.status == 409 and "LC-AAAA is claimed by ana already" in page
    resp, _ = await bo.post("/queue/NOPE/claim")
    assert resp.status == 404
    assert len(audit_entries(mixed, "handoff.claim")) == 1


async def test_a_claim_needs_the_csrf_token(mixed: Database, browser: Callable[[str], Any]) -> None:
    ana = await browser("ana")
    resp, _ = await ana.post("/queue/LC-AAAA/claim", csrf=False)
    assert resp.status == 403
    resp, _ = await ana.post("/queue/LC-AAAA/claim", {"csrf": "forged"})
    assert resp.status == 403
    with mixed.session() as s:
        assert HandoffRepository(s).get("LC-AAAA").status.value == "open"


async def test_going_back_only_to_a_console_page(mixed: Database, browser: Callable[[str], Any]) -> None:
    ana = await browser("ana")
    resp, _ = await ana.post("/queue/LC-AAAA/claim", {"back": "https://elsewhere.example/"})
    assert resp.headers["Location"] == "/"
    resp, _ = await ana.post("/queue/CB-CCCC/claim", {"back": "//elsewhere.example/"})
    assert resp.headers["Location"] == "/"


async def test_release_back_to_the_queue(mixed: Database, browser: Callable[[str], Any]) -> None:
    ana, bo, sam = await browser("ana"), await browser("bo"), await browser("sam")
    _, page = await bo.get("/")
    assert "release" not in row_html(page, "LC-BBBB").lower(), "only ana or a supervisor may release it"
    resp, page = await bo.post("/queue/LC-BBBB/release")
    assert resp.status == 409 and "only they or a supervisor" in page
    resp, _ = await ana.post("/queue/LC-BBBB/release", {"back": "/"})
    assert resp.status == 303
    resp, _ = await sam.post("/queue/CB-DDDD/release", {"back": "/"})
    assert resp.status == 303
    _, page = await ana.get("/?assignee=%40nobody")
    assert list(rows(page)) == ["LC-AAAA", "LC-BBBB", "CB-CCCC", "CB-DDDD"]
    assert audit_entries(mixed, "handoff.release") == [
        ("ana", "LC-BBBB", {"kind": "live_chat", "previous": "ana", "via": "queue"}),
        ("sam", "CB-DDDD", {"kind": "callback", "previous": "bo", "via": "queue"}),
    ]


# --- callbacks


@pytest.fixture
def callbacks(db: Database) -> Database:
    start = dt.datetime(2026, 11, 23, 13, 0, tzinfo=dt.timezone.utc)
    two_hours = dt.timedelta(hours=2)
    add(db, "CB-MADRID", minutes_ago=30, window_start=start, window_end=start + two_hours,
        timezone="Europe/Madrid", language="es", callback_number="+34612345678")  # fmt: skip
    past = NOW - dt.timedelta(minutes=20)
    add(
        db,
        "CB-LATE",
        minutes_ago=60,
        window_start=past,
        window_end=past + two_hours,
        timezone="Europe/London",
    )
    add(db, "CB-NOCALL", minutes_ago=10, window_start=start, window_end=start + two_hours,
        timezone="Europe/London", customer_ref="no-calls")  # fmt: skip
    add(db, "CB-BOS", minutes_ago=5, status="claimed", assignee="bo")
    add(db, "CB-DONE", minutes_ago=5, status="done")
    add(db, "LC-CHAT", minutes_ago=5)
    return db


async def test_the_callbacks_to_make_earliest_due_first(
    callbacks: Database, browser: Callable[[str], Any]
) -> None:
    ana = await browser("ana")
    resp, page = await ana.get("/callbacks")
    assert resp.status == 200
    assert list(rows(page)) == ["CB-LATE", "CB-BOS", "CB-MADRID", "CB-NOCALL"]
    assert "4 callbacks to make" in page
    madrid = row_html(page, "CB-MADRID")
    assert 'href="tel:+34612345678"' in madrid and "+34 612 34 56 78" in madrid, "the whole number, to dial"
    assert "Customer: Mon 23 Nov, 14:00–16:00 CET" in madrid and "(Europe/Madrid)" in madrid
    assert "You: Mon 23 Nov, 14:00–16:00 CET" in madrid, "ana works in Madrid too"
    assert "Speak Spanish" in madrid and "Agreed when booking" in madrid
    assert "0 calls" in madrid
    for outcome in ("reached", "no_answer", "wrong_number", "cancelled"):
        assert f'value="{outcome}"' in madrid
    assert "late" in rows(page)["CB-LATE"].split() and "Overdue since" in row_html(page, "CB-LATE")
    assert "late" not in rows(page)["CB-MADRID"].split()
    assert "Claimed by bo" in row_html(page, "CB-BOS") and "<form" not in row_html(page, "CB-BOS")
    _, london = await (await browser("bo")).get("/callbacks")
    assert "You: Mon 23 Nov, 13:00–15:00 GMT" in row_html(london, "CB-MADRID")


async def test_a_customer_who_may_not_be_called(callbacks: Database, browser: Callable[[str], Any]) -> None:
    ana = await browser("ana")
    _, page = await ana.get("/callbacks")
    row = row_html(page, "CB-NOCALL")
    assert "Do not call" in row and "Ask for: Mr Pérez" in row
    assert "tel:" not in row, "no link to dial"
    assert 'value="cancelled"' in row and "Do not call: cancel the callback" in row
    for outcome in ("reached", "no_answer", "wrong_number"):
        assert f'value="{outcome}"' not in row
    resp, text = await ana.post("/callbacks/CB-NOCALL/outcome", {"outcome": "reached"})
    assert resp.status == 409 and "does not want calls" in text
    resp, _ = await ana.post("/callbacks/CB-NOCALL/outcome", {"outcome": "cancelled", "note": ""})
    assert resp.status == 303
    with callbacks.session() as s:
        assert HandoffRepository(s).get("CB-NOCALL").status.value == "cancelled"
        [attempt] = StaffRepository(s).callback_attempts("CB-NOCALL")
        assert (attempt.outcome.value, attempt.by, attempt.note) == (
            "cancelled",
            "ana",
            "do not call: the customer's record says no calls",
        )


async def test_reached_is_an_attempt_a_transition_and_an_audit_entry(
    callbacks: Database, browser: Callable[[str], Any]
) -> None:
    ana = await browser("ana")
    resp, _ = await ana.post(
        "/callbacks/CB-MADRID/outcome", {"outcome": "reached", "back": "/callbacks?page=1"}
    )
    assert resp.status == 303
    assert resp.headers["Location"] == "/callbacks?page=1&done=CB-MADRID&outcome=reached"
    _, page = await ana.get(resp.headers["Location"])
    assert "CB-MADRID: reached recorded." in page and "CB-MADRID" not in rows(page)
    with callbacks.session() as s:
        row = HandoffRepository(s).get("CB-MADRID")
        assert (row.status.value, row.assignee) == ("done", "ana")
        assert [(a.outcome.value, a.by, a.at) for a in StaffRepository(s).callback_attempts(row)] == [
            ("reached", "ana", NOW)
        ]
    assert audit_entries(callbacks, "callback.attempt") == [
        ("ana", "CB-MADRID", {"outcome": "reached", "attempt": 1, "status": "done"})
    ]


async def test_no_answer_counts_and_suggests_a_retry_then_asks_for_a_decision(
    callbacks: Database, browser: Callable[[str], Any], clock: FixedClock
) -> None:
    ana = await browser("ana")
    resp, _ = await ana.post("/callbacks/CB-LATE/outcome", {"outcome": "no_answer", "note": "voicemail"})
    assert resp.status == 303
    _, page = await ana.get("/callbacks")
    row = row_html(page, "CB-LATE")
    assert "1 call, 1 unanswered" in row and "Try again after" in row and ">11:35</time>" in row, (
        "10:35 UTC, in Madrid"
    )
    clock.advance(minutes=16)
    _, page = await ana.get("/callbacks")
    assert "Try again now" in row_html(page, "CB-LATE")
    for _ in range(2):
        await ana.post("/callbacks/CB-LATE/outcome", {"outcome": "no_answer"})
    _, page = await ana.get("/callbacks")
    assert "needs-decision" in rows(page)["CB-LATE"].split()
    assert "3 unanswered calls: decide" in row_html(page, "CB-LATE")
    with callbacks.session() as s:
        assert HandoffRepository(s).get("CB-LATE").status.value == "open"
    assert [d["attempt"] for _, _, d in audit_entries(callbacks, "callback.attempt")] == [1, 2, 3]


async def test_wrong_number_and_cancel_need_no_call_again(
    callbacks: Database, browser: Callable[[str], Any]
) -> None:
    ana, bo = await browser("ana"), await browser("bo")
    resp, _ = await ana.post("/callbacks/CB-LATE/outcome", {"outcome": "wrong_number"})
    assert resp.status == 303
    resp, text = await ana.post("/callbacks/CB-MADRID/outcome", {"outcome": "cancelled"})
    assert resp.status == 409 and "say why" in text
    resp, text = await ana.post("/callbacks/CB-BOS/outcome", {"outcome": "cancelled", "note": "duplicate"})
    assert resp.status == 409 and "claimed by bo" in text
    resp, _ = await bo.post("/callbacks/CB-BOS/outcome", {"outcome": "cancelled", "note": "duplicate"})
    assert resp.status == 303
    resp, _ = await ana.post("/callbacks/CB-DONE/outcome", {"outcome": "reached"})
    assert resp.status == 409
    resp, _ = await ana.post("/callbacks/CB-NOPE/outcome", {"outcome": "reached"})
    assert resp.status == 404
    with callbacks.session() as s:
        repo = HandoffRepository(s)
        assert [repo.get(r).status.value for r in ("CB-LATE", "CB-MADRID", "CB-BOS")] == [
            "cancelled",
            "open",
            "cancelled",
        ]
    assert [(a, t, d["outcome"]) for a, t, d in audit_entries(callbacks, "callback.attempt")] == [
        ("ana", "CB-LATE", "wrong_number"),
        ("bo", "CB-BOS", "cancelled"),
    ]
