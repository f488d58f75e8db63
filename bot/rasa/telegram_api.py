"""Telegram's Bot API over HTTP (aiohttp), and the output channel that sends with it.

``BotApi.call(method, params)`` posts JSON to ``<base>/bot<token>/<method>`` and returns
Telegram's ``result``, or raises ``TelegramApiError`` with Telegram's description (never
the token). A failure in passing — no answer, HTTP 5xx, 429 — is retried once, after
Telegram's ``retry_after`` for a 429 (at most ``max_retry_after`` seconds).

``TelegramOutput`` sends the assistant's messages with ``sendMessage``: texts over 4,096
characters (UTF-16 units, as Telegram counts) split between paragraphs, buttons as an
inline keyboard on the last part whose ``callback_data`` is ``b:<index>:<digest of the
payload>`` (Telegram allows 64 bytes; payloads can be longer), custom JSON not sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
from rasa.core.channels.channel import OutputChannel

from bot.wording.formatting import split_text

logger = logging.getLogger(__name__)

TELEGRAM_API = "https://api.telegram.org"
# Telegram's limit for one message, counted in UTF-16 code units as Telegram counts.
MAX_TEXT_UNITS = 4096
DEFAULT_TIMEOUT = 15.0  # seconds for one Bot API call
DEFAULT_RETRY_DELAY = 1.0  # seconds before retrying a call that failed in passing
DEFAULT_MAX_RETRY_AFTER = 30  # the longest a 429's retry_after is waited for


class TelegramApiError(Exception):
    """A Bot API call that did not succeed: no answer, or ``ok: false``.

    Attributes:
        method: the Bot API method.
        status: the HTTP status, None when there was no answer.
        description: Telegram's description, or what went wrong (never the token).
        retry_after: seconds Telegram asks to wait (429), if it said.
    """

    def __init__(self, method: str, status: int | None, description: str, retry_after: int | None = None):
        super().__init__(f"{method}: {status or 'no answer'} {description}")
        self.method = method
        self.status = status
        self.description = description
        self.retry_after = retry_after

    @property
    def passing(self) -> bool:
        """Worth one retry: no answer, Telegram's own trouble, or too many requests."""
        return self.status is None or self.status == 429 or self.status >= 500


class BotApi:
    """Calls to ``<base>/bot<token>/<method>`` with a JSON body; ``result`` or ``TelegramApiError``.

    A session per call keeps it usable from any event loop (webhook requests, pushes
    from other code) with nothing to close.
    """

    def __init__(
        self,
        token: str,
        *,
        base: str = TELEGRAM_API,
        timeout: float = DEFAULT_TIMEOUT,
        retry_delay: float = DEFAULT_RETRY_DELAY,
        max_retry_after: int = DEFAULT_MAX_RETRY_AFTER,
    ) -> None:
        self._token = token
        self.base = base.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.retry_delay = retry_delay
        self.max_retry_after = max_retry_after

    async def call(self, method: str, params: Mapping[str, Any]) -> Any:
        """``method``'s result; a failure in passing is retried once."""
        try:
            return await self._call_once(method, params)
        except TelegramApiError as error:
            if not error.passing:
                raise
            wait = self.retry_delay
            if error.retry_after is not None:
                wait = min(float(error.retry_after), float(self.max_retry_after))
            logger.warning(
                "telegram.api_retry method=%s status=%s wait=%.1fs cause=%s",
                method,
                error.status,
                wait,
                error.description,
            )
            await asyncio.sleep(wait)
            return await self._call_once(method, params)

    async def _call_once(self, method: str, params: Mapping[str, Any]) -> Any:
        url = f"{self.base}/bot{self._token}/{method}"
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as session:
                async with session.post(url, json=dict(params)) as resp:
                    status = resp.status
                    try:
                        body = await resp.json(content_type=None)
                    except ValueError:
                        body = None
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            cause = f"{type(exc).__name__}: {exc}".replace(self._token, "<token>")
            raise TelegramApiError(method, None, cause) from None
        if isinstance(body, dict) and body.get("ok") is True:
            return body.get("result")
        if not isinstance(body, dict):
            raise TelegramApiError(method, status, f"HTTP {status} without a Bot API answer")
        parameters = body.get("parameters")
        retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        raise TelegramApiError(
            method,
            status,
            str(body.get("description") or f"HTTP {status}"),
            retry_after if isinstance(retry_after, int) else None,
        )


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def message_parts(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """``text`` as few messages of at most ``limit`` units as whole paragraphs allow.

    Paragraphs (separated by a blank line) are kept whole and together while they fit; a
    paragraph longer than ``limit`` is split on sentences, then words.
    """
    pieces: list[str] = []
    for paragraph in (p.strip() for p in text.split("\n\n")):
        if not paragraph:
            continue
        if _utf16_units(paragraph) <= limit:
            pieces.append(paragraph)
            continue
        for part in split_text(paragraph, limit):
            # split_text counts characters; emoji outside the BMP count twice for Telegram.
            pieces += [part] if _utf16_units(part) <= limit else split_text(part, limit // 2)
    parts: list[str] = []
    for piece in pieces:
        joined = f"{parts[-1]}\n\n{piece}" if parts else piece
        if parts and _utf16_units(joined) <= limit:
            parts[-1] = joined
        else:
            parts.append(piece)
    return parts


def payload_digest(payload: Any) -> str:
    """8 hex digits that tell a button's payload from the others'."""
    return hashlib.sha256(str(payload).encode()).hexdigest()[:8]


def callback_data(index: int, payload: Any) -> str:
    """What a button carries: its index and a digest of its payload (under 64 bytes)."""
    return f"b:{index}:{payload_digest(payload)}"


def inline_keyboard(buttons: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Rasa buttons as an inline keyboard, one button a row."""
    rows: list[list[dict[str, str]]] = []
    for index, button in enumerate(buttons):
        title = str(button.get("title") or button.get("payload") or "…")
        payload = button.get("payload")
        if button.get("type") == "web_url" and isinstance(payload, str):
            rows.append([{"text": title, "url": payload}])
        else:
            rows.append([{"text": title, "callback_data": callback_data(index, payload)}])
    return {"inline_keyboard": rows}


def _chat_id(recipient_id: str) -> int | str:
    try:
        return int(recipient_id)
    except ValueError:
        return recipient_id


class TelegramOutput(OutputChannel):
    """Sends the assistant's messages with ``sendMessage``.

    Failures are logged and kept in ``errors``; with ``raise_errors`` a message that could
    not be sent also raises ``TelegramApiError`` (for code that pushes a message and must
    know it was not delivered). Inside a webhook turn nothing raises: a failed send must
    not stop the assistant from saving the turn.
    """

    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(self, api: BotApi, *, raise_errors: bool = False) -> None:
        self.api = api
        self.raise_errors = raise_errors
        self.errors: list[TelegramApiError] = []

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send(recipient_id, text, [])

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._send(recipient_id, text, [b for b in buttons if isinstance(b, dict)])

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        logger.warning("telegram.custom_not_sent chat=%s keys=%s", recipient_id, sorted(json_message))

    async def answer_callback(self, callback_query_id: str, text: str | None = None) -> bool:
        """Stop the spinner on a pressed button; ``text`` shows as a short notice."""
        params: dict[str, Any] = {"callback_query_id": callback_query_id}
        if text:
            params["text"] = text
        return await self._call("answerCallbackQuery", params, chat=None) is not None

    async def remove_keyboard(self, chat_id: str, message_id: int) -> bool:
        """Take the buttons off a message, so they are not pressed twice."""
        params: dict[str, Any] = {
            "chat_id": _chat_id(chat_id),
            "message_id": message_id,
            "reply_markup": {"inline_keyboard": []},
        }
        return await self._call("editMessageReplyMarkup", params, chat=chat_id) is not None

    async def _send(self, recipient_id: str, text: str, buttons: list[dict[str, Any]]) -> None:
        parts = message_parts(text or "")
        if not parts:
            logger.warning("telegram.empty_message chat=%s buttons=%d", recipient_id, len(buttons))
            return
        for number, part in enumerate(parts, start=1):
            params: dict[str, Any] = {"chat_id": _chat_id(recipient_id), "text": part}
            if buttons and number == len(parts):
                params["reply_markup"] = inline_keyboard(buttons)
            if await self._call("sendMessage", params, chat=recipient_id) is None:
                if self.raise_errors:
                    raise self.errors[-1]
                return  # the rest would make no sense without this part

    async def _call(self, method: str, params: Mapping[str, Any], *, chat: str | None) -> Any:
        """The method's result, or None after logging why it failed (without any text)."""
        try:
            result = await self.api.call(method, params)
        except TelegramApiError as error:
            self.errors.append(error)
            logger.error(
                "telegram.call_failed method=%s chat=%s status=%s description=%s",
                method,
                chat,
                error.status,
                error.description,
            )
            return None
        return True if result is None else result
