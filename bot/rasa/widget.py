"""The website widget's channel: Rasa's socket.io channel, with the customer verified and
the session bound to them.

``credentials.yml``::

    bot.rasa.widget.WidgetInput:
      allowed_origins: ${WIDGET_ORIGINS}   # web pages that may connect (comma-separated)
      per_minute: 60                       # messages a session may send a minute
      capacity: 20                         # (burst)

Same path as Rasa's ``socketio`` channel (``/socket.io``) and the same channel name, so
the rest of the assistant (formatting, identity, handoffs) treats it as the website.
Differences from Rasa's channel, which checks a JWT only at connect, trusts any
``session_id`` a client sends with each message and turns the origin check off:

- **Who**: the ``auth.token`` sent at connect is the website's signed identity token
  (``bot.core.identity``); a missing or invalid one gives an anonymous visitor. Metadata
  from the client never names the customer.
- **Which conversation**: ``session_request`` gets a session id bound to that customer
  (a stored id is resumed only for the same customer, else a new one is made); every
  message goes to the session of its socket, whatever ``session_id`` the client sends.
- **Pages**: only ``allowed_origins`` may connect (none configured: same origin only).
- **History**: after ``session_confirm`` the client gets ``session_history`` — the
  conversation so far as stored (card data removed) — so a reload or a reconnect shows
  it, messages pushed while the page was closed included; a new session gets a greeting.
- **Delivery**: ``user_uttered`` is acknowledged (``{"ok": true}`` once handled, or
  ``{"ok": false, "error": …}``); ``client_id`` makes a resent message count once;
  ``bot_typing`` frames the assistant's work; too long or too many messages are refused.
- **Answers** arrive as one ``bot_uttered`` per message: ``text`` (paragraphs kept),
  ``quick_replies``, ``language`` (so the widget switches its own strings) and
  ``author`` (``assistant`` or ``staff``). Messages sent later to the conversation
  (a staff reply, ``bot.rasa.outbound``) reach every open window of the session.

(Rasa 3.6's own channel calls python-socketio's ``enter_room`` without awaiting it,
which python-socketio 5.x made a coroutine: its session rooms never fill.)
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.core.identity import identity_key, new_session_id, session_belongs, session_key, verify_token
from bot.core.limits import MAX_MESSAGE_CHARS, RateLimiter
from bot.rasa.nlg import WELCOMED_KEY

logger = logging.getLogger(__name__)

LANGUAGES = ("en", "es", "fr")
HISTORY_LIMIT = 200
MAX_CLIENT_ID_CHARS = 64
# (session, client message id) pairs remembered to count a resent message once.
SEEN_LIMIT = 50_000
GREETING = "utter_greet"
TYPING_EVT = "bot_typing"
HISTORY_EVT = "session_history"
MAX_PAYLOAD_BYTES = 64 * 1024


def _origins(value: Any) -> list[str] | None:
    if isinstance(value, str):
        value = value.split(",")
    if isinstance(value, list):
        origins = [str(o).strip().rstrip("/") for o in value if str(o).strip()]
        return origins or None
    return None


def _quick_replies(buttons: Any) -> list[dict[str, str]]:
    if not isinstance(buttons, list):
        return []
    return [
        {"title": str(b["title"]), "payload": str(b["payload"])}
        for b in buttons
        if isinstance(b, Mapping) and b.get("title") and b.get("payload")
    ]


def bot_message(message: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the widget is sent for one bot message (None: nothing it can show)."""
    text = message.get("text") or ""
    replies = _quick_replies(message.get("buttons") or message.get("quick_replies"))
    image = message.get("image")
    if not text and not replies and not image:
        return None
    shown: dict[str, Any] = {"text": str(text), "author": message.get("author") or "assistant"}
    if replies:
        shown["quick_replies"] = replies
    if isinstance(image, str) and image:
        shown["image"] = image
    language = message.get("language")
    if language in LANGUAGES:
        shown["language"] = language
    return shown


def history(events: list[Any], limit: int = HISTORY_LIMIT) -> tuple[list[dict[str, Any]], str | None]:
    """The conversation as the widget shows it, and the language it was last in.

    A button's payload the customer sent shows as the button's title; other commands
    (``/intent``) are not shown. Only the last message keeps its quick replies.
    """
    shown: list[dict[str, Any]] = []
    language: str | None = None
    last_buttons: list[dict[str, str]] = []
    for event in events:
        if isinstance(event, UserUttered) and event.text:
            text = event.text
            if text.startswith("/"):
                title = next((b["title"] for b in last_buttons if b["payload"] == text), None)
                if title is None:
                    continue
                text = title
            shown.append({"sender": "user", "text": text})
        elif isinstance(event, BotUttered):
            message = bot_message({**(event.data or {}), **(event.metadata or {}), "text": event.text})
            if message is None:
                continue
            last_buttons = message.get("quick_replies", [])
            language = message.get("language", language)
            shown.append({"sender": "bot", **message})
    for message in shown[:-1]:
        message.pop("quick_replies", None)
    if shown and shown[-1]["sender"] == "user":
        shown[-1].pop("quick_replies", None)
    return shown[-limit:], language


class WidgetOutput(OutputChannel):
    """Sends to every open window of a session (the socket.io room named after it)."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def __init__(self, sio: AsyncServer, bot_message_evt: str) -> None:
        self.sio = sio
        self.bot_message_evt = bot_message_evt

    def is_open(self, recipient_id: str) -> bool:
        """Whether a window of the session is connected now."""
        return any(True for _ in self.sio.manager.get_participants("/", recipient_id))

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        shown = bot_message(message)
        if shown is not None:
            await self.sio.emit(self.bot_message_evt, shown, room=recipient_id)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_response(recipient_id, {"text": text, "buttons": buttons})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"image": image})


class _WidgetBlueprint(SocketBlueprint):  # type: ignore[misc]
    def __init__(self, sio: AsyncServer, path: str, channel: WidgetInput) -> None:
        super().__init__(sio, path, "widget_socketio_webhook", __name__)
        self.ctx.channel = channel

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        self.ctx.channel.app = app
        super().register(app, options)


class WidgetInput(SocketIOInput):  # type: ignore[misc]
    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WidgetInput:
        credentials = credentials or {}
        return cls(
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            allowed_origins=_origins(credentials.get("allowed_origins")),
            per_minute=float(credentials.get("per_minute", 60)),
            capacity=int(credentials.get("capacity", 20)),
            connects_per_minute=float(credentials.get("connects_per_minute", 120)),
        )

    def __init__(
        self,
        *,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        socketio_path: str = "/socket.io",
        allowed_origins: list[str] | None = None,
        per_minute: float = 60,
        capacity: int = 20,
        connects_per_minute: float = 120,
    ) -> None:
        super().__init__(user_message_evt, bot_message_evt, None, True, socketio_path)
        self.allowed_origins = allowed_origins
        self.identity_key = identity_key()
        self.session_key = session_key()
        self.senders = RateLimiter(per_minute=per_minute, capacity=capacity)
        self.connects = RateLimiter(
            per_minute=connects_per_minute, capacity=max(10, int(connects_per_minute // 2))
        )
        self.app: Sanic | None = None
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()

    def get_output_channel(self) -> WidgetOutput | None:
        return WidgetOutput(self.sio, self.bot_message_evt) if self.sio is not None else None

    def _agent(self) -> Any:
        return getattr(self.app.ctx, "agent", None) if self.app is not None else None

    def _first_time(self, session_id: str, client_id: Any) -> bool:
        """False when this client message id was already handled for the session."""
        if not isinstance(client_id, str) or not client_id or len(client_id) > MAX_CLIENT_ID_CHARS:
            return True
        key = (session_id, client_id)
        if key in self._seen:
            return False
        self._seen[key] = None
        while len(self._seen) > SEEN_LIMIT:
            self._seen.popitem(last=False)
        return True

    async def _history(self, session_id: str) -> tuple[list[dict[str, Any]], str | None]:
        agent = self._agent()
        store = getattr(agent, "tracker_store", None)
        if store is None:
            return [], None
        tracker = await store.retrieve(session_id)
        return history(list(tracker.events)) if tracker is not None else ([], None)

    async def _greeting(self, session_id: str, language: str | None) -> dict[str, Any] | None:
        """The assistant's welcome for a new session (shown, not stored: the conversation
        starts with the customer's first message)."""
        agent = self._agent()
        if agent is None or agent.nlg is None or agent.domain is None:
            return None
        tracker = DialogueStateTracker(session_id, agent.domain.slots)
        if language in LANGUAGES and "language" in {s.name for s in agent.domain.slots}:
            tracker.update(SlotSet("language", language))
        try:
            rendered = await agent.nlg.generate(GREETING, tracker, self.name(), name_suffix="")
        except Exception:  # a greeting is a courtesy: the chat works without it
            logger.exception("widget.greeting_failed")
            return None
        return bot_message(rendered) if rendered else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> SocketBlueprint:
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self.allowed_origins,
            max_http_buffer_size=MAX_PAYLOAD_BYTES,
        )
        self.sio = sio
        webhook = _WidgetBlueprint(sio, self.socketio_path, self)

        @webhook.route("/", methods=["GET"])  # type: ignore[untyped-decorator]
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect")  # type: ignore[untyped-decorator]
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            address = str(environ.get("REMOTE_ADDR") or "unknown")
            if not self.connects.check(address).allowed:
                logger.warning("widget.connect_refused reason=rate address=%s", address)
                return False
            token = auth.get("token") if isinstance(auth, dict) else None
            identity = verify_token(token, key=self.identity_key)
            if token and identity is None:
                logger.info("widget.identity_rejected sid=%s (anonymous session)", sid)
            customer = identity.customer_id if identity else None
            await sio.save_session(sid, {"customer_id": customer, "session_id": None})
            return True

        @sio.on("session_request")  # type: ignore[untyped-decorator]
        async def session_request(sid: str, data: Any = None) -> None:
            state = await sio.get_session(sid)
            customer = state.get("customer_id")
            requested = data.get("session_id") if isinstance(data, dict) else None
            resumed = session_belongs(requested, customer, key=self.session_key)
            session_id = str(requested) if resumed else new_session_id(customer, key=self.session_key)
            if state.get("session_id") and state["session_id"] != session_id:
                await sio.leave_room(sid, state["session_id"])
            state["session_id"] = session_id
            await sio.save_session(sid, state)
            await sio.enter_room(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)
            shown, language = await self._history(session_id) if resumed else ([], None)
            wanted = data.get("language") if isinstance(data, dict) else None
            await sio.emit(HISTORY_EVT, {"messages": shown, "language": language}, room=sid)
            if not shown:
                greeting = await self._greeting(session_id, language or wanted)
                if greeting is not None:
                    await sio.emit(self.bot_message_evt, greeting, room=sid)
                    state["welcomed"] = True  # a "hello" next gets a short answer, not this again
                    await sio.save_session(sid, state)

        @sio.on(self.user_message_evt)  # type: ignore[untyped-decorator]
        async def handle_message(sid: str, data: Any = None) -> dict[str, Any]:
            state = await sio.get_session(sid)
            session_id = state.get("session_id")
            if not session_id:
                return {"ok": False, "error": "no session yet: send session_request first"}
            text = data.get("message") if isinstance(data, dict) else None
            if not isinstance(text, str) or not text.strip():
                return {"ok": False, "error": "the message must be non-empty text"}
            if len(text) > MAX_MESSAGE_CHARS:
                return {"ok": False, "error": f"the message is longer than {MAX_MESSAGE_CHARS} characters"}
            client_id = data.get("client_id")
            verdict = self.senders.check(session_id)
            if not verdict.allowed:
                return {
                    "ok": False,
                    "error": "too many messages; try again shortly",
                    "retry_after": verdict.retry_after,
                }
            if not self._first_time(session_id, client_id):
                return {"ok": True, "duplicate": True}
            metadata: dict[str, Any] = {"channel": self.name()}
            if state.get("customer_id"):
                metadata["customer_id"] = state["customer_id"]
            if state.get("welcomed"):
                metadata[WELCOMED_KEY] = True
            sent = data.get("metadata")
            if isinstance(sent, dict) and sent.get("language") in LANGUAGES:
                metadata["ui_language"] = sent["language"]
            output = WidgetOutput(sio, self.bot_message_evt)
            await sio.emit(TYPING_EVT, {"typing": True}, room=session_id)
            try:
                await on_new_message(
                    UserMessage(text, output, session_id, input_channel=self.name(), metadata=metadata)
                )
            except Exception:
                logger.exception("widget.message_failed session=%s", session_id)
                self._seen.pop((session_id, client_id), None)
                return {"ok": False, "error": "the message could not be handled; please try again"}
            finally:
                await sio.emit(TYPING_EVT, {"typing": False}, room=session_id)
            return {"ok": True}

        return webhook
