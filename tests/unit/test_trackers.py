"""When customers last wrote, read from a tracker store Rasa's own SQLTrackerStore wrote,
on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
import uuid
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot.core.settings import DEFAULT_VAR_DIR, Settings
from bot.store.trackers import (
    MAX_IDS_PER_QUERY,
    TrackerStoreError,
    last_customer_messages,
    tracker_store_engine,
)
from devtools.postgres import PostgresServer

T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)
QUEUE_ROWS = 50
HANDOFFS = 10_000
QUEUE_BUDGET_SECONDS = 0.3


def at(seconds: float) -> float:
    return T0.timestamp() + seconds


def conversation(*user_times: float, bot_after: bool = True) -> list[Event]:
    events: list[Event] = [
        ActionExecuted("action_session_start", timestamp=at(0)),
        SessionStarted(timestamp=at(0)),
    ]
    for t in user_times:
        events.append(UserUttered("hello", intent={"name": "greet", "confidence": 1.0}, timestamp=at(t)))
        if bot_after:
            events.append(BotUttered("Hi!", timestamp=at(t + 1)))
    return events


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty tracker store whose tables Rasa's SQLTrackerStore created."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tracker.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database(f"t_{uuid.uuid4().hex[:12]}")
    return url


def rasa_store(url: str, domain: Domain) -> SQLTrackerStore:
    # A complete URL as `host` is how Rasa's endpoints.yml points at any SQL database.
    return SQLTrackerStore(domain, host=url)


async def save(store: SQLTrackerStore, domain: Domain, sender_id: str, events: list[Event]) -> None:
    await store.save(DialogueStateTracker.from_events(sender_id, events, slots=domain.slots))


async def test_the_latest_customer_message_of_each_conversation(store_url: str, rasa_domain: Domain) -> None:
    store = rasa_store(store_url, rasa_domain)
    await save(store, rasa_domain, "a", conversation(10, 60, 30))
    await save(store, rasa_domain, "whatsapp:+447911123456", conversation(5))
    await save(store, rasa_domain, "bot-only", [*conversation(), BotUttered("Welcome!", timestamp=at(1))])
    # A tracker saved again with more events (Rasa appends only the new ones).
    tracker = await store.retrieve("whatsapp:+447911123456")
    assert tracker is not None
    tracker.update(UserUttered("are you there?", timestamp=at(500)))
    await store.save(tracker)
    store.engine.dispose()

    found = last_customer_messages(store_url, ["a", "whatsapp:+447911123456", "bot-only", "unknown", "a"])
    assert found == {
        "a": T0 + dt.timedelta(seconds=60),
        "whatsapp:+447911123456": T0 + dt.timedelta(seconds=500),
    }
    assert all(v.tzinfo is dt.timezone.utc for v in found.values())
    assert last_customer_messages(store_url, []) == {}


async def test_many_ids_and_a_shared_engine(store_url: str, rasa_domain: Domain) -> None:
    store = rasa_store(store_url, rasa_domain)
    await save(store, rasa_domain, "a", conversation(10))
    store.engine.dispose()
    engine = tracker_store_engine(store_url)
    try:
        ids = [f"s-{i}" for i in range(MAX_IDS_PER_QUERY * 2 + 7)] + ["a"]
        assert last_customer_messages(engine, ids) == {"a": T0 + dt.timedelta(seconds=10)}
        assert last_customer_messages(engine, ["a"]) == {"a": T0 + dt.timedelta(seconds=10)}
    finally:
        engine.dispose()


def _fill(engine: Engine, senders: int) -> None:
    """``senders`` conversations of 4 customer and 4 assistant messages, plus noise, in
    Rasa's table (written directly: saving 10,000 trackers through Rasa takes minutes)."""
    events = SQLTrackerStore.SQLEvent.__table__
    rows = []
    for i in range(senders):
        for turn in range(4):
            t = at(i + turn * 60)
            rows.append({"sender_id": f"s-{i}", "type_name": "user", "timestamp": t, "data": "{}"})
            rows.append({"sender_id": f"s-{i}", "type_name": "bot", "timestamp": t + 1, "data": "{}"})
        rows.append({"sender_id": f"s-{i}", "type_name": "slot", "timestamp": at(i + 500), "data": "{}"})
    with engine.begin() as connection:
        for start in range(0, len(rows), 5000):
            connection.execute(insert(events), rows[start : start + 5000])


async def test_the_queue_of_ten_thousand_handoffs_reads_in_time(store_url: str, rasa_domain: Domain) -> None:
    rasa_store(store_url, rasa_domain).engine.dispose()  # the tables, as Rasa creates them
    writer = create_engine(store_url, future=True)
    try:
        _fill(writer, HANDOFFS)
    finally:
        writer.dispose()
    queue = [f"s-{i}" for i in range(0, HANDOFFS, HANDOFFS // QUEUE_ROWS)]
    engine = tracker_store_engine(store_url)
    try:
        last_customer_messages(engine, queue[:1])  # connected, as in a running console
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            found = last_customer_messages(engine, queue)
            timings.append(time.perf_counter() - started)
    finally:
        engine.dispose()
    assert len(found) == QUEUE_ROWS
    assert found["s-200"] == T0 + dt.timedelta(seconds=200 + 180)
    assert min(timings) < QUEUE_BUDGET_SECONDS / 3, timings  # a small part of the page's budget
    started = time.perf_counter()
    assert len(last_customer_messages(store_url, queue)) == QUEUE_ROWS  # with a fresh engine
    assert time.perf_counter() - started < QUEUE_BUDGET_SECONDS


def test_a_missing_sqlite_file_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "tracker.db"
    with pytest.raises(TrackerStoreError, match=r"cannot read Rasa's tracker store .*unable to open"):
        last_customer_messages(f"sqlite:///{path}", ["a"])
    assert not path.exists() and not path.parent.exists()


def test_a_database_without_rasas_table_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    sqlite3.connect(path).close()
    with pytest.raises(TrackerStoreError, match="no such table: events"):
        last_customer_messages(f"sqlite:///{path}", ["a"])


def test_the_password_is_not_in_errors() -> None:
    url = "postgresql+psycopg2://staff:s3cret@127.0.0.1:9/tracker"
    with pytest.raises(TrackerStoreError) as error:
        last_customer_messages(url, ["a"])
    assert "s3cret" not in str(error.value) and "127.0.0.1:9/tracker" in str(error.value)


async def test_sqlite_is_opened_read_only(tmp_path: Path, rasa_domain: Domain) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = rasa_store(url, rasa_domain)
    await save(store, rasa_domain, "a", conversation(10))
    store.engine.dispose()
    before = (tmp_path / "tracker.db").read_bytes()
    engine = tracker_store_engine(url)
    try:
        with pytest.raises(OperationalError, match="readonly"), engine.begin() as connection:
            connection.execute(text("DELETE FROM events"))
        assert last_customer_messages(engine, ["a"]) == {"a": T0 + dt.timedelta(seconds=10)}
    finally:
        engine.dispose()
    assert (tmp_path / "tracker.db").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tracker.db"]


def test_an_in_memory_store_is_refused() -> None:
    with pytest.raises(TrackerStoreError, match="TRACKER_DB"):
        tracker_store_engine("sqlite://")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, f"sqlite:///{DEFAULT_VAR_DIR / 'tracker.db'}"),
        ({"VAR_DIR": "/srv/bank/var"}, "sqlite:////srv/bank/var/tracker.db"),
        ({"VAR_DIR": "/srv/bank/var", "TRACKER_DB": "/data/tracker.db"}, "sqlite:////data/tracker.db"),
        (
            {"TRACKER_DB": "/data/tracker.db", "TRACKER_STORE_URL": "postgresql+psycopg2://staff@db/rasa"},
            "postgresql+psycopg2://staff@db/rasa",
        ),
    ],
)
def test_the_tracker_store_url_setting(environ: dict[str, str], expected: str) -> None:
    assert Settings.from_env(environ).tracker_store_url == expected
    assert Settings().tracker_store_url == f"sqlite:///{DEFAULT_VAR_DIR / 'tracker.db'}"
