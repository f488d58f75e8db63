"""The staff queue's queries and writes (bot.store.queue) on SQLite and PostgreSQL: each
filter narrows the queue, pages, staff replies, open callbacks with consent and attempts,
claiming and releasing, callback outcomes, and changes made meanwhile by someone else."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.handoff.request import HandoffRequest
from bot.store.db import Database
from bot.store.models import (
    AuditEntry,
    CallbackOutcome,
    Customer,
    HandoffKind,
    HandoffStatus,
)
from bot.store.queue import DO_NOT_CALL_REASON, QueueConflict, QueueFilter, QueueRepository
from bot.store.repository import HandoffRepository
from bot.store.staff import StaffRepository

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'bank.db'}")
    else:
        server = request.getfixturevalue("postgres_server")
        database = Database(server.create_database(f"q_{uuid.uuid4().hex[:12]}"))
    database.upgrade()
    try:
        yield database
    finally:
        database.dispose()


def add(
    db: Database,
    reference: str,
    *,
    minute: int = 0,
    status: str = "open",
    assignee: str | None = None,
    **fields: Any,
) -> str:
    kind = "callback" if reference.startswith("CB") else "live_chat"
    values: dict[str, Any] = {"persona": "default", "language": "en", "channel": "rest", **fields}
    if kind == "callback":
        values.setdefault("callback_number", "+447911123456")
    request = HandoffRequest(
        kind=kind,
        reason=f"reason of {reference}",
        sender_id=f"sender-{reference}",
        transcript=[],
        reference=reference,
        created_at=T0 + dt.timedelta(minutes=minute),
        **values,
    )
    with db.session() as s:
        repo = HandoffRepository(s)
        repo.add(request)
        if status != "open":
            repo.transition(reference, "claimed", assignee=assignee or "ana")
        if status in ("done", "cancelled"):
            repo.transition(reference, status)
    return reference


@pytest.fixture
def mixed(db: Database) -> Database:
    """Six handoffs of every kind and status, one a minute from T0."""
    add(db, "LC-A", minute=0, persona="phone_first", language="en", channel="rest")
    add(
        db,
        "LC-B",
        minute=1,
        status="claimed",
        assignee="ana",
        persona="technical",
        language="es",
        channel="socketio",
    )
    add(db, "CB-C", minute=2, persona="phone_first", language="fr", channel="twilio")
    add(db, "CB-D", minute=3, status="claimed", assignee="bo", language="en", channel="telegram")
    add(db, "LC-E", minute=4, status="done", assignee="ana", language="en", channel="rest")
    add(db, "CB-F", minute=5, status="cancelled", assignee="bo", language="es", channel="twilio")
    return db


def listed(db: Database, filters: QueueFilter, **kwargs: Any) -> list[str]:
    with db.session() as s:
        return [r.reference for r in QueueRepository(s).page(filters, **kwargs).rows]


def test_the_default_queue_is_open_and_claimed_handoffs_longest_waiting_first(mixed: Database) -> None:
    with mixed.session() as s:
        page = QueueRepository(s).page()
    assert [r.reference for r in page.rows] == ["LC-A", "LC-B", "CB-C", "CB-D"]
    assert (page.total, page.page, page.pages) == (4, 1, 1)
    first = page.rows[0]
    assert (first.kind, first.status, first.persona, first.language, first.channel) == (
        HandoffKind.live_chat,
        HandoffStatus.open,
        "phone_first",
        "en",
        "rest",
    )
    assert first.created_at == T0 and first.sender_id == "sender-LC-A"
    assert page.rows[1].assignee == "ana" and page.rows[1].claimed_at is not None


EVERY_STATUS = tuple(HandoffStatus)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (QueueFilter(kind=HandoffKind.live_chat), ["LC-A", "LC-B"]),
        (QueueFilter(kind=HandoffKind.callback), ["CB-C", "CB-D"]),
        (QueueFilter(statuses=(HandoffStatus.open,)), ["LC-A", "CB-C"]),
        (QueueFilter(statuses=(HandoffStatus.claimed,)), ["LC-B", "CB-D"]),
        (QueueFilter(statuses=(HandoffStatus.done,)), ["LC-E"]),
        (QueueFilter(statuses=()), ["LC-A", "LC-B", "CB-C", "CB-D", "LC-E", "CB-F"]),
        (QueueFilter(persona="phone_first"), ["LC-A", "CB-C"]),
        (QueueFilter(language="en"), ["LC-A", "CB-D"]),
        (QueueFilter(language="en", statuses=EVERY_STATUS), ["LC-A", "CB-D", "LC-E"]),
        (QueueFilter(channel="twilio"), ["CB-C"]),
        (QueueFilter(assignee="ana"), ["LC-B"]),  # "mine", for ana
        (QueueFilter(assignee="ana", statuses=EVERY_STATUS), ["LC-B", "LC-E"]),
        (QueueFilter(unassigned=True), ["LC-A", "CB-C"]),
        (QueueFilter(reference_prefix="CB-"), ["CB-C", "CB-D"]),
        (QueueFilter(reference_prefix="LC-B"), ["LC-B"]),
        (QueueFilter(reference_prefix="%"), []),  # a wildcard is a character like any other
        (QueueFilter(kind=HandoffKind.callback, unassigned=True), ["CB-C"]),
        (QueueFilter(persona="nobody"), []),
    ],
)
def test_each_filter_narrows_the_queue(mixed: Database, filters: QueueFilter, expected: list[str]) -> None:
    assert listed(mixed, filters) == expected


def test_pages_of_fifty_in_a_stable_order(db: Database) -> None:
    for i in range(120):
        add(db, f"LC-{i:04d}", minute=i // 3)  # three handoffs share each minute
    with db.session() as s:
        repo = QueueRepository(s)
        pages = [repo.page(page=n) for n in (1, 2, 3, 4)]
    assert [len(p.rows) for p in pages] == [50, 50, 20, 0]
    assert all(p.total == 120 and p.pages == 3 for p in pages)
    seen = [r.reference for p in pages for r in p.rows]
    assert seen == [f"LC-{i:04d}" for i in range(120)], "every handoff once, in request order"
    with db.session() as s, pytest.raises(ValueError, match="pages start at 1"):
        QueueRepository(s).page(page=0)


def test_an_exact_reference_exists(mixed: Database) -> None:
    with mixed.session() as s:
        repo = QueueRepository(s)
        assert repo.exists("LC-A") and repo.exists("CB-F")
        assert not repo.exists("LC-") and not repo.exists("lc-a")


def test_last_staff_reply_per_handoff_from_the_audit_trail(mixed: Database) -> None:
    with mixed.session() as s:
        staff = StaffRepository(s)
        staff.audit("handoff.reply", actor="ana", target="LC-B", at=T0 + dt.timedelta(minutes=10))
        staff.audit("handoff.reply", actor="ana", target="LC-B", at=T0 + dt.timedelta(minutes=12))
        staff.audit("handoff.claim", actor="ana", target="LC-A", at=T0 + dt.timedelta(minutes=20))
    with mixed.session() as s:
        replies = QueueRepository(s).last_staff_replies(["LC-A", "LC-B", "CB-C"])
        assert QueueRepository(s).last_staff_replies([]) == {}
    assert replies == {"LC-B": T0 + dt.timedelta(minutes=12)}


def test_open_callbacks_by_due_time_with_consent_and_attempts(db: Database) -> None:
    with db.session() as s:
        s.add_all(
            [
                Customer(customer_ref="no-calls", consent_to_calls=False, display_name="Mrs Vega"),
                Customer(customer_ref="calls-ok", consent_to_calls=True),
            ]
        )
    window = dt.timedelta(hours=2)
    late_start, early_start = T0 + dt.timedelta(hours=5), T0 + dt.timedelta(hours=1)
    add(
        db,
        "CB-LATE",
        minute=0,
        window_start=late_start,
        window_end=late_start + window,
        timezone="Europe/Madrid",
    )
    add(
        db,
        "CB-EARLY",
        minute=1,
        window_start=early_start,
        window_end=early_start + window,
        customer_ref="calls-ok",
    )
    add(db, "CB-ASAP", minute=2, customer_ref="no-calls")  # no window: due when requested
    add(db, "CB-DONE", minute=3, status="done")
    add(db, "LC-CHAT", minute=4)
    with db.session() as s:
        staff = StaffRepository(s)
        for minutes, outcome in ((10, "no_answer"), (30, "no_answer")):
            staff.record_callback_attempt(
                "CB-EARLY", outcome=outcome, by="ana", at=T0 + dt.timedelta(minutes=minutes)
            )
    with db.session() as s:
        page = QueueRepository(s).open_callbacks()
    assert [r.reference for r in page.rows] == ["CB-ASAP", "CB-EARLY", "CB-LATE"]
    asap, early, late = page.rows
    assert (asap.consent_to_calls, asap.do_not_call, asap.customer_name) == (False, True, "Mrs Vega")
    assert (early.consent_to_calls, early.do_not_call) == (True, False)
    assert (late.consent_to_calls, late.do_not_call, late.timezone) == (None, False, "Europe/Madrid")
    assert (early.attempts, early.no_answers) == (2, 2)
    assert early.last_attempt_at == early.last_no_answer_at == T0 + dt.timedelta(minutes=30)
    assert (late.attempts, late.no_answers, late.last_attempt_at) == (0, 0, None)
    assert late.callback_number == "+447911123456" and late.window_start == late_start
    assert page.total == 3


def test_claiming_and_releasing(mixed: Database) -> None:
    with mixed.session() as s:
        row = QueueRepository(s).claim("LC-A", by="cy")
        assert (row.status, row.assignee) == (HandoffStatus.claimed, "cy")
    for reference, who, message in (
        ("LC-A", "cy", "claimed by you already"),
        ("LC-A", "bo", "claimed by cy already"),
        ("LC-E", "bo", "is done: only an open handoff"),
    ):
        with pytest.raises(QueueConflict, match=message), mixed.session() as s:
            QueueRepository(s).claim(reference, by=who)
    with pytest.raises(QueueConflict, match="claimed by cy: only they or a supervisor"), mixed.session() as s:
        QueueRepository(s).release("LC-A", by="bo")
    with mixed.session() as s:
        row, previous = QueueRepository(s).release("LC-A", by="cy")
        assert (row.status, row.assignee, row.claimed_at, previous) == (HandoffStatus.open, None, None, "cy")
    with pytest.raises(QueueConflict, match="is open: only a claimed"), mixed.session() as s:
        QueueRepository(s).release("LC-A", by="cy")
    with mixed.session() as s:
        _, previous = QueueRepository(s).release("CB-D", by="sam", supervisor=True)
        assert previous == "bo"
    assert listed(mixed, QueueFilter(unassigned=True)) == ["LC-A", "CB-C", "CB-D"]


def test_a_claim_made_meanwhile_by_someone_else_wins(db: Database) -> None:
    add(db, "LC-RACE")
    with db.session() as first:
        slow = QueueRepository(first)
        seen = HandoffRepository(first).get("LC-RACE")  # read while still open
        with db.session() as second:
            QueueRepository(second).claim("LC-RACE", by="bo")
        with pytest.raises(QueueConflict, match="changed by someone else meanwhile"):
            slow.claim("LC-RACE", by="ana")
        assert seen.assignee == "bo", "read again after the conflict"
    with db.session() as s:
        assert HandoffRepository(s).get("LC-RACE").assignee == "bo"


def attempts(db: Database, reference: str) -> list[tuple[str, str, str | None]]:
    with db.session() as s:
        return [(a.outcome.value, a.by, a.note) for a in StaffRepository(s).callback_attempts(reference)]


def status_of(db: Database, reference: str) -> tuple[str, str | None]:
    with db.session() as s:
        row = HandoffRepository(s).get(reference)
        return row.status.value, row.assignee


def test_reached_is_done_and_claimed_by_the_caller(db: Database) -> None:
    add(db, "CB-1")
    with db.session() as s:
        done = QueueRepository(s).record_outcome("CB-1", "reached", by="ana", at=T0)
    assert (done.outcome, done.attempt, done.status) == (CallbackOutcome.reached, 1, HandoffStatus.done)
    assert status_of(db, "CB-1") == ("done", "ana")
    assert attempts(db, "CB-1") == [("reached", "ana", None)]
    with pytest.raises(QueueConflict, match="CB-1 is done already"), db.session() as s:
        QueueRepository(s).record_outcome("CB-1", "no_answer", by="ana")


def test_no_answer_leaves_the_callback_to_try_again(db: Database) -> None:
    add(db, "CB-2")
    add(db, "CB-3", status="claimed", assignee="bo")
    for n in (1, 2, 3):
        with db.session() as s:
            done = QueueRepository(s).record_outcome(
                "CB-2", CallbackOutcome.no_answer, by="ana", note="voicemail"
            )
        assert (done.attempt, done.status) == (n, HandoffStatus.open)
    with db.session() as s:
        QueueRepository(s).record_outcome("CB-3", "no_answer", by="bo")
    assert status_of(db, "CB-2") == ("open", None)
    assert status_of(db, "CB-3") == ("claimed", "bo")
    assert attempts(db, "CB-2") == [("no_answer", "ana", "voicemail")] * 3
    with db.session() as s:
        tallies = {r.reference: (r.attempts, r.no_answers) for r in QueueRepository(s).open_callbacks().rows}
    assert tallies == {"CB-2": (3, 3), "CB-3": (1, 1)}


def test_a_wrong_number_or_a_cancellation_cancels_with_its_reason(db: Database) -> None:
    add(db, "CB-4")
    add(db, "CB-5", status="claimed", assignee="ana")
    with db.session() as s:
        assert (
            QueueRepository(s).record_outcome("CB-4", "wrong_number", by="ana").status
            is HandoffStatus.cancelled
        )
    with pytest.raises(QueueConflict, match="say why the callback is cancelled"), db.session() as s:
        QueueRepository(s).record_outcome("CB-5", "cancelled", by="ana", note="   ")
    with db.session() as s:
        QueueRepository(s).record_outcome("CB-5", "cancelled", by="ana", note="sorted it in branch")
    assert status_of(db, "CB-4") == ("cancelled", "ana")
    assert attempts(db, "CB-4") == [("wrong_number", "ana", None)]
    assert attempts(db, "CB-5") == [("cancelled", "ana", "sorted it in branch")]


def test_a_customer_who_may_not_be_called_can_only_be_cancelled(db: Database) -> None:
    with db.session() as s:
        s.add(Customer(customer_ref="no-calls", consent_to_calls=False))
    add(db, "CB-6", customer_ref="no-calls")
    for outcome in ("reached", "no_answer", "wrong_number"):
        with pytest.raises(QueueConflict, match="does not want calls; do not call"), db.session() as s:
            QueueRepository(s).record_outcome("CB-6", outcome, by="ana")
    assert attempts(db, "CB-6") == []
    with db.session() as s:
        QueueRepository(s).record_outcome("CB-6", "cancelled", by="ana")
    assert attempts(db, "CB-6") == [("cancelled", "ana", DO_NOT_CALL_REASON)]
    assert status_of(db, "CB-6") == ("cancelled", "ana")


def test_outcomes_of_a_callback_someone_else_has_claimed(db: Database) -> None:
    add(db, "CB-7", status="claimed", assignee="bo")
    with pytest.raises(QueueConflict, match="claimed by bo: only they or a supervisor"), db.session() as s:
        QueueRepository(s).record_outcome("CB-7", "reached", by="ana")
    with db.session() as s:
        QueueRepository(s).record_outcome("CB-7", "reached", by="sam", supervisor=True)
    assert status_of(db, "CB-7") == ("done", "bo")
    assert attempts(db, "CB-7") == [("reached", "sam", None)]


@pytest.mark.parametrize(
    ("reference", "outcome", "message"),
    [
        ("LC-8", "reached", "is a live chat, not a callback"),
        ("CB-9", "hung_up", "unknown outcome 'hung_up'"),
    ],
)
def test_outcomes_that_cannot_be(db: Database, reference: str, outcome: str, message: str) -> None:
    add(db, reference)
    with pytest.raises(QueueConflict, match=message), db.session() as s:
        QueueRepository(s).record_outcome(reference, outcome, by="ana")
    with db.session() as s:
        assert s.query(AuditEntry).count() == 0
