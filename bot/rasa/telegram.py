"""Telegram channel with a verified webhook; it speaks to the Bot API through
``bot.rasa.telegram_api`` (aiohttp).

``credentials.yml`` (list it only when Telegram is configured: Rasa refuses to start when
a ``${VAR}`` in the file is not set)::

    bot.rasa.telegram.PersonaTelegramInput:
      access_token: ${TELEGRAM_TOKEN}            # from @BotFather
      verify: ${TELEGRAM_BOT_NAME}               # the bot's username (optional)
      webhook_url: ${TELEGRAM_WEBHOOK_URL}       # https://…/webhooks/telegram/webhook
      secret_token: ${TELEGRAM_SECRET_TOKEN}     # 1-256 of A-Z a-z 0-9 _ -
      per_minute: 60                             # messages one chat may send a minute
      capacity: 20                               # (burst)

Differences from Rasa's ``telegram`` channel (same webhook: ``/webhooks/telegram/webhook``):

- Every update must carry ``X-Telegram-Bot-Api-Secret-Token`` equal to ``secret_token``
  (compared in constant time); without it, or with another, the answer is a 403 and
  nothing reaches the assistant. ``getMe`` is never called.
- ``setWebhook`` (``url``, ``secret_token``, ``allowed_updates``) is called once when the
  server starts; a failure is logged (``telegram.set_webhook_failed``) and Rasa keeps
  running. A missing or empty ``access_token`` or ``secret_token`` stops the start.
- A body that is not a Telegram Update gets a 400. Everything else gets a 200, since
  Telegram repeats any other answer: updates the assistant does not serve (edited
  messages, channel posts, group chats) are logged and dropped, a non-text message
  (sticker, photo, voice) is answered with a short note, a repeated ``update_id`` is
  handled once, a message over ``MAX_MESSAGE_CHARS`` or a chat over its rate limit gets a
  polite refusal.
- Text messages from private chats reach the assistant with the chat id as sender id
  (the Telegram user id in a private chat, which is how ``bot.core.channels`` recognises
  the customer) and metadata ``{"channel": "telegram", "telegram_user_id": …,
  "language_code": …}``. ``/start`` is the greeting; other typed commands lose their
  slash, so a customer cannot type intents (``/affirm``) at the assistant.
- Buttons are inline keyboards whose ``callback_data`` is short (``b:<index>:<digest of
  the payload>``, within Telegram's 64 bytes): a press is mapped back to the payload of
  that button in the assistant's latest turn (from the tracker), answered with
  ``answerCallbackQuery`` and its keyboard removed. A button of an earlier turn is
  refused with a note instead of sending a payload meant for another question.
- Answers are split at 4,096 characters on paragraph boundaries. A failed call is
  retried once when the failure is passing (no answer, HTTP 5xx, 429 after Telegram's
  ``retry_after``), then logged with Telegram's description — never the text; the
  output channel for pushes (``get_output_channel()``, which works outside a webhook
  request) then raises ``TelegramApiError``, so the sender knows.
- ``TELEGRAM_API_BASE`` (optional) points the client at another base URL than
  ``https://api.telegram.org`` (a local Bot API server, a proxy, or a fake in tests).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.core.limits import MAX_MESSAGE_CHARS, RateLimiter
from bot.rasa.telegram_api import TELEGRAM_API, BotApi, TelegramApiError, TelegramOutput, payload_digest

logger = logging.getLogger(__name__)

API_BASE_ENV = "TELEGRAM_API_BASE"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
ALLOWED_UPDATES = ("message", "callback_query")
DEFAULT_PER_MINUTE = 60
DEFAULT_CAPACITY = 20
DEFAULT_REMEMBERED_UPDATES = 10_000
GREETING = "/greet"

_TOKEN = re.compile(r"^[0-9]+:[A-Za-z0-9_-]+$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_CALLBACK_DATA = re.compile(r"^b:([0-9]{1,3}):([0-9a-f]{8})$")

# Notes the channel itself sends, in the assistant's languages (English for the others).
NOTICES: dict[str, dict[str, str]] = {
    "not_text": {
        "en": "Sorry, I can only read text messages. Please type your question.",
        "es": "Lo siento, solo puedo leer mensajes de texto. Escriba su pregunta, por favor.",
        "fr": "Désolé, je ne peux lire que des messages texte. Merci d'écrire votre question.",
    },
    "too_long": {
        "en": f"Sorry, that message is too long for me (over {MAX_MESSAGE_CHARS:,} characters). "
        "Could you send a shorter one?",
        "es": f"Lo siento, ese mensaje es demasiado largo (más de {MAX_MESSAGE_CHARS} caracteres). "
        "¿Podría enviar uno más corto?",
        "fr": f"Désolé, ce message est trop long (plus de {MAX_MESSAGE_CHARS} caractères). "
        "Pourriez-vous en envoyer un plus court ?",
    },
    "slow_down": {
        "en": "You are sending messages faster than I can answer. Please wait a moment, then try again.",
        "es": "Está enviando mensajes más rápido de lo que puedo responder. "
        "Espere un momento y vuelva a intentarlo.",
        "fr": "Vous envoyez des messages plus vite que je ne peux répondre. "
        "Patientez un instant, puis réessayez.",
    },
    "expired": {
        "en": "That option is no longer available. Please type your answer.",
        "es": "Esa opción ya no está disponible. Escriba su respuesta, por favor.",
        "fr": "Cette option n'est plus disponible. Merci d'écrire votre réponse.",
    },
    "failed": {
        "en": "Sorry, something went wrong on our side. Please try again in a moment.",
        "es": "Lo siento, algo ha fallado por nuestra parte. Inténtelo de nuevo en un momento.",
        "fr": "Désolé, un problème est survenu de notre côté. Réessayez dans un instant.",
    },
}


class TelegramConfigError(RasaException):
    """The channel's credentials cannot work; Rasa does not start."""


@dataclass(frozen=True)
class TelegramUpdate:
    """What the channel reads from a Telegram Update.

    ``kind`` is the Update's field that carries it (``message``, ``callback_query``,
    ``edited_message``, …); the other fields are set for messages and callback queries.
    """

    update_id: int
    kind: str
    chat_id: int | None = None
    chat_type: str | None = None
    user_id: int | None = None
    language_code: str | None = None
    text: str | None = None
    callback_id: str | None = None
    data: str | None = None
    message_id: int | None = None  # the bot's message whose button was pressed


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _chat(message: Any) -> tuple[int, str, int | None] | None:
    """(chat id, chat type, message id) of a Message object, or None when it is not one."""
    if not isinstance(message, dict) or not isinstance(message.get("chat"), dict):
        return None
    chat = message["chat"]
    chat_id, chat_type = _int(chat.get("id")), chat.get("type")
    if chat_id is None or not isinstance(chat_type, str):
        return None
    return chat_id, chat_type, _int(message.get("message_id"))


def _user(value: Any) -> tuple[int | None, str | None] | None:
    """(user id, language code) of an optional User object; None when it is malformed."""
    if value is None:
        return None, None
    if not isinstance(value, dict) or _int(value.get("id")) is None:
        return None
    language = value.get("language_code")
    return _int(value.get("id")), language if isinstance(language, str) and language else None


def read_update(body: Any) -> TelegramUpdate | str:
    """The Update in a webhook body, or what is wrong with it."""
    if not isinstance(body, dict):
        return "the body must be a Telegram Update (a JSON object)"
    update_id = _int(body.get("update_id"))
    if update_id is None:
        return "'update_id' must be an integer"
    if "message" in body:
        message = body["message"]
        chat, user = _chat(message), _user(message.get("from") if isinstance(message, dict) else None)
        if chat is None or user is None:
            return "'message' is not a Telegram Message (it needs a chat with an id and a type)"
        text = message.get("text")
        return TelegramUpdate(
            update_id,
            "message",
            chat_id=chat[0],
            chat_type=chat[1],
            user_id=user[0],
            language_code=user[1],
            text=text if isinstance(text, str) else None,
        )
    if "callback_query" in body:
        query = body["callback_query"]
        if not isinstance(query, dict) or not isinstance(query.get("id"), str):
            return "'callback_query' is not a Telegram CallbackQuery (it needs an id)"
        user = _user(query.get("from"))
        if user is None or user[0] is None:
            return "'callback_query' is not a Telegram CallbackQuery (it needs a 'from' user)"
        chat = _chat(query["message"]) if query.get("message") is not None else None
        if query.get("message") is not None and chat is None:
            return "'callback_query.message' is not a Telegram Message"
        data = query.get("data")
        return TelegramUpdate(
            update_id,
            "callback_query",
            # A message too old to be sent along: the chat is the private chat with the user.
            chat_id=chat[0] if chat else user[0],
            chat_type=chat[1] if chat else "private",
            user_id=user[0],
            language_code=user[1],
            callback_id=query["id"],
            data=data if isinstance(data, str) else None,
            message_id=chat[2] if chat else None,
        )
    kinds = [key for key in body if key != "update_id"]
    return TelegramUpdate(update_id, kinds[0] if kinds else "empty")


class _RecentIds:
    """The last ``size`` update ids seen."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._ids: OrderedDict[int, None] = OrderedDict()

    def first_time(self, update_id: int) -> bool:
        if update_id in self._ids:
            return False
        self._ids[update_id] = None
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


async def _tracker(request: Request, sender: str) -> DialogueStateTracker | None:
    """``sender``'s conversation, None when there is none or the store cannot be read."""
    agent = getattr(request.app.ctx, "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return None
    try:
        tracker: DialogueStateTracker | None = await store.retrieve(sender)
    except Exception:  # the store's own errors vary; the notes and buttons do without it
        logger.warning("telegram.tracker_unavailable chat=%s", sender, exc_info=True)
        return None
    return tracker


async def latest_turn_buttons(request: Request, sender: str) -> list[list[dict[str, Any]]]:
    """The buttons of each bot message since the customer last wrote, newest first."""
    tracker = await _tracker(request, sender)
    if tracker is None:
        return []
    found: list[list[dict[str, Any]]] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            buttons = (event.data or {}).get("buttons") or []
            found.append([b for b in buttons if isinstance(b, dict)])
    return found


async def notice(request: Request, sender: str, name: str, language_code: str | None) -> str:
    """``NOTICES[name]`` in the conversation's language (its ``language`` slot), else in
    the language of the customer's Telegram app, else in English."""
    texts = NOTICES[name]
    tracker = await _tracker(request, sender)
    slot = tracker.get_slot("language") if tracker is not None and "language" in tracker.slots else None
    for language in (slot, (language_code or "")[:2].lower()):
        if isinstance(language, str) and language in texts:
            return texts[language]
    return texts["en"]


def _as_text(text: str) -> str:
    """What a typed message says to the assistant: ``/start`` greets; other commands lose
    their slash (``/help@BankBot`` is "help"), since intents come only from buttons."""
    if not text.startswith("/"):
        return text
    command, _, rest = text.lstrip("/").partition(" ")
    name = command.split("@", 1)[0]
    return GREETING if name == "start" else f"{name} {rest}".strip()


def _required(credentials: Mapping[str, Any], key: str, example_var: str) -> str:
    value = credentials.get(key)
    text = "" if value is None else str(value).strip()
    if not text:
        raise TelegramConfigError(
            f"Telegram channel: '{key}' is missing or empty in credentials.yml "
            f"(set {example_var} in the environment, or remove the channel)"
        )
    return text


class PersonaTelegramInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> PersonaTelegramInput:
        credentials = credentials or {}
        verify = str(credentials.get("verify") or "").strip().lstrip("@")
        return cls(
            access_token=_required(credentials, "access_token", "TELEGRAM_TOKEN"),
            secret_token=_required(credentials, "secret_token", "TELEGRAM_SECRET_TOKEN"),
            webhook_url=str(credentials.get("webhook_url") or "").strip() or None,
            verify=verify or None,
            per_minute=float(credentials.get("per_minute", DEFAULT_PER_MINUTE)),
            capacity=int(credentials.get("capacity", DEFAULT_CAPACITY)),
            api_base=os.environ.get(API_BASE_ENV) or TELEGRAM_API,
        )

    def __init__(
        self,
        *,
        access_token: str,
        secret_token: str,
        webhook_url: str | None = None,
        verify: str | None = None,
        per_minute: float = DEFAULT_PER_MINUTE,
        capacity: int = DEFAULT_CAPACITY,
        api_base: str = TELEGRAM_API,
        remembered_updates: int = DEFAULT_REMEMBERED_UPDATES,
    ) -> None:
        if not _TOKEN.match(access_token):
            raise TelegramConfigError(
                "Telegram channel: 'access_token' is not a bot token (<digits>:<letters>, from @BotFather)"
            )
        if not _SECRET.match(secret_token):
            raise TelegramConfigError(
                "Telegram channel: 'secret_token' must be 1-256 characters of A-Z, a-z, 0-9, _ and - "
                "(Telegram's rule)"
            )
        self.access_token = access_token
        self.secret_token = secret_token
        self.webhook_url = webhook_url
        self.verify = verify
        self.api_base = api_base
        self.chats = RateLimiter(per_minute=per_minute, capacity=capacity)
        # One "slow down" a chat a minute, however fast it writes.
        self.warnings = RateLimiter(per_minute=1, capacity=1)
        self.updates = _RecentIds(remembered_updates)

    def get_output_channel(self) -> TelegramOutput:
        """For messages sent outside a customer's turn (Rasa's API, staff replies): a
        message Telegram did not take raises ``TelegramApiError`` once logged."""
        return self._output(raise_errors=True)

    def _output(self, *, raise_errors: bool) -> TelegramOutput:
        return TelegramOutput(BotApi(self.access_token, base=self.api_base), raise_errors=raise_errors)

    async def set_webhook(self) -> bool:
        """Point Telegram at ``webhook_url`` with the secret; logs the outcome."""
        if not self.webhook_url:
            logger.warning(
                "telegram.webhook_not_set reason='no webhook_url': Telegram must already send "
                "updates here with the same secret_token"
            )
            return False
        if not self.webhook_url.startswith("https://"):
            logger.warning(
                "telegram.webhook_not_https url=%s (Telegram only calls https URLs)", self.webhook_url
            )
        params = {
            "url": self.webhook_url,
            "secret_token": self.secret_token,
            "allowed_updates": list(ALLOWED_UPDATES),
        }
        try:
            await BotApi(self.access_token, base=self.api_base).call("setWebhook", params)
        except TelegramApiError as error:
            logger.error(
                "telegram.set_webhook_failed url=%s status=%s cause=%s",
                self.webhook_url,
                error.status,
                error.description,
            )
            return False
        logger.info(
            "telegram.webhook_set bot=%s url=%s allowed_updates=%s",
            self.verify or "?",
            self.webhook_url,
            ",".join(ALLOWED_UPDATES),
        )
        return True

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("persona_telegram_webhook", __name__)

        @webhook.listener("after_server_start")  # type: ignore[untyped-decorator]
        async def register(_app: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
            await self.set_webhook()

        @webhook.route("/", methods=["GET"])  # type: ignore[untyped-decorator]
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])  # type: ignore[untyped-decorator]
        async def receive(request: Request) -> HTTPResponse:
            given = request.headers.get(SECRET_HEADER) or ""
            if not hmac.compare_digest(given.encode("utf-8", "replace"), self.secret_token.encode()):
                logger.warning(
                    "telegram.update_refused reason=%s ip=%s",
                    "no secret" if not given else "wrong secret",
                    request.ip,
                )
                return response.json(
                    {"error": "the update does not carry this bot's secret token"}, status=403
                )
            try:
                body = request.json
            except Exception:  # Sanic's BadRequest subclasses; RecursionError on deep nesting
                return response.json({"error": "the body must be JSON"}, status=400)
            update = read_update(body)
            if isinstance(update, str):
                return response.json({"error": update}, status=400)
            if not self.updates.first_time(update.update_id):
                logger.info("telegram.update_repeated update_id=%s", update.update_id)
                return _ok()
            await self._handle(request, update, on_new_message)
            return _ok()

        return webhook

    async def _handle(
        self,
        request: Request,
        update: TelegramUpdate,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        out = self._output(raise_errors=False)
        if update.kind not in ALLOWED_UPDATES or update.chat_id is None:
            logger.info("telegram.update_ignored update_id=%s kind=%s", update.update_id, update.kind)
            return
        chat = str(update.chat_id)
        if update.chat_type != "private":
            # The assistant speaks about one customer's banking: never in a group.
            logger.info(
                "telegram.update_ignored update_id=%s chat_type=%s", update.update_id, update.chat_type
            )
            if update.callback_id:
                await out.answer_callback(update.callback_id)
            return
        verdict = self.chats.check(chat)
        if not verdict.allowed:
            logger.warning("telegram.rate_limited chat=%s retry_after=%s", chat, verdict.retry_after)
            if update.callback_id:
                await out.answer_callback(
                    update.callback_id, await notice(request, chat, "slow_down", update.language_code)
                )
            elif self.warnings.check(chat).allowed:
                await out.send_text_message(
                    chat, await notice(request, chat, "slow_down", update.language_code)
                )
            return
        if update.callback_id is not None:
            text = await self._pressed(request, out, chat, update.callback_id, update)
        else:
            text = await self._typed(request, out, chat, update)
        if text is None:
            return
        metadata: dict[str, Any] = {"channel": self.name(), "telegram_user_id": update.user_id}
        if update.language_code:
            metadata["language_code"] = update.language_code
        try:
            await on_new_message(UserMessage(text, out, chat, input_channel=self.name(), metadata=metadata))
        except Exception:
            logger.exception("telegram.message_failed chat=%s update_id=%s", chat, update.update_id)
            await out.send_text_message(chat, await notice(request, chat, "failed", update.language_code))

    async def _typed(
        self, request: Request, out: TelegramOutput, chat: str, update: TelegramUpdate
    ) -> str | None:
        """What a message says to the assistant; None when it was answered here."""
        if update.text is None:
            logger.info("telegram.not_text chat=%s update_id=%s", chat, update.update_id)
            await out.send_text_message(chat, await notice(request, chat, "not_text", update.language_code))
            return None
        if len(update.text) > MAX_MESSAGE_CHARS:
            logger.info("telegram.too_long chat=%s chars=%d", chat, len(update.text))
            await out.send_text_message(chat, await notice(request, chat, "too_long", update.language_code))
            return None
        text = _as_text(update.text)
        return text if text.strip() else None

    async def _pressed(
        self, request: Request, out: TelegramOutput, chat: str, callback_id: str, update: TelegramUpdate
    ) -> str | None:
        """The payload of a pressed button of the latest turn; None when it has none."""
        payload = None
        match = _CALLBACK_DATA.match(update.data or "")
        if match:
            index, digest = int(match.group(1)), match.group(2)
            for buttons in await latest_turn_buttons(request, chat):
                if index < len(buttons) and payload_digest(buttons[index].get("payload")) == digest:
                    payload = str(buttons[index].get("payload"))
                    break
        if payload is None:
            logger.info("telegram.button_expired chat=%s data=%r", chat, update.data)
            await out.answer_callback(
                callback_id, await notice(request, chat, "expired", update.language_code)
            )
        else:
            await out.answer_callback(callback_id)
        if update.message_id is not None:
            await out.remove_keyboard(chat, update.message_id)
        return payload


def _ok() -> HTTPResponse:
    return response.json({"ok": True})
