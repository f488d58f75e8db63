"""``/callbacks``: the callbacks still to make, the earliest due first, and their outcomes.

Each callback shows its window in the customer's timezone and in the member of staff's,
the number to call in full (staff dial it; this page needs a login like every other),
whom to ask for and in which language, whether the customer may be called (a customer
whose record says no calls is shown as *do not call*: the only outcome is cancelling),
the calls so far, and when to try again after an unanswered call.

An outcome (``POST /callbacks/{reference}/outcome``) is one transaction: a
``CallbackAttempt``, the handoff's transition (reached → done; no answer → unchanged;
wrong number, cancelled → cancelled) and a ``callback.attempt`` audit entry.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from typing import Any

import phonenumbers
from aiohttp import web
from sqlalchemy.orm import Session

from bot.console.security import Staff, require_login, staff_of
from bot.console.views import in_session, now, record, render, see_other, url_for
from bot.console.worklist import LANGUAGE_NAMES, back_path, handoff_url, service_policy, span_text, zone
from bot.handoff.service import ServicePolicy, callback_needs_decision, callback_retry_at, handoff_sla
from bot.store.models import CallbackOutcome, HandoffStatus, StaffRole
from bot.store.queue import DEFAULT_PAGE_SIZE, CallbackRow, QueueConflict, QueueRepository
from bot.store.repository import NotFound

routes = web.RouteTableDef()

MAX_NOTE_CHARS = 500
MAX_PAGE = 100_000
OUTCOME_LABELS = {
    CallbackOutcome.reached: "Reached",
    CallbackOutcome.no_answer: "No answer",
    CallbackOutcome.wrong_number: "Wrong number",
    CallbackOutcome.cancelled: "Cancelled",
}
_REFERENCE = re.compile(r"CB-[A-Z0-9]{1,13}")


def number_display(number: str | None) -> str | None:
    """An E.164 number as people read it (``+44 7911 123456``)."""
    if not number:
        return None
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def _consent(row: CallbackRow) -> str:
    if row.do_not_call:
        return "Do not call: the customer's record says no calls"
    if row.consent_to_calls:
        return "Agreed when booking, and on the customer's record"
    return "Agreed when booking"


def _row(
    request: web.Request, row: CallbackRow, *, staff: Staff, policy: ServicePolicy, moment: dt.datetime
) -> dict[str, Any]:
    sla = handoff_sla(
        policy,
        kind="callback",
        status=row.status.value,
        created_at=row.created_at,
        window_start=row.window_start,
        now=moment,
    )
    customer_zone = zone(row.timezone, policy.timezone.key)
    staff_zone = zone(staff.timezone, policy.timezone.key)
    retry_at = callback_retry_at(policy, row.last_no_answer_at)
    mine = row.assignee == staff.username
    return {
        "reference": row.reference,
        "url": handoff_url(request, row.reference),
        "status": row.status.value,
        "assignee": row.assignee,
        "mine": mine,
        "persona": row.persona,
        "language_name": LANGUAGE_NAMES.get(row.language or "", row.language),
        "reason": row.reason,
        "customer_name": row.customer_name,
        "number": row.callback_number,
        "number_display": number_display(row.callback_number),
        "do_not_call": row.do_not_call,
        "consent": _consent(row),
        "due_at": sla.due_at,
        "late": sla.late,
        "window_customer": (
            span_text(row.window_start, row.window_end, customer_zone)
            if row.window_start and row.window_end
            else None
        ),
        "customer_zone": customer_zone.key,
        "window_staff": (
            span_text(row.window_start, row.window_end, staff_zone)
            if row.window_start and row.window_end
            else None
        ),
        "staff_zone": staff_zone.key,
        "attempts": row.attempts,
        "no_answers": row.no_answers,
        "last_attempt_at": row.last_attempt_at,
        "retry_at": retry_at if retry_at and retry_at > moment else None,
        "needs_decision": callback_needs_decision(policy, row.no_answers),
        "can_record": row.status is HandoffStatus.open or mine or staff.has_role(StaffRole.supervisor),
    }


def _notice(request: web.Request) -> str | None:
    reference = request.query.get("done", "")
    outcome = request.query.get("outcome", "")
    if not _REFERENCE.fullmatch(reference) or outcome not in {o.value for o in CallbackOutcome}:
        return None
    return f"{reference}: {OUTCOME_LABELS[CallbackOutcome(outcome)].lower()} recorded."


@routes.get("/callbacks", name="callbacks")
@require_login
async def callbacks(request: web.Request) -> web.StreamResponse:
    raw_page = request.query.get("page", "1")
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= MAX_PAGE:
        raise web.HTTPBadRequest(text=f"page {raw_page[:20]!r} does not exist: pages are numbered from 1")
    page_number = int(raw_page)
    staff = staff_of(request)
    policy = service_policy(request)
    moment = now(request)
    page = await in_session(
        request, lambda s: QueueRepository(s).open_callbacks(page=page_number, page_size=DEFAULT_PAGE_SIZE)
    )
    base = url_for(request, "callbacks")

    def link(n: int) -> str:
        return base if n == 1 else f"{base}?{urllib.parse.urlencode({'page': n})}"

    context = {
        "rows": [_row(request, r, staff=staff, policy=policy, moment=moment) for r in page.rows],
        "total": page.total,
        "page": page.page,
        "pages": page.pages,
        "previous_url": link(page.page - 1) if page.page > 1 else None,
        "next_url": link(page.page + 1) if page.page < page.pages else None,
        "back": link(page.page),
        "notice": _notice(request),
        "retry_minutes": int(policy.callback_retry.total_seconds() // 60),
        "no_answer_limit": policy.callback_no_answers,
        "outcomes": {o.value: label for o, label in OUTCOME_LABELS.items()},
        "max_note": MAX_NOTE_CHARS,
        "updated_at": moment,
    }
    return render(request, "callbacks/index.html", context)


@routes.post("/callbacks/{reference}/outcome", name="callback_outcome")
@require_login
async def outcome(request: web.Request) -> web.StreamResponse:
    reference = request.match_info["reference"]
    form = await request.post()
    staff = staff_of(request)
    chosen = form.get("outcome")
    note = form.get("note")
    moment = now(request)

    def save(session: Session) -> tuple[str, str]:
        done = QueueRepository(session).record_outcome(
            reference,
            chosen if isinstance(chosen, str) else "",
            by=staff.username,
            note=note[:MAX_NOTE_CHARS] if isinstance(note, str) else None,
            supervisor=staff.has_role(StaffRole.supervisor),
            at=moment,
        )
        record(
            session,
            request,
            "callback.attempt",
            reference,
            outcome=done.outcome.value,
            attempt=done.attempt,
            status=done.status.value,
        )
        return done.reference, done.outcome.value

    try:
        done_reference, done_outcome = await in_session(request, save)
    except NotFound as exc:
        raise web.HTTPNotFound(text=str(exc)) from exc
    except QueueConflict as exc:
        raise web.HTTPConflict(text=str(exc)) from exc
    back = urllib.parse.urlsplit(back_path(form, url_for(request, "callbacks")))
    params = [(k, v) for k, v in urllib.parse.parse_qsl(back.query) if k not in ("done", "outcome")]
    params += [("done", done_reference), ("outcome", done_outcome)]
    raise see_other(f"{back.path}?{urllib.parse.urlencode(params)}")
