"""Twilio (SMS and WhatsApp) channel that understands numbered options.

``credentials.yml``::

    bot.rasa.channels.PersonaTwilioInput:
      account_sid: ${TWILIO_ACCOUNT_SID}
      auth_token: ${TWILIO_AUTH_TOKEN}
      twilio_number: ${TWILIO_NUMBER}
      # optional:
      webhook_url: ${TWILIO_WEBHOOK_URL}      # the URL set in Twilio's console
      trust_proxy: false                      # rebuild the URL from X-Forwarded-*
      whatsapp_template_sid: ${TWILIO_WHATSAPP_TEMPLATE_SID}

Differences from Rasa's ``twilio`` channel (same webhook: ``/webhooks/twilio/webhook``):

- **Signed requests only.** Every webhook request's ``X-Twilio-Signature`` is checked
  with the auth token against the URL Twilio called and the form exactly as posted; a
  missing or wrong signature gets a 403 before anything else is read. The URL is
  ``webhook_url`` when set (behind a proxy that changes the path, set it to the URL in
  Twilio's console), else the one the request came to, with the scheme and host of
  ``X-Forwarded-Proto`` / ``X-Forwarded-Host`` when ``trust_proxy`` is true. The channel
  does not start without ``account_sid``, ``auth_token`` and ``twilio_number``.
- **Photos and empty messages** never reach the NLU: a message with media gets a short
  answer that only text is read (and no photos of cards or documents should be sent
  here) — its text, if any, is then answered as usual — and an empty one a short prompt,
  in the conversation's language (``language`` slot; English for a new conversation).
- A '¡' inside a word ("ana¡example.com", how some carriers deliver '@') becomes '@'; a
  Spanish '¡' at the start of a word stays (Rasa's channel replaced every '¡').
- A numeric reply ("2") to a message with buttons becomes that button's payload, so
  the numbered options the NLG writes into SMS and WhatsApp texts work like buttons;
  buttons are not sent again as separate messages.
- A webhook without ``From``, or without ``Body`` and media, or whose ``From`` is not a
  phone number, gets a 400 instead of an error.
- **Sending** runs Twilio's blocking REST client in a worker thread; a send refused with
  429 or 5xx (or cut off) is tried once more, then the Twilio error code is logged (never
  the text). Every SMS part fits in ``SMS_MAX_SEGMENTS`` segments of its encoding
  (``bot.wording.formatting.sms_length``) and its segments are logged; WhatsApp messages
  are sent from the ``whatsapp:`` form of the number.
- **WhatsApp's 24-hour window**: a message pushed outside a turn (a staff reply, a
  confirmation) carries ``last_customer_message_at`` (Unix time) in the message given to
  ``send_response``. More than 24 hours after it, free text cannot be sent on WhatsApp:
  the approved template ``whatsapp_template_sid`` is sent instead (Twilio's Content API,
  the message text on one line as its variable ``{{1}}``, or the message's own
  ``template_variables``), and without a template nothing is sent, the warning
  ``twilio.whatsapp_window_closed`` is logged and ``bot.core.channels.DeliveryRefused``
  is raised. A pushed message that Twilio refuses also raises ``DeliveryRefused``; within
  a turn, failures are only logged (the conversation goes on). SMS has no window.
- ``TWILIO_API_BASE`` (optional) points the REST client at another base URL than
  ``https://api.twilio.com`` (a regional edge, a proxy, or a fake in tests).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, response
from sanic.headers import parse_content_header
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator

from bot.core.channels import WHATSAPP_PREFIX, DeliveryRefused
from bot.wording.formatting import (
    LIMITS,
    SMS_MAX_SEGMENTS,
    gsm_punctuation,
    map_numeric_reply,
    numbered_options,
    sms_length,
    split_sms,
    split_text,
)

logger = logging.getLogger(__name__)
TWILIO_API = "https://api.twilio.com"
API_BASE_ENV = "TWILIO_API_BASE"
SIGNATURE_HEADER = "X-Twilio-Signature"
# What Twilio sends as ``From``: an E.164 number, for WhatsApp with its prefix.
TWILIO_ADDRESS = re.compile(r"^(whatsapp:)?\+?[0-9]{6,15}$")
WHATSAPP_WINDOW_SECONDS = 24 * 3600
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRY_DELAY = 1.0
# WhatsApp template variables are one line; Meta limits a template's body to 1,024.
MAX_TEMPLATE_VARIABLE_CHARS = 900
DEFAULT_LANGUAGE = "en"
MEDIA_ONLY = {
    "en": "Sorry, I can only read text, not photos or files. Please never send photos of your "
    "card or documents here: just type your question.",
    "es": "Lo siento, solo puedo leer texto, no fotos ni archivos. Por favor, no envíe nunca fotos "
    "de su tarjeta ni de documentos por aquí: escriba su pregunta.",
    "fr": "Désolé, je ne peux lire que du texte, pas les photos ni les fichiers. N'envoyez jamais "
    "de photo de votre carte ou de vos documents ici : écrivez simplement votre question.",
}
MEDIA_WITH_TEXT = {
    "en": "I can only read your text, not the photo or file. Please never send photos of your "
    "card or documents here.",
    "es": "Solo puedo leer su texto, no la foto ni el archivo. Por favor, no envíe nunca fotos de "
    "su tarjeta ni de documentos por aquí.",
    "fr": "Je ne peux lire que votre texte, pas la photo ni le fichier. N'envoyez jamais de photo "
    "de votre carte ou de vos documents ici.",
}
EMPTY_MESSAGE = {
    "en": "Your message was empty. What can I help you with?",
    "es": "Su mensaje llegó vacío. ¿En qué puedo ayudarle?",
    "fr": "Votre message était vide. En quoi puis-je vous aider ?",
}
# Some carriers turn '@' into '¡' in SMS; a Spanish '¡' starts a word, an address's '@' never.
_CORRUPTED_AT = re.compile(r"(?<=[\w.-])¡(?=[\w-])")
TEMPLATE_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")
_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off", "")


class _RebasedHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Twilio's HTTP client with a timeout, sending to ``base_url`` instead of Twilio's."""

    def __init__(self, base_url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, TwilioRestException):
        return bool(exc.status == 429 or exc.status >= 500)
    return isinstance(exc, (requests.ConnectionError, requests.Timeout))


def _error_code(exc: Exception) -> str:
    if isinstance(exc, TwilioRestException):
        return f"status={exc.status} code={exc.code}"
    return f"error={type(exc).__name__}"


def _one_line(text: str, limit: int = MAX_TEMPLATE_VARIABLE_CHARS) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


class PersonaTwilioOutput(TwilioOutput):
    """Sends SMS and WhatsApp messages through Twilio's REST API (see the module doc)."""

    def __init__(
        self,
        account_sid: str | None,
        auth_token: str | None,
        twilio_number: str | None,
        *,
        whatsapp_template_sid: str | None = None,
        retry_delay: float = DEFAULT_RETRY_DELAY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number)
        self.http_client = _RebasedHttpClient(os.environ.get(API_BASE_ENV) or TWILIO_API)
        self.whatsapp_template_sid = whatsapp_template_sid
        self.retry_delay = retry_delay
        self.clock = clock
        self.failures = 0  # sends that failed after their retry

    def in_whatsapp_window(self, last_customer_message_at: float) -> bool:
        return self.clock() - float(last_customer_message_at) < WHATSAPP_WINDOW_SECONDS

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Send ``message``; one pushed outside a turn carries ``last_customer_message_at``.

        Raises:
            DeliveryRefused: a pushed message cannot be sent (WhatsApp outside its window
                without a template) or Twilio refused it.
        """
        message = dict(message)
        last = message.pop("last_customer_message_at", None)
        template_variables = message.pop("template_variables", None)
        if last is None:
            await super().send_response(recipient_id, message)
            return
        failures = self.failures
        whatsapp = recipient_id.startswith(WHATSAPP_PREFIX)
        if whatsapp and not self.in_whatsapp_window(last):
            await self._send_template(recipient_id, message, template_variables, last)
        else:
            await super().send_response(recipient_id, message)
        if self.failures > failures:
            raise DeliveryRefused("Twilio did not accept the message (see twilio.send_failed in the log)")

    async def _send_template(
        self, recipient_id: str, message: Mapping[str, Any], variables: Any, last: float
    ) -> None:
        hours = (self.clock() - float(last)) / 3600
        if not self.whatsapp_template_sid:
            logger.warning(
                "twilio.whatsapp_window_closed hours_since_customer=%.1f template=none: not sent", hours
            )
            raise DeliveryRefused(
                "WhatsApp allows free text only within 24 hours of the customer's last message, "
                "and no approved template (whatsapp_template_sid) is configured"
            )
        if not isinstance(variables, Mapping):
            variables = {"1": _one_line(str(message.get("text") or ""))}
        data = {
            "to": recipient_id,
            "from_": self._sender_for(recipient_id),
            "content_sid": self.whatsapp_template_sid,
            "content_variables": json.dumps({str(k): str(v) for k, v in variables.items()}),
        }
        sent = await self._send_message(data)
        if sent is not None:
            logger.info(
                "twilio.whatsapp_template_sent sid=%s content_sid=%s hours_since_customer=%.1f",
                sent.sid,
                self.whatsapp_template_sid,
                hours,
            )

    def _sender_for(self, recipient_id: str) -> str | None:
        """The number to send from: its ``whatsapp:`` form for WhatsApp recipients."""
        number = str(self.twilio_number or "")
        if not number:
            return None
        bare = number[len(WHATSAPP_PREFIX) :] if number.startswith(WHATSAPP_PREFIX) else number
        return WHATSAPP_PREFIX + bare if recipient_id.startswith(WHATSAPP_PREFIX) else bare

    async def _create(self, message_data: dict[str, Any]) -> Any:
        """``messages.create`` in a worker thread, tried once more on 429, 5xx or a cut-off."""
        try:
            return await asyncio.to_thread(self.messages.create, **message_data)
        except (TwilioRestException, requests.RequestException) as exc:
            if not _retryable(exc):
                raise
            logger.warning("twilio.send_retry %s", _error_code(exc))
        await asyncio.sleep(self.retry_delay)
        return await asyncio.to_thread(self.messages.create, **message_data)

    async def _send_message(self, message_data: dict[str, Any]) -> Any:
        """The created message resource, or None when Twilio refused it (logged)."""
        try:
            return await self._create(message_data)
        except (TwilioRestException, requests.RequestException) as exc:
            self.failures += 1
            logger.error("twilio.send_failed %s", _error_code(exc))
            return None

    def _parts(self, recipient_id: str, text: str) -> list[str]:
        """The messages ``text`` is sent as: its paragraphs, each within the channel's limit."""
        parts: list[str] = []
        for paragraph in (p.strip() for p in text.strip().split("\n\n")):
            if not paragraph:
                continue
            if recipient_id.startswith(WHATSAPP_PREFIX):
                fits = len(paragraph) <= LIMITS["whatsapp"]
                parts += [paragraph] if fits else split_text(paragraph, LIMITS["whatsapp"])
            else:  # a pushed text may not have been formatted for SMS
                paragraph = gsm_punctuation(paragraph)
                fits = sms_length(paragraph).segments <= SMS_MAX_SEGMENTS
                parts += [paragraph] if fits else split_sms(paragraph)
        return parts

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Each paragraph as its own message (Rasa's Twilio channel does the same)."""
        for part in self._parts(recipient_id, text):
            data = {"to": recipient_id, "from_": self._sender_for(recipient_id), "body": part}
            sent = await self._send_message(data)
            if sent is None:
                continue
            if recipient_id.startswith(WHATSAPP_PREFIX):
                logger.info("twilio.whatsapp_sent sid=%s chars=%d", sent.sid, len(part))
            else:
                length = sms_length(part)
                logger.info(
                    "twilio.sms_sent sid=%s segments=%d encoding=%s units=%d",
                    sent.sid,
                    length.segments,
                    length.encoding,
                    length.units,
                )

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        data = {"to": recipient_id, "from_": self._sender_for(recipient_id), "media_url": [image]}
        await self._send_message(data)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        if buttons and f"1. {buttons[0].get('title')}" not in text:
            language = kwargs.get("language") or DEFAULT_LANGUAGE
            text = f"{text}\n\n{numbered_options(buttons, str(language))}"
        await self.send_text_message(recipient_id, text)


async def last_buttons(request: Request, sender: str) -> list[dict[str, Any]]:
    """Buttons of the last bot message to ``sender`` (empty when none or unknown)."""
    agent = getattr(request.app.ctx, "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return []
    tracker = await store.retrieve(sender)
    if tracker is None:
        return []
    for event in reversed(tracker.events):
        if isinstance(event, BotUttered):
            buttons = (event.data or {}).get("buttons") or []
            return [b for b in buttons if isinstance(b, dict)]
    return []


async def conversation_language(request: Request, sender: str) -> str:
    """The ``language`` slot of ``sender``'s conversation, English when unknown."""
    agent = getattr(request.app.ctx, "agent", None)
    store = getattr(agent, "tracker_store", None)
    tracker = await store.retrieve(sender) if store is not None else None
    if tracker is None or "language" not in tracker.slots:
        return DEFAULT_LANGUAGE
    language = tracker.get_slot("language")
    return language if language in MEDIA_ONLY else DEFAULT_LANGUAGE


def read_form(request: Request) -> RequestParameters | None:
    """The posted form exactly as sent, empty values kept (Twilio signs ``Body=`` too);
    empty for other content types, None when the body is not UTF-8."""
    content_type, _ = parse_content_header(request.headers.get("content-type", ""))
    if content_type != "application/x-www-form-urlencoded":
        return RequestParameters()
    try:
        return RequestParameters(parse_qs(request.body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return None


def _first_header(request: Request, name: str) -> str | None:
    value = request.headers.get(name)
    first = value.split(",")[0].strip() if value else ""
    return first or None


def _flag(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if value is None or (isinstance(value, str) and value.strip().lower() in _FALSE):
        return False
    if isinstance(value, str) and value.strip().lower() in _TRUE:
        return True
    raise ValueError(f"{key!r} must be true or false, not {value!r}")


class PersonaTwilioInput(TwilioInput):
    """The webhook Twilio calls for inbound SMS and WhatsApp messages (see the module doc)."""

    @classmethod
    def name(cls) -> str:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> PersonaTwilioInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        credentials = dict(credentials or {})
        return cls(
            credentials.get("account_sid"),
            credentials.get("auth_token"),
            credentials.get("twilio_number"),
            webhook_url=credentials.get("webhook_url") or None,
            trust_proxy=_flag(credentials.get("trust_proxy"), "trust_proxy"),
            whatsapp_template_sid=credentials.get("whatsapp_template_sid") or None,
        )

    def __init__(
        self,
        account_sid: str | None,
        auth_token: str | None,
        twilio_number: str | None,
        debug_mode: bool = True,
        *,
        webhook_url: str | None = None,
        trust_proxy: bool = False,
        whatsapp_template_sid: str | None = None,
    ) -> None:
        for key, value in (
            ("account_sid", account_sid),
            ("auth_token", auth_token),
            ("twilio_number", twilio_number),
        ):
            if not isinstance(value, str) or not value.strip():
                raise ValueError(
                    f"bot.rasa.channels.PersonaTwilioInput needs {key!r} (e.g. ${{TWILIO_{key.upper()}}})"
                    f", got {value!r}"
                )
        if whatsapp_template_sid is not None and not TEMPLATE_SID.match(whatsapp_template_sid):
            raise ValueError(
                f"'whatsapp_template_sid' must be a Content SID (HX and 32 hex digits), "
                f"not {whatsapp_template_sid!r}"
            )
        if webhook_url is not None:
            parts = urlsplit(webhook_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"'webhook_url' must be an absolute http(s) URL, not {webhook_url!r}")
        super().__init__(account_sid, auth_token, twilio_number, debug_mode)
        self.webhook_url = webhook_url
        self.trust_proxy = trust_proxy
        self.whatsapp_template_sid = whatsapp_template_sid
        self.validator = RequestValidator(auth_token)

    def get_output_channel(self) -> PersonaTwilioOutput:
        return PersonaTwilioOutput(
            self.account_sid,
            self.auth_token,
            self.twilio_number,
            whatsapp_template_sid=self.whatsapp_template_sid,
        )

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        """The channel and the number the customer writes from (``whatsapp:`` kept)."""
        form = read_form(request) or RequestParameters()
        sender = form.get("From")
        return {"channel": self.name(), "phone": sender} if sender else None

    def public_url(self, request: Request) -> str:
        """The URL Twilio called, which its signature covers (see the module doc)."""
        if self.webhook_url:
            return self.webhook_url
        scheme, host = request.scheme, request.host
        if self.trust_proxy:
            scheme = _first_header(request, "X-Forwarded-Proto") or scheme
            host = _first_header(request, "X-Forwarded-Host") or host
        query = f"?{request.query_string}" if request.query_string else ""
        return f"{scheme}://{host}{request.path}{query}"

    def is_signed(self, request: Request, form: RequestParameters | None) -> bool:
        """Whether the request carries Twilio's signature of its URL and form (logged if not)."""
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            reason = "missing"
        elif form is None:
            reason = "undecodable_body"
        elif self.validator.validate(self.public_url(request), form, signature):
            return True
        else:
            reason = "mismatch"
        logger.warning("twilio.signature_rejected reason=%s", reason)
        return False

    async def _reply(self, request: Request, sender: str, texts: Mapping[str, str]) -> None:
        language = await conversation_language(request, sender)
        await self.get_output_channel().send_text_message(sender, texts[language])

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("persona_twilio_webhook", __name__)

        @webhook.route("/", methods=["GET"])  # type: ignore[untyped-decorator]
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])  # type: ignore[untyped-decorator]
        async def message(request: Request) -> HTTPResponse:
            form = read_form(request)
            if form is None or not self.is_signed(request, form):
                return response.json({"error": "a valid X-Twilio-Signature is required"}, status=403)
            sender, text = form.get("From"), form.get("Body")
            try:
                media = max(int(form.get("NumMedia") or 0), 0)
            except ValueError:
                media = 0
            lat, lon = form.get("Latitude"), form.get("Longitude")
            if lat and lon:
                text = f"/locationData{{'Latitude': {lat},'Longitude': {lon}}}"
            if not sender or (text is None and not media):
                return response.json({"error": "form fields 'From' and 'Body' are required"}, status=400)
            if not TWILIO_ADDRESS.match(sender):
                return response.json({"error": "'From' must be a phone number"}, status=400)
            channel = "whatsapp" if sender.startswith(WHATSAPP_PREFIX) else "sms"
            has_text = bool((text or "").strip())
            if media:
                logger.info("twilio.media_received channel=%s count=%d text=%s", channel, media, has_text)
                await self._reply(request, sender, MEDIA_WITH_TEXT if has_text else MEDIA_ONLY)
            if not has_text:
                if not media:
                    logger.info("twilio.empty_message channel=%s", channel)
                    await self._reply(request, sender, EMPTY_MESSAGE)
                return response.text("", status=204)
            text = _CORRUPTED_AT.sub("@", str(text))
            payload = map_numeric_reply(text, await last_buttons(request, sender))
            if payload is not None:
                logger.info("twilio.numeric_reply sender=%s reply=%r payload=%s", sender, text, payload)
                text = payload
            await on_new_message(
                UserMessage(
                    text,
                    self.get_output_channel(),
                    sender,
                    input_channel=self.name(),
                    metadata={"channel": self.name(), "phone": sender},
                )
            )
            return response.text("", status=204)

        return webhook
