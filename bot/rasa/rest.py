"""Rasa's REST channel with its input checked and its senders rate-limited.

``credentials.yml``::

    bot.rasa.rest.CheckedRestInput:
      per_minute: 60        # messages a sender may send a minute (burst: capacity)
      capacity: 20
      ip_per_minute: 300    # requests one address may make a minute (burst: ip_capacity);
      ip_capacity: 60       # loopback (the website relay, staff tools) is not limited

Same URL and answers as Rasa's ``rest`` channel (``/webhooks/rest/webhook``), but a body
that is not ``{"sender": "...", "message": "..."}`` — empty, ``[]``, ``null``, not JSON, a
sender id that is not a short string, a message longer than ``MAX_MESSAGE_CHARS``,
metadata that is not an object — gets a 400 (413 for a too-long message) saying what is
wrong, instead of a 500 from inside Rasa. Too many messages from one sender or one address
get a 429 with ``Retry-After``. The customer is who a valid metadata ``identity_token``
says (``bot.core.identity``); a plain ``customer_id`` in the metadata is dropped. A
failure while handling a valid message is logged without
the customer's text and answered with a 500 that reveals nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.core.identity import identity_key, looks_like_session_id, verified_metadata
from bot.core.limits import MAX_MESSAGE_CHARS, MAX_SENDER_CHARS, RateLimiter
from bot.core.redaction import redact

logger = logging.getLogger(__name__)
# Our own processes on this machine (the website relay) speak for many customers.
LOOPBACK = frozenset({"127.0.0.1", "::1"})
# Conversation ids the other channels own: a Telegram chat, an SMS/WhatsApp number. A REST
# client may not write into (and read the answers of) another channel's conversation.
OTHER_CHANNEL_IDS = re.compile(r"^(-?[0-9]+|(whatsapp:)?\+?[0-9 ]{6,20})$")


def read_message(body: Any) -> tuple[str, str, dict[str, Any] | None] | str:
    """(sender, message, metadata) from a REST body, or what is wrong with it."""
    if not isinstance(body, dict):
        return "the body must be a JSON object with 'sender' and 'message'"
    sender, message, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str) or not sender.strip():
        return "'sender' must be a non-empty string"
    if len(sender) > MAX_SENDER_CHARS or not sender.isprintable():
        return f"'sender' must be at most {MAX_SENDER_CHARS} printable characters"
    if redact(sender).kinds:
        return "'sender' must not hold card data"
    if OTHER_CHANNEL_IDS.match(sender) or looks_like_session_id(sender):
        return "'sender' must not be a Telegram chat, a phone number or a widget session"
    if not isinstance(message, str):
        return "'message' must be a string"
    if metadata is not None and not isinstance(metadata, dict):
        return "'metadata' must be an object"
    return sender, message, metadata


class CheckedRestInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> CheckedRestInput:
        credentials = credentials or {}
        return cls(
            per_minute=float(credentials.get("per_minute", 60)),
            capacity=int(credentials.get("capacity", 20)),
            ip_per_minute=float(credentials.get("ip_per_minute", 300)),
            ip_capacity=int(credentials.get("ip_capacity", 60)),
        )

    def __init__(
        self, *, per_minute: float = 60, capacity: int = 20, ip_per_minute: float = 300, ip_capacity: int = 60
    ) -> None:
        self.senders = RateLimiter(per_minute=per_minute, capacity=capacity)
        self.addresses = RateLimiter(per_minute=ip_per_minute, capacity=ip_capacity)
        self.identity_key = identity_key()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("checked_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])  # type: ignore[untyped-decorator]
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])  # type: ignore[untyped-decorator]
        async def receive(request: Request) -> HTTPResponse:
            if request.ip not in LOOPBACK:
                address = self.addresses.check(request.ip or "unknown")
                if not address.allowed:
                    return _too_many(address.retry_after)
            try:
                body = request.json
            except Exception:  # Sanic's BadRequest subclasses; RecursionError on deep nesting
                return response.json({"error": "the body must be JSON"}, status=400)
            read = read_message(body)
            if isinstance(read, str):
                return response.json({"error": read}, status=400)
            sender, text, metadata = read
            if len(text) > MAX_MESSAGE_CHARS:
                return response.json(
                    {"error": f"'message' is longer than {MAX_MESSAGE_CHARS} characters"}, status=413
                )
            verdict = self.senders.check(sender)
            if not verdict.allowed:
                return _too_many(verdict.retry_after)
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        text,
                        collector,
                        sender,
                        input_channel=self.name(),
                        metadata=verified_metadata(metadata, key=self.identity_key),
                    )
                )
            except Exception:
                logger.exception("rest.message_failed sender=%s", sender)
                return response.json({"error": "the message could not be handled"}, status=500)
            return response.json(collector.messages)

        return webhook


def _too_many(retry_after: int) -> HTTPResponse:
    return response.json(
        {"error": "too many messages; try again shortly"},
        status=429,
        headers={"Retry-After": str(retry_after)},
    )
