"""Multi-turn conversations through the running assistant, as customers write them
(``tests/data/conversations.yml``): each turn's answers, route, key content and handoff."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.bank import BankInfo
from bot.core.settings import PROJECT_ROOT
from devtools.stack import Stack
from tests.support import handoffs

from .fake_telegram import send_text
from .fake_twilio import send_inbound

pytestmark = pytest.mark.integration
CONVERSATIONS = PROJECT_ROOT / "tests" / "data" / "conversations.yml"
# What a conversation's channel sends: the website relay names the channel in the metadata
# of a REST message; SMS and WhatsApp come through the Twilio webhook, Telegram through its
# webhook (with the secret token; the answers go to the fake Bot API).
CHANNELS: dict[str, tuple[str, dict[str, Any]]] = {
    # name: (sender prefix, metadata)
    "socketio": ("web-", {"channel": "socketio"}),
    "telegram": ("", {}),
    "sms": ("+4479111", {}),
    "whatsapp": ("whatsapp:+346129", {}),
}
BUTTON_TALK = re.compile(r"\b(buttons?|botón|botones|boutons?)\b", re.IGNORECASE)


def load(path: Path = CONVERSATIONS) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(data["conversations"])


def _sender(channel: str) -> tuple[str, dict[str, Any]]:
    prefix, metadata = CHANNELS[channel]
    if channel in ("sms", "whatsapp"):
        return prefix + f"{uuid.uuid4().int % 10**5:05d}", metadata
    if channel == "telegram":
        return str(uuid.uuid4().int % 10**9), metadata
    return prefix + uuid.uuid4().hex, metadata


def _turn_events(stack: Stack, sender: str, seen: int) -> tuple[list[dict[str, Any]], int]:
    events = stack.tracker(sender)["events"]
    return events[seen:], len(events)


def _in_order(expected: list[str], sent: list[str]) -> bool:
    remaining = iter(sent)
    return all(any(name == s for s in remaining) for name in expected)


@pytest.mark.parametrize("conversation", load(), ids=lambda c: c["name"])
def test_conversation(stack: Stack, bank: BankInfo, conversation: dict[str, Any]) -> None:
    channel = conversation.get("channel", "socketio")
    sender, metadata = _sender(channel)
    if conversation.get("customer"):
        metadata = {**metadata, "customer_id": conversation["customer"]}
    seen = 0
    handoffs_before = 0
    for number, turn in enumerate(conversation["turns"], start=1):
        where = f"turn {number} {turn['say']!r}"
        if channel in ("sms", "whatsapp"):
            assert 200 <= send_inbound(stack.rasa_url, sender, turn["say"]) < 300, where
        elif channel == "telegram":
            assert send_text(stack.rasa_url, int(sender), turn["say"]) == 200, where
        else:
            stack.rest(sender, turn["say"], metadata=metadata)
        events, seen = _turn_events(stack, sender, seen)
        bots = [e for e in events if e["event"] == "bot"]
        sent = [(e.get("metadata") or {}).get("utter_action", "") for e in bots]
        text = "\n\n".join(str(e.get("text") or "") for e in bots)
        tracker = stack.tracker(sender)
        language = tracker["slots"].get("language") or "en"
        facts = bank.template_vars(language)

        assert _in_order(turn.get("answers", []), sent), (
            f"{where}: expected {turn.get('answers')} in order, got {sent}"
        )
        for name in turn.get("not", []):
            assert name not in sent, f"{where}: {name} was sent ({sent})"
        if "route" in turn:
            route = tracker["slots"].get("route") or {}
            user_events = [e for e in events if e["event"] == "user"]
            assert user_events, where
            assert route.get("next") == turn["route"], f"{where}: route {route}"
        for fact in turn.get("contains", []):
            assert fact.format(**facts) in text, f"{where}: {fact!r} missing from {text!r}"
        for fact in turn.get("excludes", []):
            assert fact.format(**facts) not in text, f"{where}: {fact!r} in {text!r}"

        # Checked on every turn.
        assert not re.search(r"\{\w+\}|\[\w+\]", text), f"{where}: a blank reached the customer: {text!r}"
        assert "Europe/" not in text and "America/" not in text, f"{where}: timezone jargon: {text!r}"
        paragraphs = [p.strip() for p in text.split("\n\n") if len(p.strip()) > 20]
        repeated = [p for p, n in Counter(paragraphs).items() if n > 1]
        assert not repeated, f"{where}: said twice in one turn: {repeated}"
        if channel in ("sms", "whatsapp"):
            assert not BUTTON_TALK.search(text), f"{where}: talk of buttons on {channel}: {text!r}"

        rows = handoffs(stack, sender)
        if "handoff" in turn:
            assert len(rows) == handoffs_before + 1, f"{where}: expected a handoff, have {len(rows)}"
            row = max(rows, key=lambda r: r.created_at)
            expected = turn["handoff"]
            assert row.kind.value == expected["kind"], where
            if "reason" in expected:
                assert row.reason == expected["reason"], f"{where}: reason {row.reason!r}"
        handoffs_before = len(rows)


def test_there_are_forty_multi_turn_conversations() -> None:
    conversations = load()
    assert len(conversations) >= 40
    assert all(len(c["turns"]) > 1 for c in conversations), "every one is multi-turn"
