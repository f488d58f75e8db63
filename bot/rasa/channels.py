"""Twilio (SMS and WhatsApp) channel that understands numbered options.

``credentials.yml``::

    bot.rasa.channels.PersonaTwilioInput:
      account_sid: ${TWILIO_ACCOUNT_SID}
      auth_token: ${TWILIO_AUTH_TOKEN}
      twilio_number: ${TWILIO_NUMBER}

Differences from Rasa's ``twilio`` channel (same webhook: ``/webhooks/twilio/webhook``):

- A numeric reply ("2") to a message with buttons becomes that button's payload, so
  the numbered options the NLG writes into SMS and WhatsApp texts work like buttons.
- Buttons are not sent again as separate messages: the text already lists them.
- A webhook without ``From`` or ``Body``, or whose ``From`` is not a phone number, gets a
  400 instead of an error.
- ``TWILIO_API_BASE`` (optional) points the REST client at another base URL than
  ``https://api.twilio.com`` (a regional edge, a proxy, or a fake in tests).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse

from bot.wording.formatting import map_numeric_reply, numbered_options

logger = logging.getLogger(__name__)
TWILIO_API = "https://api.twilio.com"
API_BASE_ENV = "TWILIO_API_BASE"
# What Twilio sends as ``From``: an E.164 number, for WhatsApp with its prefix.
TWILIO_ADDRESS = re.compile(r"^(whatsapp:)?\+?[0-9]{6,15}$")


class _RebasedHttpClient(TwilioHttpClient):  # type: ignore[misc]
    def __init__(self, base_url: str) -> None:
        super().__init__(timeout=30)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


class PersonaTwilioOutput(TwilioOutput):
    def __init__(self, account_sid: str | None, auth_token: str | None, twilio_number: str | None) -> None:
        super().__init__(account_sid, auth_token, twilio_number)
        base = os.environ.get(API_BASE_ENV)
        if base:
            self.http_client = _RebasedHttpClient(base)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        if buttons and f"1. {buttons[0].get('title')}" not in text:
            text = f"{text}\n\n{numbered_options(buttons, 'en')}"
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


class PersonaTwilioInput(TwilioInput):
    @classmethod
    def name(cls) -> str:
        return "twilio"

    def get_output_channel(self) -> PersonaTwilioOutput:
        return PersonaTwilioOutput(self.account_sid, self.auth_token, self.twilio_number)

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        """The channel and the number the customer writes from (``whatsapp:`` kept)."""
        sender = request.form.get("From")
        return {"channel": self.name(), "phone": sender} if sender else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("persona_twilio_webhook", __name__)

        @webhook.route("/", methods=["GET"])  # type: ignore[untyped-decorator]
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])  # type: ignore[untyped-decorator]
        async def message(request: Request) -> HTTPResponse:
            sender = request.form.get("From")
            text = request.form.get("Body")
            if self._is_location_message(request):
                lat, lon = request.form.get("Latitude"), request.form.get("Longitude")
                text = f"/locationData{{'Latitude': {lat},'Longitude': {lon}}}"
            if not sender or text is None:
                return response.json({"error": "form fields 'From' and 'Body' are required"}, status=400)
            if not TWILIO_ADDRESS.match(sender):
                return response.json({"error": "'From' must be a phone number"}, status=400)
            text = text.replace("¡", "@")  # some carriers corrupt '@' in SMS
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
                    metadata=self.get_metadata(request),
                )
            )
            return response.text("", status=204)

        return webhook
