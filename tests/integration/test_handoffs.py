"""Escalation end to end through the running assistant: the proactive callback offer and
form for phone-first customers in each language, live chat for a quick mobile customer
(pause, then resume by staff tooling), and the handoff rows in the plugin's database."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from bot.handoff.rasa_api import resume_conversation
from devtools.stack import Stack
from tests.support import handoffs, sent_responses

pytestmark = pytest.mark.integration

PHONE_FIRST = {
    "en": {
        "first": "Hello. I'm not very good with computers and my new card still hasn't arrived.",
        "yes": "yes please",
        "number": "07911 123456",
        "e164": "+447911123456",
        "consent": "yes",
    },
    "es": {
        "first": "Hola, no se me da bien el ordenador y todavía no me ha llegado la tarjeta nueva.",
        "yes": "sí, por favor",
        "number": "+34 612 345 678",
        "e164": "+34612345678",
        "consent": "sí",
    },
    "fr": {
        "first": "Bonjour, je ne suis pas à l'aise avec l'informatique et ma nouvelle carte n'est toujours pas arrivée.",
        "yes": "oui, merci",
        "number": "+33 6 12 34 56 78",
        "e164": "+33612345678",
        "consent": "oui",
    },
}


def say(stack: Stack, sender: str, text: str) -> list[dict[str, Any]]:
    return stack.rest(sender, text, metadata={"channel": "socketio"})


@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_phone_first_customer_is_offered_a_callback_and_books_it(stack: Stack, language: str) -> None:
    lines = PHONE_FIRST[language]
    sender = f"pf-{language}-{uuid.uuid4()}"
    say(stack, sender, lines["first"])
    slots = stack.tracker(sender)["slots"]
    assert (slots["persona"], slots["language"], slots["route"]["offer_phone"]) == (
        "phone_first",
        language,
        True,
    )
    assert sent_responses(stack, sender)[-1] == "utter_offer_callback", sent_responses(stack, sender)

    say(stack, sender, lines["yes"])
    assert sent_responses(stack, sender)[-1] == "utter_ask_callback_number"
    window_question = say(stack, sender, lines["number"])
    assert sent_responses(stack, sender)[-1] == "utter_ask_callback_window"
    buttons = window_question[-1]["buttons"]
    assert len(buttons) >= 3
    say(stack, sender, buttons[0]["payload"])
    assert sent_responses(stack, sender)[-1] == "utter_ask_callback_consent"
    confirmation = say(stack, sender, lines["consent"])
    sent = sent_responses(stack, sender)
    assert "utter_callback_booked" in sent[-2:], sent

    [row] = handoffs(stack, sender)
    assert row.kind.value == "callback" and row.status.value == "open"
    assert row.reference in " ".join(m.get("text", "") for m in confirmation)
    assert (row.persona, row.language, row.channel) == ("phone_first", language, "socketio")
    assert row.callback_number == lines["e164"]
    assert row.window_start < row.window_end and row.timezone == "Europe/London"
    assert row.reason.startswith("accepted the callback offer")
    assert row.persona_evidence, "staff see why the persona was inferred"
    texts = [(e["from"], e["text"]) for e in row.transcript]
    assert texts[0] == ("customer", lines["first"])
    number_line = next(
        text for who, text in texts if who == "customer" and text.endswith(lines["number"][-2:])
    )
    assert lines["number"] not in number_line and "•" in number_line, "staff see the number masked"
    assert row.callback_number == lines["e164"], "…and whole where the callback needs it"
    assert any(who == "assistant" for who, _ in texts)
    assert all(e["at"] and e["channel"] == "socketio" for e in row.transcript)


def test_quick_mobile_customer_gets_live_chat_never_the_phone_and_staff_resume_the_bot(stack: Stack) -> None:
    sender = f"qm-{uuid.uuid4()}"
    meta = {"channel": "telegram"}
    stack.rest(sender, "hey my card got declined again lol can u check pls 🙏", metadata=meta)
    stack.rest(sender, "can i talk to a human pls", metadata=meta)
    sent = sent_responses(stack, sender)
    assert sent[-1] in ("utter_live_chat_handoff", "utter_live_chat_closed"), sent
    assert "utter_offer_callback" not in sent and "utter_ask_callback_number" not in sent
    slots = stack.tracker(sender)["slots"]
    assert slots["persona"] == "quick_mobile" and slots["route"]["offer_phone"] is False

    [row] = handoffs(stack, sender)
    assert row.kind.value == "live_chat" and row.callback_number is None
    assert row.reason == "asked for a person in the chat"
    assert stack.tracker(sender)["paused"] is True

    assert stack.rest(sender, "hello??", metadata=meta) == [], "paused: staff answer now, not the bot"
    resume_conversation(sender, rasa_url=stack.rasa_url, token=stack.api_token)
    assert stack.tracker(sender)["paused"] is False
    assert stack.rest(sender, "thanks", metadata=meta), "the assistant answers again"
    before = len(sent_responses(stack, sender))
    stack.rest(sender, "how do I change my PIN", metadata=meta)
    after = sent_responses(stack, sender)[before:]
    assert "utter_change_pin" in after and "utter_default" not in after, after
    assert len(handoffs(stack, sender)) == 1, "no new handoff after the chat ended"


def test_known_customer_is_recognised_from_the_website_login(stack: Stack) -> None:
    sender = f"web-{uuid.uuid4()}"
    stack.rest(sender, "hello", metadata={"channel": "socketio", "customer_id": "jordan.p"})
    slots = stack.tracker(sender)["slots"]
    assert slots["customer_ref"] == "C-1005"
    assert slots["customer_profile"]["accessibility_needs"] == ["hearing"]
    stack.rest(sender, "can someone call me please", metadata={"channel": "socketio"})
    sent = sent_responses(stack, sender)
    assert "utter_no_call_alternative" in sent, sent
    assert "utter_ask_callback_number" not in sent, "never a call for a hearing need"
    [row] = handoffs(stack, sender)
    assert row.kind.value == "live_chat" and row.customer_id is not None


def test_customer_can_cancel_the_callback_form(stack: Stack) -> None:
    sender = f"cancel-{uuid.uuid4()}"
    say(stack, sender, "Can someone call me back please?")
    assert sent_responses(stack, sender)[-1] in (
        "utter_ask_callback_number",
        "utter_ask_callback_number_known",
    )
    say(stack, sender, "no, forget it")
    assert sent_responses(stack, sender)[-1] == "utter_callback_cancelled"
    assert stack.tracker(sender)["active_loop"] in ({}, None) or not stack.tracker(sender)["active_loop"].get(
        "name"
    )
    assert handoffs(stack, sender) == []
    before = len(sent_responses(stack, sender))
    say(stack, sender, "my new card still hasn't arrived")
    after = sent_responses(stack, sender)[before:]
    assert "utter_card_arrival" in after and "utter_offer_callback" not in after, "no is no"
    assert stack.tracker(sender)["slots"]["route"]["offer_phone"] is False


def test_a_question_on_the_way_through_the_callback_form_is_answered_without_a_second_offer(
    stack: Stack,
) -> None:
    sender = f"detour-{uuid.uuid4()}"
    say(stack, sender, "I'm not good with computers, can you ring me back?")
    window_question = say(stack, sender, "07911 123456")
    say(stack, sender, window_question[-1]["buttons"][0]["payload"])
    assert sent_responses(stack, sender)[-1] == "utter_ask_callback_consent"
    before = len(sent_responses(stack, sender))
    say(stack, sender, "how do I change my PIN")
    detour = sent_responses(stack, sender)[before:]
    assert "utter_change_pin" in detour, detour
    assert "utter_offer_callback" not in detour and "utter_anything_else" not in detour, detour
    assert detour[-1] == "utter_ask_callback_consent", "back to the form's question"
    assert stack.tracker(sender)["slots"]["route"]["offer_phone"] is False
    say(stack, sender, "yes")
    assert "utter_callback_booked" in sent_responses(stack, sender)[-2:]
    [row] = handoffs(stack, sender)
    assert row.kind.value == "callback"


def test_a_number_that_cannot_be_understood_three_times_ends_with_a_person_not_a_loop(stack: Stack) -> None:
    sender = f"stuck-{uuid.uuid4()}"
    say(stack, sender, "Can someone call me back please?")
    for attempt in ("123", "0791 12", "+44 12"):
        say(stack, sender, attempt)
    sent = sent_responses(stack, sender)
    assert sent.count("utter_callback_number_invalid") == 2, sent
    assert "utter_callback_not_completed" in sent[-3:], sent
    assert sent[-1] in ("utter_live_chat_handoff", "utter_live_chat_closed"), sent
    tracker = stack.tracker(sender)
    assert tracker["paused"] is True and not (tracker["active_loop"] or {}).get("name")
    [row] = handoffs(stack, sender)
    assert row.kind.value == "live_chat"
    assert row.reason == "wanted a callback; the number was not understood 3 times"
    assert [e["text"] for e in row.transcript if e["from"] == "customer"][-1] == "+44 12"
