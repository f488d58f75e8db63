"""SMS and WhatsApp through the Twilio channel, with Twilio's real webhook and REST formats
and signed webhook requests."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from bot.rasa.channels import MEDIA_ONLY
from bot.wording.formatting import SMS_MAX_SEGMENTS, sms_length
from devtools.stack import Stack

from .fake_twilio import WEBHOOK_PATH, FakeTwilio, media_url, send_inbound

pytestmark = pytest.mark.integration


def inbound(stack: Stack, sender: str, body: str | None, **options: Any) -> int:
    return send_inbound(stack.rasa_url, sender, body, **options)


def wait_for(fake: FakeTwilio, number: str, count: int, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = fake.sent_to(number)
        if len(sent) >= count:
            return sent
        time.sleep(0.1)
    return fake.sent_to(number)


def test_sms_parts_numbered_options_and_numeric_reply(stack: Stack, fake_twilio: FakeTwilio) -> None:
    number = "+4477009" + str(uuid.uuid4().int)[:5]
    assert inbound(stack, number, "Someone stole my card, what should I do?") == 204
    sent = wait_for(fake_twilio, number, 2)
    assert sent and all(body and sms_length(body).segments <= SMS_MAX_SEGMENTS for body in sent)
    assert sent[-1].endswith("1. Yes\n2. No, thanks"), sent[-1]
    assert inbound(stack, number, "2") == 204
    after = wait_for(fake_twilio, number, len(sent) + 1)
    assert "goodbye" in after[-1].lower()
    tracker = stack.tracker(number)
    assert tracker["latest_message"]["intent"]["name"] == "deny"
    assert tracker["slots"]["persona"] is not None


def test_whatsapp_is_not_cut_into_sms_parts(stack: Stack, fake_twilio: FakeTwilio) -> None:
    message = (
        "Transfer stuck in Pending since the v5.2.1 update, error E1043 on the SEPA API. Expected times?"
    )
    longest = {}
    for prefix in ("+4477007", "whatsapp:+4477006"):
        number = prefix + str(uuid.uuid4().int)[:5]
        assert inbound(stack, number, message) == 204
        assert stack.tracker(number)["slots"]["persona"] == "technical"
        longest[prefix] = max(len(body) for body in wait_for(fake_twilio, number, 2))
    assert longest["+4477007"] <= 320 < longest["whatsapp:+4477006"]


@pytest.mark.parametrize("body", [None])
def test_webhook_without_body_is_a_400(stack: Stack, body: str | None) -> None:
    assert inbound(stack, "+447700900999", body) == 400


def test_whatsapp_customer_books_a_callback_on_the_number_they_write_from(
    stack: Stack, fake_twilio: FakeTwilio
) -> None:
    from sqlalchemy import select

    from bot.store.db import Database
    from bot.store.models import Handoff

    sender = "whatsapp:+447911123456"  # Margaret (C-1001) in demo/customers.yml

    def exchange(text: str) -> str:
        """Send a message; the replies it got (all parts), joined."""
        before = len(fake_twilio.sent_to(sender))
        assert inbound(stack, sender, text) == 204
        return "\n".join(wait_for(fake_twilio, sender, before + 1)[before:])

    reply = exchange("Can someone call me back please?")
    assert "+44 7911 123456" in reply, "offers the number the message comes from"
    assert stack.tracker(sender)["slots"]["customer_ref"] == "C-1001"
    reply = exchange("YES")
    assert "\n1. " in reply and "\n2. " in reply, "times as numbered options on WhatsApp"
    exchange("1")
    confirmation = exchange("yes")
    db = Database(stack.env["DATABASE_URL"])
    with db.session() as s:
        [row] = s.execute(select(Handoff).where(Handoff.sender_id == sender)).scalars()
        assert row.callback_number == "+447911123456" and row.channel == "twilio"
        assert row.customer.customer_ref == "C-1001"
        assert row.reference in confirmation
    db.dispose()


@pytest.mark.parametrize(
    "forgery",
    [
        {"sign": False},
        {"auth_token": "guessed-token"},
        {"signed_url": "https://attacker.example" + WEBHOOK_PATH},
    ],
    ids=["unsigned", "wrong token", "signed for another URL"],
)
def test_a_forged_sms_gets_a_403_and_reaches_nothing(
    stack: Stack, fake_twilio: FakeTwilio, forgery: dict[str, Any]
) -> None:
    number = "+4477005" + str(uuid.uuid4().int)[:5]
    assert inbound(stack, number, "Someone stole my card, what should I do?", **forgery) == 403
    time.sleep(1)
    assert fake_twilio.sent_to(number) == []
    events = stack.tracker(number)["events"]
    assert not [e for e in events if e["event"] in ("user", "bot")], events


def test_a_signed_sms_is_answered(stack: Stack, fake_twilio: FakeTwilio) -> None:
    number = "+4477004" + str(uuid.uuid4().int)[:5]
    assert inbound(stack, number, "hello") == 204
    assert wait_for(fake_twilio, number, 1)
    assert [e["text"] for e in stack.tracker(number)["events"] if e["event"] == "user"] == ["hello"]


def test_a_photo_on_whatsapp_gets_the_text_only_answer(stack: Stack, fake_twilio: FakeTwilio) -> None:
    number = "whatsapp:+4477003" + str(uuid.uuid4().int)[:5]
    assert inbound(stack, number, "", media=[media_url()]) == 204
    assert wait_for(fake_twilio, number, 1) == [MEDIA_ONLY["en"]]
    events = stack.tracker(number)["events"]
    assert not [e for e in events if e["event"] == "user"], "nothing reached the NLU"
