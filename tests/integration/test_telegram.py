"""Telegram customers through the real webhook (``/webhooks/telegram/webhook``) with
Telegram's Update format, answered through a fake Bot API (tests/integration/fake_telegram.py)."""

from __future__ import annotations

import json
import random
import time
import urllib.request
from typing import Any

import pytest

from devtools.stack import Stack

from .fake_telegram import (
    SECRET,
    WEBHOOK_URL,
    FakeTelegram,
    callback_update,
    post_update,
    sticker_update,
    text_update,
)

pytestmark = pytest.mark.integration
SAM_TELEGRAM_ID = 481516234  # C-1004 in demo/customers.yml


def new_chat() -> int:
    return random.randint(10**9, 2 * 10**9)


def webhook(stack: Stack) -> str:
    return f"{stack.rasa_url}/webhooks/telegram/webhook"


def user_events(stack: Stack, chat: int) -> list[dict[str, Any]]:
    return [e for e in stack.tracker(str(chat))["events"] if e["event"] == "user"]


def exchange(stack: Stack, fake: FakeTelegram, chat: int, text: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Send ``text`` as the customer; the messages the chat received for it."""
    before = len(fake.messages_to(chat))
    status, _ = post_update(webhook(stack), text_update(chat, text, **kwargs))
    assert status == 200
    return fake.wait_for(chat, before + 1)[before:]


def test_set_webhook_with_the_secret_when_rasa_starts(stack: Stack, fake_telegram: FakeTelegram) -> None:
    deadline = time.monotonic() + 30
    while not fake_telegram.webhook and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fake_telegram.webhook == {
        "url": WEBHOOK_URL,
        "secret_token": SECRET,
        "allowed_updates": ["message", "callback_query"],
    }


def test_a_customer_says_hello_and_asks_a_banking_question(stack: Stack, fake_telegram: FakeTelegram) -> None:
    chat = new_chat()
    greeting = exchange(stack, fake_telegram, chat, "hello")
    assert greeting, "the greeting reached the chat"
    answer = exchange(stack, fake_telegram, chat, "how do I get a virtual card")
    text = "\n\n".join(m["text"] for m in answer)
    assert "virtual" in text.lower()
    assert all(len(m["text"]) <= 4096 for m in answer)
    tracker = stack.tracker(str(chat))
    latest = tracker["latest_message"]
    assert latest["intent"]["name"] == "getting_virtual_card"
    [first, second] = user_events(stack, chat)
    assert first["input_channel"] == second["input_channel"] == "telegram"
    sent = {"channel": "telegram", "telegram_user_id": chat, "language_code": "en"}
    assert second["metadata"].items() >= sent.items(), "Rasa adds its model and assistant ids"
    assert fake_telegram.calls_of("getMe") == []


def test_a_button_is_pressed_with_a_callback_query(stack: Stack, fake_telegram: FakeTelegram) -> None:
    chat = new_chat()
    exchange(stack, fake_telegram, chat, "Someone stole my card, what should I do?")
    [question] = [
        c
        for c in fake_telegram.calls_of("sendMessage")
        if c.params["chat_id"] == chat and "reply_markup" in c.params
    ]
    keyboard = question.params["reply_markup"]["inline_keyboard"]
    titles = [row[0]["text"] for row in keyboard]
    assert titles == ["Yes", "No, thanks"], "buttons, not numbered options"
    assert "1. Yes" not in question.params["text"]
    before = len(fake_telegram.messages_to(chat))
    press = callback_update(chat, keyboard[1][0]["callback_data"], message=question.result)
    assert post_update(webhook(stack), press)[0] == 200
    after = fake_telegram.wait_for(chat, before + 1)
    assert "goodbye" in after[-1]["text"].lower()
    assert stack.tracker(str(chat))["latest_message"]["intent"]["name"] == "deny"
    answered = [c.params for c in fake_telegram.calls_of("answerCallbackQuery")]
    assert {"callback_query_id": press["callback_query"]["id"]} in answered
    edited = [
        c.params for c in fake_telegram.calls_of("editMessageReplyMarkup") if c.params["chat_id"] == chat
    ]
    assert edited == [
        {
            "chat_id": chat,
            "message_id": question.result["message_id"],
            "reply_markup": {"inline_keyboard": []},
        }
    ]


@pytest.mark.parametrize("secret", [None, "not-the-secret"])
def test_a_forged_update_is_refused_and_reaches_nothing(
    stack: Stack, fake_telegram: FakeTelegram, secret: str | None
) -> None:
    chat = new_chat()
    status, body = post_update(webhook(stack), text_update(chat, "what is my balance"), secret=secret)
    assert status == 403 and "secret" in body["error"]
    status, _ = post_update(webhook(stack), callback_update(chat, "b:0:00000000"), secret=secret)
    assert status == 403
    assert user_events(stack, chat) == []
    assert fake_telegram.messages_to(chat) == []


def test_a_sticker_gets_a_note_and_a_repeated_update_one_answer(
    stack: Stack, fake_telegram: FakeTelegram
) -> None:
    chat = new_chat()
    assert post_update(webhook(stack), sticker_update(chat))[0] == 200
    assert [m["text"] for m in fake_telegram.wait_for(chat, 1)] == [
        "Sorry, I can only read text messages. Please type your question."
    ]
    update = text_update(chat, "how do I activate my new card")
    assert [post_update(webhook(stack), update)[0] for _ in range(2)] == [200, 200]
    assert [e["text"] for e in user_events(stack, chat)] == ["how do I activate my new card"]


def test_the_customer_behind_a_telegram_user_id_is_recognised(
    stack: Stack, fake_telegram: FakeTelegram
) -> None:
    exchange(stack, fake_telegram, SAM_TELEGRAM_ID, "hi, when will my new card arrive?")
    assert stack.tracker(str(SAM_TELEGRAM_ID))["slots"]["customer_ref"] == "C-1004"


def test_a_staff_reply_is_pushed_to_the_chat_and_its_buttons_work(
    stack: Stack, fake_telegram: FakeTelegram
) -> None:
    chat = new_chat()
    exchange(stack, fake_telegram, chat, "hello")
    before = len(fake_telegram.messages_to(chat))
    body = {
        "conversation_id": str(chat),
        "text": "Hello, this is Priya from the cards team. Do you still have your card?",
        "author": "staff",
        "author_name": "Priya",
        "buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
    }
    request = urllib.request.Request(
        f"{stack.rasa_url}/webhooks/outbound/send",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {stack.api_token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        assert json.loads(resp.read())["delivered"] is True
    [pushed] = fake_telegram.messages_to(chat)[before:]
    assert pushed["text"] == body["text"]
    keyboard = pushed["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["Yes", "No"]
    press = callback_update(chat, keyboard[1][0]["callback_data"])
    assert post_update(webhook(stack), press)[0] == 200
    assert user_events(stack, chat)[-1]["text"] == "/deny"
