"""A stand-in for Telegram's Bot API on loopback (Telegram lives outside this machine).

Answers ``POST /bot<token>/<method>`` (JSON, form or query parameters, as Telegram takes
them) for ``setWebhook``, ``deleteWebhook``, ``getMe``, ``sendMessage``,
``answerCallbackQuery`` and ``editMessageReplyMarkup`` with Telegram's JSON: ``{"ok":
true, "result": …}``, or ``{"ok": false, "error_code": …, "description": …}`` for a wrong
token (401), missing or bad parameters (400) and unknown methods (404). Every call is
recorded so tests can read what a customer's Telegram app would show; ``fail_next`` makes
the next calls of a method fail as Telegram's do (429 with ``retry_after``, 5xx, 403).

Builders make Updates as Telegram posts them to a webhook (``text_update``,
``callback_update``, ``sticker_update``, …) and ``post_update`` posts one, with or without
the ``X-Telegram-Bot-Api-Secret-Token`` header.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "4815162342:AAFakeTokenForTestsOnly-0123456789ab"
BOT_NAME = "PersonaBankTestBot"
BOT_ID = 4815162342
SECRET = "test-secret_0123456789"
WEBHOOK_URL = "https://bank.example/webhooks/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
_update_ids = itertools.count(700_000_000)
_message_ids = itertools.count(1)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int
    result: Any = None  # what Telegram answered with ``ok: true``


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FakeTelegram:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.webhook: dict[str, Any] = {}
        self._failures: dict[str, list[tuple[int, str, int | None]]] = {}
        self._next_message_id = itertools.count(1000)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                params: dict[str, Any] = {k: v[0] for k, v in parse_qs(url.query).items()}
                if "json" in (self.headers.get("Content-Type") or ""):
                    try:
                        body = json.loads(raw or b"{}")
                    except ValueError:
                        self._reply(400, _error(400, "Bad Request: can't parse JSON"))
                        return
                    params.update(body if isinstance(body, dict) else {})
                elif raw:
                    params.update({k: v[0] for k, v in parse_qs(raw.decode()).items()})
                status, answer = fake._answer(url.path, params)
                self._reply(status, answer)

            do_GET = do_POST

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> FakeTelegram:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what tests read and arrange ----------------------------------------------------

    def calls_of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def messages_to(self, chat_id: int | str) -> list[dict[str, Any]]:
        """The ``sendMessage`` parameters Telegram accepted for ``chat_id``, in order."""
        return [
            c.params
            for c in self.calls_of("sendMessage")
            if c.status == 200 and str(c.params["chat_id"]) == str(chat_id)
        ]

    def sent_to(self, chat_id: int | str) -> list[str]:
        """The texts a chat received."""
        return [str(m["text"]) for m in self.messages_to(chat_id)]

    def wait_for(self, chat_id: int | str, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        """The chat's messages once there are ``count`` (or what there is at ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.messages_to(chat_id)
            if len(messages) >= count:
                return messages
            time.sleep(0.1)
        return self.messages_to(chat_id)

    def fail_next(
        self, method: str, status: int, description: str, *, times: int = 1, retry_after: int | None = None
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail as Telegram answers them."""
        with self._lock:
            self._failures.setdefault(method, []).extend([(status, description, retry_after)] * times)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self._failures.clear()
            self.webhook = {}

    # --- the Bot API ----------------------------------------------------------------------

    def _answer(self, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        prefix, _, method = path.lstrip("/").rpartition("/")
        if prefix != f"bot{self.token}":
            status, answer = (
                (401, _error(401, "Unauthorized"))
                if prefix.startswith("bot")
                else (404, _error(404, "Not Found"))
            )
            self._record(method, params, status)
            return status, answer
        with self._lock:
            queued = self._failures.get(method)
            failure = queued.pop(0) if queued else None
        if failure is not None:
            status, description, retry_after = failure
            answer = _error(status, description)
            if retry_after is not None:
                answer["parameters"] = {"retry_after": retry_after}
            self._record(method, params, status)
            return status, answer
        handler = getattr(self, f"_m_{method}", None)
        status, answer = handler(params) if handler else (404, _error(404, "Not Found"))
        self._record(method, params, status, answer.get("result"))
        return status, answer

    def _record(self, method: str, params: dict[str, Any], status: int, result: Any = None) -> None:
        with self._lock:
            self.calls.append(Call(method, params, status, result))

    def _m_getMe(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 200, _ok(
            {
                "id": BOT_ID, "is_bot": True, "first_name": "Persona Bank", "username": BOT_NAME,
                "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False,
            }
        )  # fmt: skip

    def _m_setWebhook(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        url = params.get("url")
        if not url:
            return 400, _error(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not (
            isinstance(secret, str)
            and 0 < len(secret) <= 256
            and all(c.isalnum() or c in "_-" for c in secret)
        ):
            return 400, _error(400, "Bad Request: secret token contains unallowed characters")
        with self._lock:
            self.webhook = dict(params)
        return 200, {"ok": True, "result": True, "description": "Webhook was set"}

    def _m_deleteWebhook(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.webhook = {}
        return 200, {"ok": True, "result": True, "description": "Webhook was deleted"}

    def _m_sendMessage(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat_id, text = params.get("chat_id"), params.get("text")
        if chat_id in (None, ""):
            return 400, _error(400, "Bad Request: chat_id is empty")
        if not isinstance(text, str) or not text.strip():
            return 400, _error(400, "Bad Request: message text is empty")
        if _utf16_units(text) > MAX_TEXT:
            return 400, _error(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if markup is not None and not _valid_keyboard(markup):
            return 400, _error(400, "Bad Request: BUTTON_DATA_INVALID")
        message = self._message(chat_id, text)
        if markup is not None:
            message["reply_markup"] = markup
        return 200, _ok(message)

    def _m_answerCallbackQuery(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if not params.get("callback_query_id"):
            return 400, _error(
                400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        return 200, _ok(True)

    def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if params.get("chat_id") in (None, "") or not params.get("message_id"):
            return 400, _error(400, "Bad Request: message to edit not found")
        message = self._message(params["chat_id"], "", message_id=int(params["message_id"]))
        message.pop("text")
        return 200, _ok(message)

    def _message(self, chat_id: Any, text: str, *, message_id: int | None = None) -> dict[str, Any]:
        chat = int(chat_id) if str(chat_id).lstrip("-").isdigit() else chat_id
        return {
            "message_id": message_id or next(self._next_message_id),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Persona Bank", "username": BOT_NAME},
            "chat": {"id": chat, "first_name": "Customer", "type": "private"},
            "date": int(time.time()),
            "text": text,
        }


def _ok(result: Any) -> dict[str, Any]:
    return {"ok": True, "result": result}


def _error(code: int, description: str) -> dict[str, Any]:
    return {"ok": False, "error_code": code, "description": description}


def _valid_keyboard(markup: Any) -> bool:
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list):
        return False
    for row in rows:
        for button in row if isinstance(row, list) else [None]:
            if not isinstance(button, dict) or not button.get("text"):
                return False
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                return False
            if data is None and "url" not in button:
                return False
    return True


# --- Updates, as Telegram posts them to the webhook --------------------------------------


def user(user_id: int, *, language_code: str | None = "en", first_name: str = "Sam") -> dict[str, Any]:
    person: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code is not None:
        person["language_code"] = language_code
    return person


def _incoming(chat_id: int, user_id: int | None, language_code: str | None, **content: Any) -> dict[str, Any]:
    return {
        "message_id": next(_message_ids),
        "from": user(user_id or chat_id, language_code=language_code),
        "chat": {"id": chat_id, "first_name": "Sam", "type": "private"},
        "date": int(time.time()),
        **content,
    }


def text_update(
    chat_id: int,
    text: str,
    *,
    user_id: int | None = None,
    language_code: str | None = "en",
    update_id: int | None = None,
) -> dict[str, Any]:
    """A private text message (``chat_id`` is the user's id, as in a private chat)."""
    return {
        "update_id": update_id if update_id is not None else next(_update_ids),
        "message": _incoming(chat_id, user_id, language_code, text=text),
    }


def sticker_update(chat_id: int, *, language_code: str | None = "en") -> dict[str, Any]:
    sticker = {
        "file_id": "CAACAgIAAxkBAAEB", "file_unique_id": "AgADAQAD", "type": "regular",
        "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": "👍",
    }  # fmt: skip
    return {
        "update_id": next(_update_ids),
        "message": _incoming(chat_id, None, language_code, sticker=sticker),
    }


def photo_update(
    chat_id: int, *, caption: str | None = None, language_code: str | None = "en"
) -> dict[str, Any]:
    photo = [
        {
            "file_id": "AgACAgQAAxkBAAI",
            "file_unique_id": "AQADx",
            "width": 90,
            "height": 90,
            "file_size": 1234,
        }
    ]
    content: dict[str, Any] = {"photo": photo}
    if caption is not None:
        content["caption"] = caption
    return {"update_id": next(_update_ids), "message": _incoming(chat_id, None, language_code, **content)}


def edited_update(chat_id: int, text: str) -> dict[str, Any]:
    message = _incoming(chat_id, None, "en", text=text, edit_date=int(time.time()))
    return {"update_id": next(_update_ids), "edited_message": message}


def group_update(chat_id: int, user_id: int, text: str) -> dict[str, Any]:
    message = _incoming(chat_id, user_id, "en", text=text)
    message["chat"] = {
        "id": chat_id,
        "title": "Family",
        "type": "group",
        "all_members_are_administrators": True,
    }
    return {"update_id": next(_update_ids), "message": message}


def channel_post_update(chat_id: int, text: str) -> dict[str, Any]:
    post = {
        "message_id": next(_message_ids),
        "sender_chat": {"id": chat_id, "title": "News", "type": "channel"},
        "chat": {"id": chat_id, "title": "News", "type": "channel"},
        "date": int(time.time()),
        "text": text,
    }
    return {"update_id": next(_update_ids), "channel_post": post}


def callback_update(
    chat_id: int,
    data: str,
    *,
    message: dict[str, Any] | None = None,
    language_code: str | None = "en",
    update_id: int | None = None,
) -> dict[str, Any]:
    """A press on an inline button of ``message`` (the bot's message, as ``sendMessage``
    returned it; a stand-in when None)."""
    if message is None:
        message = {
            "message_id": next(_message_ids),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Persona Bank", "username": BOT_NAME},
            "chat": {"id": chat_id, "first_name": "Sam", "type": "private"},
            "date": int(time.time()),
            "text": "…",
        }
    query = {
        "id": str(next(_update_ids) * 1000 + 7),
        "from": user(chat_id, language_code=language_code),
        "message": message,
        "chat_instance": "-6917428125836273215",
        "data": data,
    }
    return {"update_id": update_id if update_id is not None else next(_update_ids), "callback_query": query}


def post_update(
    webhook_url: str, update: Any, *, secret: str | None = SECRET, raw: bytes | None = None
) -> tuple[int, Any]:
    """POST an Update to the webhook as Telegram does; (status, JSON answer or None)."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    data = raw if raw is not None else json.dumps(update).encode()
    req = urllib.request.Request(webhook_url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, body = int(resp.status), resp.read()
    except urllib.error.HTTPError as err:
        status, body = err.code, err.read()
    try:
        return status, json.loads(body) if body else None
    except ValueError:
        return status, None


def send_text(rasa_url: str, chat_id: int, text: str, **kwargs: Any) -> int:
    """A customer's text message through Rasa's Telegram webhook; the HTTP status."""
    return post_update(f"{rasa_url}/webhooks/telegram/webhook", text_update(chat_id, text, **kwargs))[0]
