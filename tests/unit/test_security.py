"""Security parts without servers: rate limits, REST input checks, redacted logs and the
redacting tracker store on a real SQLite database."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.core.limits import MAX_SENDER_CHARS, RateLimiter
from bot.core.logs import redact_record
from bot.rasa.rest import read_message
from bot.rasa.tracker_store import RedactingSQLTrackerStore

CARD = "4539 1488 0343 6467"
IBAN = "GB82 WEST 1234 5698 7654 32"


def test_rate_limiter_allows_a_burst_then_one_request_per_refill() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, capacity=3, clock=lambda: now[0])
    assert [limiter.check("a").allowed for _ in range(4)] == [True, True, True, False]
    assert limiter.check("a").retry_after == 1
    assert limiter.check("b").allowed, "each key has its own bucket"
    now[0] += 1.0
    assert limiter.check("a").allowed and not limiter.check("a").allowed


def test_rate_limiter_forgets_old_keys() -> None:
    limiter = RateLimiter(per_minute=1, capacity=1, max_keys=2)
    for key in ("a", "b", "c"):
        limiter.check(key)
    assert limiter.check("a").allowed, "a was forgotten (bounded memory), so it starts full"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (None, "JSON object"),
        ([], "JSON object"),
        ("hi", "JSON object"),
        ({}, "'sender'"),
        ({"sender": "", "message": "hi"}, "'sender'"),
        ({"sender": 42, "message": "hi"}, "'sender'"),
        ({"sender": "x" * (MAX_SENDER_CHARS + 1), "message": "hi"}, "at most"),
        ({"sender": "a\x00b", "message": "hi"}, "printable"),
        ({"sender": "s", "message": None}, "'message'"),
        ({"sender": "s", "message": "hi", "metadata": []}, "'metadata'"),
    ],
)
def test_a_malformed_rest_body_says_what_is_wrong(body: object, problem: str) -> None:
    read = read_message(body)
    assert isinstance(read, str) and problem in read


def test_a_good_rest_body_is_read() -> None:
    assert read_message({"sender": "s", "message": "hi", "metadata": {"channel": "socketio"}}) == (
        "s",
        "hi",
        {"channel": "socketio"},
    )


@pytest.mark.parametrize(
    "sender",
    # Random UUIDs whose first three groups are digits that pass the card check (one in ten
    # thousand): they were refused as card data.
    ["thr-66193851-7477-4104-9f8a-c52d65fd7915", "79632535-8695-4302-a618-711f71079cc7"],
)
def test_a_uuid_sender_is_not_card_data(sender: str) -> None:
    assert read_message({"sender": sender, "message": "hi"}) == (sender, "hi", None)


def test_a_card_number_as_sender_is_refused() -> None:
    read = read_message({"sender": f"c-{CARD.replace(' ', '-')}", "message": "hi"})
    assert isinstance(read, str) and "card data" in read


def test_log_records_never_carry_card_data() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "user said %s", (f"card {CARD}",), None)
    assert CARD not in redact_record(record).getMessage()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, f"iban {IBAN}", None, None)
    assert "GB82" not in redact_record(record).getMessage()


async def test_the_tracker_store_saves_no_card_data(tmp_path: Path, rasa_domain: Domain) -> None:
    db = tmp_path / "tracker.db"
    store = RedactingSQLTrackerStore(rasa_domain, dialect="sqlite", db=str(db))
    tracker = DialogueStateTracker.from_events(
        "s-1",
        [
            UserUttered(
                f"my card is {CARD} and my IBAN {IBAN}",
                intent={"name": "compromised_card", "confidence": 0.9},
                parse_data={"text": f"my card is {CARD} and my IBAN {IBAN}", "intent": {"name": "x"}},
            ),
            SlotSet("callback_number", f"{CARD}"),
        ],
        slots=rasa_domain.slots,
    )
    assert tracker.latest_message is not None and CARD in tracker.latest_message.text, "processed raw"
    await store.save(tracker)
    raw = "\n".join(row[0] for row in sqlite3.connect(db).execute("select data from events"))
    assert "4539" not in raw and "GB82" not in raw and "6467" not in raw
    assert "[card number removed]" in raw and "[IBAN removed]" in raw
    stored = await store.retrieve("s-1")
    assert stored is not None and stored.latest_message is not None
    assert stored.latest_message.text == "my card is [card number removed] and my IBAN [IBAN removed]"
    assert stored.get_slot("callback_number") == "[card number removed]"
    await store.save(stored)  # saving again adds nothing and keeps it clean
    assert len(list(sqlite3.connect(db).execute("select id from events"))) == 2


async def test_the_web_relay_limits_each_address(bank: object) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.web.relay import PER_ADDRESS_CAPACITY, create_app

    app = create_app(rasa_url="http://127.0.0.1:9", bank=bank)  # type: ignore[arg-type]
    async with TestClient(TestServer(app)) as client:
        statuses = [
            (await client.post("/api/message", data=b"[]")).status for _ in range(PER_ADDRESS_CAPACITY)
        ]
        assert set(statuses) == {400}, "bad bodies are refused, and counted"
        limited = await client.post("/api/message", data=b"[]")
        assert limited.status == 429 and int(limited.headers["Retry-After"]) >= 1
