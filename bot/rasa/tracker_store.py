"""Rasa's SQL tracker store, with card data removed from what it saves.

``endpoints.yml``::

    tracker_store:
      type: bot.rasa.tracker_store.RedactingSQLTrackerStore
      dialect: sqlite          # or postgresql, as for Rasa's SQL store
      db: ${TRACKER_DB}

Before a new event is written, the customer's text (the message and its parse data) and
the text values of slots go through ``bot.core.redaction.redact``: card numbers (Luhn),
IBANs (mod 97), security codes, PINs and passwords become placeholders such as
``[card number removed]``. In the customer's text, phone numbers, e-mail addresses,
account numbers and sort codes are also masked (``bot.core.masking``); the callback
number is kept in its slot, where the callback needs it. The current message is processed
raw — the classifier, the cues and the actions of that turn see what the customer wrote —
and only the saved copy is redacted, so nothing raw is left in the database, in the
tracker API or in later turns. A turn's new events are written in one INSERT, with the
columns Rasa's store writes (through the ORM, one row at a time, each cost ~0.1 ms).

Recent conversations are also kept in the Rasa process, as they were saved: Rasa's store
reads and replays every event of the session on every message, a cost that grew with the
conversation (in a 60-turn conversation, a seventh of the turn). ``retrieve`` first asks the
database for the conversation's event count and last event id (one indexed query); when
they are what this process saved or read last, it returns a copy of the kept tracker
(``bot.rasa.history.clone``: no replay), else it reads the database as Rasa does. Another
Rasa server writing the same conversation therefore changes the count and is seen. The kept
copy gains the events as they were saved (redacted ones included); a save that starts a
session or finds rows it did not write drops it, and a turn that is never saved never
reaches it.
``cache_conversations`` (default 500, 0 turns the cache off) bounds how many are kept,
least recently used first out. The kept copy also carries how many events of the latest
session the database holds, which is how Rasa decides which of a tracker's events are new:
Rasa's query for it reads every event of the session on every save.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.core.masking import protect
from bot.core.redaction import redact_value
from bot.rasa.history import adopt, clone

logger = logging.getLogger(__name__)
# Event fields that hold what the customer wrote.
_TEXT_FIELDS = ("text",)
DEFAULT_CACHE_CONVERSATIONS = 500


def _redacted_value(value: Any) -> tuple[Any, list[str]]:
    redacted, kinds = redact_value(value)
    return redacted, list(kinds)


def _protected_text(text: str) -> tuple[str, list[str]]:
    protected = protect(text)
    return protected.text, list(protected.kinds)


def redact_event_data(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """An event's ``as_dict()`` with the customer's text and slot values redacted."""
    out = dict(data)
    kinds: list[str] = []
    kind = data.get("event")
    if kind == "user":
        for name in _TEXT_FIELDS:
            if isinstance(out.get(name), str):
                out[name], found = _protected_text(out[name])
                kinds += found
        parse = out.get("parse_data")
        if isinstance(parse, dict):
            parse = dict(parse)
            if isinstance(parse.get("text"), str):
                parse["text"], found = _protected_text(parse["text"])
                kinds += found
            for key in ("entities", "also_requested"):
                if key in parse:
                    parse[key], found = _redacted_value(parse[key])
                    kinds += found
            out["parse_data"] = parse
        if "metadata" in out:  # sent by the client: anything may be in it
            out["metadata"], found = _redacted_value(out["metadata"])
            kinds += found
    elif kind == "slot":
        out["value"], kinds = _redacted_value(out.get("value"))
    return out, kinds


def _as_stored(event: Event) -> tuple[Event, dict[str, Any]]:
    """``event`` as it may be stored, and its ``as_dict()``: the same event when there is
    nothing to remove."""
    data = event.as_dict()
    redacted, kinds = redact_event_data(data)
    if not kinds:
        return event, data
    logger.info("tracker.redacted event=%s removed=%s", data.get("event"), ",".join(sorted(set(kinds))))
    stored = Event.from_parameters(redacted) or event
    return stored, stored.as_dict()


def redact_event(event: Event) -> Event:
    """``event`` as it may be stored: the same event when there is nothing to remove."""
    return _as_stored(event)[0]


def _row(sender_id: str, event: Event, data: dict[str, Any]) -> dict[str, Any]:
    """The ``events`` row of ``event`` (``data``: its ``as_dict()``), as Rasa's SQL store
    writes it."""
    parse = data.get("parse_data")
    intent = parse.get("intent") if isinstance(parse, dict) else None
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": intent.get(INTENT_NAME_KEY) if isinstance(intent, dict) else None,
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


@dataclass
class _Kept:
    """A conversation as this process last saved or read it."""

    tracker: DialogueStateTracker
    stored: tuple[int, int]  # the database's (event count, last event id) for it
    domain: Domain | None
    # How many of its stored events Rasa's query counts as the latest session's, when known.
    session_events: int | None = None


class RedactingSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that saves events through ``redact_event`` and keeps recent
    conversations in the process, checked against the database on every read."""

    def __init__(
        self, *args: Any, cache_conversations: int = DEFAULT_CACHE_CONVERSATIONS, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.cache_conversations = max(0, int(cache_conversations))
        self._kept: OrderedDict[str, _Kept] = OrderedDict()

    def _stored(self, session: Any, sender_id: str) -> tuple[int, int]:
        """The conversation's event count and last event id, across sessions."""
        event = self.SQLEvent
        count, last = (
            session.query(sa.func.count(event.id), sa.func.max(event.id))
            .filter(event.sender_id == sender_id)
            .one()
        )
        return int(count or 0), int(last or 0)

    def _keep(
        self,
        sender_id: str,
        tracker: DialogueStateTracker,
        stored: tuple[int, int],
        session_events: int | None = None,
    ) -> None:
        if self.cache_conversations == 0:
            return
        self._kept[sender_id] = _Kept(tracker, stored, self.domain, session_events)
        self._kept.move_to_end(sender_id)
        while len(self._kept) > self.cache_conversations:
            self._kept.popitem(last=False)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session of the conversation: the kept copy when the database holds
        exactly what it was made from, else read from the database."""
        kept = self._kept.get(sender_id)
        if kept is None and self.cache_conversations == 0:
            return await super().retrieve(sender_id)
        with self.session_scope() as session:
            stored = self._stored(session, sender_id)  # before reading: a later write is seen next time
        if kept is not None and kept.stored == stored and kept.domain is self.domain:
            self._kept.move_to_end(sender_id)
            return clone(kept.tracker)
        self._kept.pop(sender_id, None)
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            self._keep(sender_id, clone(tracker), stored)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save (new events only, redacted); the kept copy gains the events as stored."""
        sender_id = tracker.sender_id
        kept = self._kept.pop(sender_id, None)
        before: tuple[int, int] | None = None
        if kept is not None and kept.domain is self.domain:
            with self.session_scope() as session:
                before = self._stored(session, sender_id)
        if kept is not None and before != kept.stored:
            kept = None  # the database changed since: this copy is not what it holds
        written, session_events = await self._save_new_events(tracker, kept.session_events if kept else None)
        if kept is None or before is None:
            return
        if any(isinstance(e, SessionStarted) for e in written):
            return  # a new session: the next read starts from it
        with self.session_scope() as session:
            after = self._stored(session, sender_id)
        if after[0] != before[0] + len(written):
            return  # rows this save did not write
        for event in written:
            kept.tracker.update(event)
        adopt(kept.tracker, tracker)  # the next turn carries on with this turn's history
        self._keep(sender_id, kept.tracker, after, session_events + len(written))

    async def _save_new_events(
        self, tracker: DialogueStateTracker, session_events: int | None = None
    ) -> tuple[list[Event], int]:
        """Rasa's ``SQLTrackerStore.save`` — the new events streamed to the event broker, the
        events the database does not hold yet written with the same columns, redacted — in
        one INSERT for all of them (through the ORM's unit of work each row cost ~0.1 ms).

        Which events are new is decided as Rasa does, by how many events of the latest
        session the database holds: ``session_events`` when the caller knows it (the kept
        copy's count, checked against the database before this save; Rasa's count query reads
        every event of the session, a cost that grew with the conversation), else Rasa's
        count. Returns the events as written and the count they followed."""
        await self.stream_events(tracker)
        written: list[Event] = []
        with self.session_scope() as session:
            if session_events is None:
                session_events = self._event_query(
                    session, tracker.sender_id, fetch_events_from_all_sessions=False
                ).count()
            rows = []
            for event in itertools.islice(tracker.events, session_events, None):
                stored, data = _as_stored(event)
                written.append(stored)
                rows.append(_row(tracker.sender_id, stored, data))
            if rows:
                session.execute(sa.insert(self.SQLEvent.__table__), rows)
            session.commit()
        return written, session_events
