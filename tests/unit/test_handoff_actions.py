"""The escalation actions against real rasa-sdk trackers and a real (SQLite) database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.handoff as handoff_actions
from actions.handoff import (
    ActionAskCallbackNumber,
    ActionAskCallbackWindow,
    ActionBookCallback,
    ActionHandOver,
    ActionOfferMoreHelp,
    ActionRephrase,
    ActionSessionStart,
    ValidateCallbackForm,
)
from bot.persona.assessment import CUES_KEY
from bot.persona.catalogue import load_catalogue
from bot.persona.cues import CueExtractor
from bot.store.db import Database
from bot.store.repository import HandoffRepository
from bot.store.seed import parse_seed, seed_customers

ROOT = Path(__file__).resolve().parents[2]
MONDAY_MORNING = dt.datetime(2026, 11, 23, 10, 20, tzinfo=dt.timezone.utc)
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


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'bank.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("HANDOFF_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setattr(handoff_actions, "_now", lambda: MONDAY_MORNING)
    db = Database(url)
    db.upgrade()
    personas = [p.id for p in load_catalogue(ROOT / "personas.yml", compile_patterns=False).personas]
    seed_customers(db, parse_seed(ROOT / "demo" / "customers.yml", personas=personas))
    yield db
    db.dispose()


def user(
    extractor: CueExtractor,
    text: str,
    intent: str = "card_arrival",
    *,
    channel: str = "rest",
    **metadata: Any,
) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "timestamp": 1795428000.0,
        "input_channel": channel,
        "metadata": metadata,
        "parse_data": {
            "intent": {"name": intent, "confidence": 0.9},
            CUES_KEY: extractor.extract(text).to_dict(),
        },
    }


def tracker(
    events: list[dict[str, Any]],
    slots: dict[str, Any] | None = None,
    sender: str = "c-1",
    active_loop: str | None = None,
) -> Tracker:
    latest = next((e for e in reversed(events) if e["event"] == "user"), {})
    return Tracker(
        sender_id=sender,
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


async def run(
    action: Any, t: Tracker, domain: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], list[Any]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, domain or {})
    return dispatcher.messages, events


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


# --- session start ---------------------------------------------------------------------


async def test_session_start_loads_the_profile_of_a_website_customer(database: Database) -> None:
    _, events = await run(
        ActionSessionStart(), tracker([], {"session_started_metadata": {"customer_id": "margaret.w"}})
    )
    assert events[0]["event"] == "session_started"
    assert (events[-1]["event"], events[-1]["name"]) == ("action", "action_listen")
    slots = slot_events(events)
    assert slots["customer_ref"] == "C-1001"
    assert slots["customer_profile"]["preferred_channel"] == "phone"
    assert slots["customer_profile"]["contact_history"]["phone"] == 9
    assert slots["customer_phone"] == "+447911123456"
    assert slots["session_started_metadata"] == {"customer_id": "margaret.w"}


async def test_session_start_recognises_the_number_a_whatsapp_message_comes_from(database: Database) -> None:
    meta = {"channel": "twilio", "phone": "whatsapp:+34612345678"}
    _, events = await run(ActionSessionStart(), tracker([], {"session_started_metadata": meta}))
    assert slot_events(events)["customer_profile"]["preferred_language"] == "es"


async def test_unknown_customers_simply_have_no_profile_and_slots_carry_over(database: Database) -> None:
    t = tracker(
        [],
        {
            "session_started_metadata": {"customer_id": "nobody"},
            "language": "fr",
            "requested_slot": "x",
            "handoff_reference": "LC-XXXXXX",
        },
    )
    _, events = await run(ActionSessionStart(), t)
    slots = slot_events(events)
    assert "customer_profile" not in slots and slots["language"] == "fr"
    assert "requested_slot" not in slots, "form state is not carried into a new session"
    assert "handoff_reference" not in slots, "nor the last conversation's handoff"


async def test_session_start_survives_an_unavailable_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "dir.db"
    broken.mkdir()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{broken}")
    _, events = await run(
        ActionSessionStart(), tracker([], {"session_started_metadata": {"customer_id": "margaret.w"}})
    )
    assert events[0]["event"] == "session_started" and "customer_profile" not in slot_events(events)


# --- offers ----------------------------------------------------------------------------


async def test_callback_offered_once_when_the_decision_says_so(database: Database) -> None:
    messages, events = await run(ActionOfferMoreHelp(), tracker([], {"offer_phone": True}))
    assert [m["response"] for m in messages] == ["utter_offer_callback"]
    assert slot_events(events) == {"callback_offer_pending": True, "callback_offered": True}
    messages, events = await run(
        ActionOfferMoreHelp(), tracker([], {"offer_phone": True, "callback_offered": True})
    )
    assert [m["response"] for m in messages] == ["utter_anything_else"]
    assert slot_events(events) == {"callback_offer_pending": False}


async def test_an_answer_given_inside_the_callback_form_adds_nothing_before_its_question(
    database: Database,
) -> None:
    t = tracker([], {"offer_phone": False}, active_loop="callback_form")
    messages, events = await run(ActionOfferMoreHelp(), t)
    assert messages == [], "the form asks its own question next, not 'anything else?'"
    assert slot_events(events) == {"callback_offer_pending": False}


async def test_not_understood_asks_to_rephrase_and_offers_after_repeated_failures(database: Database) -> None:
    messages, _ = await run(ActionRephrase(), tracker([], {"offer_phone": False}))
    assert [m["response"] for m in messages] == ["utter_default"]
    messages, _ = await run(ActionRephrase(), tracker([], {"offer_phone": True}))
    assert [m["response"] for m in messages] == ["utter_default", "utter_offer_callback"]


# --- escalation ------------------------------------------------------------------------


async def test_quick_mobile_asking_for_a_person_gets_live_chat_not_the_phone(
    database: Database, extractor: CueExtractor
) -> None:
    events = [
        user(extractor, "my card 4111 1111 1111 1111 got declined lol", "declined_card_payment"),
        {"event": "bot", "text": "Sorry your payment was declined.", "timestamp": 1795428001.0},
        user(extractor, "can i talk to a human pls", "request_human"),
    ]
    slots = {
        "persona": "quick_mobile",
        "persona_confidence": 0.7,
        "persona_evidence": ["casual: 'lol'"],
        "language": "en",
    }
    messages, out = await run(ActionHandOver(), tracker(events, slots, sender="qm-1"))
    assert [m["response"] for m in messages] == ["utter_live_chat_handoff"]
    assert messages[0]["wait_minutes"] == 8 and messages[0]["reference"].startswith("LC-")
    assert out[-1]["event"] == "pause"
    set_slots = slot_events(out)
    assert set_slots["handoff_route"] == "live_chat"
    with database.session() as s:
        row = HandoffRepository(s).get(messages[0]["reference"])
        assert row.kind.value == "live_chat" and row.persona == "quick_mobile" and row.sender_id == "qm-1"
        assert row.reason == "asked for a person; quick_mobile prefers to stay in chat"
        assert [e["from"] for e in row.transcript] == ["customer", "assistant", "customer"]
        assert "4111" not in row.transcript[0]["text"] and row.transcript[0]["redacted"] == ["card"]
        assert row.transcript[0]["at"].startswith("2026-11-23") and row.transcript[0]["channel"] == "rest"


async def test_phone_first_asking_for_a_person_gets_the_callback_form(
    database: Database, extractor: CueExtractor
) -> None:
    events = [user(extractor, "I'd like to speak to someone please", "request_human")]
    messages, out = await run(ActionHandOver(), tracker(events, {"persona": "phone_first"}))
    assert messages == []
    assert slot_events(out)["handoff_route"] == "callback"
    with database.session() as s:
        assert HandoffRepository(s).queue() == []


async def test_customer_with_a_hearing_need_asking_for_a_call_gets_a_person_in_writing(
    database: Database, extractor: CueExtractor
) -> None:
    events = [user(extractor, "can you call me", "request_phone_call")]
    slots = {"persona": "phone_first", "customer_profile": {"accessibility_needs": ["hearing"]}}
    messages, out = await run(ActionHandOver(), tracker(events, slots))
    assert [m["response"] for m in messages] == ["utter_no_call_alternative", "utter_live_chat_handoff"]
    assert slot_events(out)["handoff_route"] == "live_chat"


async def test_live_chat_with_the_database_down_is_spooled_and_the_customer_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extractor: CueExtractor
) -> None:
    broken = tmp_path / "dir.db"
    broken.mkdir()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{broken}")
    monkeypatch.setenv("HANDOFF_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setattr(handoff_actions, "_now", lambda: MONDAY_MORNING)
    events = [user(extractor, "human please", "request_human")]
    messages, out = await run(ActionHandOver(), tracker(events, {"persona": "quick_mobile"}))
    assert [m["response"] for m in messages] == ["utter_live_chat_handoff", "utter_handoff_delayed"]
    assert out[-1]["event"] == "pause"
    assert len(list((tmp_path / "spool").glob("*.json"))) == 1


# --- the callback form -----------------------------------------------------------------


async def test_number_question_offers_the_number_they_text_from(
    database: Database, extractor: CueExtractor
) -> None:
    sms = user(extractor, "call me", "request_phone_call", channel="twilio", channel_name="twilio")
    t = tracker([sms], {"session_started_metadata": {"channel": "twilio", "phone": "+447700123456"}})
    messages, _ = await run(ActionAskCallbackNumber(), t)
    assert messages[0]["response"] == "utter_ask_callback_number_known"
    assert messages[0]["known_number"] == "+44 7700 123456"
    messages, _ = await run(ActionAskCallbackNumber(), tracker([user(extractor, "call me")]))
    assert messages[0]["response"] == "utter_ask_callback_number"


async def test_number_validation(database: Database, extractor: CueExtractor) -> None:
    form = ValidateCallbackForm()
    dispatcher = CollectingDispatcher()
    t = tracker([user(extractor, "07911 123456", "nlu_fallback")])
    assert await form.validate_callback_number("07911 123456", dispatcher, t, FORM_DOMAIN) == {
        "callback_number": "+447911123456",
        "callback_number_display": "+44 7911 123456",
        "callback_invalid_answers": None,
    }
    yes = tracker([user(extractor, "yes", "affirm")], {"customer_phone": "+34612345678"})
    assert (await form.validate_callback_number("yes", dispatcher, yes, FORM_DOMAIN))["callback_number"] == (
        "+34612345678"
    )
    bad = tracker([user(extractor, "my number is 123", "nlu_fallback")])
    assert await form.validate_callback_number("my number is 123", dispatcher, bad, FORM_DOMAIN) == {
        "callback_number": None,
        "callback_invalid_answers": 1,
    }
    assert dispatcher.messages[-1]["response"] == "utter_callback_number_invalid"
    premium = tracker([user(extractor, "09098 790000", "nlu_fallback")])
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
    database: Database, extractor: CueExtractor, typed: str, e164: str
) -> None:
    t = tracker([user(extractor, typed, "nlu_fallback")], {"customer_phone": "+34698765432"})
    out = await ValidateCallbackForm().validate_callback_number(typed, CollectingDispatcher(), t, FORM_DOMAIN)
    assert out["callback_number"] == e164


async def test_window_question_and_choice(database: Database, extractor: CueExtractor) -> None:
    messages, events = await run(ActionAskCallbackWindow(), tracker([], {"language": "en"}))
    choices = messages[0]["choices"]
    assert messages[0]["response"] == "utter_ask_callback_window"
    assert choices[0]["title"].startswith("As soon as possible") and len(choices) == 4
    options = slot_events(events)["callback_window_options"]
    form = ValidateCallbackForm()
    dispatcher = CollectingDispatcher()
    t = tracker([user(extractor, "2", "nlu_fallback")], {"callback_window_options": options})
    chosen = await form.validate_callback_window("2", dispatcher, t, FORM_DOMAIN)
    assert chosen["callback_window_label"] == choices[1]["title"] == "Today 11:00–13:00"
    assert chosen["callback_window"] == "2026-11-23T11:00:00+00:00/2026-11-23T13:00:00+00:00"
    refused = await form.validate_callback_window("at midnight", dispatcher, t, FORM_DOMAIN)
    assert refused == {"callback_window": None, "callback_invalid_answers": 1}
    assert dispatcher.messages[-1]["response"] == "utter_callback_window_invalid"


async def test_booking_writes_the_callback_and_confirms_with_a_reference(
    database: Database, extractor: CueExtractor
) -> None:
    events = [
        user(extractor, "I'm not good with computers, my password is Tr0ub4dor&3", "passcode_forgotten"),
        user(extractor, "yes", "affirm"),
    ]
    slots = {
        "persona": "phone_first",
        "language": "en",
        "customer_ref": "C-1001",
        "handoff_reason": "accepted the callback offer (phone_first prefers the phone: offered proactively)",
        "callback_number": "+447911123456",
        "callback_number_display": "+44 7911 123456",
        "callback_window": "2026-11-23T11:00:00+00:00/2026-11-23T13:00:00+00:00",
        "callback_window_label": "Today 11:00–13:00",
        "callback_consent": True,
    }
    messages, out = await run(ActionBookCallback(), tracker(events, slots))
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


async def test_asking_to_be_called_gives_our_numbers_then_the_callback_form(
    database: Database, extractor: CueExtractor
) -> None:
    events = [user(extractor, "what number can I call you on", "request_phone_call")]
    messages, out = await run(ActionHandOver(), tracker(events, {"persona": "default"}))
    assert [m["response"] for m in messages] == ["utter_callback_intro"]
    assert slot_events(out)["handoff_route"] == "callback"


# --- answers the form cannot use ---------------------------------------------------------


async def test_after_three_unusable_numbers_the_form_stops_asking(
    database: Database, extractor: CueExtractor
) -> None:
    form = ValidateCallbackForm()
    slots: dict[str, Any] = {}
    said: list[list[str]] = []
    for text in ("my number is 123", "I don't know it", "07911"):
        dispatcher = CollectingDispatcher()
        t = tracker([user(extractor, text, "nlu_fallback")], dict(slots))
        slots.update(await form.validate_callback_number(text, dispatcher, t, FORM_DOMAIN))
        said.append([m["response"] for m in dispatcher.messages])
        required = await form.required_slots(list(FORM_DOMAIN["forms"]["callback_form"]["required_slots"]),
                                             dispatcher, tracker([], dict(slots)), FORM_DOMAIN)  # fmt: skip
    assert said == [["utter_callback_number_invalid"]] * 2 + [[]], (
        "the third answer is not met with the same reply"
    )
    assert slots == {"callback_number": None, "callback_invalid_answers": 3}
    assert required == [], "no slot left to ask for: the form ends"


async def test_a_usable_answer_resets_the_count(database: Database, extractor: CueExtractor) -> None:
    form = ValidateCallbackForm()
    t = tracker([user(extractor, "07911 123456", "nlu_fallback")], {"callback_invalid_answers": 2})
    out = await form.validate_callback_number("07911 123456", CollectingDispatcher(), t, FORM_DOMAIN)
    assert out["callback_number"] == "+447911123456" and out["callback_invalid_answers"] is None
    required = await form.required_slots(["callback_number"], CollectingDispatcher(), t, FORM_DOMAIN)
    assert required == ["callback_number"], "two unusable answers are not yet enough to stop"


async def test_a_form_that_could_not_be_completed_books_nothing_and_passes_to_a_person(
    database: Database, extractor: CueExtractor
) -> None:
    events = [
        user(extractor, "I'm not good with computers, please ring me", "request_phone_call"),
        user(extractor, "123", "nlu_fallback"),
        user(extractor, "I don't know", "nlu_fallback"),
        user(extractor, "07911", "nlu_fallback"),
    ]
    slots = {"persona": "phone_first", "language": "en", "callback_invalid_answers": 3}
    messages, out = await run(ActionBookCallback(), tracker(events, slots, sender="pf-stuck"))
    assert [m["response"] for m in messages] == ["utter_callback_not_completed", "utter_live_chat_handoff"]
    assert out[-1]["event"] == "pause"
    assert slot_events(out)["callback_invalid_answers"] is None
    with database.session() as s:
        [row] = HandoffRepository(s).queue()
        assert row.kind.value == "live_chat" and row.callback_number is None
        assert row.reason == "wanted a callback; the number was not understood 3 times"
        assert row.sender_id == "pf-stuck" and row.reference == messages[1]["reference"]
