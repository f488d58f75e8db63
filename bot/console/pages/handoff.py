"""``/handoffs/{reference}``: one handoff's conversation, and the live chat with its customer.

The page shows the whole conversation (every session, before and after the handoff, staff
replies and what the customer wrote while a person had the chat), read from Rasa's tracker
and redacted (``bot.handoff.conversation``); the persona card with the handoff's evidence;
the customer's profile, masked; the reason; notes; the callback, for a callback.

``/handoffs/{reference}/events`` streams what changes (server-sent events): the console
reads the tracker every ``POLL_SECONDS`` and sends new lines (``items``, id = how many lines
the page has), fresh suggested replies after a customer message (``suggestions``), the
handoff's status and assignee first and whenever they change (``state``) and whether Rasa
answers (``rasa``). A stream ends after ``STREAM_SECONDS`` and the browser reconnects with the id
it had, through the login check again.

Actions (POST, CSRF, audited): ``claim``, ``take-over`` (supervisors), ``reply`` (the
member of staff it is claimed by: ``send_to_customer``), ``transfer``, ``notes``, ``end``
(tells the customer, resumes the assistant, closes the handoff), ``persona`` (a correction
to another persona) and ``rating``. Who may do what: ``bot.console.handoff_view``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import logging
import time
import weakref
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from sqlalchemy.orm import Session

from bot.console.handoff_view import (
    Allowed,
    allowed,
    display_name,
    masked_phone,
    masked_profile,
    persona_card,
    stored_lines,
    transcript_lines,
)
from bot.console.security import require_login, require_role, staff_of
from bot.console.views import CONFIG, TEMPLATES, in_session, record, render, see_other, url_for
from bot.core.limits import MAX_MESSAGE_CHARS
from bot.core.settings import Settings
from bot.handoff.assist import Suggestion, latest_topic, load_renderer, suggestions
from bot.handoff.conversation import CUSTOMER, Conversation, fetch_conversation
from bot.handoff.rasa_api import RasaApiError, resume_conversation, send_to_customer
from bot.persona.catalogue import CatalogueError, PersonaCatalogue, load_catalogue
from bot.store.models import Handoff, HandoffStatus
from bot.store.repository import HandoffRepository, InvalidTransition, NotFound, SamePersona
from bot.store.staff import StaffError, StaffRepository
from bot.wording import Renderer

logger = logging.getLogger(__name__)
routes = web.RouteTableDef()

CHAT_ENDED_RESPONSE = "utter_live_chat_ended"
POLL_SECONDS = 0.5
STATE_SECONDS = 2.0  # how often a stream re-reads the handoff's status and assignee
STREAM_SECONDS = 300.0  # then the browser reconnects (and its session is checked again)
KEEPALIVE_SECONDS = 15.0
RASA_TIMEOUT = 5.0  # reading the conversation for the page or a stream
SEND_TIMEOUT = 10.0
RECONNECT_MS = 1000
MAX_FIELD_CHARS = 300


# --- configuration read once per process (the first page pays for it, in a worker thread)


@functools.lru_cache(maxsize=1)
def _catalogue() -> PersonaCatalogue:
    return load_catalogue(Settings.from_env().personas_file, compile_patterns=False)


@functools.lru_cache(maxsize=1)
def _renderer() -> Renderer:
    return load_renderer()


# --- reading


def _handoff(session: Session, reference: str) -> Handoff:
    try:
        return HandoffRepository(session).get(reference)
    except NotFound as exc:
        raise web.HTTPNotFound(text=f"no handoff {reference}") from exc


def _allowed(request: web.Request, h: Handoff | dict[str, Any]) -> Allowed:
    values = (
        h if isinstance(h, dict) else {"kind": h.kind.value, "status": h.status.value, "assignee": h.assignee}
    )
    return allowed(
        staff_of(request), kind=values["kind"], status=values["status"], assignee=values["assignee"]
    )


def _in_zone(start: dt.datetime | None, end: dt.datetime | None, zone: str | None) -> str | None:
    """A callback window in the customer's timezone (``Mon 23 Nov 14:00–16:00 Europe/Madrid``)."""
    if start is None or end is None or not zone:
        return None
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return f"{start.astimezone(tz):%a %d %b %H:%M}–{end.astimezone(tz):%H:%M} {zone}"


def _load(session: Session, reference: str, me: str) -> dict[str, Any]:
    """Everything the page needs from the database, as plain values."""
    handoffs, staff = HandoffRepository(session), StaffRepository(session)
    h = _handoff(session, reference)
    corrections = handoffs.corrections(h)
    ratings = staff.persona_ratings(h)
    callback = None
    if h.kind.value == "callback":
        callback = {
            "number": masked_phone(h.callback_number),
            "window_start": h.window_start,
            "window_end": h.window_end,
            "timezone": h.timezone,
            "window_customer": _in_zone(h.window_start, h.window_end, h.timezone),
            "attempts": [
                {"outcome": a.outcome.value.replace("_", " "), "by": a.by, "at": a.at, "note": a.note}
                for a in staff.callback_attempts(h)
            ],
        }
    return {
        "h": {
            "reference": h.reference,
            "kind": h.kind.value,
            "status": h.status.value,
            "reason": h.reason,
            "persona": h.persona,
            "persona_now": handoffs.current_persona(h),
            "persona_confidence": h.persona_confidence,
            "persona_evidence": list(h.persona_evidence or []),
            "language": h.language,
            "channel": h.channel,
            "assignee": h.assignee,
            "created_at": h.created_at,
            "claimed_at": h.claimed_at,
            "closed_at": h.closed_at,
        },
        "sender_id": h.sender_id,
        "stored_transcript": list(h.transcript or []),
        "profile": masked_profile(h.customer),
        "callback": callback,
        "notes": [{"author": n.author, "text": n.text, "at": n.created_at} for n in staff.notes(h)],
        "corrections": [
            {
                "by": c.staff_user,
                "from": c.inferred_persona,
                "to": c.corrected_persona,
                "note": c.note,
                "at": c.created_at,
            }
            for c in corrections
        ],
        "ratings": [
            {"by": r.by, "persona_right": r.persona_right, "useful": r.useful, "at": r.at} for r in ratings
        ],
        "my_rating": next(
            ({"persona_right": r.persona_right, "useful": r.useful} for r in ratings if r.by == me), None
        ),
        "colleagues": [u.username for u in staff.users() if not u.disabled and u.username != h.assignee],
    }


def _fetch(request: web.Request, sender_id: str) -> Conversation:
    config = request.app[CONFIG]
    return fetch_conversation(
        sender_id, rasa_url=config.rasa_url, token=config.rasa_token, timeout=RASA_TIMEOUT
    )


def _suggest(
    conversation: Conversation | None, *, persona: str | None, language: str | None, me: str, name: str | None
) -> list[Suggestion]:
    renderer = _renderer()
    return suggestions(
        renderer=renderer,
        persona=persona,
        language=language,
        agent_name=display_name(me),
        fmt=conversation.fmt if conversation else "rest",
        topic_intent=latest_topic(conversation.intents, renderer=renderer) if conversation else None,
        customer_name=name or (conversation.customer_name if conversation else None),
    )


def _persona_choices() -> list[dict[str, str]]:
    return [{"id": p.id, "name": p.name} for p in _catalogue().personas]


async def _page(
    request: web.Request, reference: str, *, status: int = 200, error: str | None = None
) -> web.StreamResponse:
    me = staff_of(request).username
    data = await in_session(request, lambda s: _load(s, reference, me))
    loop = asyncio.get_running_loop()
    h = data["h"]
    sender, stored = data.pop("sender_id"), data.pop("stored_transcript")
    conversation: Conversation | None = None
    transcript_error = None
    try:
        conversation = await loop.run_in_executor(None, _fetch, request, sender)
    except RasaApiError as exc:
        logger.warning("console.conversation_unavailable reference=%s error=%s", reference, exc)
        transcript_error = (
            "The conversation could not be read from the assistant: this is the transcript kept "
            "with the handoff."
        )
    lines = transcript_lines(conversation.items) if conversation else stored_lines(stored)
    language = h["language"] or (conversation.language if conversation else None)
    persona = h["persona_now"] or (conversation.persona if conversation else None)
    rules = _allowed(request, h)
    try:
        card = await loop.run_in_executor(
            None,
            lambda: persona_card(
                _catalogue(),
                persona,
                language=language,
                no_calls=conversation.no_calls if conversation else None,
            ),
        )
        personas = await loop.run_in_executor(None, _persona_choices)
    except CatalogueError:
        logger.exception("console.catalogue_unavailable")
        card, personas = None, []
    suggested: list[Suggestion] = []
    if rules.reply:
        name = data["profile"]["name"] if data["profile"] else None
        suggested = await loop.run_in_executor(
            None,
            functools.partial(_suggest, conversation, persona=persona, language=language, me=me, name=name),
        )
    context = {
        **data,
        "lines": lines,
        # A page built from the stored transcript has its lines replaced by the first update.
        "cursor": len(lines) if conversation else None,
        "transcript_error": transcript_error,
        "allowed": rules,
        "card": card,
        "persona_shown": persona,
        "personas": personas,
        "suggestions": suggested,
        "error": error,
        "max_reply": MAX_MESSAGE_CHARS,
    }
    return render(request, "handoff/page.html", context, status=status)


@routes.get("/handoffs/{reference}", name="handoff")
@require_login
async def handoff(request: web.Request) -> web.StreamResponse:
    return await _page(request, request.match_info["reference"])


# --- live updates (server-sent events)


class _Stream:
    """One open event stream, so the console's shutdown can end it at once."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.stop = asyncio.Event()


_streams: weakref.WeakSet[_Stream] = weakref.WeakSet()


async def on_shutdown(app: web.Application) -> None:
    """End this app's event streams (the console is stopping)."""
    for stream in list(_streams):
        if stream.app is app:
            stream.stop.set()


def _cursor(request: web.Request) -> int | None:
    """How many lines the page has (the last event id, else ``?after=``); None: all."""
    raw = request.headers.get("Last-Event-ID") or request.query.get("after", "")
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def _fragment(request: web.Request, template: str, **context: Any) -> str:
    page = request.app[TEMPLATES].get_template(template)
    return str(page.render({"staff": staff_of(request), **context}))


def _event(name: str, data: Any, *, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _stream_state(session: Session, reference: str) -> dict[str, Any]:
    h = _handoff(session, reference)
    return {
        "sender_id": h.sender_id,
        "kind": h.kind.value,
        "status": h.status.value,
        "assignee": h.assignee,
        "persona": HandoffRepository(session).current_persona(h),
        "language": h.language,
        "profile_name": h.customer.display_name if h.customer else None,
    }


def _closed(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


@routes.get("/handoffs/{reference}/events", name="handoff_events")
@require_login
async def handoff_events(request: web.Request) -> web.StreamResponse:
    reference = request.match_info["reference"]
    me = staff_of(request).username
    state = await in_session(request, lambda s: _stream_state(s, reference))
    sender = state.pop("sender_id")
    cursor = _cursor(request)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    stream = _Stream(request.app)
    _streams.add(stream)
    loop = asyncio.get_running_loop()
    started = last_state = last_write = time.monotonic()
    rasa_ok: bool | None = None
    try:
        # The state first: the page compares it with what it showed (it may have changed since).
        first = _event("state", {"status": state["status"], "assignee": state["assignee"]})
        await response.write(f"retry: {RECONNECT_MS}\n\n".encode() + first)
        while not stream.stop.is_set() and not _closed(request):
            now = time.monotonic()
            if now - started > STREAM_SECONDS:
                break
            chunks: list[bytes] = []
            try:
                conversation = await loop.run_in_executor(None, _fetch, request, sender)
            except RasaApiError as exc:
                if rasa_ok is not False:
                    chunks.append(
                        _event("rasa", {"ok": False, "message": "The assistant cannot be reached; retrying."})
                    )
                    logger.warning("console.stream_rasa_unavailable reference=%s error=%s", reference, exc)
                rasa_ok = False
            else:
                if rasa_ok is False:
                    chunks.append(_event("rasa", {"ok": True, "message": ""}))
                rasa_ok = True
                chunks += await _new_lines(request, conversation, cursor, state, me)
                cursor = len(conversation.items)
            if now - last_state >= STATE_SECONDS:
                last_state = now
                fresh = await in_session(request, lambda s: _stream_state(s, reference))
                fresh.pop("sender_id")
                if (fresh["status"], fresh["assignee"]) != (state["status"], state["assignee"]):
                    chunks.append(_event("state", {"status": fresh["status"], "assignee": fresh["assignee"]}))
                state = fresh
            if not chunks and now - last_write >= KEEPALIVE_SECONDS:
                chunks.append(b": keep-alive\n\n")
            if chunks:
                await response.write(b"".join(chunks))
                last_write = now
            try:
                await asyncio.wait_for(stream.stop.wait(), POLL_SECONDS)
            except asyncio.TimeoutError:
                pass
    except (ConnectionResetError, ConnectionError):
        pass  # the page was closed
    finally:
        _streams.discard(stream)
    return response


async def _new_lines(
    request: web.Request, conversation: Conversation, cursor: int | None, state: dict[str, Any], me: str
) -> list[bytes]:
    items = conversation.items
    count = len(items)
    if cursor is not None and cursor == count:
        return []
    if cursor is None or cursor > count:
        html = _fragment(request, "handoff/_lines.html", lines=transcript_lines(items))
        return [_event("reset", {"html": html, "count": count}, event_id=count)]
    new = items[cursor:]
    html = _fragment(request, "handoff/_lines.html", lines=transcript_lines(new))
    out = [_event("items", {"html": html, "count": count}, event_id=count)]
    rules = allowed(staff_of(request), kind=state["kind"], status=state["status"], assignee=state["assignee"])
    if rules.reply and any(i.kind == CUSTOMER for i in new):
        language = state["language"] or conversation.language
        persona = state["persona"] or conversation.persona
        suggested = await asyncio.get_running_loop().run_in_executor(
            None,
            functools.partial(
                _suggest, conversation, persona=persona, language=language, me=me, name=state["profile_name"]
            ),
        )
        out.append(
            _event(
                "suggestions",
                {"html": _fragment(request, "handoff/_suggestions.html", suggestions=suggested)},
            )
        )
    return out


# --- actions


def _back(request: web.Request, reference: str, anchor: str = "") -> web.HTTPSeeOther:
    return see_other(url_for(request, "handoff", reference=reference) + anchor)


def _text(form: Any, name: str, limit: int = MAX_FIELD_CHARS) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@routes.post("/handoffs/{reference}/claim", name="handoff_claim")
@require_login
async def claim(request: web.Request) -> web.StreamResponse:
    reference, me = request.match_info["reference"], staff_of(request).username

    def work(session: Session) -> None:
        _handoff(session, reference)
        HandoffRepository(session).transition(reference, "claimed", assignee=me)
        record(session, request, "handoff.claim", reference)

    try:
        await in_session(request, work)
    except InvalidTransition:
        return await _page(request, reference, status=409, error="Someone has claimed it already.")
    raise _back(request, reference)


@routes.post("/handoffs/{reference}/take-over", name="handoff_take_over")
@require_role("supervisor")
async def take_over(request: web.Request) -> web.StreamResponse:
    reference, staff = request.match_info["reference"], staff_of(request)

    def work(session: Session) -> None:
        h = _handoff(session, reference)
        if not _allowed(request, h).take_over:
            raise web.HTTPForbidden(
                text=f"you cannot take over {reference}: only a supervisor, from a colleague"
            )
        _, previous = HandoffRepository(session).reassign(reference, staff.username)
        record(session, request, "handoff.take_over", reference, **{"from": previous})

    try:
        await in_session(request, work)
    except InvalidTransition as exc:
        return await _page(request, reference, status=409, error=str(exc))
    raise _back(request, reference)


@routes.post("/handoffs/{reference}/transfer", name="handoff_transfer")
@require_login
async def transfer(request: web.Request) -> web.StreamResponse:
    reference = request.match_info["reference"]
    to = _text(await request.post(), "to").lower()

    def work(session: Session) -> None:
        h = _handoff(session, reference)
        if not _allowed(request, h).transfer:
            raise web.HTTPForbidden(
                text=f"only {h.assignee or 'its assignee'} or a supervisor may transfer {reference}"
            )
        colleague = StaffRepository(session).user(to) if to else None
        if colleague is None or colleague.disabled:
            raise StaffError(f"choose an active colleague to transfer {reference} to")
        _, previous = HandoffRepository(session).reassign(reference, colleague.username)
        record(
            session, request, "handoff.transfer", reference, **{"from": previous, "to": colleague.username}
        )

    try:
        await in_session(request, work)
    except (StaffError, InvalidTransition) as exc:
        return await _page(request, reference, status=400, error=str(exc))
    raise _back(request, reference)


@routes.post("/handoffs/{reference}/reply", name="handoff_reply")
@require_login
async def reply(request: web.Request) -> web.StreamResponse:
    """A message from the member of staff the live chat is claimed by to the customer, on
    their channel. Answers JSON to the page's script, a redirect to a plain form."""
    reference, me = request.match_info["reference"], staff_of(request).username
    form = await request.post()
    raw = form.get("text")
    text = raw.strip() if isinstance(raw, str) else ""

    def check(session: Session) -> tuple[str, str | None]:
        h = _handoff(session, reference)
        rules = _allowed(request, h)
        return h.sender_id, None if rules.reply else (rules.read_only or "you cannot reply to this handoff")

    sender, refused = await in_session(request, check)
    problem = refused or (
        "Write a reply first."
        if not text
        else f"A reply has at most {MAX_MESSAGE_CHARS} characters."
        if len(text) > MAX_MESSAGE_CHARS
        else None
    )
    if problem:
        if _wants_json(request):
            return web.json_response({"ok": False, "error": problem}, status=403 if refused else 400)
        return await _page(request, reference, status=403 if refused else 400, error=problem)
    config = request.app[CONFIG]
    send = functools.partial(
        send_to_customer,
        sender,
        text,
        author="staff",
        author_name=me,
        rasa_url=config.rasa_url,
        token=config.rasa_token,
        timeout=SEND_TIMEOUT,
    )
    try:
        delivery = await asyncio.get_running_loop().run_in_executor(None, send)
    except RasaApiError as exc:
        logger.warning("console.reply_failed reference=%s error=%s", reference, exc)
        problem = "The reply was not sent: the assistant could not be reached. Try again."
        if _wants_json(request):
            return web.json_response({"ok": False, "error": problem}, status=502)
        return await _page(request, reference, status=502, error=problem)
    await in_session(
        request,
        lambda s: record(
            s,
            request,
            "handoff.reply",
            reference,
            chars=len(text),
            delivered=delivery.delivered,
            channel=delivery.channel,
        ),
    )
    if _wants_json(request):
        return web.json_response(
            {
                "ok": True,
                "delivered": delivery.delivered,
                "channel": delivery.channel,
                "reason": delivery.reason,
            }
        )
    raise _back(request, reference, "#reply")


@routes.post("/handoffs/{reference}/notes", name="handoff_add_note")
@require_login
async def add_note(request: web.Request) -> web.StreamResponse:
    reference, me = request.match_info["reference"], staff_of(request).username
    form = await request.post()
    raw = form.get("text")
    text = raw if isinstance(raw, str) else ""

    def work(session: Session) -> None:
        StaffRepository(session).add_note(_handoff(session, reference), author=me, text=text)
        record(session, request, "handoff.note", reference)

    try:
        await in_session(request, work)
    except StaffError as exc:
        return await _page(request, reference, status=400, error=str(exc))
    raise _back(request, reference, "#notes")


@routes.post("/handoffs/{reference}/end", name="handoff_end")
@require_login
async def end_chat(request: web.Request) -> web.StreamResponse:
    """End a live chat: the customer is told, the assistant answers again, the handoff is
    done. Nothing changes in the database unless Rasa did both."""
    reference = request.match_info["reference"]

    def check(session: Session) -> str:
        h = _handoff(session, reference)
        if not _allowed(request, h).end:
            raise web.HTTPForbidden(
                text=f"only {h.assignee or 'its assignee'} or a supervisor may end {reference}"
            )
        return str(h.sender_id)

    sender = await in_session(request, check)
    config = request.app[CONFIG]

    def finish() -> bool:
        told = send_to_customer(
            sender,
            response=CHAT_ENDED_RESPONSE,
            author="assistant",
            rasa_url=config.rasa_url,
            token=config.rasa_token,
            timeout=SEND_TIMEOUT,
        )
        resume_conversation(sender, rasa_url=config.rasa_url, token=config.rasa_token, timeout=SEND_TIMEOUT)
        return told.delivered

    try:
        delivered = await asyncio.get_running_loop().run_in_executor(None, finish)
    except RasaApiError as exc:
        logger.warning("console.end_failed reference=%s error=%s", reference, exc)
        error = "The chat was not ended: the assistant could not be reached. Try again."
        return await _page(request, reference, status=502, error=error)

    def close(session: Session) -> None:
        HandoffRepository(session).transition(reference, HandoffStatus.done.value)
        record(session, request, "handoff.end", reference, customer_told=delivered)

    try:
        await in_session(request, close)
    except InvalidTransition as exc:
        return await _page(request, reference, status=409, error=str(exc))
    raise _back(request, reference)


@routes.post("/handoffs/{reference}/persona", name="handoff_correct_persona")
@require_login
async def correct_persona(request: web.Request) -> web.StreamResponse:
    reference, me = request.match_info["reference"], staff_of(request).username
    form = await request.post()
    persona, note = _text(form, "persona"), _text(form, "note", 1000)
    known = {p["id"] for p in await asyncio.get_running_loop().run_in_executor(None, _persona_choices)}
    if persona not in known:
        return await _page(request, reference, status=400, error="Choose one of the personas.")

    def work(session: Session) -> str | None:
        _handoff(session, reference)
        correction = HandoffRepository(session).correct_persona(
            staff_user=me, corrected_persona=persona, reference=reference, note=note or None
        )
        record(
            session, request, "persona.correct", reference, inferred=correction.inferred_persona, to=persona
        )
        return str(correction.inferred_persona) if correction.inferred_persona else None

    try:
        await in_session(request, work)
    except SamePersona:
        error = f"The persona is {persona} already: a correction names a different persona."
        return await _page(request, reference, status=400, error=error)
    raise _back(request, reference, "#persona")


def _yes_no(form: Any, name: str) -> bool | None:
    return {"yes": True, "no": False}.get(_text(form, name))


@routes.post("/handoffs/{reference}/rating", name="handoff_rate_persona")
@require_login
async def rate_persona(request: web.Request) -> web.StreamResponse:
    reference, me = request.match_info["reference"], staff_of(request).username
    form = await request.post()
    right, useful = _yes_no(form, "persona_right"), _yes_no(form, "useful")
    if right is None or useful is None:
        return await _page(
            request, reference, status=400, error="Say whether the persona was right and useful."
        )

    def work(session: Session) -> None:
        StaffRepository(session).rate_persona(
            _handoff(session, reference), by=me, persona_right=right, useful=useful
        )
        record(session, request, "persona.rate", reference, persona_right=right, useful=useful)

    await in_session(request, work)
    raise _back(request, reference, "#persona")
