"""The staff console's work lists: the handoff queue and the open callbacks, and the
writes made from them (claiming, releasing, a callback's outcome).

Reads: handoffs (only the columns a list shows — never the transcript), customers (consent
to calls, how to address them), callback attempts, audit entries (``handoff.reply``: when
staff last wrote to the customer). Writes: handoff statuses through
``HandoffRepository.transition`` and callback attempts through ``StaffRepository``, in the
caller's session, so the page's audit entry commits with them.

    with db.session() as s:
        page = QueueRepository(s).page(QueueFilter(kind=HandoffKind.live_chat), page=2)
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from bot.store.models import (
    AuditEntry,
    CallbackAttempt,
    CallbackOutcome,
    Customer,
    Handoff,
    HandoffKind,
    HandoffStatus,
)
from bot.store.repository import HandoffRepository
from bot.store.staff import StaffRepository

DEFAULT_PAGE_SIZE = 50
DEFAULT_STATUSES = (HandoffStatus.open, HandoffStatus.claimed)
# The audit action the conversation page records for a message staff sent the customer.
STAFF_REPLY_ACTION = "handoff.reply"
MAX_REASON_CHARS = 500
DO_NOT_CALL_REASON = "do not call: the customer's record says no calls"


class QueueConflict(ValueError):
    """The change cannot be made as asked (someone else changed the handoff meanwhile,
    someone else has it, the customer may not be called); the message says why, for staff."""


@dataclass(frozen=True)
class QueueFilter:
    """Which handoffs a queue page lists; every field narrows it (``None``: any).

    Attributes:
        statuses: any of these statuses (empty: every status).
        assignee: claimed by (or, once closed, last handled by) this member of staff.
        unassigned: nobody has it.
        reference_prefix: the reference starts with this (upper case, ``CB-7K``).
    """

    kind: HandoffKind | None = None
    statuses: tuple[HandoffStatus, ...] = DEFAULT_STATUSES
    persona: str | None = None
    language: str | None = None
    channel: str | None = None
    assignee: str | None = None
    unassigned: bool = False
    reference_prefix: str | None = None

    def conditions(self) -> list[Any]:
        found: list[Any] = []
        if self.kind is not None:
            found.append(Handoff.kind == self.kind)
        if self.statuses:
            found.append(Handoff.status.in_(self.statuses))
        for column, value in (
            (Handoff.persona, self.persona),
            (Handoff.language, self.language),
            (Handoff.channel, self.channel),
            (Handoff.assignee, self.assignee),
        ):
            if value is not None:
                found.append(column == value)
        if self.unassigned:
            found.append(Handoff.assignee.is_(None))
        if self.reference_prefix:
            found.append(Handoff.reference.startswith(self.reference_prefix, autoescape=True))
        return found


@dataclass(frozen=True)
class QueueRow:
    """One handoff as the queue lists it."""

    reference: str
    kind: HandoffKind
    status: HandoffStatus
    persona: str | None
    language: str | None
    channel: str | None
    reason: str
    assignee: str | None
    sender_id: str
    created_at: dt.datetime
    claimed_at: dt.datetime | None
    closed_at: dt.datetime | None
    window_start: dt.datetime | None
    window_end: dt.datetime | None


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue, oldest request first, and how many handoffs match in all."""

    rows: list[QueueRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))


@dataclass(frozen=True)
class CallbackRow:
    """An open callback with what staff need to make the call.

    Attributes:
        consent_to_calls: the customer's record (None: not asked or an unknown customer;
            False: never call). Every booked callback was agreed to in the conversation.
        attempts: calls recorded so far; ``no_answers`` of them went unanswered, the
            latest at ``last_no_answer_at``.
    """

    reference: str
    status: HandoffStatus
    persona: str | None
    language: str | None
    channel: str | None
    reason: str
    assignee: str | None
    created_at: dt.datetime
    callback_number: str | None
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    timezone: str | None
    customer_name: str | None
    consent_to_calls: bool | None
    attempts: int = 0
    no_answers: int = 0
    last_attempt_at: dt.datetime | None = None
    last_no_answer_at: dt.datetime | None = None

    @property
    def do_not_call(self) -> bool:
        return self.consent_to_calls is False


@dataclass(frozen=True)
class CallbackPage:
    rows: list[CallbackRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))


@dataclass(frozen=True)
class OutcomeRecorded:
    """What recording a callback's outcome did: the attempt's number and the new status."""

    reference: str
    outcome: CallbackOutcome
    attempt: int
    status: HandoffStatus


_QUEUE_COLUMNS = (
    Handoff.reference,
    Handoff.kind,
    Handoff.status,
    Handoff.persona,
    Handoff.language,
    Handoff.channel,
    Handoff.reason,
    Handoff.assignee,
    Handoff.sender_id,
    Handoff.created_at,
    Handoff.claimed_at,
    Handoff.closed_at,
    Handoff.window_start,
    Handoff.window_end,
)
_CALLBACK_COLUMNS = (
    Handoff.id,
    Handoff.reference,
    Handoff.status,
    Handoff.persona,
    Handoff.language,
    Handoff.channel,
    Handoff.reason,
    Handoff.assignee,
    Handoff.created_at,
    Handoff.callback_number,
    Handoff.window_start,
    Handoff.window_end,
    Handoff.timezone,
    Customer.display_name,
    Customer.consent_to_calls,
)


def _page_number(page: int) -> int:
    if page < 1:
        raise ValueError(f"page {page} does not exist: pages start at 1")
    return page


class QueueRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- reading

    def page(
        self, filters: QueueFilter | None = None, *, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE
    ) -> QueuePage:
        """Handoffs matching ``filters`` (default: open or claimed), the longest waiting
        first (request time, then id)."""
        conditions = (filters or QueueFilter()).conditions()
        total = self.session.execute(select(func.count()).select_from(Handoff).where(*conditions))
        query = (
            select(*_QUEUE_COLUMNS)
            .where(*conditions)
            .order_by(Handoff.created_at, Handoff.id)
            .limit(page_size)
            .offset((_page_number(page) - 1) * page_size)
        )
        rows = [QueueRow(**row._asdict()) for row in self.session.execute(query)]
        return QueuePage(rows, int(total.scalar_one()), page, page_size)

    def exists(self, reference: str) -> bool:
        """Whether a handoff has exactly this reference."""
        found = self.session.execute(select(Handoff.id).where(Handoff.reference == reference)).first()
        return found is not None

    def last_staff_replies(self, references: Iterable[str]) -> dict[str, dt.datetime]:
        """When staff last wrote to the customer of each handoff (``handoff.reply`` audit
        entries), in one query; handoffs without a reply are left out."""
        refs = sorted(set(references))
        if not refs:
            return {}
        query = (
            select(AuditEntry.target, func.max(AuditEntry.at))
            .where(AuditEntry.action == STAFF_REPLY_ACTION, AuditEntry.target.in_(refs))
            .group_by(AuditEntry.target)
        )
        return {str(target): at for target, at in self.session.execute(query) if at is not None}

    def open_callbacks(self, *, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE) -> CallbackPage:
        """Callbacks neither done nor cancelled, the earliest due first (window start, else
        the request), with the customer's consent and the attempts so far."""
        conditions = (Handoff.kind == HandoffKind.callback, Handoff.status.in_(DEFAULT_STATUSES))
        total = self.session.execute(select(func.count()).select_from(Handoff).where(*conditions))
        query = (
            select(*_CALLBACK_COLUMNS)
            .outerjoin(Customer, Customer.id == Handoff.customer_id)
            .where(*conditions)
            .order_by(func.coalesce(Handoff.window_start, Handoff.created_at), Handoff.id)
            .limit(page_size)
            .offset((_page_number(page) - 1) * page_size)
        )
        found = self.session.execute(query).all()
        tallies = self._attempt_tallies([row.id for row in found])
        rows = []
        for row in found:
            values = row._asdict()
            handoff_id = values.pop("id")
            rows.append(
                CallbackRow(
                    customer_name=values.pop("display_name"),
                    **values,
                    **tallies.get(handoff_id, {}),
                )
            )
        return CallbackPage(rows, int(total.scalar_one()), page, page_size)

    def _attempt_tallies(self, handoff_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        if not handoff_ids:
            return {}
        unanswered = CallbackAttempt.outcome == CallbackOutcome.no_answer
        query = (
            select(
                CallbackAttempt.handoff_id,
                func.count(),
                func.sum(case((unanswered, 1), else_=0)),
                func.max(CallbackAttempt.at),
                func.max(case((unanswered, CallbackAttempt.at), else_=None)),
            )
            .where(CallbackAttempt.handoff_id.in_(handoff_ids))
            .group_by(CallbackAttempt.handoff_id)
        )
        return {
            int(handoff_id): {
                "attempts": int(count),
                "no_answers": int(no_answers or 0),
                "last_attempt_at": last,
                "last_no_answer_at": last_unanswered,
            }
            for handoff_id, count, no_answers, last, last_unanswered in self.session.execute(query)
        }

    # --- writing

    def _unchanged(self, row: Handoff) -> None:
        """Lock ``row`` for this transaction if it is still as read (status and assignee),
        so two members of staff cannot both claim it or both record its outcome."""
        same_assignee = (
            Handoff.assignee.is_(None) if row.assignee is None else Handoff.assignee == row.assignee
        )
        result = self.session.execute(
            update(Handoff)
            .where(Handoff.id == row.id, Handoff.status == row.status, same_assignee)
            .values(updated_at=row.updated_at)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            self.session.expire(row)
            raise QueueConflict(f"{row.reference} was changed by someone else meanwhile; look again")

    def claim(self, reference: str, *, by: str) -> Handoff:
        """``by`` takes an open handoff (raises QueueConflict when it is not open any more)."""
        handoffs = HandoffRepository(self.session)
        row = handoffs.get(reference)
        if row.status is HandoffStatus.claimed:
            who = "you" if row.assignee == by else row.assignee
            raise QueueConflict(f"{reference} is claimed by {who} already")
        if row.status is not HandoffStatus.open:
            raise QueueConflict(f"{reference} is {row.status.value}: only an open handoff can be claimed")
        self._unchanged(row)
        return handoffs.transition(reference, HandoffStatus.claimed.value, assignee=by)

    def release(self, reference: str, *, by: str, supervisor: bool = False) -> tuple[Handoff, str | None]:
        """Put a claimed handoff back in the queue, unclaimed; the handoff and who had it.
        Only who has it may, or a supervisor."""
        handoffs = HandoffRepository(self.session)
        row = handoffs.get(reference)
        if row.status is not HandoffStatus.claimed:
            raise QueueConflict(f"{reference} is {row.status.value}: only a claimed handoff can be released")
        if row.assignee != by and not supervisor:
            raise QueueConflict(
                f"{reference} is claimed by {row.assignee}: only they or a supervisor may release it"
            )
        previous: str | None = row.assignee
        self._unchanged(row)
        return handoffs.transition(reference, HandoffStatus.open.value), previous

    def record_outcome(
        self,
        reference: str,
        outcome: CallbackOutcome | str,
        *,
        by: str,
        note: str | None = None,
        supervisor: bool = False,
        at: dt.datetime | None = None,
    ) -> OutcomeRecorded:
        """Record one call to the customer and move the callback on:

        * ``reached``: done (claimed by ``by`` first if nobody had it);
        * ``no_answer``: stays as it is (open, or claimed), to be tried again;
        * ``wrong_number``, ``cancelled``: cancelled (``note`` says why; needed to cancel).

        A customer who may not be called (``consent_to_calls`` false) can only be
        cancelled (``DO_NOT_CALL_REASON`` unless ``note`` says more). A callback someone
        else has claimed is theirs, unless ``supervisor``. Whoever has the callback keeps
        it; one nobody had becomes ``by``'s.

        Raises:
            NotFound: no handoff ``reference``.
            QueueConflict: the outcome cannot be recorded (the message says why).
        """
        try:
            verdict = CallbackOutcome(outcome)
        except ValueError as exc:
            known = ", ".join(o.value for o in CallbackOutcome)
            raise QueueConflict(f"unknown outcome {outcome!r}: one of {known}") from exc
        handoffs = HandoffRepository(self.session)
        row = handoffs.get(reference)
        if row.kind is not HandoffKind.callback:
            raise QueueConflict(f"{reference} is a live chat, not a callback")
        if row.status not in DEFAULT_STATUSES:
            raise QueueConflict(f"{reference} is {row.status.value} already")
        if row.status is HandoffStatus.claimed and row.assignee != by and not supervisor:
            raise QueueConflict(
                f"{reference} is claimed by {row.assignee}: only they or a supervisor may record a call"
            )
        consent = row.customer.consent_to_calls if row.customer is not None else None
        if consent is False and verdict is not CallbackOutcome.cancelled:
            raise QueueConflict(
                f"{reference}: the customer does not want calls; do not call, cancel it instead"
            )
        reason = (note or "").strip()[:MAX_REASON_CHARS] or None
        if reason is None and consent is False:
            reason = DO_NOT_CALL_REASON
        if verdict is CallbackOutcome.cancelled and reason is None:
            raise QueueConflict(f"{reference}: say why the callback is cancelled")
        self._unchanged(row)
        staff = StaffRepository(self.session)
        staff.record_callback_attempt(row, outcome=verdict, by=by, note=reason, at=at)
        if verdict is CallbackOutcome.reached:
            if row.status is HandoffStatus.open:
                handoffs.transition(reference, HandoffStatus.claimed.value, assignee=by)
            handoffs.transition(reference, HandoffStatus.done.value)
        elif verdict in (CallbackOutcome.wrong_number, CallbackOutcome.cancelled):
            handoffs.transition(reference, HandoffStatus.cancelled.value, assignee=row.assignee or by)
        count = self.session.execute(
            select(func.count()).select_from(CallbackAttempt).where(CallbackAttempt.handoff_id == row.id)
        ).scalar_one()
        return OutcomeRecorded(reference, verdict, int(count), HandoffStatus(row.status))
