"""``/``: the queue of handoffs — live chats and callbacks — for staff to take.

Filters are GET parameters, so a filtered queue can be bookmarked: ``kind``
(``live_chat``, ``callback``), ``status`` (``active`` — open or claimed, the default —,
``open``, ``claimed``, ``done``, ``cancelled``, ``any``), ``persona``, ``language``,
``channel``, ``assignee`` (a username, ``@me``, ``@nobody``), ``q`` (a reference or its
beginning; an exact reference opens that handoff's page; without a ``status`` it searches
every status) and ``page`` (50 a page, the longest waiting first).

Each row shows how long since the request, whether the service target is missed
(``bot.handoff.service.handoff_sla``) and whether the customer wrote again after the
handoff or after staff's last reply (Rasa's tracker store, one query a page).
``/queue/rows`` is the table alone: ``static/queue.js`` fetches it every 10 seconds.
Claiming and releasing are POSTs, audited as ``handoff.claim`` and ``handoff.release``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.console.security import require_login, staff_of
from bot.console.views import CONFIG, in_session, now, record, render, see_other, url_for
from bot.console.worklist import LANGUAGE_NAMES, back_path, handoff_url, service_policy, wait_label
from bot.core.channels import INPUT_CHANNELS
from bot.core.settings import Settings
from bot.handoff.service import handoff_sla
from bot.persona.catalogue import CatalogueError, persona_ids
from bot.store.models import HandoffKind, HandoffStatus, StaffRole
from bot.store.queue import DEFAULT_PAGE_SIZE, QueueConflict, QueueFilter, QueueRepository, QueueRow
from bot.store.repository import NotFound
from bot.store.staff import StaffRepository
from bot.store.trackers import TrackerStoreError, last_customer_messages, tracker_store_engine

logger = logging.getLogger(__name__)

routes = web.RouteTableDef()

REFRESH_SECONDS = 10
MAX_PARAM_CHARS = 64
MAX_PAGE = 100_000
ACTIVE, ANY = "active", "any"
STATUS_CHOICES = {
    ACTIVE: (HandoffStatus.open, HandoffStatus.claimed),
    "open": (HandoffStatus.open,),
    "claimed": (HandoffStatus.claimed,),
    "done": (HandoffStatus.done,),
    "cancelled": (HandoffStatus.cancelled,),
    ANY: (),
}
STATUS_LABELS = {
    ACTIVE: "Open or claimed",
    "open": "Open",
    "claimed": "Claimed",
    "done": "Done",
    "cancelled": "Cancelled",
    ANY: "Any status",
}
KIND_LABELS = {HandoffKind.live_chat.value: "Live chat", HandoffKind.callback.value: "Callback"}
ME, NOBODY = "@me", "@nobody"
_REFERENCE = re.compile(r"(CB|LC)-?([A-Z0-9]*)")


def normalise_reference(text: str) -> str:
    """A reference as typed or read out (``cb 7km3``, ``LC7KM3QZ``) in its stored form
    (``CB-7KM3``, ``LC-7KM3QZ``); other text upper-cased, without spaces."""
    compact = re.sub(r"\s+", "", text).upper()[:MAX_PARAM_CHARS]
    found = _REFERENCE.fullmatch(compact)
    if found and found.group(2):
        return f"{found.group(1)}-{found.group(2)}"
    return compact


@dataclass(frozen=True)
class QueueQuery:
    """The queue's GET parameters, checked (empty: no filter)."""

    kind: str = ""
    status: str = ""  # empty: ``active``, or ``any`` while searching
    persona: str = ""
    language: str = ""
    channel: str = ""
    assignee: str = ""
    q: str = ""
    page: int = 1

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> QueueQuery:
        """Raises ``web.HTTPBadRequest`` naming a parameter it cannot use."""

        def text(name: str) -> str:
            return str(query.get(name, "")).strip()[:MAX_PARAM_CHARS]

        kind, status = text("kind"), text("status")
        if kind and kind not in KIND_LABELS:
            raise web.HTTPBadRequest(text=f"unknown kind {kind!r}: live_chat or callback")
        if status and status not in STATUS_CHOICES:
            raise web.HTTPBadRequest(text=f"unknown status {status!r}: one of {', '.join(STATUS_CHOICES)}")
        raw_page = text("page") or "1"
        if not raw_page.isdigit() or not 1 <= int(raw_page) <= MAX_PAGE:
            raise web.HTTPBadRequest(text=f"page {raw_page!r} does not exist: pages are numbered from 1")
        return cls(
            kind=kind,
            status=status,
            persona=text("persona"),
            language=text("language"),
            channel=text("channel"),
            assignee=text("assignee"),
            q=normalise_reference(text("q")),
            page=int(raw_page),
        )

    @property
    def effective_status(self) -> str:
        return self.status or (ANY if self.q else ACTIVE)

    def filters(self, me: str) -> QueueFilter:
        assignee = {ME: me, NOBODY: None}.get(self.assignee, self.assignee or None)
        return QueueFilter(
            kind=HandoffKind(self.kind) if self.kind else None,
            statuses=STATUS_CHOICES[self.effective_status],
            persona=self.persona or None,
            language=self.language or None,
            channel=self.channel or None,
            assignee=assignee,
            unassigned=self.assignee == NOBODY,
            reference_prefix=self.q or None,
        )

    def params(self, **changes: Any) -> dict[str, str]:
        """The parameters that differ from the defaults (for links)."""
        changed = replace(self, **changes)
        default = QueueQuery()
        return {
            f.name: str(getattr(changed, f.name))
            for f in fields(self)
            if getattr(changed, f.name) != getattr(default, f.name)
        }

    def link(self, path: str, **changes: Any) -> str:
        query = urllib.parse.urlencode(self.params(**changes))
        return f"{path}?{query}" if query else path


@functools.lru_cache(maxsize=4)
def _tracker_engine(url: str) -> Engine:
    return tracker_store_engine(url)


@functools.lru_cache(maxsize=1)
def _personas() -> tuple[str, ...]:
    try:
        return tuple(persona_ids(Settings.from_env().personas_file))
    except CatalogueError as exc:
        logger.warning("console.personas_unavailable error=%s", exc)
        return ()


async def _customer_messages(
    request: web.Request, sender_ids: list[str]
) -> tuple[dict[str, dt.datetime], str | None]:
    """When each customer last wrote, and a note for staff when that cannot be known."""
    url = request.app[CONFIG].tracker_store_url
    if not url or not sender_ids:
        return {}, None

    def read() -> dict[str, dt.datetime]:
        return last_customer_messages(_tracker_engine(url), sender_ids)

    try:
        return await asyncio.get_running_loop().run_in_executor(None, read), None
    except TrackerStoreError as exc:
        logger.warning("console.tracker_store_unavailable error=%s", exc)
        return {}, "The conversations cannot be read just now: whether customers wrote again is not shown."


def _row(
    request: web.Request,
    h: QueueRow,
    *,
    me: str,
    supervisor: bool,
    moment: dt.datetime,
    wrote: Mapping[str, dt.datetime],
    replied: Mapping[str, dt.datetime],
) -> dict[str, Any]:
    policy = service_policy(request)
    active = h.status in (HandoffStatus.open, HandoffStatus.claimed)
    sla = handoff_sla(
        policy,
        kind=h.kind.value,
        status=h.status.value,
        created_at=h.created_at,
        window_start=h.window_start,
        now=moment,
    )
    last_customer = wrote.get(h.sender_id)
    seen_until = max(h.created_at, replied.get(h.reference, h.created_at))
    return {
        "reference": h.reference,
        "url": handoff_url(request, h.reference),
        "kind": h.kind.value,
        "kind_label": KIND_LABELS[h.kind.value],
        "status": h.status.value,
        "persona": h.persona,
        "language": h.language,
        "language_name": LANGUAGE_NAMES.get(h.language or "", h.language),
        "channel": h.channel,
        "reason": h.reason,
        "assignee": h.assignee,
        "mine": h.assignee == me,
        "created_at": h.created_at,
        "closed_at": h.closed_at,
        "wait": wait_label(h.created_at, moment) if active else None,
        "late": sla.late,
        "due_at": sla.due_at,
        "sla_minutes": int(policy.live_chat_sla.total_seconds() // 60),
        "window_start": h.window_start,
        "window_end": h.window_end,
        "wrote_again_at": last_customer if active and last_customer and last_customer > seen_until else None,
        "can_claim": h.status is HandoffStatus.open,
        "can_release": h.status is HandoffStatus.claimed and (h.assignee == me or supervisor),
    }


async def _context(request: web.Request, query: QueueQuery) -> dict[str, Any]:
    staff = staff_of(request)
    filters = query.filters(staff.username)
    moment = now(request)

    def load(session: Session) -> dict[str, Any]:
        repo = QueueRepository(session)
        page = repo.page(filters, page=query.page, page_size=DEFAULT_PAGE_SIZE)
        active = [r.reference for r in page.rows if r.status in (HandoffStatus.open, HandoffStatus.claimed)]
        return {
            "page": page,
            "replied": repo.last_staff_replies(active),
            "usernames": [u.username for u in StaffRepository(session).users()],
        }

    data = await in_session(request, load)
    page = data["page"]
    senders = sorted(
        {r.sender_id for r in page.rows if r.status in (HandoffStatus.open, HandoffStatus.claimed)}
    )
    wrote, tracker_note = await _customer_messages(request, senders)
    supervisor = staff.has_role(StaffRole.supervisor)
    rows = [
        _row(
            request,
            h,
            me=staff.username,
            supervisor=supervisor,
            moment=moment,
            wrote=wrote,
            replied=data["replied"],
        )
        for h in page.rows
    ]
    base = url_for(request, "queue")
    pages = page.pages
    return {
        "rows": rows,
        "total": page.total,
        "page": page.page,
        "pages": pages,
        "page_size": page.page_size,
        "first_url": query.link(base, page=1) if page.page > 1 else None,
        "previous_url": query.link(base, page=page.page - 1) if page.page > 1 else None,
        "next_url": query.link(base, page=page.page + 1) if page.page < pages else None,
        "last_url": query.link(base, page=pages) if page.page < pages else None,
        "refresh_url": query.link(url_for(request, "queue_rows")),
        "refresh_seconds": REFRESH_SECONDS,
        "back": query.link(base),
        "query": query,
        "status_choice": query.effective_status,
        "status_labels": STATUS_LABELS,
        "kind_labels": KIND_LABELS,
        "personas": sorted({*_personas(), *([query.persona] if query.persona else [])}),
        "languages": LANGUAGE_NAMES,
        "channels": sorted({*INPUT_CHANNELS, *([query.channel] if query.channel else [])}),
        "usernames": data["usernames"],
        "me": ME,
        "nobody": NOBODY,
        "tracker_note": tracker_note,
        "updated_at": moment,
        "searched": query.q,
    }


@routes.get("/", name="queue")
@require_login
async def queue(request: web.Request) -> web.StreamResponse:
    query = QueueQuery.parse(request.query)
    if query.q:
        reference = query.q
        if await in_session(request, lambda s: QueueRepository(s).exists(reference)):
            raise see_other(handoff_url(request, reference))
    return render(request, "queue/index.html", await _context(request, query))


@routes.get("/queue/rows", name="queue_rows")
@require_login
async def queue_rows(request: web.Request) -> web.StreamResponse:
    """The queue's table alone, for the page to refresh itself."""
    query = QueueQuery.parse(request.query)
    return render(request, "queue/rows.html", await _context(request, query))


async def _change(request: web.Request, action: str) -> web.StreamResponse:
    reference = request.match_info["reference"]
    form = await request.post()
    staff = staff_of(request)

    def change(session: Session) -> None:
        repo = QueueRepository(session)
        if action == "handoff.claim":
            row = repo.claim(reference, by=staff.username)
            record(session, request, action, reference, kind=row.kind.value, via="queue")
        else:
            row, previous = repo.release(
                reference, by=staff.username, supervisor=staff.has_role(StaffRole.supervisor)
            )
            record(session, request, action, reference, kind=row.kind.value, previous=previous, via="queue")

    try:
        await in_session(request, change)
    except NotFound as exc:
        raise web.HTTPNotFound(text=str(exc)) from exc
    except QueueConflict as exc:
        raise web.HTTPConflict(text=str(exc)) from exc
    raise see_other(back_path(form, url_for(request, "queue")))


@routes.post("/queue/{reference}/claim", name="queue_claim")
@require_login
async def claim(request: web.Request) -> web.StreamResponse:
    return await _change(request, "handoff.claim")


@routes.post("/queue/{reference}/release", name="queue_release")
@require_login
async def release(request: web.Request) -> web.StreamResponse:
    return await _change(request, "handoff.release")
