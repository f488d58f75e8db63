"""The callback form's actions against real rasa-sdk trackers and a real (SQLite) database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.callback_form import (
    ActionAskCallbackNumber,
    ActionAskCallbackWindow,
    ActionBookCallback,
    ValidateCallbackForm,
)
from bot.persona.cues import CueExtractor
from bot.services import Services
from bot.store.db import Database
from bot.store.repository import HandoffRepository
from tests.support import make_tracker, run_action, slot_events, user_event

FORM_DOMAIN: dict[str, Any] = {
    "forms": {"callback_form": {"required_slots": ["callback_number", "callback_window", "callback_consent"]}},
    "slots": {
        name: {}
        for name in (
            "callback_number", "callback_number_display", "callback_window", "callback_window_label",
            "callback_consent",
        )
    },
}  # fmt: skip


async def test_number_question_offers_the_number_they_text_from(
    services: Services, extractor: CueExtractor
) -> None:
    sms = user_event(extractor, "call me", "request_phone_call", channel="twilio", channel_name="twilio")
    t = make_tracker([sms], {"session_started_metadata": {"channel": "twilio", "phone": "+447700123456"}})
    messages, _ = await run_action(ActionAskCallbackNumber(services), t)
    assert messages[0]["response"] == "utter_ask_callback_number_known"
    assert messages[0]["known_number"] == "+44 7700 123456"
    messages, _ = await run_action(
        ActionAskCallbackNumber(services), make_tracker([user_event(extractor, "call me")])
    )
    assert messages[0]["response"] == "utter_ask_callback_number"


async def test_a_number_from_the_profile_is_shown_masked(services: Services, extractor: CueExtractor) -> None:
    web = make_tracker([user_event(extractor, "call me")], {"customer_phone": "+447911123456"})
    messages, _ = await run_action(ActionAskCallbackNumber(services), web)
    assert messages[0]["response"] == "utter_ask_callback_number_known"
    shown = messages[0]["known_number"]
    assert shown.endswith("456") and "7911" not in shown and "123" not in shown


async def test_a_banking_question_instead_of_an_answer_is_answered_and_asked_again(
    services: Services, extractor: CueExtractor
) -> None:
    form = ValidateCallbackForm(services)
    dispatcher = CollectingDispatcher()
    text = "Quería consultar el saldo de mi cuenta de ahorro, ¿tarda mucho en actualizarse?"
    question = make_tracker([user_event(extractor, text, "balance_not_updated_after_bank_transfer")])
    assert await form.validate_callback_number(text, dispatcher, question, FORM_DOMAIN) == {
        "callback_number": None
    }
    assert [m["response"] for m in dispatcher.messages] == ["utter_balance_not_updated_after_bank_transfer"]
    # Not counted as an unusable answer, and the same while the form asks for a time.
    dispatcher = CollectingDispatcher()
    later = make_tracker([user_event(extractor, "how do I change my PIN?", "change_pin")])
    assert await form.validate_callback_window("how do I change my PIN?", dispatcher, later, FORM_DOMAIN) == {
        "callback_window": None
    }
    assert [m["response"] for m in dispatcher.messages] == ["utter_change_pin"]
    # A question the classifier is unsure of is an answer the form cannot use.
    dispatcher = CollectingDispatcher()
    event = user_event(extractor, "asap please", "transfer_timing")
    event["parse_data"]["intent"]["confidence"] = 0.4
    refused = await form.validate_callback_window(
        "asap please", dispatcher, make_tracker([event]), FORM_DOMAIN
    )
    assert refused == {"callback_window": None, "callback_invalid_answers": 1}
    assert [m["response"] for m in dispatcher.messages] == ["utter_callback_window_invalid"]


@pytest.mark.parametrize("slot", ["callback_number", "callback_window"])
async def test_a_thanks_instead_of_an_answer_is_not_refused_and_the_form_asks_again(
    services: Services, extractor: CueExtractor, slot: str
) -> None:
    form = ValidateCallbackForm(services)
    validate = getattr(form, f"validate_{slot}")
    for text, intent, confidence in (("thanks", "thank", 0.48), ("hello?", "greet", 0.9)):
        dispatcher = CollectingDispatcher()
        event = user_event(extractor, text, intent)
        event["parse_data"]["intent"]["confidence"] = confidence
        assert await validate(text, dispatcher, make_tracker([event]), FORM_DOMAIN) == {slot: None}, text
        assert dispatcher.messages == [], "no 'that does not look like…'"
    # Unsure, or with digits in it: an answer the form cannot use, refused with why (for the
    # time, digits may be the time asked for: "thanks 123" is read as a choice).
    unusable = [("thanks", 0.2)] + ([("thanks 123", 0.9)] if slot == "callback_number" else [])
    for text, confidence in unusable:
        dispatcher = CollectingDispatcher()
        event = user_event(extractor, text, "thank")
        event["parse_data"]["intent"]["confidence"] = confidence
        refused = await validate(text, dispatcher, make_tracker([event]), FORM_DOMAIN)
        assert refused == {slot: None, "callback_invalid_answers": 1}, text
        assert len(dispatcher.messages) == 1


async def test_number_validation(services: Services, extractor: CueExtractor) -> None:
    form = ValidateCallbackForm(services)
    dispatcher = CollectingDispatcher()
    t = make_tracker([user_event(extractor, "07911 123456", "nlu_fallback")])
    assert await form.validate_callback_number("07911 123456", dispatcher, t, FORM_DOMAIN) == {
        "callback_number": "+447911123456",
        "callback_number_display": "+44 7911 123456",
        "callback_invalid_answers": None,
    }
    yes = make_tracker([user_event(extractor, "yes", "affirm")], {"customer_phone": "+34612345678"})
    assert (await form.validate_callback_number("yes", dispatcher, yes, FORM_DOMAIN))["callback_number"] == (
        "+34612345678"
    )
    bad = make_tracker([user_event(extractor, "my number is 123", "nlu_fallback")])
    assert await form.validate_callback_number("my number is 123", dispatcher, bad, FORM_DOMAIN) == {
        "callback_number": None,
        "callback_invalid_answers": 1,
    }
    assert dispatcher.messages[-1]["response"] == "utter_callback_number_invalid"
    premium = make_tracker([user_event(extractor, "09098 790000", "nlu_fallback")])
    refused = await form.validate_callback_number("09098 790000", dispatcher, premium, FORM_DOMAIN)
    assert refused["callback_number"] is None, "never a premium-rate callback"


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("612 345 678", "+34612345678"),
        ("07911 123456", "+447911123456"),
        ("+33 6 12 34 56 78", "+33612345678"),
    ],
)
async def test_a_number_without_country_code_is_read_as_one_of_the_customers_own_country(
    services: Services, extractor: CueExtractor, typed: str, e164: str
) -> None:
    t = make_tracker([user_event(extractor, typed, "nlu_fallback")], {"customer_phone": "+34698765432"})
    form = ValidateCallbackForm(services)
    out = await form.validate_callback_number(typed, CollectingDispatcher(), t, FORM_DOMAIN)
    assert out["callback_number"] == e164


async def test_window_question_and_choice(services: Services, extractor: CueExtractor) -> None:
    messages, events = await run_action(
        ActionAskCallbackWindow(services), make_tracker([], {"language": "en"})
    )
    choices = messages[0]["choices"]
    assert messages[0]["response"] == "utter_ask_callback_window"
    assert choices[0]["title"].startswith("As soon as possible") and len(choices) == 4
    options = slot_events(events)["callback_window_options"]
    form = ValidateCallbackForm(services)
    dispatcher = CollectingDispatcher()
    t = make_tracker([user_event(extractor, "2", "nlu_fallback")], {"callback_window_options": options})
    chosen = await form.validate_callback_window("2", dispatcher, t, FORM_DOMAIN)
    assert chosen["callback_window_label"] == choices[1]["title"] == "Today, 11am–1pm"
    assert chosen["callback_window"] == "2026-11-23T11:00:00+00:00/2026-11-23T13:00:00+00:00"
    refused = await form.validate_callback_window("at midnight", dispatcher, t, FORM_DOMAIN)
    assert refused == {"callback_window": None, "callback_invalid_answers": 1}
    assert dispatcher.messages[-1]["response"] == "utter_callback_window_invalid"


async def test_booking_writes_the_callback_and_confirms_with_a_reference(
    services: Services, database: Database, extractor: CueExtractor
) -> None:
    events = [
        user_event(
            extractor, "I'm not good with computers, my password is Tr0ub4dor&3", "passcode_forgotten"
        ),
        user_event(extractor, "yes", "affirm"),
    ]
    slots = {
        "persona": "phone_first",
        "language": "en",
        "customer_ref": "C-1001",
        "handoff_reason": "accepted the callback offer (phone_first prefers the phone: offered proactively)",
        "callback_number": "+447911123456",
        "callback_number_display": "+44 7911 123456",
        "callback_window": "2026-11-23T11:00:00+00:00/2026-11-23T13:00:00+00:00",
        "callback_window_label": "Today, 11am–1pm",
        "callback_consent": True,
    }
    messages, out = await run_action(ActionBookCallback(services), make_tracker(events, slots))
    assert [m["response"] for m in messages] == ["utter_callback_booked", "utter_callback_direct_line"]
    reference = messages[0]["reference"]
    assert reference.startswith("CB-") and slot_events(out)["handoff_reference"] == reference
    assert slot_events(out)["callback_number"] is None, "the form is cleared for a next time"
    with database.session() as s:
        row = HandoffRepository(s).get(reference)
        assert row.kind.value == "callback" and row.callback_number == "+447911123456"
        assert row.window_start == dt.datetime(2026, 11, 23, 11, tzinfo=dt.timezone.utc)
        assert row.timezone == "Europe/London" and row.customer.customer_ref == "C-1001"
        assert row.reason.startswith("accepted the callback offer")
        assert "Tr0ub4dor" not in str(row.transcript)


async def test_a_malformed_window_asks_for_the_time_again(
    services: Services, extractor: CueExtractor
) -> None:
    t = make_tracker([user_event(extractor, "yes", "affirm")], {"callback_window": "tomorrow-ish"})
    messages, out = await run_action(ActionBookCallback(services), t)
    assert messages == []
    assert [(e["event"], e["name"]) for e in out] == [
        ("active_loop", "callback_form"),
        ("slot", "callback_window"),
    ]
    assert slot_events(out) == {"callback_window": None}


# --- answers the form cannot use ---------------------------------------------------------


async def test_after_three_unusable_numbers_the_form_stops_asking(
    services: Services, extractor: CueExtractor
) -> None:
    form = ValidateCallbackForm(services)
    slots: dict[str, Any] = {}
    said: list[list[str]] = []
    required: list[str] = []
    for text in ("my number is 123", "it's the one on my account", "07911"):
        dispatcher = CollectingDispatcher()
        t = make_tracker([user_event(extractor, text, "nlu_fallback")], dict(slots))
        slots.update(await form.validate_callback_number(text, dispatcher, t, FORM_DOMAIN))
        said.append([m["response"] for m in dispatcher.messages])
        required = await form.required_slots(list(FORM_DOMAIN["forms"]["callback_form"]["required_slots"]),
                                             dispatcher, make_tracker([], dict(slots)), FORM_DOMAIN)  # fmt: skip
    assert said == [["utter_callback_number_invalid"]] * 2 + [[]], (
        "the third answer is not met with the same reply"
    )
    assert slots == {"callback_number": None, "callback_invalid_answers": 3}
    assert required == [], "no slot left to ask for: the form ends"


async def test_a_usable_answer_resets_the_count(services: Services, extractor: CueExtractor) -> None:
    form = ValidateCallbackForm(services)
    t = make_tracker([user_event(extractor, "07911 123456", "nlu_fallback")], {"callback_invalid_answers": 2})
    out = await form.validate_callback_number("07911 123456", CollectingDispatcher(), t, FORM_DOMAIN)
    assert out["callback_number"] == "+447911123456" and out["callback_invalid_answers"] is None
    required = await form.required_slots(["callback_number"], CollectingDispatcher(), t, FORM_DOMAIN)
    assert required == ["callback_number"], "two unusable answers are not yet enough to stop"


async def test_a_form_that_could_not_be_completed_books_nothing_and_passes_to_a_person(
    services: Services, database: Database, extractor: CueExtractor
) -> None:
    events = [
        user_event(extractor, "I'm not good with computers, please ring me", "request_phone_call"),
        user_event(extractor, "123", "nlu_fallback"),
        user_event(extractor, "the usual one", "nlu_fallback"),
        user_event(extractor, "07911", "nlu_fallback"),
    ]
    slots = {"persona": "phone_first", "language": "en", "callback_invalid_answers": 3}
    messages, out = await run_action(
        ActionBookCallback(services), make_tracker(events, slots, sender="pf-stuck")
    )
    assert [m["response"] for m in messages] == ["utter_callback_not_completed", "utter_live_chat_handoff"]
    assert out[-1]["event"] == "pause"
    assert slot_events(out)["callback_invalid_answers"] is None
    with database.session() as s:
        [row] = HandoffRepository(s).queue()
        assert row.kind.value == "live_chat" and row.callback_number is None
        assert row.reason == "wanted a callback; the number was not understood 3 times"
        assert row.sender_id == "pf-stuck" and row.reference == messages[1]["reference"]


# --- leaving the form ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slot", "text", "intent", "why"),
    [
        ("callback_number", "actually can I just talk to a person here", "request_human", "person"),
        ("callback_window", "forget the call, I want an agent in the chat", "request_human", "person"),
        ("callback_number", "I don't know my number", "nlu_fallback", "no_number"),
        ("callback_number", "dunno", "nlu_fallback", "no_number"),
        ("callback_number", "no lo sé", "nlu_fallback", "no_number"),
        ("callback_number", "je sais pas", "nlu_fallback", "no_number"),
    ],
)
async def test_asking_for_a_person_or_not_knowing_the_number_leaves_the_form(
    services: Services, extractor: CueExtractor, slot: str, text: str, intent: str, why: str
) -> None:
    form = ValidateCallbackForm(services)
    dispatcher = CollectingDispatcher()
    t = make_tracker([user_event(extractor, text, intent)])
    out = await getattr(form, f"validate_{slot}")(text, dispatcher, t, FORM_DOMAIN)
    assert out == {slot: None, "callback_form_exit": why}, "not counted as an unusable answer"
    assert dispatcher.messages == [], "no 'that doesn't look like a number'"
    required = await form.required_slots([slot], dispatcher, make_tracker([], out), FORM_DOMAIN)
    assert required == [], "the form ends"


@pytest.mark.parametrize(
    ("why", "said", "reason"),
    [
        ("person", ["utter_live_chat_handoff"], "was arranging a callback; asked for a person in the chat instead"),
        ("no_number", ["utter_callback_not_completed", "utter_live_chat_handoff"],
         "wanted a callback but does not know a number to be called on"),
    ],
)  # fmt: skip
async def test_a_form_left_early_passes_to_a_person_with_the_reason(
    services: Services, database: Database, extractor: CueExtractor, why: str, said: list[str], reason: str
) -> None:
    events = [
        user_event(extractor, "please ring me", "request_phone_call"),
        user_event(extractor, "hmm", "x"),
    ]
    slots = {"language": "en", "callback_form_exit": why}
    messages, out = await run_action(ActionBookCallback(services), make_tracker(events, slots))
    assert [m["response"] for m in messages] == said
    assert slot_events(out)["callback_form_exit"] is None and out[-1]["event"] == "pause"
    with database.session() as s:
        [row] = HandoffRepository(s).queue()
        assert row.kind.value == "live_chat" and row.reason == reason


async def test_a_refused_number_is_met_with_an_example_of_the_customers_country(
    services: Services, extractor: CueExtractor
) -> None:
    form = ValidateCallbackForm(services)
    dispatcher = CollectingDispatcher()
    madrid = {"customer_profile": {"timezone": "Europe/Madrid"}}
    t = make_tracker([user_event(extractor, "612 34", "nlu_fallback")], madrid)
    await form.validate_callback_number("612 34", dispatcher, t, FORM_DOMAIN)
    [refusal] = dispatcher.messages
    assert (
        refusal["example_international"].startswith("+34 ") and refusal["example_national"] == "612 34 56 78"
    )
    t = make_tracker([user_event(extractor, "612 34 56 78", "nlu_fallback")], madrid)
    out = await form.validate_callback_number("612 34 56 78", CollectingDispatcher(), t, FORM_DOMAIN)
    assert out["callback_number"] == "+34612345678", "read as a number of the customer's country"
    messages, _ = await run_action(ActionAskCallbackNumber(services), t)
    assert messages[0]["example_international"].startswith("+34 ")
    uk = make_tracker([user_event(extractor, "0791", "nlu_fallback")])
    await form.validate_callback_number("0791", dispatcher, uk, FORM_DOMAIN)
    assert dispatcher.messages[-1]["example_international"].startswith("+44 "), "the bank's country otherwise"
