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
tracker API or in later turns.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

from bot.core.masking import protect
from bot.core.redaction import redact_value

logger = logging.getLogger(__name__)
# Event fields that hold what the customer wrote.
_TEXT_FIELDS = ("text",)


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


def redact_event(event: Event) -> Event:
    """``event`` as it may be stored: the same event when there is nothing to remove."""
    data, kinds = redact_event_data(event.as_dict())
    if not kinds:
        return event
    logger.info("tracker.redacted event=%s removed=%s", data.get("event"), ",".join(sorted(set(kinds))))
    return Event.from_parameters(data) or event


class RedactingSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that saves events through ``redact_event``."""

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        for event in super()._additional_events(session, tracker):
            yield redact_event(event)
