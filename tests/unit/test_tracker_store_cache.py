"""The tracker store keeps recent conversations in the process (bot/rasa/tracker_store.py):
what it hands out is what a store reading the database would, with other servers writing
the same database, card data redacted, new sessions, unsaved turns and a bound on memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.rasa import history
from bot.rasa.tracker_store import RedactingSQLTrackerStore

CARD = "4539 1488 0343 6467"


def store(tmp_path: Path, domain: Domain, **kwargs: int) -> RedactingSQLTrackerStore:
    return RedactingSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.db"), **kwargs)


def turn(text: str, intent: str = "card_arrival", confidence: float = 0.5) -> list[Event]:
    return [
        UserUttered(text, intent={"name": intent, "confidence": 0.9}),
        SlotSet("persona_confidence", confidence),
        ActionExecuted(f"utter_{intent}"),
        BotUttered("answer"),
        ActionExecuted("action_listen"),
    ]


def view(tracker: DialogueStateTracker | None) -> dict[str, object]:
    assert tracker is not None
    state = tracker.current_state(EventVerbosity.ALL)
    return {**state, "slot_values": {k: s.value for k, s in tracker.slots.items()}}


async def play(store: RedactingSQLTrackerStore, sender: str, events: list[Event]) -> DialogueStateTracker:
    """One turn as Rasa's processor plays it: read, add events, save."""
    tracker = await store.get_or_create_tracker(sender)
    for event in events:
        tracker.update(event)
    await store.save(tracker)
    return tracker


async def test_the_kept_conversation_is_what_the_database_holds(tmp_path: Path, rasa_domain: Domain) -> None:
    server = store(tmp_path, rasa_domain)
    for i in range(4):
        await play(server, "c-1", turn(f"where is my card {i}", confidence=i / 10))
    assert "c-1" in server._kept
    kept = await server.retrieve("c-1")
    reader = store(tmp_path, rasa_domain, cache_conversations=0)
    assert view(kept) == view(await reader.retrieve("c-1"))
    assert kept is not server._kept["c-1"].tracker, "a copy: the processor changes what it gets"
    assert kept is not None and kept.get_slot("persona_confidence") == 0.3


async def test_the_session_is_not_counted_again_on_every_save(
    tmp_path: Path, rasa_domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Which events are new is decided, as Rasa does, from how many events of the session
    the database holds: Rasa's query is run while the count is unknown, then the kept count
    is used; another server's write is seen and the count read again."""
    counted: list[str] = []
    rasa_query = RedactingSQLTrackerStore._event_query

    def counting(self: Any, session: Any, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
        counted.append(sender_id)
        return rasa_query(self, session, sender_id, fetch_events_from_all_sessions)

    monkeypatch.setattr(RedactingSQLTrackerStore, "_event_query", counting)
    server, other = store(tmp_path, rasa_domain), store(tmp_path, rasa_domain)
    for i in range(2):
        await play(server, "c-1", turn(f"where is my card {i}"))
    queries = len(counted)
    for i in range(2, 6):
        await play(server, "c-1", turn(f"where is my card {i}", confidence=i / 10))
    assert len(counted) == queries
    reader = store(tmp_path, rasa_domain, cache_conversations=0)
    assert view(await server.retrieve("c-1")) == view(await reader.retrieve("c-1"))
    await play(other, "c-1", turn("and my PIN?", intent="get_pin", confidence=0.9))
    await play(server, "c-1", turn("thanks", intent="thank", confidence=0.95))
    assert len(counted) > queries
    assert view(await server.retrieve("c-1")) == view(await reader.retrieve("c-1"))
    tracker = await reader.retrieve("c-1")
    assert tracker is not None and [e.text for e in tracker.events if isinstance(e, UserUttered)] == [
        *(f"where is my card {i}" for i in range(6)),
        "and my PIN?",
        "thanks",
    ]


async def test_what_another_server_writes_is_read(tmp_path: Path, rasa_domain: Domain) -> None:
    first, second = store(tmp_path, rasa_domain), store(tmp_path, rasa_domain)
    await play(first, "c-1", turn("hello"))
    await first.retrieve("c-1")
    await play(second, "c-1", turn("my card is late", confidence=0.9))
    seen = await first.retrieve("c-1")
    assert seen is not None and seen.get_slot("persona_confidence") == 0.9
    assert view(seen) == view(await second.retrieve("c-1"))
    await play(first, "c-1", turn("thanks", intent="thank", confidence=0.95))
    assert view(await second.retrieve("c-1")) == view(await first.retrieve("c-1"))


async def test_a_turn_that_was_not_saved_is_not_kept(tmp_path: Path, rasa_domain: Domain) -> None:
    server = store(tmp_path, rasa_domain)
    await play(server, "c-1", turn("hello"))
    tracker = await server.retrieve("c-1")
    assert tracker is not None
    tracker.update(UserUttered("this turn failed", intent={"name": "greet", "confidence": 1.0}))
    again = await server.retrieve("c-1")
    assert again is not None and len(again.events) == len(tracker.events) - 1


async def test_card_data_is_not_kept_either(tmp_path: Path, rasa_domain: Domain) -> None:
    server = store(tmp_path, rasa_domain)
    await play(server, "c-1", turn("hello"))
    await server.retrieve("c-1")
    await play(server, "c-1", [*turn(f"my card {CARD} was stolen"), SlotSet("callback_number", CARD)])
    kept = await server.retrieve("c-1")
    assert kept is not None and kept.latest_message is not None
    assert CARD not in str(kept.current_state(EventVerbosity.ALL))
    assert kept.latest_message.text == "my card [card number removed] was stolen"
    assert kept.get_slot("callback_number") == "[card number removed]"
    assert view(kept) == view(await store(tmp_path, rasa_domain, cache_conversations=0).retrieve("c-1"))


async def test_a_new_session_starts_afresh(tmp_path: Path, rasa_domain: Domain) -> None:
    server = store(tmp_path, rasa_domain)
    await play(server, "c-1", turn("hello"))
    await server.retrieve("c-1")
    await play(server, "c-1", [ActionExecuted("action_session_start"), SessionStarted(), *turn("back again")])
    kept = await server.retrieve("c-1")
    assert view(kept) == view(await store(tmp_path, rasa_domain, cache_conversations=0).retrieve("c-1"))
    assert kept is not None and not any(
        e.text == "hello" for e in kept.events if isinstance(e, UserUttered)
    ), "only the latest session, as Rasa's store reads it"


async def test_the_cache_is_bounded(tmp_path: Path, rasa_domain: Domain) -> None:
    server = store(tmp_path, rasa_domain, cache_conversations=2)
    for sender in ("a", "b", "c"):
        await play(server, sender, turn("hello"))
        await server.retrieve(sender)
    assert list(server._kept) == ["b", "c"]
    off = store(tmp_path, rasa_domain, cache_conversations=0)
    await off.retrieve("a")
    assert not off._kept


async def test_the_next_turn_carries_on_with_the_history(tmp_path: Path, rasa_domain: Domain) -> None:
    """The kept copy takes the turn's history, so the next turn extends it."""
    server = store(tmp_path, rasa_domain)
    await play(server, "c-1", turn("hello"))
    tracker = await server.retrieve("c-1")
    assert tracker is not None
    tracker.update(UserUttered("my card", intent={"name": "card_arrival", "confidence": 0.9}))
    history.states_for_tracker_history(rasa_domain, tracker)
    for event in turn("x")[1:]:
        tracker.update(event)
    await server.save(tracker)
    kept = server._kept["c-1"].tracker
    assert history._STATES in kept.__dict__, "adopted"
    nxt = await server.retrieve("c-1")
    assert nxt is not None
    replayed = DialogueStateTracker.from_events("c-1", list(nxt.events), rasa_domain.slots)
    assert history.states_for_tracker_history(rasa_domain, nxt) == Domain.states_for_tracker_history(
        rasa_domain, replayed
    )


@pytest.mark.parametrize("size", [-3, "7"])
def test_cache_size_from_endpoints(tmp_path: Path, rasa_domain: Domain, size: Any) -> None:
    """Values from endpoints.yml may come as text; a negative size turns the cache off."""
    server = RedactingSQLTrackerStore(
        rasa_domain, dialect="sqlite", db=str(tmp_path / "t.db"), cache_conversations=size
    )
    assert server.cache_conversations == max(0, int(size))


async def test_the_rows_are_those_rasas_store_writes(tmp_path: Path, rasa_domain: Domain) -> None:
    """All of a turn's events go in one INSERT, with the columns Rasa's own store writes."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore

    ours = store(tmp_path, rasa_domain)
    rasas = SQLTrackerStore(rasa_domain, dialect="sqlite", db=str(tmp_path / "rasa.db"))
    events = [ActionExecuted("action_listen"), *turn("where is my card"), *turn("and my pin", "get_pin")]
    for target in (ours, rasas):
        tracker = DialogueStateTracker("c-1", rasa_domain.slots)
        for event in events[:3]:
            tracker.update(event)
        await target.save(tracker)
        for event in events[3:]:
            tracker.update(event)
        await target.save(tracker)

    def rows(path: Path) -> list[tuple[Any, ...]]:
        engine = sa.create_engine(f"sqlite:///{path}")
        with engine.connect() as connection:
            query = "SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id"
            found = [tuple(row) for row in connection.execute(sa.text(query))]
        engine.dispose()
        return found

    written = rows(tmp_path / "tracker.db")
    assert len(written) == len(events)
    assert written == rows(tmp_path / "rasa.db")
    assert [r[3] for r in written if r[1] == "user"] == ["card_arrival", "get_pin"]
    assert (await ours.retrieve("c-1")) is not None
    assert len((await store(tmp_path, rasa_domain, cache_conversations=0).retrieve("c-1")).events) == len(
        events
    )  # type: ignore[union-attr]
