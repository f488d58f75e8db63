"""The callback offer and the handover against real rasa-sdk trackers and a real (SQLite)
database: each action applies the route the persona policy stored (``assess``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rasa_sdk import Tracker

from actions.handover import ActionHandOver, ActionOfferMoreHelp, ActionRephrase
from bot.handoff.routing import Next, Route
from bot.persona.cues import CueExtractor
from bot.persona.phone_offer import PhoneOfferDecision
from bot.services import Services
from bot.store.db import Database
from bot.store.repository import HandoffRepository
from tests.support import FixedClock, bot_event, make_tracker, run_action, slot_events, user_event

Assess = Callable[[Tracker], Tracker]  # the ``assess`` fixture


def route_slot(nxt: Next, offer: bool = False) -> dict[str, object]:
    return Route(nxt, "test", PhoneOfferDecision(offer, "test")).to_slot()


# --- offers ----------------------------------------------------------------------------


async def test_callback_offered_when_the_route_says_so(services: Services) -> None:
    t = make_tracker([], {"route": route_slot(Next.offer_callback, offer=True)})
    messages, events = await run_action(ActionOfferMoreHelp(), t)
    assert [m["response"] for m in messages] == ["utter_offer_callback"]
    assert slot_events(events) == {"callback_offer_pending": True, "callback_offered": True}
    t = make_tracker([], {"route": route_slot(Next.answer, offer=True), "callback_offered": True})
    messages, events = await run_action(ActionOfferMoreHelp(), t)
    assert [m["response"] for m in messages] == ["utter_anything_else"]
    assert slot_events(events) == {"callback_offer_pending": False}


async def test_the_callback_is_offered_once_in_a_conversation(
    services: Services, extractor: CueExtractor, assess: Assess
) -> None:
    events = [user_event(extractor, "I'm not good with computers, how do I change my PIN", "change_pin")]
    first = assess(make_tracker(events))
    messages, out = await run_action(ActionOfferMoreHelp(), first)
    assert [m["response"] for m in messages] == ["utter_offer_callback"]
    later = [*events, user_event(extractor, "and how do I top up", "top_up_by_card_charge")]
    second = assess(make_tracker(later, slot_events(out)))
    messages, _ = await run_action(ActionOfferMoreHelp(), second)
    assert [m["response"] for m in messages] == ["utter_anything_else"]


async def test_an_answer_given_inside_the_callback_form_adds_nothing_before_its_question(
    services: Services,
) -> None:
    t = make_tracker([], {"route": route_slot(Next.answer)}, active_loop="callback_form")
    messages, events = await run_action(ActionOfferMoreHelp(), t)
    assert messages == [], "the form asks its own question next, not 'anything else?'"
    assert slot_events(events) == {"callback_offer_pending": False}


async def test_not_understood_asks_to_rephrase_and_offers_after_repeated_failures(services: Services) -> None:
    messages, _ = await run_action(ActionRephrase(), make_tracker([], {"route": route_slot(Next.answer)}))
    assert [m["response"] for m in messages] == ["utter_default"]
    t = make_tracker([], {"route": route_slot(Next.offer_callback, offer=True)})
    messages, _ = await run_action(ActionRephrase(), t)
    assert [m["response"] for m in messages] == ["utter_default", "utter_offer_callback"]


# --- the handover ----------------------------------------------------------------------


async def test_quick_mobile_asking_for_a_person_gets_live_chat_not_the_phone(
    services: Services, database: Database, extractor: CueExtractor, assess: Assess
) -> None:
    events = [
        user_event(extractor, "my card 4111 1111 1111 1111 got declined lol", "declined_card_payment"),
        bot_event("Sorry your payment was declined."),
        user_event(extractor, "can i talk to a human pls", "request_human"),
    ]
    t = assess(make_tracker(events, sender="qm-1"))
    assert t.get_slot("persona") == "quick_mobile"
    messages, out = await run_action(ActionHandOver(services), t)
    assert [m["response"] for m in messages] == ["utter_live_chat_handoff"]
    assert messages[0]["wait_minutes"] == 8 and messages[0]["reference"].startswith("LC-")
    assert out[-1]["event"] == "pause"
    assert slot_events(out)["handoff_route"] == "live_chat"
    with database.session() as s:
        row = HandoffRepository(s).get(messages[0]["reference"])
        assert row.kind.value == "live_chat" and row.persona == "quick_mobile" and row.sender_id == "qm-1"
        assert row.reason == "asked for a person in the chat"
        assert [e["from"] for e in row.transcript] == ["customer", "assistant", "customer"]
        assert "4111" not in row.transcript[0]["text"] and row.transcript[0]["redacted"] == ["card"]
        assert row.transcript[0]["at"].startswith("2026-11-23") and row.transcript[0]["channel"] == "rest"


async def test_a_phone_first_customer_asking_for_a_person_in_the_chat_gets_one(
    services: Services, database: Database, extractor: CueExtractor, assess: Assess
) -> None:
    events = [user_event(extractor, "I'd like to speak to someone please", "request_human")]
    t = assess(make_tracker(events, {"customer_profile": {"persona": "phone_first"}}))
    messages, out = await run_action(ActionHandOver(services), t)
    assert [m["response"] for m in messages] == ["utter_live_chat_handoff"], "not sent into the callback form"
    assert slot_events(out)["handoff_route"] == "live_chat"
    with database.session() as s:
        [row] = HandoffRepository(s).queue()
        assert row.reason == "asked for a person in the chat" and row.persona == "phone_first"


async def test_asking_for_a_person_and_a_call_books_the_callback(
    services: Services, extractor: CueExtractor, assess: Assess
) -> None:
    events = [user_event(extractor, "can a person call me please", "request_human")]
    t = assess(make_tracker(events))
    messages, out = await run_action(ActionHandOver(services), t)
    assert messages == [] and slot_events(out)["handoff_route"] == "callback"
    assert slot_events(out)["handoff_reason"] == "asked to be called"


async def test_customer_with_a_hearing_need_asking_for_a_call_gets_a_person_in_writing(
    services: Services, extractor: CueExtractor, assess: Assess
) -> None:
    events = [user_event(extractor, "can you call me", "request_phone_call")]
    profile = {"persona": "phone_first", "accessibility_needs": ["hearing"]}
    t = assess(make_tracker(events, {"customer_profile": profile}))
    messages, out = await run_action(ActionHandOver(services), t)
    assert [m["response"] for m in messages] == ["utter_no_call_alternative", "utter_live_chat_handoff"]
    assert slot_events(out)["handoff_route"] == "live_chat"
    assert slot_events(out)["handoff_reason"] == "asked for a call; no calls: profile lists a hearing need"


async def test_asking_to_be_called_gives_our_numbers_then_the_callback_form(
    services: Services, extractor: CueExtractor, assess: Assess
) -> None:
    events = [user_event(extractor, "what number can I call you on", "request_phone_call")]
    t = assess(make_tracker(events))
    messages, out = await run_action(ActionHandOver(services), t)
    assert [m["response"] for m in messages] == ["utter_callback_intro"]
    assert slot_events(out)["handoff_route"] == "callback"


async def test_yes_to_the_callback_offer_books_it_with_the_offers_reason(
    services: Services, extractor: CueExtractor, assess: Assess
) -> None:
    events = [
        user_event(extractor, "I'm not good with computers, how do I change my PIN", "change_pin"),
        user_event(extractor, "yes please", "affirm"),
    ]
    t = assess(make_tracker(events, {"callback_offer_pending": True, "callback_offered": True}))
    messages, out = await run_action(ActionHandOver(services), t)
    assert messages == []
    assert slot_events(out)["handoff_route"] == "callback"
    assert slot_events(out)["handoff_reason"].startswith("accepted the callback offer (phone_first")


async def test_a_number_in_answer_to_the_callback_offer_books_it_and_is_not_asked_again(
    services: Services, extractor: CueExtractor, assess: Assess
) -> None:
    events = [
        user_event(extractor, "I'm not good with computers, how do I change my PIN", "change_pin"),
        user_event(extractor, "07911 123456", "nlu_fallback"),
    ]
    t = assess(make_tracker(events, {"callback_offer_pending": True, "callback_offered": True}))
    assert t.get_slot("route")["next"] == "callback"
    messages, out = await run_action(ActionRephrase(), t)
    assert messages == [], "no 'say it another way' to a number given to the offer"
    slots = slot_events(out)
    assert (slots["handoff_route"], slots["callback_number"]) == ("callback", "+447911123456")
    assert any(e.get("event") == "followup" and e.get("name") == "callback_form" for e in out)


async def test_a_number_without_a_pending_offer_is_no_request(
    extractor: CueExtractor, assess: Assess
) -> None:
    t = assess(make_tracker([user_event(extractor, "07911 123456", "nlu_fallback")]))
    assert t.get_slot("route")["next"] != "callback"
    pending = {"callback_offer_pending": True, "callback_offered": True}
    for said, intent in [
        ("no thanks, 07911 123456 is my old number", "deny"),
        (
            "I sent 50 pounds to 07911 123456 last night and it has not arrived",
            "transfer_not_received_by_recipient",
        ),
    ]:
        t = assess(make_tracker([user_event(extractor, said, intent)], pending))
        assert t.get_slot("route")["next"] not in ("callback", "live_chat"), said


async def test_a_number_given_with_the_request_is_not_asked_again(
    services: Services, extractor: CueExtractor, assess: Assess
) -> None:
    events = [user_event(extractor, "please call me back on +44 7911 123456", "request_phone_call")]
    t = assess(make_tracker(events))
    _, out = await run_action(ActionHandOver(services), t)
    assert slot_events(out)["callback_number"] == "+447911123456"
    t = assess(
        make_tracker(
            [user_event(extractor, "call me, my card number is 4539 1488 0343 6467", "request_phone_call")]
        )
    )
    _, out = await run_action(ActionHandOver(services), t)
    assert "callback_number" not in slot_events(out), "a card number is no phone number"


async def test_a_handover_without_a_request_goes_to_a_person_in_the_chat(
    services: Services, extractor: CueExtractor
) -> None:
    t = make_tracker([user_event(extractor, "hmm", "card_arrival")], {"route": route_slot(Next.answer)})
    messages, out = await run_action(ActionHandOver(services), t)
    assert [m["response"] for m in messages] == ["utter_live_chat_handoff"]
    assert slot_events(out)["handoff_route"] == "live_chat"


async def test_live_chat_with_the_database_down_is_spooled_and_the_customer_told(
    broken_services: Services, tmp_path: Path, extractor: CueExtractor, assess: Assess
) -> None:
    events = [user_event(extractor, "human please", "request_human")]
    t = assess(make_tracker(events, {"customer_profile": {"persona": "quick_mobile"}}))
    messages, out = await run_action(ActionHandOver(broken_services), t)
    assert [m["response"] for m in messages] == ["utter_live_chat_handoff", "utter_handoff_delayed"]
    assert out[-1]["event"] == "pause"
    assert len(list((tmp_path / "spool").glob("*.json"))) == 1


@pytest.mark.parametrize(
    ("hour", "language", "opens_at"),
    [(21, "en", "Tomorrow, 8am"), (21, "fr", "Demain, 08:00"), (23, "es", "Mañana, 08:00")],
)
async def test_live_chat_out_of_hours_says_when_it_opens_in_the_customers_words(
    services: Services,
    extractor: CueExtractor,
    clock: FixedClock,
    hour: int,
    language: str,
    opens_at: str,
    assess: Assess,
) -> None:
    clock.at = clock.at.replace(hour=hour)  # Monday, after closing (Europe/London = UTC in November)
    events = [user_event(extractor, "human please", "request_human")]
    slots = {"customer_profile": {"persona": "quick_mobile", "preferred_language": language}}
    t = assess(make_tracker(events, slots))
    messages, _ = await run_action(ActionHandOver(services), t)
    assert messages[0]["response"] == "utter_live_chat_closed"
    assert messages[0]["opens_at"] == opens_at


# --- a question asked with the request ---------------------------------------------------


async def test_a_call_asked_with_a_question_is_booked_after_the_answer(
    services: Services, extractor: CueExtractor, assess: Assess
) -> None:
    events = [
        user_event(extractor, "When will my new card arrive? Can someone call me about it", "card_arrival")
    ]
    t = assess(make_tracker(events))
    assert t.latest_message["also_requested"]["request"] == "phone_call"
    messages, out = await run_action(ActionOfferMoreHelp(services), t)
    assert [m["response"] for m in messages] == ["utter_callback_intro"], "no 'anything else?', no offer"
    assert slot_events(out)["handoff_route"] == "callback"
    assert slot_events(out)["handoff_reason"] == "asked to be called with a question (answered first)"
    assert out[-1] == {"event": "followup", "name": "callback_form", "timestamp": None}


async def test_a_person_asked_with_a_question_gets_the_chat_after_the_answer(
    services: Services, database: Database, extractor: CueExtractor, assess: Assess
) -> None:
    text = "hi, can I talk to a person? my transfer to my landlord hasn't arrived"
    events = [user_event(extractor, text, "transfer_not_received_by_recipient")]
    t = assess(make_tracker(events))
    messages, out = await run_action(ActionOfferMoreHelp(services), t)
    assert [m["response"] for m in messages] == ["utter_live_chat_handoff"]
    assert out[-1]["event"] == "pause"
    with database.session() as s:
        [row] = HandoffRepository(s).queue()
        assert row.reason == "asked for a person in the chat with a question (answered first)"
        assert row.transcript[0]["text"] == text, "the question goes to staff with the handoff"


async def test_a_call_asked_with_a_question_not_understood_still_reaches_a_person(
    services: Services, extractor: CueExtractor, assess: Assess
) -> None:
    events = [user_event(extractor, "the thing with my thingy, please call me", "nlu_fallback")]
    t = assess(make_tracker(events))
    messages, out = await run_action(ActionRephrase(services), t)
    assert [m["response"] for m in messages] == ["utter_callback_intro"], "not asked to rephrase first"
    assert slot_events(out)["handoff_route"] == "callback"


async def test_no_need_to_call_is_not_a_request(
    services: Services, extractor: CueExtractor, assess: Assess
) -> None:
    events = [user_event(extractor, "No need to call me, just tell me how to change my PIN", "change_pin")]
    t = assess(make_tracker(events))
    assert "also_requested" not in t.latest_message
    messages, out = await run_action(ActionOfferMoreHelp(services), t)
    assert [m["response"] for m in messages] == ["utter_anything_else"]
    assert "handoff_route" not in slot_events(out)


@pytest.mark.parametrize(
    ("text", "handed_over"),
    [
        ("I'm not good with computers, can you ring me back?", True),
        ("uhh just ring me back", True),
        ("no need to ring me, the chat is fine", False),
    ],
)
async def test_words_asking_for_a_call_are_heard_when_the_classifier_is_unsure(
    services: Services, extractor: CueExtractor, text: str, handed_over: bool, assess: Assess
) -> None:
    t = assess(make_tracker([user_event(extractor, text, "nlu_fallback")]))
    messages, out = await run_action(ActionRephrase(services), t)
    if handed_over:
        assert [m["response"] for m in messages] == ["utter_callback_intro"], "not asked to rephrase"
        assert slot_events(out)["handoff_route"] == "callback" and out[-1]["name"] == "callback_form"
    else:
        assert messages[0]["response"] == "utter_default"
        assert "handoff_route" not in slot_events(out)
