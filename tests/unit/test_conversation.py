"""The conversation as staff see it, from trackers built with Rasa's own classes."""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.handoff.conversation import (
    ASSISTANT,
    CUSTOMER,
    PAUSED,
    RESUMED,
    SESSION_STARTED,
    STAFF,
    SYSTEM,
    Conversation,
    conversation_items,
    fetch_conversation,
    read_conversation,
)
from bot.handoff.rasa_api import RasaApiError

T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc).timestamp()


def user(text: str, at: float, intent: str | None = None, channel: str = "socketio") -> UserUttered:
    parse = {"intent": {"name": intent, "confidence": 0.9}} if intent else None
    return UserUttered(text, intent=parse["intent"] if parse else None, input_channel=channel, timestamp=at)


def bot(text: str, at: float, **kwargs: Any) -> BotUttered:
    return BotUttered(text, timestamp=at, **kwargs)


def handed_over_conversation() -> list[Event]:
    return [
        ActionExecuted("action_session_start", timestamp=T0),
        SessionStarted(timestamp=T0),
        SlotSet("persona", "phone_first", timestamp=T0),
        SlotSet("language", "es", timestamp=T0),
        SlotSet("customer_profile", {"name": "Ana", "preferred_language": "es"}, timestamp=T0),
        ActionExecuted("action_listen", timestamp=T0),
        user("Hola, mi tarjeta no llega", T0 + 1, "card_arrival"),
        bot(
            "¿Quiere hablar con una persona?",
            T0 + 2,
            data={
                "buttons": [
                    {"title": "Sí, por favor", "payload": "/affirm"},
                    {"title": "No", "payload": "/deny"},
                ]
            },
        ),
        user("/affirm", T0 + 3, "affirm"),
        bot("Le paso con una persona del equipo.", T0 + 4),
        ConversationPaused(timestamp=T0 + 5),
        user("Mi número es 07911 123456 y mi correo ana.garcia@example.com", T0 + 6, "inform"),
        bot("Hola Ana, soy Sam.", T0 + 7, metadata={"author": "staff", "author_name": "Sam"}),
        bot("Gracias, ya está.", T0 + 8, metadata={"author": "staff"}),
        ConversationResumed(timestamp=T0 + 9),
        ActionExecuted("action_listen", timestamp=T0 + 9),
        user("gracias", T0 + 10, "thank", channel="telegram"),
        bot("De nada.", T0 + 11, metadata={"utter_action": "utter_you_are_welcome"}),
    ]


def tracker_json(events: list[Event], domain: Domain, sender_id: str = "s-1") -> dict[str, Any]:
    """What ``GET /conversations/{id}/tracker?include_events=ALL`` returns for these events."""
    tracker = DialogueStateTracker.from_events(sender_id, events, slots=domain.slots)
    state: dict[str, Any] = json.loads(json.dumps(tracker.current_state(EventVerbosity.ALL)))
    return state


def test_items_of_a_conversation_handed_to_staff(rasa_domain: Domain) -> None:
    conversation = read_conversation(tracker_json(handed_over_conversation(), rasa_domain))
    shown = [(i.kind, i.system, i.text, i.while_paused, i.author_name) for i in conversation.items]
    assert shown == [
        (SYSTEM, SESSION_STARTED, "New session", False, None),
        (CUSTOMER, None, "Hola, mi tarjeta no llega", False, None),
        (ASSISTANT, None, "¿Quiere hablar con una persona?", False, None),
        (CUSTOMER, None, "Sí, por favor", False, None),  # the button's title, not "/affirm"
        (ASSISTANT, None, "Le paso con una persona del equipo.", False, None),
        (SYSTEM, PAUSED, "Handed to a person: the assistant stopped answering", False, None),
        (CUSTOMER, None, "Mi número es ••••• •••456 y mi correo a•••@example.com", True, None),
        (STAFF, None, "Hola Ana, soy Sam.", False, "Sam"),
        (STAFF, None, "Gracias, ya está.", False, None),
        (SYSTEM, RESUMED, "The assistant answers again", False, None),
        (CUSTOMER, None, "gracias", False, None),
        (ASSISTANT, None, "De nada.", False, None),
    ]
    items = conversation.items
    assert items[1].at == dt.datetime(2026, 11, 23, 10, 0, 1, tzinfo=dt.timezone.utc)
    assert all(i.at is not None and i.at.tzinfo is not None for i in items)
    assert items[2].buttons == ("Sí, por favor", "No")
    assert items[6].removed == ("phone", "email")
    assert [i.intent for i in items if i.kind == CUSTOMER] == ["card_arrival", "affirm", "inform", "thank"]
    assert conversation.intents == ("card_arrival", "affirm", "inform", "thank")
    assert conversation.last_customer_message_at == dt.datetime(
        2026, 11, 23, 10, 0, 10, tzinfo=dt.timezone.utc
    )
    assert (conversation.sender_id, conversation.paused) == ("s-1", False)
    assert (conversation.persona, conversation.language, conversation.customer_name) == (
        "phone_first",
        "es",
        "Ana",
    )
    assert (conversation.channel, conversation.fmt) == ("telegram", "telegram")


def test_a_paused_conversation_and_a_new_session(rasa_domain: Domain) -> None:
    events = [
        *handed_over_conversation()[:11],  # up to the pause
        user("¿Hola? ¿Hay alguien?", T0 + 20, "greet"),
        ActionExecuted("action_session_start", timestamp=T0 + 4000),
        SessionStarted(timestamp=T0 + 4000),  # a new session: the assistant answers again
        ActionExecuted("action_listen", timestamp=T0 + 4000),
        user("hola otra vez", T0 + 4001, "greet"),
    ]
    paused = read_conversation(tracker_json(events[:12], rasa_domain))
    assert paused.paused is True
    assert paused.items[-1].kind == CUSTOMER and paused.items[-1].while_paused
    later = read_conversation(tracker_json(events, rasa_domain))
    assert later.paused is False
    assert [(i.kind, i.system) for i in later.items[-2:]] == [(SYSTEM, SESSION_STARTED), (CUSTOMER, None)]
    assert later.items[-1].while_paused is False


def test_card_data_is_removed_from_customer_messages_and_staff_messages(rasa_domain: Domain) -> None:
    events = [
        user("my card is 4539 1488 0343 6467 and sort code 12-34-56", T0),
        bot(
            "Never send 4539 1488 0343 6467 here.", T0 + 1, metadata={"author": "staff", "author_name": "Sam"}
        ),
    ]
    items = read_conversation(tracker_json(events, rasa_domain)).items
    assert "4539" not in items[0].text and "••-••-56" in items[0].text
    assert items[0].removed == ("card", "sort_code")
    assert "4539" not in items[1].text and items[1].kind == STAFF


def test_odd_events_are_skipped_not_fatal() -> None:
    items = conversation_items(
        [
            {"event": "user", "text": "", "timestamp": T0},
            {"event": "user", "text": None},
            {"event": "bot", "text": None, "data": None},
            {"event": "bot", "text": "hi", "timestamp": "yesterday", "metadata": ["x"]},
            {"event": "resume"},  # not paused: nothing to say
            "not an event",  # type: ignore[list-item]
            {"event": "user", "text": "hello", "parse_data": {"intent": None}, "metadata": None},
        ]
    )
    assert [(i.kind, i.text, i.at, i.intent) for i in items] == [
        (ASSISTANT, "hi", None, None),
        (CUSTOMER, "hello", None, None),
    ]


class _FakeRasa(BaseHTTPRequestHandler):
    trackers: ClassVar[dict[str, dict[str, Any]]] = {}
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        parsed = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(parsed.query)
        if query.get("token") != ["secret"]:
            self.send_response(401)
            self.end_headers()
            return
        sender = urllib.parse.unquote(parsed.path.split("/")[2])
        body = json.dumps(self.trackers.get(sender, {"sender_id": sender, "events": []})).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_rasa(rasa_domain: Domain) -> Iterator[str]:
    _FakeRasa.trackers = {"whatsapp:+447911123456": tracker_json(handed_over_conversation(), rasa_domain)}
    _FakeRasa.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeRasa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_conversation_reads_every_event_through_rasas_api(fake_rasa: str) -> None:
    conversation = fetch_conversation("whatsapp:+447911123456", rasa_url=fake_rasa, token="secret")
    assert isinstance(conversation, Conversation)
    assert conversation.sender_id == "whatsapp:+447911123456"
    assert len(conversation.items) == 12
    path = _FakeRasa.requests[-1]
    assert path.startswith("/conversations/whatsapp%3A%2B447911123456/tracker?")
    assert urllib.parse.parse_qs(urllib.parse.urlparse(path).query) == {
        "include_events": ["ALL"],
        "token": ["secret"],
    }


def test_fetch_conversation_errors(fake_rasa: str) -> None:
    with pytest.raises(RasaApiError, match="HTTP 401") as refused:
        fetch_conversation("whatsapp:+447911123456", rasa_url=fake_rasa, token="wrong")
    assert "wrong" not in str(refused.value)
    with pytest.raises(RasaApiError, match="no conversation 'unknown'"):
        fetch_conversation("unknown", rasa_url=fake_rasa, token="secret")
    with pytest.raises(RasaApiError, match="cannot reach Rasa"):
        fetch_conversation("s-1", rasa_url="http://127.0.0.1:9", token="secret", timeout=2)
    with pytest.raises(RasaApiError, match="must be http"):
        fetch_conversation("s-1", rasa_url="file:///etc/passwd", token="secret")


def test_staff_read_why_a_customer_must_not_be_phoned(rasa_domain: Domain) -> None:
    from bot.handoff.routing import Next, Route
    from bot.persona.phone_offer import PhoneOfferDecision

    said = PhoneOfferDecision(
        False, "no calls: customer said they cannot hear or use the phone", blocked=True, cannot_phone=True
    )
    route = Route(Next.live_chat, "asked for a person", said).to_slot()
    events: list[Event] = [SlotSet("route", route), UserUttered("I'm deaf, can someone help")]
    found = read_conversation(tracker_json(events, rasa_domain))
    assert found.no_calls == "customer said they cannot hear or use the phone"
    free = Route(
        Next.answer, "x", PhoneOfferDecision(False, "default: phone offered on request only")
    ).to_slot()
    assert read_conversation(tracker_json([SlotSet("route", free)], rasa_domain)).no_calls is None
    assert read_conversation(tracker_json([], rasa_domain)).no_calls is None
