"""Messages to a customer the customer did not just ask for — a staff reply in a live
chat, a callback confirmation, a reminder — on the channel they used, from one place.

``credentials.yml``::

    bot.rasa.outbound.OutboundChannel:
      token: ${RASA_AUTH_TOKEN}

``POST /webhooks/outbound/send`` with ``Authorization: Bearer <token>`` and
``{"conversation_id": …, "text": …, "author": "staff"|"assistant", "author_name": …,
"buttons": [{"title", "payload"}]}`` — or, instead of ``text``, ``"response": "utter_…"``
with ``"values": {…}``, rendered by the assistant's NLG for the conversation's persona,
language and channel — sends the message through the output channel of the
conversation's latest input channel (the website widget, Telegram, SMS or WhatsApp) and
adds it to the conversation as a bot message (so the transcript has it and the assistant
knows it was said), under the conversation's lock. The answer says whether it was
delivered now: ``{"delivered": true|false, "channel": …, "reason": …}`` — a REST
conversation cannot be reached, a widget with no window open sees the message when the
customer comes back, WhatsApp refuses free text 24 hours after the customer's last
message. Unknown conversations get a 404, bad bodies a 400, a wrong token a 401.

Callers use ``bot.handoff.rasa_api.send_to_customer``. Custom actions answer within
their turn through Rasa's dispatcher instead (the conversation is locked while they run).
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.core.channels import DeliveryRefused
from bot.core.limits import MAX_MESSAGE_CHARS, MAX_SENDER_CHARS

logger = logging.getLogger(__name__)
AUTHORS = ("staff", "assistant")
MAX_NAME_CHARS = 80
MAX_BUTTONS = 10
RESPONSE_NAME = re.compile(r"^utter_[a-z0-9_]{1,80}$")
MAX_VALUES = 20


def read_outbound(body: Any) -> dict[str, Any] | str:
    """The checked request, or what is wrong with it."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    conversation, text, name = body.get("conversation_id"), body.get("text"), body.get("response")
    if not isinstance(conversation, str) or not conversation.strip() or len(conversation) > MAX_SENDER_CHARS:
        return f"'conversation_id' must be a non-empty string of at most {MAX_SENDER_CHARS} characters"
    if (text is None) == (name is None):
        return "give either 'text' or 'response'"
    if text is not None and (not isinstance(text, str) or not text.strip() or len(text) > MAX_MESSAGE_CHARS):
        return f"'text' must be non-empty text of at most {MAX_MESSAGE_CHARS} characters"
    if name is not None and (not isinstance(name, str) or not RESPONSE_NAME.match(name)):
        return "'response' must be a response name such as 'utter_live_chat_ended'"
    values = body.get("values") or {}
    if (
        not isinstance(values, dict)
        or len(values) > MAX_VALUES
        or not all(isinstance(v, (str, int, float)) and len(str(v)) <= 500 for v in values.values())
    ):
        return f"'values' must be an object of at most {MAX_VALUES} short strings or numbers"
    author = body.get("author", "staff")
    if author not in AUTHORS:
        return f"'author' must be one of {', '.join(AUTHORS)}"
    author_name = body.get("author_name")
    if author_name is not None and (not isinstance(author_name, str) or len(author_name) > MAX_NAME_CHARS):
        return f"'author_name' must be a string of at most {MAX_NAME_CHARS} characters"
    buttons = body.get("buttons") or []
    if (
        not isinstance(buttons, list)
        or len(buttons) > MAX_BUTTONS
        or not all(
            isinstance(b, dict) and isinstance(b.get("title"), str) and isinstance(b.get("payload"), str)
            for b in buttons
        )
    ):
        return f"'buttons' must be a list of at most {MAX_BUTTONS} {{'title', 'payload'}} objects"
    return {
        "conversation_id": conversation,
        "text": text.strip() if text else None,
        "response": name,
        "values": values,
        "author": author,
        "author_name": author_name,
        "buttons": [{"title": b["title"], "payload": b["payload"]} for b in buttons],
    }


def _last_customer_message_at(events: Any) -> float | None:
    for event in reversed(list(events)):
        if isinstance(event, UserUttered):
            return float(event.timestamp)
    return None


class OutboundChannel(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "outbound"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> OutboundChannel:
        token = (credentials or {}).get("token")
        if not isinstance(token, str) or not token:
            raise ValueError("bot.rasa.outbound.OutboundChannel needs a 'token' (e.g. ${RASA_AUTH_TOKEN})")
        return cls(token=token)

    def __init__(self, *, token: str) -> None:
        self.token = token

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.token.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("outbound_webhook", __name__)

        @webhook.route("/send", methods=["POST"])  # type: ignore[untyped-decorator]
        async def send(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                return response.json({"error": "a valid bearer token is required"}, status=401)
            try:
                body = request.json
            except Exception:  # Sanic's BadRequest; RecursionError on deep nesting
                return response.json({"error": "the body must be JSON"}, status=400)
            checked = read_outbound(body)
            if isinstance(checked, str):
                return response.json({"error": checked}, status=400)
            agent = request.app.ctx.agent
            channels = getattr(request.app.ctx, "input_channels", None) or []
            conversation = checked["conversation_id"]
            async with agent.lock_store.lock(conversation):
                tracker = await agent.tracker_store.retrieve(conversation)
                if tracker is None or not tracker.events:
                    return response.json({"error": f"no conversation {conversation!r}"}, status=404)
                if checked["response"]:
                    rendered = await agent.nlg.generate(
                        checked["response"],
                        tracker,
                        tracker.get_latest_input_channel() or "rest",
                        **checked["values"],
                    )
                    if not rendered or not rendered.get("text"):
                        return response.json({"error": f"no response {checked['response']!r}"}, status=400)
                    checked["text"] = rendered["text"]
                    checked["buttons"] = checked["buttons"] or rendered.get("buttons") or []
                result = await _deliver(checked, tracker, channels)
                metadata = {
                    "author": checked["author"],
                    **({"author_name": checked["author_name"]} if checked["author_name"] else {}),
                    **({"utter_action": checked["response"]} if checked["response"] else {}),
                    "delivered": result["delivered"],
                }
                tracker.update(
                    BotUttered(
                        checked["text"], data={"buttons": checked["buttons"] or None}, metadata=metadata
                    )
                )
                await agent.tracker_store.save(tracker)
            logger.info(
                "outbound.sent conversation=%s channel=%s delivered=%s author=%s",
                conversation,
                result["channel"],
                result["delivered"],
                checked["author"],
            )
            return response.json(result)

        return webhook


async def _deliver(message: dict[str, Any], tracker: Any, channels: list[InputChannel]) -> dict[str, Any]:
    """Send through the conversation's latest channel; says whether it reached the customer."""
    channel = tracker.get_latest_input_channel()
    result: dict[str, Any] = {"delivered": False, "channel": channel, "reason": None}
    matching = [c for c in channels if c.name() == channel]
    output = matching[0].get_output_channel() if matching else None
    if output is None or isinstance(output, CollectingOutputChannel):
        result["reason"] = (
            f"the {channel or 'unknown'} channel cannot take messages the customer did not ask for"
        )
        return result
    conversation = message["conversation_id"]
    is_open = getattr(output, "is_open", None)
    if callable(is_open) and not is_open(conversation):
        result["reason"] = "no chat window is open; the customer sees the message when they come back"
        return result
    outgoing = {
        "text": message["text"],
        "buttons": message["buttons"] or None,
        "author": message["author"],
        "language": tracker.get_slot("language") if "language" in tracker.slots else None,
        "last_customer_message_at": _last_customer_message_at(tracker.events),
    }
    try:
        await output.send_response(conversation, {k: v for k, v in outgoing.items() if v is not None})
    except DeliveryRefused as exc:
        result["reason"] = str(exc)
        return result
    except Exception as exc:  # the provider failed: the message stays in the transcript
        logger.exception("outbound.send_failed conversation=%s channel=%s", conversation, channel)
        result["reason"] = f"the {channel} channel failed to send ({type(exc).__name__})"
        return result
    result["delivered"] = True
    return result
