"""A conversation as staff see it in the console, from Rasa's tracker.

Reads: the tracker Rasa's HTTP API returns (``GET /conversations/{id}/tracker`` with
``include_events=ALL``): its events, slots and latest input channel.
Writes: a ``Conversation`` — every session, oldest first, as ``ConversationItem``s:

* ``customer``: what the customer wrote (card data removed and contact details masked
  again, though the tracker store already did: ``bot.core.masking.protect``), marked
  ``while_paused`` when it was sent while a person had the chat; a tap on a button shows
  the button's title rather than its payload;
* ``assistant``: what the assistant said, with the titles of the buttons it offered;
* ``staff``: what a member of staff sent (bot messages whose metadata has
  ``author: "staff"``), with their ``author_name``;
* ``system``: ``paused`` (handed to a person: the assistant stopped answering),
  ``resumed`` (the assistant answers again), ``session_started``.

``fetch_conversation`` reads it through Rasa's HTTP API (``rasa run --enable-api``).
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.core.channels import message_channel, output_format
from bot.core.masking import protect
from bot.core.redaction import redact
from bot.core.settings import Settings
from bot.handoff.rasa_api import DEFAULT_TIMEOUT, RasaApiError, _get
from bot.handoff.routing import ROUTE_SLOT, Route
from bot.persona.phone_offer import NO_CALLS_PREFIX

Kind = Literal["customer", "assistant", "staff", "system"]
CUSTOMER: Kind = "customer"
ASSISTANT: Kind = "assistant"
STAFF: Kind = "staff"
SYSTEM: Kind = "system"
PAUSED, RESUMED, SESSION_STARTED = "paused", "resumed", "session_started"
# What system items say (staff read them; the console may word them its own way by ``system``).
SYSTEM_TEXTS = {
    PAUSED: "Handed to a person: the assistant stopped answering",
    RESUMED: "The assistant answers again",
    SESSION_STARTED: "New session",
}
STAFF_AUTHOR = "staff"


@dataclass(frozen=True)
class ConversationItem:
    """One line of the conversation.

    Attributes:
        kind: ``customer``, ``assistant``, ``staff`` or ``system``.
        at: when (UTC), None when the event has no timestamp.
        text: what was written; for system items, a readable sentence.
        system: for system items: ``paused``, ``resumed`` or ``session_started``.
        author_name: for staff messages: who sent it, when they said.
        while_paused: for customer messages: sent while a person had the chat.
        intent: for customer messages: the intent the assistant understood, if any.
        channel: for customer messages: the channel it came from.
        buttons: for assistant and staff messages: the titles of the buttons offered.
        removed: the kinds of data removed or masked from the text (``card``, ``phone``…).
    """

    kind: Kind
    at: dt.datetime | None
    text: str
    system: str | None = None
    author_name: str | None = None
    while_paused: bool = False
    intent: str | None = None
    channel: str | None = None
    buttons: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Conversation:
    """A tracker as staff see it.

    Attributes:
        sender_id: the conversation id.
        items: every session's messages and system items, oldest first.
        paused: a person has the chat now (the assistant does not answer).
        persona: the ``persona`` slot.
        language: the ``language`` slot.
        channel: the channel of the customer's latest message.
        customer_name: how to address the customer (the profile's name), when known.
        no_calls: why this customer must not be phoned (a hearing or speech need, or a
            refusal, in the profile or said: the latest route's phone decision), or None.
    """

    sender_id: str
    items: tuple[ConversationItem, ...]
    paused: bool = False
    persona: str | None = None
    language: str | None = None
    channel: str | None = None
    customer_name: str | None = None
    no_calls: str | None = None

    @property
    def fmt(self) -> str:
        """The output format of the customer's channel (for ``bot.handoff.assist.suggestions``)."""
        return output_format(self.channel, self.sender_id)

    @property
    def intents(self) -> tuple[str | None, ...]:
        """The intents of the customer's messages, oldest first (for ``assist.latest_topic``)."""
        return tuple(item.intent for item in self.items if item.kind == CUSTOMER)

    @property
    def last_customer_message_at(self) -> dt.datetime | None:
        return next((i.at for i in reversed(self.items) if i.kind == CUSTOMER), None)


def _at(timestamp: Any) -> dt.datetime | None:
    if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)):
        return None
    return dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _buttons(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(title, payload) of the buttons a bot message offered."""
    buttons = data.get("buttons")
    if not isinstance(buttons, list):
        return []
    return [
        (str(b.get("title") or ""), str(b.get("payload") or "")) for b in buttons if isinstance(b, Mapping)
    ]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def conversation_items(events: Iterable[Mapping[str, Any]]) -> list[ConversationItem]:
    """The items of a tracker's events (see the module docstring), oldest first."""
    items: list[ConversationItem] = []
    paused = False
    offered: list[tuple[str, str]] = []  # buttons of the latest bot message
    channel: str | None = None
    for event in events:
        if not isinstance(event, Mapping):
            continue
        kind = event.get("event")
        at = _at(event.get("timestamp"))
        if kind == "session_started":
            paused, offered = False, []
            items.append(ConversationItem(SYSTEM, at, SYSTEM_TEXTS[SESSION_STARTED], system=SESSION_STARTED))
        elif kind == "restart":
            paused, offered = False, []
        elif kind == "pause":
            if not paused:
                items.append(ConversationItem(SYSTEM, at, SYSTEM_TEXTS[PAUSED], system=PAUSED))
            paused = True
        elif kind == "resume":
            if paused:
                items.append(ConversationItem(SYSTEM, at, SYSTEM_TEXTS[RESUMED], system=RESUMED))
            paused = False
        elif kind == "user":
            text = _text(event.get("text")).strip()
            channel = message_channel(_mapping(event.get("metadata")), event.get("input_channel")) or channel
            if not text:
                continue
            tapped = next(
                (title for title, payload in offered if payload and payload == text and title), None
            )
            protected = protect(tapped or text)
            intent = _mapping(_mapping(event.get("parse_data")).get("intent")).get("name")
            items.append(
                ConversationItem(
                    CUSTOMER,
                    at,
                    protected.text,
                    while_paused=paused,
                    intent=intent if isinstance(intent, str) and intent else None,
                    channel=channel,
                    removed=protected.kinds,
                )
            )
        elif kind == "bot":
            buttons = _buttons(_mapping(event.get("data")))
            text = _text(event.get("text")).strip()
            if not text and not buttons:
                continue
            offered = buttons
            metadata = _mapping(event.get("metadata"))
            cleaned = redact(text)
            titles = tuple(title for title, _ in buttons if title)
            if metadata.get("author") == STAFF_AUTHOR:
                name = metadata.get("author_name")
                items.append(
                    ConversationItem(
                        STAFF,
                        at,
                        cleaned.text,
                        author_name=name if isinstance(name, str) and name.strip() else None,
                        buttons=titles,
                        removed=cleaned.kinds,
                    )
                )
            else:
                items.append(
                    ConversationItem(ASSISTANT, at, cleaned.text, buttons=titles, removed=cleaned.kinds)
                )
    return items


def read_conversation(tracker: Mapping[str, Any], *, sender_id: str | None = None) -> Conversation:
    """A ``Conversation`` from a tracker's JSON (``GET /conversations/{id}/tracker``)."""
    events = tracker.get("events")
    items = conversation_items(events if isinstance(events, list) else [])
    slots = _mapping(tracker.get("slots"))
    profile = _mapping(slots.get("customer_profile"))
    latest_channel = next((i.channel for i in reversed(items) if i.kind == CUSTOMER and i.channel), None)

    def text_slot(value: Any) -> str | None:
        return value.strip() if isinstance(value, str) and value.strip() else None

    return Conversation(
        sender_id=sender_id or str(tracker.get("sender_id") or ""),
        items=tuple(items),
        paused=bool(tracker.get("paused")),
        persona=text_slot(slots.get("persona")),
        language=text_slot(slots.get("language")),
        channel=latest_channel or text_slot(tracker.get("latest_input_channel")),
        customer_name=text_slot(profile.get("name")),
        no_calls=_no_calls(slots.get(ROUTE_SLOT)),
    )


def _no_calls(route_slot: Any) -> str | None:
    """Why the customer must not be phoned, from the ``route`` slot (None: they may be)."""
    decided = Route.from_slot(route_slot)
    if decided is None or not decided.phone.blocked:
        return None
    return decided.phone.reason.removeprefix(NO_CALLS_PREFIX) or decided.phone.reason


def fetch_conversation(
    sender_id: str,
    *,
    rasa_url: str | None = None,
    token: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Conversation:
    """Read conversation ``sender_id`` through Rasa's HTTP API, every event included.

    ``rasa_url`` and ``token`` default to the settings (``RASA_URL``, ``RASA_AUTH_TOKEN``).

    Raises:
        RasaApiError: Rasa refused (a wrong token) or could not be reached, or there is no
            such conversation (Rasa answers an unknown id with an empty one).
    """
    settings = Settings.from_env()
    base = (rasa_url or settings.rasa_url).rstrip("/")
    token = token if token is not None else settings.rasa_token
    query = {"include_events": "ALL", **({"token": token} if token else {})}
    conversation_url = f"{base}/conversations/{urllib.parse.quote(sender_id, safe='')}/tracker"
    url = f"{conversation_url}?{urllib.parse.urlencode(query)}"
    tracker = _get(url, what=f"read {sender_id!r}", timeout=timeout)
    conversation = read_conversation(tracker, sender_id=sender_id)
    if not any(item.kind == CUSTOMER for item in conversation.items):
        raise RasaApiError(f"no conversation {sender_id!r}")
    return conversation
