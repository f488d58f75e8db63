"""What staff tooling calls: resuming the assistant, and messages to the customer.

A live-chat handoff pauses the assistant (``ConversationPaused``); when the member of
staff is done, ``resume_conversation`` posts ``ConversationResumed`` through Rasa's HTTP
API (``rasa run --enable-api``; with ``--auth-token`` pass the same token) and the
assistant answers again.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from bot.core.settings import Settings

logger = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 10.0


class RasaApiError(RuntimeError):
    """Rasa's HTTP API refused or could not be reached; the message says which and why."""


@dataclass(frozen=True)
class Delivery:
    """Whether a message sent with ``send_to_customer`` reached the customer now, on
    which channel, and if not, why (it is in the transcript either way)."""

    delivered: bool
    channel: str | None
    reason: str | None


def _call(
    url: str, body: Any, *, what: str, headers: dict[str, str] | None = None, timeout: float = DEFAULT_TIMEOUT
) -> Any:
    if not url.startswith(("http://", "https://")):
        raise RasaApiError(f"Rasa URL must be http(s), got {url!r}")
    request = urllib.request.Request(  # noqa: S310 (http(s) checked above)
        url,
        data=json.dumps(body).encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:300]
        raise RasaApiError(f"Rasa refused to {what}: HTTP {exc.code} {detail}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise RasaApiError(f"cannot reach Rasa at {url.split('?')[0]}: {exc}") from exc
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _get(url: str, *, what: str, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    if not url.startswith(("http://", "https://")):
        raise RasaApiError(f"Rasa URL must be http(s), got {url!r}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http(s) checked)
            data = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise RasaApiError(f"Rasa refused to {what}: HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise RasaApiError(f"cannot reach Rasa at {url.split('?')[0]}: {exc}") from exc
    return data if isinstance(data, dict) else {}


def resume_conversation(
    sender_id: str,
    *,
    rasa_url: str | None = None,
    token: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> None:
    """Let the assistant answer ``sender_id`` again after a live-chat handoff.

    Raises:
        RasaApiError: Rasa answered with an error status or could not be reached.
    """
    settings = Settings.from_env()
    base = (rasa_url or settings.rasa_url).rstrip("/")
    token = token if token is not None else settings.rasa_token
    conversation = f"{base}/conversations/{urllib.parse.quote(sender_id, safe='')}/tracker"
    query = "?" + urllib.parse.urlencode({"token": token}) if token else ""
    events = _get(conversation + query, what=f"read {sender_id!r}", timeout=timeout).get("events") or []
    if not any(isinstance(e, dict) and e.get("event") == "user" for e in events):
        # Rasa answers an unknown id with a new, empty conversation: resuming it would say
        # "done" about a conversation that never was.
        raise RasaApiError(f"no conversation {sender_id!r}: nothing to resume")
    url = conversation + "/events" + query
    # Resumed, then listening: the next message is read as after any answer (without the
    # action_listen, no rule matches it and the policies fall back into a new handoff).
    body = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
    _call(url, body, what=f"resume {sender_id!r}", timeout=timeout)
    logger.info("handoff.resumed sender=%s", sender_id)


def send_to_customer(
    conversation_id: str,
    text: str | None = None,
    *,
    response: str | None = None,
    values: dict[str, Any] | None = None,
    author: str = "staff",
    author_name: str | None = None,
    buttons: list[dict[str, str]] | None = None,
    rasa_url: str | None = None,
    token: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Delivery:
    """Send ``text`` — or the assistant's ``response`` (``utter_…``, with ``values``),
    worded for the customer's persona, language and channel — to the customer of
    ``conversation_id`` on the channel they used (the website widget, Telegram, SMS,
    WhatsApp), and add it to the conversation: the one way staff replies, callback
    confirmations and reminders reach a customer (``bot.rasa.outbound``).

    Raises:
        RasaApiError: Rasa refused (unknown conversation, bad message, wrong token) or
            could not be reached; nothing was sent.
    """
    settings = Settings.from_env()
    base = (rasa_url or settings.rasa_url).rstrip("/")
    token = token if token is not None else settings.rasa_token
    body: dict[str, Any] = {"conversation_id": conversation_id, "author": author}
    if text is not None:
        body["text"] = text
    if response is not None:
        body["response"] = response
        body["values"] = values or {}
    if author_name:
        body["author_name"] = author_name
    if buttons:
        body["buttons"] = buttons
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = _call(
        f"{base}/webhooks/outbound/send",
        body,
        what=f"send to {conversation_id!r}",
        headers=headers,
        timeout=timeout,
    )
    answer = answer if isinstance(answer, dict) else {}
    delivery = Delivery(bool(answer.get("delivered")), answer.get("channel"), answer.get("reason"))
    logger.info(
        "handoff.sent conversation=%s channel=%s delivered=%s",
        conversation_id,
        delivery.channel,
        delivery.delivered,
    )
    return delivery
