"""The Twilio channel on a real Sanic server on loopback, with Twilio's REST API played by
the fake: signatures (and proxies), photos and empty messages, sends and their retries,
SMS segments, WhatsApp's 24-hour window."""

from __future__ import annotations

import json
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage, register
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from bot.core.channels import DeliveryRefused
from bot.rasa.channels import (
    EMPTY_MESSAGE,
    MEDIA_ONLY,
    MEDIA_WITH_TEXT,
    PersonaTwilioInput,
    PersonaTwilioOutput,
)
from bot.wording.formatting import SMS_MAX_SEGMENTS, format_message, sms_length, split_sms
from tests.integration.fake_twilio import (
    ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TWILIO_NUMBER,
    WEBHOOK_PATH,
    FakeTwilio,
    inbound_form,
    media_url,
    signature,
)

TEMPLATE_SID = "HX" + "0" * 31 + "1"
PUBLIC_URL = "https://bank.example/webhooks/twilio/webhook"
SMS_SENDER = "+447700900123"
WA_SENDER = "whatsapp:+34612345678"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class _Agent:
    """What the channel reaches on ``app.ctx.agent``: the tracker store and the assistant,
    which here answers every message with 'Hello from the bank.'."""

    tracker_store: InMemoryTrackerStore
    received: list[UserMessage] = field(default_factory=list)

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        await message.output_channel.send_response(message.sender_id, {"text": "Hello from the bank."})


@dataclass
class Server:
    url: str
    agent: _Agent
    fake: FakeTwilio

    @property
    def webhook(self) -> str:
        return self.url + WEBHOOK_PATH

    async def post(
        self,
        form: dict[str, str],
        *,
        signed_for: str | None = None,
        token: str = TEST_AUTH_TOKEN,
        headers: dict[str, str] | None = None,
        sign: bool = True,
    ) -> int:
        """POST ``form`` to the webhook, signed for ``signed_for`` (the URL posted to)."""
        all_headers = dict(headers or {})
        if sign:
            all_headers["X-Twilio-Signature"] = signature(signed_for or self.webhook, form, token)
        async with aiohttp.ClientSession() as session:
            async with session.post(self.webhook, data=form, headers=all_headers) as resp:
                return resp.status


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilio]:
    twilio = FakeTwilio().start()
    monkeypatch.setenv("TWILIO_API_BASE", twilio.url)
    try:
        yield twilio
    finally:
        twilio.stop()


def channel(**options: Any) -> PersonaTwilioInput:
    credentials = {"account_sid": ACCOUNT_SID, "auth_token": TEST_AUTH_TOKEN, "twilio_number": TWILIO_NUMBER}
    return PersonaTwilioInput.from_credentials({**credentials, **options})


StartServer = Callable[..., Awaitable[Server]]


@pytest.fixture
async def start_server(fake: FakeTwilio, rasa_domain: Domain) -> AsyncIterator[StartServer]:
    """Starts Sanic with the channel mounted as Rasa mounts it (``/webhooks/twilio``)."""
    servers: list[Any] = []

    async def start(**options: Any) -> Server:
        Sanic.test_mode = True
        app = Sanic(f"twilio_test_{uuid.uuid4().hex}")
        agent = _Agent(InMemoryTrackerStore(rasa_domain))
        app.ctx.agent = agent
        register([channel(**options)], app, route="/webhooks/")
        port = _free_port()
        server = await app.create_server(
            host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
        )
        assert server is not None
        await server.startup()
        await server.start_serving()
        servers.append(server)
        return Server(f"http://127.0.0.1:{port}", agent, fake)

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def save_language(server: Server, sender: str, language: str, domain: Domain) -> None:
    tracker = DialogueStateTracker.from_events(sender, [SlotSet("language", language)], slots=domain.slots)
    await server.agent.tracker_store.save(tracker)


# --- signatures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "how",
    ["unsigned", "wrong token", "signed for another URL", "form changed after signing", "empty signature"],
)
async def test_a_request_without_twilios_signature_gets_a_403_and_reaches_nobody(
    start_server: StartServer, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    server = await start_server()
    form = inbound_form(SMS_SENDER, "My card 4539 1488 0343 6467 was stolen")
    caplog.set_level(logging.INFO)
    if how == "unsigned":
        status = await server.post(form, sign=False)
    elif how == "wrong token":
        status = await server.post(form, token="not-the-token")
    elif how == "signed for another URL":
        status = await server.post(form, signed_for="https://elsewhere.example" + WEBHOOK_PATH)
    elif how == "empty signature":
        status = await server.post(form, sign=False, headers={"X-Twilio-Signature": ""})
    else:
        good = signature(server.webhook, form)
        status = await server.post(
            {**form, "Body": "changed"}, sign=False, headers={"X-Twilio-Signature": good}
        )
    assert status == 403
    assert server.agent.received == [] and server.fake.messages == []
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "twilio.signature_rejected" in logged
    assert SMS_SENDER not in logged and "stolen" not in logged and "4539" not in logged


async def test_a_signed_request_reaches_the_assistant_and_is_answered(start_server: StartServer) -> None:
    server = await start_server()
    assert await server.post(inbound_form(SMS_SENDER, "my card has not arrived")) == 204
    [message] = server.agent.received
    assert (message.text, message.sender_id, message.input_channel) == (
        "my card has not arrived",
        SMS_SENDER,
        "twilio",
    )
    assert message.metadata == {"channel": "twilio", "phone": SMS_SENDER}
    assert server.fake.sent_to(SMS_SENDER) == ["Hello from the bank."]
    assert server.fake.records_to(SMS_SENDER)[0]["from"] == TWILIO_NUMBER


async def test_the_signature_covers_empty_fields_and_the_query_string(start_server: StartServer) -> None:
    server = await start_server()
    form = inbound_form(WA_SENDER, "", media=[media_url()])
    assert form["Body"] == ""
    assert await server.post(form) == 204, "Body= is part of what Twilio signs"
    query_url = server.webhook + "?tenant=uk"
    form = inbound_form(SMS_SENDER, "hello")
    async with aiohttp.ClientSession() as session:
        headers = {"X-Twilio-Signature": signature(query_url, form)}
        async with session.post(query_url, data=form, headers=headers) as resp:
            assert resp.status == 204
        headers = {"X-Twilio-Signature": signature(server.webhook, form)}
        async with session.post(query_url, data=form, headers=headers) as resp:
            assert resp.status == 403, "the query string is signed too"


@pytest.mark.parametrize("trusted", [True, False])
async def test_forwarded_headers_count_only_when_the_proxy_is_trusted(
    start_server: StartServer, trusted: bool
) -> None:
    server = await start_server(trust_proxy=trusted)
    proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "bank.example"}
    form = inbound_form(SMS_SENDER, "hello")
    assert await server.post(form, signed_for=PUBLIC_URL, headers=proxy) == (204 if trusted else 403)
    assert await server.post(form, headers=proxy) == (403 if trusted else 204), (
        "trusted: the URL is the public one, not the one the proxy called"
    )


async def test_the_configured_webhook_url_is_the_one_signed(start_server: StartServer) -> None:
    server = await start_server(webhook_url=PUBLIC_URL, trust_proxy="false")
    form = inbound_form(SMS_SENDER, "hello")
    assert await server.post(form, signed_for=PUBLIC_URL) == 204
    assert await server.post(form) == 403
    spoofed = {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "127.0.0.1"}
    assert await server.post(form, headers=spoofed) == 403


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"auth_token": None}, "'auth_token'"),
        ({"auth_token": ""}, "'auth_token'"),
        ({"account_sid": None}, "'account_sid'"),
        ({"twilio_number": " "}, "'twilio_number'"),
        ({"webhook_url": "/webhooks/twilio/webhook"}, "'webhook_url'"),
        ({"trust_proxy": "maybe"}, "'trust_proxy'"),
        ({"whatsapp_template_sid": "my-template"}, "'whatsapp_template_sid'"),
    ],
)
def test_the_channel_refuses_to_start_with_bad_credentials(options: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        channel(**options)


def test_the_channel_reads_its_options() -> None:
    twilio = channel(webhook_url=PUBLIC_URL, trust_proxy="true", whatsapp_template_sid=TEMPLATE_SID)
    assert (twilio.webhook_url, twilio.trust_proxy) == (PUBLIC_URL, True)
    assert twilio.get_output_channel().whatsapp_template_sid == TEMPLATE_SID
    empty = channel(webhook_url="", trust_proxy="", whatsapp_template_sid="")  # unset ${…}
    assert (empty.webhook_url, empty.trust_proxy, empty.whatsapp_template_sid) == (None, False, None)


# --- photos, empty messages, malformed forms -------------------------------------------------


@pytest.mark.parametrize("sender", [WA_SENDER, SMS_SENDER])
async def test_a_photo_alone_gets_the_text_only_answer_and_reaches_no_nlu(
    start_server: StartServer, sender: str
) -> None:
    server = await start_server()
    form = inbound_form(sender, "", media=[media_url(), media_url("application/pdf")])
    assert await server.post(form) == 204
    assert server.agent.received == []
    assert server.fake.sent_to(sender) == [MEDIA_ONLY["en"]]
    assert "photos of your card" in MEDIA_ONLY["en"]


async def test_a_photo_without_a_body_field_is_answered_too(start_server: StartServer) -> None:
    server = await start_server()
    form = inbound_form(WA_SENDER, None, media=[media_url()])
    assert await server.post(form) == 204
    assert server.fake.sent_to(WA_SENDER) == [MEDIA_ONLY["en"]]


async def test_the_photo_answer_speaks_the_conversations_language(
    start_server: StartServer, rasa_domain: Domain
) -> None:
    server = await start_server()
    await save_language(server, WA_SENDER, "es", rasa_domain)
    assert await server.post(inbound_form(WA_SENDER, "", media=[media_url()])) == 204
    assert server.fake.sent_to(WA_SENDER) == [MEDIA_ONLY["es"]]
    assert await server.post(inbound_form(WA_SENDER, " ")) == 204
    assert server.fake.sent_to(WA_SENDER)[-1] == EMPTY_MESSAGE["es"]


async def test_a_photo_with_text_gets_the_notice_then_the_answer(start_server: StartServer) -> None:
    server = await start_server()
    form = inbound_form(WA_SENDER, "is this my card?", media=[media_url()])
    assert await server.post(form) == 204
    assert [m.text for m in server.agent.received] == ["is this my card?"]
    assert server.fake.sent_to(WA_SENDER) == [MEDIA_WITH_TEXT["en"], "Hello from the bank."]


@pytest.mark.parametrize("body", ["", "   ", "\n"])
async def test_an_empty_message_gets_a_prompt_not_an_error(start_server: StartServer, body: str) -> None:
    server = await start_server()
    assert await server.post(inbound_form(SMS_SENDER, body)) == 204
    assert server.agent.received == []
    assert server.fake.sent_to(SMS_SENDER) == [EMPTY_MESSAGE["en"]]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"Body": None}, 400),
        ({"From": None}, 400),
        ({"From": "not-a-number"}, 400),
        ({"NumMedia": "many", "Body": ""}, 204),
    ],
)
async def test_malformed_forms_get_a_400_once_signed(
    start_server: StartServer, change: dict[str, str | None], status: int
) -> None:
    server = await start_server()
    form = {**inbound_form(SMS_SENDER, "hi")}
    for key, value in change.items():
        if value is None:
            form.pop(key)
        else:
            form[key] = value
    assert await server.post(form) == status
    assert server.agent.received == []


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("¡Hola! Mi correo es ana¡example.com", "¡Hola! Mi correo es ana@example.com"),
        ("¿Dónde está mi tarjeta? ¡Ayuda!", "¿Dónde está mi tarjeta? ¡Ayuda!"),
    ],
)
async def test_a_corrupted_at_sign_is_repaired_and_spanish_exclamations_are_kept(
    start_server: StartServer, body: str, text: str
) -> None:
    server = await start_server()
    assert await server.post(inbound_form(SMS_SENDER, body)) == 204
    assert [m.text for m in server.agent.received] == [text]


# --- sending ----------------------------------------------------------------------------------


def output(**options: Any) -> PersonaTwilioOutput:
    return PersonaTwilioOutput(ACCOUNT_SID, TEST_AUTH_TOKEN, TWILIO_NUMBER, retry_delay=0, **options)


async def test_a_send_refused_with_429_or_5xx_is_tried_once_more(fake: FakeTwilio) -> None:
    fake.fail_next(503, 20500)
    await output().send_text_message(SMS_SENDER, "Your card is on its way.")
    assert fake.sent_to(SMS_SENDER) == ["Your card is on its way."] and fake.requests == 2


@pytest.mark.parametrize(("status", "code", "requests"), [(429, 20429, 2), (500, 20500, 2), (400, 21211, 1)])
async def test_a_failed_send_logs_twilios_code_never_the_text(
    fake: FakeTwilio, caplog: pytest.LogCaptureFixture, status: int, code: int, requests: int
) -> None:
    fake.fail_next(status, code, times=2)
    out = output()
    caplog.set_level(logging.INFO, logger="bot.rasa.channels")
    await out.send_text_message(SMS_SENDER, "Your secret reference is CB-7KM3QZ.")
    assert fake.sent_to(SMS_SENDER) == [] and fake.requests == requests and out.failures == 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"twilio.send_failed status={status} code={code}" in logged
    assert "CB-7KM3QZ" not in logged and SMS_SENDER not in logged


async def test_sends_run_off_the_event_loop(fake: FakeTwilio, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    threads: list[str] = []
    original = asyncio.to_thread

    async def spy(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        threads.append(getattr(func, "__qualname__", ""))
        return await original(func, *args, **kwargs)

    monkeypatch.setattr("bot.rasa.channels.asyncio.to_thread", spy)
    await output().send_text_message(SMS_SENDER, "First part.\n\nSecond part.")
    assert fake.sent_to(SMS_SENDER) == ["First part.", "Second part."]
    assert len(threads) == 2 and all("create" in name for name in threads)


async def test_each_sms_part_logs_its_segments(fake: FakeTwilio, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.rasa.channels")
    await output().send_text_message(SMS_SENDER, "Hello.\n\n¿Cuándo llegará mi tarjeta?")
    logged = [r.getMessage() for r in caplog.records if "twilio.sms_sent" in r.getMessage()]
    assert len(logged) == 2
    assert "segments=1 encoding=GSM-7" in logged[0] and "segments=1 encoding=UCS-2" in logged[1]


async def test_a_long_pushed_sms_is_cut_within_the_segment_limit(fake: FakeTwilio) -> None:
    text = " ".join(f"Él está aquí número {i}." for i in range(30))  # á/í/ú: UCS-2
    await output().send_text_message(SMS_SENDER, text)
    parts = fake.sent_to(SMS_SENDER)
    assert len(parts) > 1 and " ".join(parts) == text
    assert all(sms_length(p).segments <= SMS_MAX_SEGMENTS for p in parts)


async def test_a_pushed_sms_gets_gsm_punctuation_and_whatsapp_keeps_it(fake: FakeTwilio) -> None:
    text = "Your adviser – Sam – says: “all done”."
    await output().send_response(SMS_SENDER, {"text": text})
    await output().send_response(WA_SENDER, {"text": text})
    assert fake.sent_to(SMS_SENDER) == ['Your adviser - Sam - says: "all done".']
    assert fake.sent_to(WA_SENDER) == [text]


async def test_whatsapp_is_sent_from_the_whatsapp_number(fake: FakeTwilio) -> None:
    await output().send_text_message(WA_SENDER, "Hola")
    await output().send_text_message(SMS_SENDER, "Hello")
    assert fake.records_to(WA_SENDER)[0]["from"] == "whatsapp:" + TWILIO_NUMBER
    assert fake.records_to(SMS_SENDER)[0]["from"] == TWILIO_NUMBER


async def test_buttons_pushed_outside_a_turn_become_numbered_options_in_their_language(
    fake: FakeTwilio,
) -> None:
    buttons = [{"title": "Sí", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    await output().send_response(WA_SENDER, {"text": "¿Le llamamos?", "buttons": buttons, "language": "es"})
    assert fake.sent_to(WA_SENDER) == ["¿Le llamamos?", "Responda con un número:\n1. Sí\n2. No"]


# --- WhatsApp's 24-hour window ----------------------------------------------------------------

HOUR = 3600.0


async def test_inside_the_window_whatsapp_gets_free_text(fake: FakeTwilio) -> None:
    now = time.time()
    await output(clock=lambda: now).send_response(
        WA_SENDER, {"text": "An adviser replied.", "last_customer_message_at": now - 23 * HOUR}
    )
    [record] = fake.records_to(WA_SENDER)
    assert record["body"] == "An adviser replied." and "content_sid" not in record


async def test_outside_the_window_the_approved_template_is_sent(fake: FakeTwilio) -> None:
    now = time.time()
    out = output(clock=lambda: now, whatsapp_template_sid=TEMPLATE_SID)
    text = "Your callback is booked.\n\nReference CB-7KM3QZ."
    await out.send_response(WA_SENDER, {"text": text, "last_customer_message_at": now - 25 * HOUR})
    [record] = fake.records_to(WA_SENDER)
    assert record["content_sid"] == TEMPLATE_SID and record["body"] == ""
    assert json.loads(record["content_variables"]) == {"1": "Your callback is booked. Reference CB-7KM3QZ."}
    assert record["from"] == "whatsapp:" + TWILIO_NUMBER


async def test_outside_the_window_without_a_template_nothing_is_sent_and_the_caller_knows(
    fake: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    now = time.time()
    caplog.set_level(logging.INFO, logger="bot.rasa.channels")
    with pytest.raises(DeliveryRefused, match="24 hours"):
        await output(clock=lambda: now).send_response(
            WA_SENDER, {"text": "An adviser replied.", "last_customer_message_at": now - 25 * HOUR}
        )
    assert fake.messages == []
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage().startswith("twilio.whatsapp_window_closed")
    assert "adviser" not in warning.getMessage()


async def test_sms_has_no_window(fake: FakeTwilio) -> None:
    now = time.time()
    await output(clock=lambda: now).send_response(
        SMS_SENDER, {"text": "An adviser replied.", "last_customer_message_at": now - 72 * HOUR}
    )
    assert fake.sent_to(SMS_SENDER) == ["An adviser replied."]


async def test_a_pushed_message_twilio_refuses_raises_delivery_refused(fake: FakeTwilio) -> None:
    fake.fail_next(400, 21610)  # the customer replied STOP
    now = time.time()
    with pytest.raises(DeliveryRefused):
        await output(clock=lambda: now).send_response(
            SMS_SENDER, {"text": "An adviser replied.", "last_customer_message_at": now - HOUR}
        )
    fake.fail_next(400, 21610)
    await output().send_response(SMS_SENDER, {"text": "An answer in a turn."})  # only logged


# --- SMS encodings and segments ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("Your new card is on its way.", "GSM-7", 28, 1),
        ("x" * 160, "GSM-7", 160, 1),
        ("x" * 161, "GSM-7", 161, 2),
        ("x" * 306, "GSM-7", 306, 2),
        ("x" * 307, "GSM-7", 307, 3),
        ("The fee is €5 [see terms]", "GSM-7", 28, 1),  # € [ ] from the extension table: 2 each
        ("€" * 80, "GSM-7", 160, 1),
        ("€" * 81, "GSM-7", 162, 2),
        ("x" * 152 + "€" + "x" * 10, "GSM-7", 164, 2),  # the escaped € is not split
        ("España: mañana, señor. Müller, à demain, café", "GSM-7", 45, 1),  # ñ ü à é are GSM-7
        ("¿Dónde está mi tarjeta? ¡Ayuda!", "UCS-2", 31, 1),  # ¿ ¡ are GSM-7, ó á are not
        ("¿Cuándo llegará mi tarjeta?", "UCS-2", 27, 1),
        ("Ça marche", "GSM-7", 9, 1),  # capital Ç is in the alphabet
        ("Reçu, merci", "UCS-2", 11, 1),  # small ç is not
        ("Vous êtes prêt", "UCS-2", 14, 1),
        ("ó" * 70, "UCS-2", 70, 1),
        ("ó" * 71, "UCS-2", 71, 2),
        ("ó" * 134, "UCS-2", 134, 2),
        ("ó" * 135, "UCS-2", 135, 3),
        ("Card frozen 👍", "UCS-2", 14, 1),  # the emoji is a surrogate pair: 2 units
        ("👍" * 35, "UCS-2", 70, 1),
        ("ó" * 66 + "👍" + "ó", "UCS-2", 69, 1),
        ("ó" * 66 + "👍" + "ó" * 4, "UCS-2", 72, 2),
        ("ó" * 66 + "👍" + "ó" * 67, "UCS-2", 135, 3),  # the pair is not split: 66 | 2+65 | 2
    ],
)
def test_sms_length(text: str, encoding: str, units: int, segments: int) -> None:
    length = sms_length(text)
    assert (length.encoding, length.units, length.segments) == (encoding, units, segments)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Your card – the one ending 1234 – is frozen. You’ll get a new one… soon."),
        ("fr", "Ouvrez l’onglet «\u00a0Cartes\u00a0» et appuyez sur «\u00a0Geler\u00a0»\u00a0: c’est fait."),
    ],
)
def test_typographic_punctuation_does_not_turn_an_sms_into_ucs2(language: str, text: str) -> None:
    sms = format_message({"text": text}, fmt="sms", language=language)["text"]
    assert sms_length(sms).encoding == "GSM-7", sms
    whatsapp = format_message({"text": text}, fmt="whatsapp", language=language)["text"]
    assert whatsapp == text, "WhatsApp keeps the typography"


def test_sms_parts_are_limited_by_segments_not_characters() -> None:
    english = " ".join(f"Sentence {i} is plain." for i in range(40))
    spanish = " ".join(f"Frase número {i} aquí." for i in range(40))
    for text, longest in ((english, 306), (spanish, 134)):
        parts = split_sms(text)
        assert " ".join(parts) == text
        assert all(sms_length(p).segments <= SMS_MAX_SEGMENTS for p in parts)
        assert max(len(p) for p in parts) <= longest
    assert max(len(p) for p in split_sms(english)) > 250, "GSM-7 parts are not cut at UCS-2 size"
