"""action_validate_slot_mappings against real rasa-sdk trackers, as Rasa sends them."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.persona import ValidatePersonaSlots
from bot.persona.assessment import CUES_KEY, SLOT_NAMES, conversation_from_events
from bot.persona.cues import CueExtractor

DOMAIN: dict[str, Any] = {"slots": {name: {} for name in (*SLOT_NAMES, "customer_profile")}}


def user_event(
    extractor: CueExtractor, text: str, *, channel: str = "rest", **metadata: Any
) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "input_channel": channel,
        "metadata": metadata,
        "parse_data": {
            "intent": {"name": "card_arrival", "confidence": 0.9},
            "entities": [],
            CUES_KEY: extractor.extract(text).to_dict(),
        },
    }


def make_tracker(
    events: list[dict[str, Any]], slots: dict[str, Any] | None = None, active_loop: str | None = None
) -> Tracker:
    latest = next((e for e in reversed(events) if e["event"] == "user"), {})
    return Tracker(
        sender_id="customer-1",
        slots=slots or {},
        latest_message={
            **latest.get("parse_data", {}),
            "text": latest.get("text"),
            "metadata": latest.get("metadata"),
        },
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


async def run(tracker: Tracker) -> dict[str, Any]:
    dispatcher = CollectingDispatcher()
    events = await ValidatePersonaSlots().run(dispatcher, tracker, DOMAIN)
    assert dispatcher.messages == [], "the validation action never talks"
    assert all(e["event"] == "slot" for e in events)
    return {e["name"]: e["value"] for e in events}


async def test_sets_persona_language_and_phone_offer(extractor: CueExtractor) -> None:
    events = [
        {"event": "session_started"},
        user_event(extractor, "Bonjour"),
        user_event(extractor, "Je ne suis pas à l'aise avec ce chat, pouvez-vous m'appeler ?"),
    ]
    slots = await run(make_tracker(events))
    assert slots["persona"] == "phone_first"
    assert slots["language"] == "fr"
    assert slots["offer_phone"] is True
    assert 0 < slots["persona_confidence"] <= 1
    assert slots["persona_runner_up"]
    assert any("phone request" in e for e in slots["persona_evidence"])


async def test_profile_slot_and_channel_metadata_are_used(extractor: CueExtractor) -> None:
    events = [user_event(extractor, "I have a question about a payment.", channel="rest", channel_name="x")]
    profile = {
        "preferred_channel": "phone",
        "contact_history": {"phone": 5},
        "accessibility_needs": ["hearing"],
    }
    slots = await run(make_tracker(events, {"customer_profile": profile}))
    assert slots["persona"] == "phone_first"
    assert slots["offer_phone"] is False
    assert "hearing" in slots["offer_phone_reason"]


@pytest.mark.parametrize(
    ("slots", "active_loop", "reason"),
    [
        ({}, "callback_form", "a callback is being arranged"),
        ({"handoff_reference": "CB-7KM3QZ"}, None, "already handed over to the team (CB-7KM3QZ)"),
    ],
)
async def test_no_phone_offer_while_a_person_is_already_being_arranged(
    extractor: CueExtractor, slots: dict[str, Any], active_loop: str | None, reason: str
) -> None:
    events = [user_event(extractor, "I'm not good with computers, can you ring me? My card hasn't come.")]
    assert (await run(make_tracker(events)))["offer_phone"] is True
    arranged = await run(make_tracker(events, slots, active_loop=active_loop))
    assert arranged["persona"] == "phone_first", "the persona is still inferred"
    assert (arranged["offer_phone"], arranged["offer_phone_reason"]) == (False, reason)


@pytest.mark.parametrize("refusal", ["action_decline_callback", "action_cancel_callback"])
async def test_no_phone_offer_after_the_customer_said_no_to_a_callback_in_this_session(
    extractor: CueExtractor, refusal: str
) -> None:
    first = user_event(extractor, "I'm not good with computers, can you ring me? My card hasn't come.")
    said_no = [
        first,
        {"event": "action", "name": refusal},
        user_event(extractor, "and how do I change my PIN"),
    ]
    slots = await run(make_tracker(said_no))
    assert (slots["offer_phone"], slots["offer_phone_reason"]) == (
        False,
        "the customer said no to a callback in this conversation",
    )
    new_session = [*said_no, {"event": "session_started"}, first]
    assert (await run(make_tracker(new_session)))["offer_phone"] is True, "a new session starts afresh"


async def test_unchanged_slots_are_not_set_again(extractor: CueExtractor) -> None:
    events = [user_event(extractor, "hello")]
    first = await run(make_tracker(events))
    again = await run(make_tracker(events, first))
    assert again == {}


async def test_no_user_message_no_events() -> None:
    assert await run(make_tracker([{"event": "session_started"}])) == {}


@pytest.mark.parametrize("stored", [None, "garbage", {"signals": "x"}])
async def test_messages_without_cues_do_not_break_it(stored: Any) -> None:
    event = {"event": "user", "text": "/greet", "input_channel": "rest", "parse_data": {CUES_KEY: stored}}
    slots = await run(make_tracker([event]))
    assert slots["persona"] == "default"


def test_conversation_counts_only_the_current_session_and_reads_the_channel(extractor: CueExtractor) -> None:
    events = [
        user_event(extractor, "old session message"),
        {"event": "session_started"},
        user_event(extractor, "hi", channel="socketio"),
        {"event": "user", "text": "???", "input_channel": "rest", "metadata": {"channel": "telegram"},
         "parse_data": {"intent": {"name": "nlu_fallback"}}},
    ]  # fmt: skip
    conv = conversation_from_events(events)
    assert len(conv.messages) == 2
    assert conv.channel == "telegram"
    assert conv.failures == 1


def test_unknown_channel_in_metadata_is_ignored(extractor: CueExtractor) -> None:
    events = [user_event(extractor, "hi", channel="rest", channel_name="x")]
    events[0]["metadata"] = {"channel": "carrier-pigeon"}
    assert conversation_from_events(events).channel == "rest"
