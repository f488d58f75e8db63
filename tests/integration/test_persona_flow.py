"""Persona inference through the running assistant: NLU component → tracker → action → slots."""

from __future__ import annotations

import uuid

import pytest

from devtools.stack import Stack, post_json

pytestmark = pytest.mark.integration


def slots(stack: Stack, sender: str) -> dict[str, object]:
    return stack.tracker(sender)["slots"]  # type: ignore[no-any-return]


def test_cues_and_language_are_stored_with_the_message(stack: Stack) -> None:
    sender = f"p-{uuid.uuid4()}"
    stack.rest(sender, "Mi tarjeta no funciona en el cajero, necesito ayuda urgente")
    latest = stack.tracker(sender)["latest_message"]
    assert latest["language"]["name"] == "es"
    assert latest["persona_cues"]["signals"]["urgency"] > 0.5
    assert "urgente" in latest["persona_cues"]["evidence"]["urgency"]


def test_channel_averse_spanish_customer(stack: Stack) -> None:
    sender = f"p-{uuid.uuid4()}"
    stack.rest(sender, "hola")
    stack.rest(sender, "No se me da bien este chat, prefiero hablar con una persona. ¿Me pueden llamar?")
    tracker = stack.tracker(sender)
    s = tracker["slots"]
    assert s["persona"] == "phone_first"
    assert s["language"] == "es"
    assert any("phone request" in str(e) for e in s["persona_evidence"])
    # Asking to be called goes straight to the callback form; from then on the phone is
    # not offered again (the decision says why).
    assert tracker["active_loop"]["name"] == "callback_form"
    assert (s["route"]["offer_phone"], s["route"]["offer_phone_reason"]) == (
        False,
        "a callback is being arranged",
    )


def test_channel_from_rest_metadata_and_casual_style(stack: Stack) -> None:
    sender = f"p-{uuid.uuid4()}"
    stack.rest(sender, "hey", metadata={"channel": "telegram"})
    stack.rest(sender, "can u check my card pls, thx 🙏", metadata={"channel": "telegram"})
    s = slots(stack, sender)
    assert s["persona"] == "quick_mobile"
    assert s["route"]["offer_phone"] is False
    # Why the persona is stored for staff when the conversation is handed over, not on
    # every message.
    assert (s["persona_confidence"], s["persona_evidence"]) == (None, None)
    assert (s["offer_phone"], s["offer_phone_reason"]) == (None, None), "the route holds the phone offer"


def test_profile_set_by_staff_tooling_is_used(stack: Stack) -> None:
    sender = f"p-{uuid.uuid4()}"
    profile = {
        "preferred_channel": "phone",
        "contact_history": {"phone": 7},
        "accessibility_needs": ["hearing"],
    }
    events_url = stack.api(f"/conversations/{sender}/tracker/events")
    # Begin with the session start: otherwise Rasa adds one stamped after the posted slot, and
    # its SQL tracker store reads back only the events stamped after the latest session start.
    session_start = [
        {"event": "action", "name": "action_session_start"},
        {"event": "session_started"},
        {"event": "action", "name": "action_listen"},
    ]
    post_json(events_url, [*session_start, {"event": "slot", "name": "customer_profile", "value": profile}])
    stack.rest(sender, "I have a question about a payment on my statement.")
    s = slots(stack, sender)
    assert s["persona"] == "phone_first"
    assert s["route"]["offer_phone"] is False, "never offer the phone with a hearing need"
    assert "hearing" in str(s["route"]["offer_phone_reason"])
