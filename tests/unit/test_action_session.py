"""action_session_start against real rasa-sdk trackers: the profile, and what is carried over."""

from __future__ import annotations

from actions.session import ActionSessionStart
from bot.services import Services
from tests.support import make_tracker, run_action, slot_events


async def test_session_start_loads_the_profile_of_a_website_customer(services: Services) -> None:
    t = make_tracker([], {"session_started_metadata": {"customer_id": "margaret.w"}})
    _, events = await run_action(ActionSessionStart(services), t)
    assert events[0]["event"] == "session_started"
    assert (events[-1]["event"], events[-1]["name"]) == ("action", "action_listen")
    slots = slot_events(events)
    assert slots["customer_ref"] == "C-1001"
    assert slots["customer_profile"]["preferred_channel"] == "phone"
    assert slots["customer_profile"]["contact_history"]["phone"] == 9
    assert slots["customer_phone"] == "+447911123456"
    assert slots["session_started_metadata"] == {"customer_id": "margaret.w"}


async def test_session_start_recognises_the_number_a_whatsapp_message_comes_from(services: Services) -> None:
    meta = {"channel": "twilio", "phone": "whatsapp:+34612345678"}
    _, events = await run_action(
        ActionSessionStart(services), make_tracker([], {"session_started_metadata": meta})
    )
    assert slot_events(events)["customer_profile"]["preferred_language"] == "es"


async def test_unknown_customers_simply_have_no_profile_and_slots_carry_over(services: Services) -> None:
    t = make_tracker(
        [],
        {
            "session_started_metadata": {"customer_id": "nobody"},
            "language": "fr",
            "requested_slot": "x",
            "handoff_reference": "LC-XXXXXX",
            "route": {"next": "live_chat"},
        },
    )
    _, events = await run_action(ActionSessionStart(services), t)
    slots = slot_events(events)
    assert "customer_profile" not in slots and slots["language"] == "fr"
    assert "requested_slot" not in slots, "form state is not carried into a new session"
    assert "handoff_reference" not in slots, "nor the last conversation's handoff"
    assert "route" not in slots, "nor the last message's route"


async def test_session_start_survives_an_unavailable_database(broken_services: Services) -> None:
    t = make_tracker([], {"session_started_metadata": {"customer_id": "margaret.w"}})
    _, events = await run_action(ActionSessionStart(broken_services), t)
    assert events[0]["event"] == "session_started" and "customer_profile" not in slot_events(events)
