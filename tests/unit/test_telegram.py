"""The Telegram channel on a real Sanic server on loopback, wired as Rasa wires channels,
talking to a stand-in for the Bot API (tests/integration/fake_telegram.py). The agent
behind it is a recorder with a real in-memory tracker store."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage, register
from rasa.core.run import create_http_input_channels
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.exceptions import RasaException
from sanic import Sanic

from bot.core.limits import MAX_MESSAGE_CHARS
from bot.rasa.telegram import NOTICES, PersonaTelegramInput, TelegramConfigError, read_update
from bot.rasa.telegram_api import BotApi, TelegramApiError, TelegramOutput, callback_data, message_parts
from tests.integration.fake_telegram import (
    SECRET,
    TOKEN,
    WEBHOOK_URL,
    FakeTelegram,
    callback_update,
    channel_post_update,
    edited_update,
    group_update,
    photo_update,
    post_update,
    sticker_update,
    text_update,
)

CHAT = 481516234
LONG_PAYLOAD = '/inform{"callback_window": "2026-11-24T14:00:00+00:00/2026-11-24T16:00:00+00:00"}'
QUESTION = {
    "text": "Shall I freeze your card?",
    "buttons": [
        {"title": "Yes", "payload": "/affirm"},
        {"title": "Tomorrow 14:00–16:00", "payload": LONG_PAYLOAD},
    ],
}


@dataclass
class RecordingAgent:
    """What ``register`` hands messages to: records them, answers with ``replies`` through
    the message's output channel and keeps the conversation in a real tracker store."""

    tracker_store: InMemoryTrackerStore
    replies: list[dict[str, Any]] = field(default_factory=list)
    messages: list[UserMessage] = field(default_factory=list)
    fail: bool = False

    async def handle_message(self, message: UserMessage) -> None:
        self.messages.append(message)
        if self.fail:
            raise RuntimeError("the assistant is down")
        tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
        tracker.update(
            UserUttered(message.text, input_channel=message.input_channel, metadata=message.metadata)
        )
        for reply in self.replies:
            await message.output_channel.send_response(message.sender_id, dict(reply))
            tracker.update(BotUttered(reply.get("text"), data={"buttons": reply.get("buttons")}))
        await self.tracker_store.save(tracker)


@dataclass
class Server:
    url: str
    channel: PersonaTelegramInput
    agent: RecordingAgent
    fake: FakeTelegram

    @property
    def webhook(self) -> str:
        return f"{self.url}/webhooks/telegram/webhook"

    def post(self, update: Any, **kwargs: Any) -> tuple[int, Any]:
        return post_update(self.webhook, update, **kwargs)

    async def apost(self, update: Any, **kwargs: Any) -> tuple[int, Any]:
        return await asyncio.to_thread(self.post, update, **kwargs)


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several Sanic servers in one process (Sanic rewrites its protocol on each start)."""
    monkeypatch.setattr(Sanic, "test_mode", True)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    telegram = FakeTelegram().start()
    yield telegram
    telegram.stop()


def make_channel(fake: FakeTelegram, **overrides: Any) -> PersonaTelegramInput:
    options: dict[str, Any] = {
        "access_token": TOKEN,
        "secret_token": SECRET,
        "webhook_url": WEBHOOK_URL,
        "verify": "PersonaBankTestBot",
        "api_base": fake.url,
        **overrides,
    }
    return PersonaTelegramInput(**options)


async def serve(channel: PersonaTelegramInput, fake: FakeTelegram) -> AsyncIterator[Server]:
    app = Sanic(f"telegram_test_{uuid.uuid4().hex[:8]}")
    agent = RecordingAgent(InMemoryTrackerStore(Domain.empty()))
    app.ctx.agent = agent
    register([channel], app, route="/webhooks/")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.start_serving()
    await server.after_start()
    try:
        yield Server(f"http://127.0.0.1:{sock.getsockname()[1]}", channel, agent, fake)
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Server]:
    async for server in serve(make_channel(fake), fake):
        yield server


# --- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "problem"),
    [
        (None, "'access_token' is missing"),
        ({"secret_token": SECRET}, "'access_token' is missing"),
        ({"access_token": "", "secret_token": SECRET}, "'access_token' is missing or empty"),
        ({"access_token": TOKEN}, "'secret_token' is missing"),
        ({"access_token": TOKEN, "secret_token": "  "}, "'secret_token' is missing or empty"),
        ({"access_token": TOKEN, "secret_token": "has spaces in it"}, "A-Z, a-z, 0-9, _ and -"),
        ({"access_token": TOKEN, "secret_token": "x" * 257}, "1-256"),
        ({"access_token": "not a token", "secret_token": SECRET}, "not a bot token"),
    ],
)
def test_the_channel_refuses_to_start_without_a_token_and_a_secret(
    credentials: dict[str, Any] | None, problem: str
) -> None:
    with pytest.raises(TelegramConfigError, match=problem) as raised:
        PersonaTelegramInput.from_credentials(credentials)
    assert TOKEN not in str(raised.value) and "not a token" not in str(raised.value), "secrets never echoed"


def test_credentials_yml_with_an_unset_or_empty_variable_stops_rasa(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(
        "bot.rasa.telegram.PersonaTelegramInput:\n"
        "  access_token: ${TELEGRAM_TOKEN}\n"
        "  verify: ${TELEGRAM_BOT_NAME}\n"
        "  webhook_url: ${TELEGRAM_WEBHOOK_URL}\n"
        "  secret_token: ${TELEGRAM_SECRET_TOKEN}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_BOT_NAME", "PersonaBankTestBot")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", WEBHOOK_URL)
    monkeypatch.setenv("TELEGRAM_API_BASE", "http://127.0.0.1:9")
    monkeypatch.delenv("TELEGRAM_SECRET_TOKEN", raising=False)
    with pytest.raises(RasaException, match="TELEGRAM_SECRET_TOKEN"):  # Rasa's own check
        create_http_input_channels(None, str(credentials))
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", "")
    with pytest.raises(TelegramConfigError, match="'secret_token' is missing or empty"):
        create_http_input_channels(None, str(credentials))
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", SECRET)
    [channel] = create_http_input_channels(None, str(credentials))
    assert isinstance(channel, PersonaTelegramInput)
    assert channel.name() == "telegram" and channel.url_prefix() == "telegram"
    assert (channel.access_token, channel.secret_token, channel.webhook_url) == (TOKEN, SECRET, WEBHOOK_URL)
    assert channel.api_base == "http://127.0.0.1:9", "TELEGRAM_API_BASE is read"


async def test_set_webhook_on_start_with_the_secret_and_no_get_me(bot: Server) -> None:
    webhook = bot.fake.webhook
    assert webhook == {
        "url": WEBHOOK_URL,
        "secret_token": SECRET,
        "allowed_updates": ["message", "callback_query"],
    }
    assert (await bot.apost(text_update(CHAT, "hello")))[0] == 200
    assert bot.fake.calls_of("getMe") == []


async def test_a_failed_set_webhook_is_logged_and_rasa_keeps_serving(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.rasa.telegram")
    channel = make_channel(fake, access_token="1:WrongTokenForThisBot")
    async for server in serve(channel, fake):
        assert (await server.apost(text_update(CHAT, "hello")))[0] == 200
        assert [m.text for m in server.agent.messages] == ["hello"]
    [failed] = [r for r in caplog.records if "telegram.set_webhook_failed" in r.getMessage()]
    assert failed.levelno == logging.ERROR
    assert "status=401" in failed.getMessage() and "Unauthorized" in failed.getMessage()
    assert "WrongTokenForThisBot" not in caplog.text


# --- what the webhook takes --------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x", SECRET[:-1], "é"])
async def test_an_update_without_the_secret_is_refused(bot: Server, secret: str | None) -> None:
    status, body = await bot.apost(text_update(CHAT, "send me my balance"), secret=secret)
    assert status == 403 and "secret" in body["error"]
    assert bot.agent.messages == [] and bot.fake.calls_of("sendMessage") == []


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"{", "JSON"),
        (b"", "Telegram Update"),
        (b"[]", "Telegram Update"),
        (b'"hi"', "Telegram Update"),
        (b"{}", "'update_id'"),
        (b'{"update_id": "1", "message": {}}', "'update_id'"),
        (b'{"update_id": true}', "'update_id'"),
        (b'{"update_id": 1, "message": {"text": "hi"}}', "'message'"),
        (b'{"update_id": 1, "message": {"chat": {"id": "x", "type": "private"}, "text": "hi"}}', "'message'"),
        (
            b'{"update_id": 1, "message": {"chat": {"id": 5, "type": "private"}, "from": 7, "text": "hi"}}',
            "'message'",
        ),
        (b'{"update_id": 1, "callback_query": {"data": "b:0:00000000"}}', "'callback_query'"),
        (b'{"update_id": 1, "callback_query": {"id": "9", "data": "x"}}', "'callback_query'"),
        (b'{"update_id": 1, "callback_query": {"id": "9", "from": {"id": 5}, "message": 3}}', "message"),
        (b"[" * 5000 + b"]" * 5000, ""),
    ],
)
async def test_a_body_that_is_not_an_update_is_a_400(bot: Server, raw: bytes, problem: str) -> None:
    status, body = await bot.apost(None, raw=raw)
    assert status == 400 and problem in body["error"]
    assert bot.agent.messages == []


async def test_a_text_message_reaches_the_assistant_from_the_chat(bot: Server) -> None:
    status, body = await bot.apost(
        text_update(CHAT, "  how do I get a virtual card  ", language_code="en-GB")
    )
    assert (status, body) == (200, {"ok": True})
    [message] = bot.agent.messages
    assert message.text == "how do I get a virtual card"
    assert message.sender_id == str(CHAT) and message.input_channel == "telegram"
    assert message.metadata == {"channel": "telegram", "telegram_user_id": CHAT, "language_code": "en-GB"}
    assert isinstance(message.output_channel, TelegramOutput)


async def test_metadata_without_a_language_code(bot: Server) -> None:
    await bot.apost(text_update(CHAT, "hi", language_code=None))
    assert bot.agent.messages[0].metadata == {"channel": "telegram", "telegram_user_id": CHAT}


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("/start", "/greet"),
        ("/start@PersonaBankTestBot", "/greet"),
        ("/start ref-campaign", "/greet"),
        ("/affirm", "affirm"),
        ('/inform{"customer_ref": "C-1001"}', 'inform{"customer_ref": "C-1001"}'),
        ("/help@PersonaBankTestBot", "help"),
        ("//help me", "help me"),
    ],
)
async def test_commands_never_become_intents_except_start(bot: Server, typed: str, said: str) -> None:
    await bot.apost(text_update(CHAT, typed))
    assert [m.text for m in bot.agent.messages] == [said]


async def test_a_repeated_update_is_handled_once(bot: Server) -> None:
    update = text_update(CHAT, "what is my card limit")
    assert [(await bot.apost(update))[0] for _ in range(3)] == [200, 200, 200]
    assert len(bot.agent.messages) == 1


@pytest.mark.parametrize(
    ("update", "language"),
    [
        (sticker_update(CHAT), "en"),
        (photo_update(CHAT, caption="my card"), "en"),
        (sticker_update(CHAT, language_code="es"), "es"),
        (photo_update(CHAT, language_code="fr-CA"), "fr"),
        (sticker_update(CHAT, language_code="de"), "en"),
    ],
)
async def test_a_non_text_message_gets_a_polite_note(
    bot: Server, update: dict[str, Any], language: str
) -> None:
    assert (await bot.apost(update))[0] == 200
    assert bot.fake.sent_to(CHAT) == [NOTICES["not_text"][language]]
    assert bot.agent.messages == []


async def test_the_note_is_in_the_conversations_language_first(bot: Server, rasa_domain: Domain) -> None:
    store = InMemoryTrackerStore(rasa_domain)
    tracker = await store.get_or_create_tracker(str(CHAT))
    tracker.update(SlotSet("language", "es"))
    await store.save(tracker)
    bot.agent.tracker_store = store
    await bot.apost(sticker_update(CHAT, language_code="en"))
    assert bot.fake.sent_to(CHAT) == [NOTICES["not_text"]["es"]]


async def test_a_tracker_store_that_cannot_be_read_still_gets_an_answer(bot: Server) -> None:
    class BrokenStore(InMemoryTrackerStore):
        async def retrieve(self, sender_id: str) -> None:
            raise OSError("database is down")

    bot.agent.tracker_store = BrokenStore(Domain.empty())
    assert (await bot.apost(sticker_update(CHAT, language_code="fr")))[0] == 200
    assert (await bot.apost(callback_update(CHAT, callback_data(0, "/affirm"))))[0] == 200
    assert bot.fake.sent_to(CHAT) == [NOTICES["not_text"]["fr"]]
    assert bot.fake.calls_of("answerCallbackQuery")[0].params["text"] == NOTICES["expired"]["en"]


@pytest.mark.parametrize(
    "update",
    [
        edited_update(CHAT, "actually, my debit card"),
        channel_post_update(-1001234567890, "news"),
        group_update(-4012345, CHAT, "what is my balance"),
        {"update_id": 91, "my_chat_member": {"chat": {"id": CHAT, "type": "private"}}},
        {"update_id": 92},
    ],
)
async def test_updates_it_does_not_serve_are_a_200_and_go_nowhere(
    bot: Server, update: dict[str, Any]
) -> None:
    assert (await bot.apost(update))[0] == 200, "any other answer and Telegram repeats the update"
    assert bot.agent.messages == [] and bot.fake.calls_of("sendMessage") == []


async def test_a_message_over_the_limit_is_refused_politely(bot: Server) -> None:
    assert (await bot.apost(text_update(CHAT, "a" * (MAX_MESSAGE_CHARS + 1))))[0] == 200
    assert bot.fake.sent_to(CHAT) == [NOTICES["too_long"]["en"]]
    assert bot.agent.messages == []
    await bot.apost(text_update(CHAT, "a" * MAX_MESSAGE_CHARS))
    assert len(bot.agent.messages) == 1


async def test_a_chat_over_its_rate_is_told_once_to_slow_down(fake: FakeTelegram) -> None:
    async for bot in serve(make_channel(fake, per_minute=1, capacity=2), fake):
        statuses = [(await bot.apost(text_update(CHAT, f"message {i}")))[0] for i in range(5)]
        assert statuses == [200] * 5
        assert [m.text for m in bot.agent.messages] == ["message 0", "message 1"]
        assert bot.fake.sent_to(CHAT) == [NOTICES["slow_down"]["en"]], "one note, not one per message"
        await bot.apost(text_update(CHAT + 1, "another customer"))
        assert len(bot.agent.messages) == 3


async def test_a_failure_behind_the_webhook_is_a_200_and_an_apology(bot: Server) -> None:
    bot.agent.fail = True
    assert (await bot.apost(text_update(CHAT, "hi", language_code="es")))[0] == 200
    assert bot.fake.sent_to(CHAT) == [NOTICES["failed"]["es"]]


# --- buttons -------------------------------------------------------------------------------


async def test_buttons_are_an_inline_keyboard_and_a_press_sends_the_payload(bot: Server) -> None:
    bot.agent.replies = [QUESTION]
    await bot.apost(text_update(CHAT, "someone stole my card"))
    [sent] = bot.fake.calls_of("sendMessage")
    assert sent.params["text"] == QUESTION["text"]
    keyboard = sent.params["reply_markup"]["inline_keyboard"]
    assert [[b["text"] for b in row] for row in keyboard] == [["Yes"], ["Tomorrow 14:00–16:00"]]
    data = [row[0]["callback_data"] for row in keyboard]
    assert data == [callback_data(0, "/affirm"), callback_data(1, LONG_PAYLOAD)]
    assert all(d.startswith("b:") and len(d.encode()) <= 64 for d in data) and len(LONG_PAYLOAD) > 64

    bot.agent.replies = []
    press = callback_update(CHAT, data[1], message=sent.result, language_code="en")
    assert (await bot.apost(press))[0] == 200
    assert [m.text for m in bot.agent.messages] == ["someone stole my card", LONG_PAYLOAD]
    pressed = bot.agent.messages[-1]
    assert pressed.sender_id == str(CHAT)
    assert pressed.metadata == {"channel": "telegram", "telegram_user_id": CHAT, "language_code": "en"}
    [answered] = bot.fake.calls_of("answerCallbackQuery")
    assert answered.params == {"callback_query_id": press["callback_query"]["id"]}
    [edited] = bot.fake.calls_of("editMessageReplyMarkup")
    assert edited.params == {
        "chat_id": CHAT,
        "message_id": sent.result["message_id"],
        "reply_markup": {"inline_keyboard": []},
    }


@pytest.mark.parametrize("data", ["b:0:00000000", "b:7:" + callback_data(0, "/affirm")[-8:], "garbage", ""])
async def test_a_button_that_is_not_in_the_latest_turn_sends_nothing(bot: Server, data: str) -> None:
    bot.agent.replies = [QUESTION]
    await bot.apost(text_update(CHAT, "someone stole my card"))
    await bot.apost(callback_update(CHAT, data, language_code="fr"))
    assert len(bot.agent.messages) == 1
    [answered] = bot.fake.calls_of("answerCallbackQuery")
    assert answered.params["text"] == NOTICES["expired"]["fr"], "the spinner stops, with a note"


async def test_a_button_of_an_earlier_turn_is_not_taken_for_the_latest(bot: Server) -> None:
    bot.agent.replies = [QUESTION]
    await bot.apost(text_update(CHAT, "someone stole my card"))
    old = bot.fake.calls_of("sendMessage")[0]
    bot.agent.replies = [{"text": "Anything else?", "buttons": [{"title": "Yes", "payload": "/more_help"}]}]
    await bot.apost(text_update(CHAT, "thanks"))
    old_yes = old.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await bot.apost(callback_update(CHAT, old_yes, message=old.result))
    assert [m.text for m in bot.agent.messages] == ["someone stole my card", "thanks"]
    assert bot.fake.calls_of("answerCallbackQuery")[0].params["text"] == NOTICES["expired"]["en"]


async def test_a_repeated_press_is_handled_once(bot: Server) -> None:
    bot.agent.replies = [QUESTION]
    await bot.apost(text_update(CHAT, "someone stole my card"))
    bot.agent.replies = []
    press = callback_update(CHAT, callback_data(0, "/affirm"))
    await bot.apost(press)
    await bot.apost(press)
    assert [m.text for m in bot.agent.messages] == ["someone stole my card", "/affirm"]
    assert len(bot.fake.calls_of("answerCallbackQuery")) == 1


def test_read_update_takes_a_callback_without_its_message() -> None:
    update = read_update(
        {"update_id": 3, "callback_query": {"id": "77", "from": {"id": 12, "is_bot": False}, "data": "b:0:1"}}
    )
    assert not isinstance(update, str)
    assert (update.kind, update.chat_id, update.chat_type, update.message_id) == (
        "callback_query",
        12,
        "private",
        None,
    )


# --- what the output channel sends -------------------------------------------------------


def output(fake: FakeTelegram) -> TelegramOutput:
    return TelegramOutput(BotApi(TOKEN, base=fake.url, retry_delay=0))


async def test_long_text_is_split_on_paragraphs_with_the_buttons_on_the_last_part(fake: FakeTelegram) -> None:
    paragraphs = [f"Paragraph {i}. " + "x" * 1990 for i in range(5)]
    await output(fake).send_response(
        str(CHAT), {"text": "\n\n".join(paragraphs), "buttons": QUESTION["buttons"]}
    )
    sent = fake.messages_to(CHAT)
    assert [m["text"] for m in sent] == [
        f"{paragraphs[0]}\n\n{paragraphs[1]}",
        f"{paragraphs[2]}\n\n{paragraphs[3]}",
        paragraphs[4],
    ]
    assert [("reply_markup" in m) for m in sent] == [False, False, True]


def test_message_parts_fit_telegram_however_the_text_is_made() -> None:
    one_paragraph = " ".join(["A sentence of words."] * 600)  # 12,599 characters
    parts = message_parts(one_paragraph)
    assert len(parts) == 4 and all(len(p) <= 4096 for p in parts)
    assert " ".join(parts) == one_paragraph
    emoji = "💳" * 3000  # 6,000 UTF-16 units in 3,000 characters
    assert [len(p.encode("utf-16-le")) // 2 <= 4096 for p in message_parts(emoji)] == [True, True]
    assert message_parts("Steps:\n1. Open the app.\n2. Tap Cards.") == [
        "Steps:\n1. Open the app.\n2. Tap Cards."
    ]
    assert message_parts("\n\n \n\n") == []


async def test_a_push_outside_a_request_is_delivered(fake: FakeTelegram) -> None:
    channel = make_channel(fake)
    out = channel.get_output_channel()
    await out.send_response(
        str(CHAT), {"text": "A colleague replied: your card is on its way.", "buttons": []}
    )
    await out.send_response(str(CHAT), {"text": "Did that help?", "buttons": QUESTION["buttons"][:1]})
    sent = fake.messages_to(CHAT)
    assert [m["text"] for m in sent] == ["A colleague replied: your card is on its way.", "Did that help?"]
    assert sent[1]["reply_markup"] == {
        "inline_keyboard": [[{"text": "Yes", "callback_data": callback_data(0, "/affirm")}]]
    }
    assert out.errors == []


async def test_a_push_telegram_refuses_raises_after_logging(fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    out = make_channel(fake).get_output_channel()
    with pytest.raises(TelegramApiError, match="blocked") as raised:
        await out.send_response(str(CHAT), {"text": "A colleague replied.", "author": "staff"})
    assert raised.value.status == 403 and out.errors == [raised.value]


@pytest.mark.parametrize(
    ("status", "description", "retry_after"),
    [
        (500, "Internal Server Error", None),
        (502, "Bad Gateway", None),
        (429, "Too Many Requests: retry after 1", 1),
    ],
)
async def test_a_passing_failure_is_retried_once(
    fake: FakeTelegram, status: int, description: str, retry_after: int | None
) -> None:
    fake.fail_next("sendMessage", status, description, retry_after=retry_after)
    out = output(fake)
    started = asyncio.get_running_loop().time()
    await out.send_text_message(str(CHAT), "Your card is frozen.")
    assert fake.sent_to(CHAT) == ["Your card is frozen."]
    assert [c.status for c in fake.calls_of("sendMessage")] == [status, 200]
    assert out.errors == []
    if retry_after:
        assert asyncio.get_running_loop().time() - started >= retry_after, "waited as Telegram asked"


async def test_a_failed_send_is_logged_with_telegrams_description_and_never_the_text(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.rasa.telegram")
    fake.fail_next("sendMessage", 500, "Internal Server Error", times=2)
    fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    out = output(fake)
    await out.send_text_message(str(CHAT), "Secret balance: 1,234.56")
    await out.send_text_message(str(CHAT), "Secret balance again")
    assert [c.status for c in fake.calls_of("sendMessage")] == [500, 500, 403], "a 403 is not retried"
    assert [(e.status, e.description) for e in out.errors] == [
        (500, "Internal Server Error"),
        (403, "Forbidden: bot was blocked by the user"),
    ]
    failures = [r.getMessage() for r in caplog.records if "telegram.call_failed" in r.getMessage()]
    assert len(failures) == 2 and "bot was blocked by the user" in failures[1]
    assert "balance" not in caplog.text and TOKEN not in caplog.text


async def test_no_answer_is_logged_without_the_token(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    out = TelegramOutput(BotApi(TOKEN, base=closed, retry_delay=0))
    await out.send_text_message(str(CHAT), "hello")
    [error] = out.errors
    assert error.status is None and "ClientConnectorError" in error.description
    assert TOKEN not in caplog.text and TOKEN not in error.description


async def test_the_fake_is_strict_like_telegram(fake: FakeTelegram) -> None:
    wrong = TelegramOutput(BotApi("1:Wrong", base=fake.url, retry_delay=0))
    await wrong.send_text_message(str(CHAT), "hi")
    assert (wrong.errors[0].status, wrong.errors[0].description) == (401, "Unauthorized")
    api = BotApi(TOKEN, base=fake.url, retry_delay=0)
    for params, description in [
        ({"chat_id": CHAT}, "Bad Request: message text is empty"),
        ({"text": "hi"}, "Bad Request: chat_id is empty"),
        ({"chat_id": CHAT, "text": "x" * 4097}, "Bad Request: message is too long"),
        (
            {
                "chat_id": CHAT,
                "text": "hi",
                "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "x" * 65}]]},
            },
            "Bad Request: BUTTON_DATA_INVALID",
        ),
    ]:
        with pytest.raises(Exception, match=description):
            await api.call("sendMessage", params)
    me = await api.call("getMe", {})
    assert me["is_bot"] is True and json.dumps(me)
