"""The website widget's socket.io channel against the real Rasa server, spoken to as the
widget does (python-socketio's client): who the customer is, sessions bound to them,
history after a reload, acknowledgements, limits, and messages pushed by staff."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import socketio

from bot.core.identity import issue_token
from bot.core.settings import PROJECT_ROOT
from bot.handoff.rasa_api import RasaApiError, send_to_customer
from devtools.stack import Stack
from tests.support import handoffs, http_call, sent_responses

pytestmark = pytest.mark.integration
TIMEOUT = 60


class Widget:
    """One browser window's socket: events it received, in order, in a queue."""

    def __init__(self, stack: Stack, *, token: str | None = None, origin: str | None = None) -> None:
        self.stack = stack
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        for name in ("session_confirm", "session_history", "bot_uttered", "bot_typing"):
            self.client.on(name, lambda data, name=name: self.events.put((name, data)))
        headers = {"Origin": origin or stack.env["WIDGET_ORIGINS"].split(",")[0]}
        self.client.connect(
            stack.rasa_url, headers=headers, auth={"token": token}, transports=["polling"], wait_timeout=20
        )

    def next(self, name: str, timeout: float = TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            event, data = self.events.get(timeout=max(0.1, deadline - time.monotonic()))
            if event == name:
                return data

    def start(self, session_id: str | None = None) -> tuple[str, list[dict[str, Any]]]:
        self.client.emit("session_request", {"session_id": session_id})
        confirmed = self.next("session_confirm")
        return confirmed, self.next("session_history")["messages"]

    def say(self, text: str, *, client_id: str | None = None, **extra: Any) -> dict[str, Any]:
        body = {"message": text, "client_id": client_id or uuid.uuid4().hex, **extra}
        ack: dict[str, Any] = self.client.call("user_uttered", body, timeout=TIMEOUT)
        return ack

    def answers(self, quiet: float = 1.5) -> list[dict[str, Any]]:
        """Bot messages until the typing indicator goes off and nothing follows."""
        got: list[dict[str, Any]] = []
        while True:
            try:
                event, data = self.events.get(timeout=quiet)
            except queue.Empty:
                return got
            if event == "bot_uttered":
                got.append(data)

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture
def widgets(stack: Stack) -> Iterator[list[Widget]]:
    opened: list[Widget] = []
    yield opened
    for widget in opened:
        widget.close()


def open_widget(widgets: list[Widget], stack: Stack, **kwargs: Any) -> Widget:
    widget = Widget(stack, **kwargs)
    widgets.append(widget)
    return widget


def test_a_new_visitor_is_greeted_answered_and_resumed_after_a_reload(
    stack: Stack, widgets: list[Widget]
) -> None:
    first = open_widget(widgets, stack)
    session_id, shown = first.start()
    assert shown == []
    greeting = first.next("bot_uttered")
    assert "welcome" in greeting["text"].lower() and greeting["language"] == "en"

    ack = first.say("my new card still has not arrived")
    assert ack == {"ok": True}
    answer = " ".join(m["text"] for m in first.answers())
    assert "working days" in answer
    first.close()

    again = open_widget(widgets, stack)
    resumed, shown = again.start(session_id)
    assert resumed == session_id
    assert [m["sender"] for m in shown][:2] == ["user", "bot"]
    assert shown[0]["text"] == "my new card still has not arrived"
    assert "working days" in " ".join(m["text"] for m in shown if m["sender"] == "bot")


def test_the_typing_indicator_frames_the_answer(stack: Stack, widgets: list[Widget]) -> None:
    widget = open_widget(widgets, stack)
    widget.start()
    widget.next("bot_uttered")  # greeting
    widget.say("how do I change my PIN?")
    assert widget.next("bot_typing") == {"typing": True}
    widget.next("bot_uttered")
    assert widget.next("bot_typing") == {"typing": False}


def test_a_spanish_conversation_tells_the_widget_its_language(stack: Stack, widgets: list[Widget]) -> None:
    widget = open_widget(widgets, stack)
    widget.start()
    widget.next("bot_uttered")
    widget.say("hola, no me ha llegado la tarjeta")
    answers = widget.answers()
    assert answers and {m.get("language") for m in answers} == {"es"}


def test_a_signed_customer_gets_their_profile_and_a_forged_one_is_anonymous(
    stack: Stack, widgets: list[Widget]
) -> None:
    signed = open_widget(widgets, stack, token=stack.identity_token("margaret.w"))
    session_id, _ = signed.start()
    signed.say("hello")
    signed.answers()
    slots = stack.tracker(session_id)["slots"]
    assert (slots["customer_profile"] or {}).get("name") == "Margaret"

    wrong_key = issue_token("margaret.w", key="x" * 40)
    expired = issue_token("margaret.w", key=stack.identity_key, ttl_seconds=60, now=time.time() - 3600)
    for token in (wrong_key, expired, "not-a-token"):
        forged = open_widget(widgets, stack, token=token)
        other, _ = forged.start(session_id)  # her session id does not carry over
        assert other != session_id
        # Metadata naming a customer is ignored too.
        forged.say("hello", metadata={"customer_id": "margaret.w", "language": "en"})
        forged.answers()
        assert not (stack.tracker(other)["slots"]["customer_profile"] or {}).get("name")


def test_messages_go_to_the_socket_session_whatever_session_id_is_sent(
    stack: Stack, widgets: list[Widget]
) -> None:
    victim = open_widget(widgets, stack, token=stack.identity_token("lucia.g"))
    victim_session, _ = victim.start()
    attacker = open_widget(widgets, stack)
    own_session, _ = attacker.start()
    attacker.say("my card was stolen", session_id=victim_session)
    attacker.answers()
    assert any(e.get("text") == "my card was stolen" for e in stack.tracker(own_session)["events"])
    assert stack.tracker(victim_session)["events"] == [] or not any(
        e.get("text") == "my card was stolen" for e in stack.tracker(victim_session)["events"]
    )


def test_a_resent_message_counts_once_and_bad_messages_are_refused(
    stack: Stack, widgets: list[Widget]
) -> None:
    widget = open_widget(widgets, stack)
    session_id, _ = widget.start()
    client_id = uuid.uuid4().hex
    assert widget.say("what is the exchange rate", client_id=client_id) == {"ok": True}
    assert widget.say("what is the exchange rate", client_id=client_id) == {"ok": True, "duplicate": True}
    said = [e for e in stack.tracker(session_id)["events"] if e["event"] == "user"]
    assert [e["text"] for e in said] == ["what is the exchange rate"]

    assert widget.say("x" * 5001)["ok"] is False
    assert widget.say("   ")["ok"] is False
    unconfirmed = open_widget(widgets, stack)
    assert unconfirmed.say("hello") == {"ok": False, "error": "no session yet: send session_request first"}


def test_a_page_from_another_origin_cannot_connect(stack: Stack) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        Widget(stack, origin="https://evil.example")


def test_a_staff_reply_reaches_the_open_widget_and_the_transcript(
    stack: Stack, widgets: list[Widget]
) -> None:
    widget = open_widget(widgets, stack)
    session_id, _ = widget.start()
    widget.say("how do I top up my account")
    widget.answers()

    delivery = send_to_customer(
        session_id,
        "Hello, this is Sam from the team.",
        author_name="Sam",
        rasa_url=stack.rasa_url,
        token=stack.api_token,
    )
    assert delivery.delivered and delivery.channel == "socketio"
    pushed = widget.next("bot_uttered", timeout=5)
    assert pushed["text"] == "Hello, this is Sam from the team." and pushed["author"] == "staff"
    stored = [e for e in stack.tracker(session_id)["events"] if e["event"] == "bot"][-1]
    assert stored["text"] == "Hello, this is Sam from the team."
    assert stored["metadata"]["author"] == "staff" and stored["metadata"]["delivered"] is True

    widget.close()
    later = send_to_customer(
        session_id, "Are you still there?", rasa_url=stack.rasa_url, token=stack.api_token
    )
    assert not later.delivered and "window" in (later.reason or "")
    back = open_widget(widgets, stack)
    _, shown = back.start(session_id)
    assert shown[-1]["text"] == "Are you still there?" and shown[-1]["author"] == "staff"


def test_the_outbound_endpoint_refuses_strangers_unknown_conversations_and_rest(stack: Stack) -> None:
    url = f"{stack.rasa_url}/webhooks/outbound/send"
    body = {"conversation_id": "nobody-" + uuid.uuid4().hex, "text": "hi"}
    raw = json.dumps(body).encode()
    typed = {"Content-Type": "application/json"}
    assert http_call(url, raw, headers=typed)[0] == 401
    assert http_call(url, raw, headers={**typed, "Authorization": "Bearer wrong"})[0] == 401
    auth = {**typed, "Authorization": f"Bearer {stack.api_token}"}
    assert http_call(url, raw, headers=auth)[0] == 404
    assert http_call(url, b'{"conversation_id": "x"}', headers=auth)[0] == 400
    with pytest.raises(RasaApiError, match="404"):
        send_to_customer(body["conversation_id"], "hi", rasa_url=stack.rasa_url, token=stack.api_token)

    sender = "rest-" + uuid.uuid4().hex
    stack.rest(sender, "hello")
    delivery = send_to_customer(sender, "A reply", rasa_url=stack.rasa_url, token=stack.api_token)
    assert not delivery.delivered and delivery.channel == "rest"


def staff(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """The staff command line against the stack's database and Rasa server."""
    env = {**stack.env, "RASA_URL": stack.rasa_url}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_live_chat_in_the_widget_is_worked_by_staff_and_ends_cleanly(
    stack: Stack, widgets: list[Widget]
) -> None:
    widget = open_widget(widgets, stack)
    session_id, _ = widget.start()
    widget.next("bot_uttered")
    widget.say("my card payment was declined twice today")
    widget.answers()
    widget.say("I want to chat with a real person please")
    assert any("team" in m["text"] for m in widget.answers())
    [row] = handoffs(stack, session_id)
    assert row.kind.value == "live_chat"

    assert staff(stack, "handoff", "claim", row.reference, "--by", "sam").returncode == 0
    replied = staff(
        stack, "handoff", "reply", row.reference, "Hi, I'm Sam. Let me look at that payment.", "--by", "sam"
    )
    assert replied.returncode == 0, replied.stderr
    assert "on socketio" in replied.stdout
    pushed = widget.next("bot_uttered", timeout=5)
    assert pushed["text"].startswith("Hi, I'm Sam") and pushed["author"] == "staff"
    assert staff(stack, "handoff", "reply", row.reference, "hello", "--by", "alex").returncode != 0

    assert widget.say("thank you, it was at a petrol station") == {"ok": True}
    assert widget.answers() == [], "paused: the person answers, not the assistant"

    done = staff(stack, "handoff", "done", row.reference)
    assert done.returncode == 0, done.stderr
    ended = widget.next("bot_uttered", timeout=5)
    assert "ended" in ended["text"] and ended["author"] == "assistant"
    assert handoffs(stack, session_id)[0].status.value == "done"

    widget.say("How do I change my PIN?")
    answer = " ".join(m["text"] for m in widget.answers())
    assert "PIN" in answer
    after = sent_responses(stack, session_id)
    assert after[-1] != "utter_default" and len(handoffs(stack, session_id)) == 1


def test_resuming_a_conversation_that_does_not_exist_is_an_error(stack: Stack) -> None:
    done = staff(stack, "handoff", "resume", "nobody-" + uuid.uuid4().hex)
    assert done.returncode != 0 and "no conversation" in done.stderr
