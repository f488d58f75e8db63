"""action_validate_slot_mappings against real rasa-sdk trackers, as Rasa sends them."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.persona import ValidatePersonaSlots
from bot.persona.assessment import conversation_from_events
from bot.persona.cues import CUES_KEY, CueExtractor
from bot.services import Services
from tests.support import PERSONA_DOMAIN, make_tracker, user_event


async def run(tracker: Tracker, services: Services) -> dict[str, Any]:
    dispatcher = CollectingDispatcher()
    events = await ValidatePersonaSlots(services).run(dispatcher, tracker, PERSONA_DOMAIN)
    assert dispatcher.messages == [], "the validation action never talks"
    assert all(e["event"] == "slot" for e in events)
    return {e["name"]: e["value"] for e in events}


async def test_sets_persona_language_and_phone_offer(services: Services, extractor: CueExtractor) -> None:
    events = [
        {"event": "session_started"},
        user_event(extractor, "Bonjour"),
        user_event(extractor, "Je ne suis pas à l'aise avec ce chat, pouvez-vous m'appeler ?"),
    ]
    slots = await run(make_tracker(events), services)
    assert slots["persona"] == "phone_first"
    assert slots["language"] == "fr"
    assert slots["offer_phone"] is True
    assert 0 < slots["persona_confidence"] <= 1
    assert slots["persona_runner_up"]
    assert any("phone request" in e for e in slots["persona_evidence"])
    assert slots["route"]["next"] == "offer_callback", "after the answer, a callback is offered"
    assert slots["route"]["phone_line"] is True, "answers carry the phone line first"


async def test_profile_slot_and_channel_metadata_are_used(
    services: Services, extractor: CueExtractor
) -> None:
    events = [user_event(extractor, "I have a question about a payment.", channel="rest", channel_name="x")]
    profile = {
        "preferred_channel": "phone",
        "contact_history": {"phone": 5},
        "accessibility_needs": ["hearing"],
    }
    slots = await run(make_tracker(events, {"customer_profile": profile}), services)
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
    services: Services, extractor: CueExtractor, slots: dict[str, Any], active_loop: str | None, reason: str
) -> None:
    events = [user_event(extractor, "I'm not good with computers, can you ring me? My card hasn't come.")]
    assert (await run(make_tracker(events), services))["offer_phone"] is True
    arranged = await run(make_tracker(events, slots, active_loop=active_loop), services)
    assert arranged["persona"] == "phone_first", "the persona is still inferred"
    assert (arranged["offer_phone"], arranged["offer_phone_reason"]) == (False, reason)


@pytest.mark.parametrize("refusal", ["action_decline_callback", "action_cancel_callback"])
async def test_no_phone_offer_after_the_customer_said_no_to_a_callback_in_this_session(
    services: Services, extractor: CueExtractor, refusal: str
) -> None:
    first = user_event(extractor, "I'm not good with computers, can you ring me? My card hasn't come.")
    said_no = [
        first,
        {"event": "action", "name": refusal},
        user_event(extractor, "and how do I change my PIN"),
    ]
    slots = await run(make_tracker(said_no), services)
    assert (slots["offer_phone"], slots["offer_phone_reason"]) == (
        False,
        "the customer said no to a callback in this conversation",
    )
    new_session = [*said_no, {"event": "session_started"}, first]
    assert (await run(make_tracker(new_session), services))["offer_phone"] is True, (
        "a new session starts afresh"
    )


async def test_unchanged_slots_are_not_set_again(services: Services, extractor: CueExtractor) -> None:
    events = [user_event(extractor, "hello")]
    first = await run(make_tracker(events), services)
    again = await run(make_tracker(events, first), services)
    assert again == {}


async def test_no_user_message_no_events(services: Services) -> None:
    assert await run(make_tracker([{"event": "session_started"}]), services) == {}


@pytest.mark.parametrize("stored", [None, "garbage", {"signals": "x"}])
async def test_messages_without_cues_do_not_break_it(stored: Any, services: Services) -> None:
    event = {"event": "user", "text": "/greet", "input_channel": "rest", "parse_data": {CUES_KEY: stored}}
    slots = await run(make_tracker([event]), services)
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
