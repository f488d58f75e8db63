"""Repositories, migrations and the handoff workflow on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from bot.core.channels import IdentityKind
from bot.handoff.request import HandoffRequest
from bot.store.db import Database
from bot.store.models import Base, HandoffStatus
from bot.store.repository import (
    CustomerRepository,
    HandoffRepository,
    InvalidTransition,
    NotFound,
    SamePersona,
    find_customer,
)
from bot.store.seed import parse_seed, seed_customers
from devtools.postgres import PostgresServer

ROOT = Path(__file__).resolve().parents[2]
PERSONAS = ["quick_mobile", "phone_first", "time_pressed", "technical", "default"]


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'bank.db'}")
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        database = Database(server.create_database(f"t_{uuid.uuid4().hex[:12]}"))
    database.upgrade()
    try:
        yield database
    finally:
        database.dispose()


def transcript() -> list[dict[str, str]]:
    return [
        {
            "at": "2026-11-23T10:00:00.000+00:00",
            "from": "customer",
            "text": "Je suis pressée 🙏",
            "channel": "rest",
        },
        {"at": "2026-11-23T10:00:01.000+00:00", "from": "assistant", "text": "D'accord.", "channel": "rest"},
    ]


def request(kind: str = "callback", **overrides: object) -> HandoffRequest:
    values: dict[str, object] = {
        "kind": kind,
        "reason": "asked to be called",
        "sender_id": f"s-{uuid.uuid4()}",
        "transcript": transcript(),
        "persona": "phone_first",
        "persona_confidence": 0.82,
        "persona_evidence": ["channel aversion: 'not good with computers'"],
        "language": "fr",
        "channel": "socketio",
    }
    if kind == "callback":
        start = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone.utc)
        values |= {
            "callback_number": "+447911123456",
            "window_start": start,
            "window_end": start + dt.timedelta(hours=2),
            "timezone": "Europe/Paris",
        }
    values.update(overrides)
    return HandoffRequest(**values)  # type: ignore[arg-type]


def test_migrations_match_the_models_and_go_down_and_up(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []
    db.downgrade("base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    db.upgrade()
    db.upgrade()  # idempotent
    assert {"customers", "channel_identities", "contacts", "handoffs", "persona_corrections"} <= set(
        inspect(db.engine).get_table_names()
    )


def test_handoff_round_trip_keeps_everything(db: Database) -> None:
    req = request()
    with db.session() as s:
        _, created = HandoffRepository(s).add(req)
        assert created
    with db.session() as s:
        got = HandoffRepository(s).get(req.reference)
        assert got.kind.value == "callback" and got.status is HandoffStatus.open
        assert got.transcript == transcript()
        assert got.persona_evidence == list(req.persona_evidence)
        assert got.callback_number == "+447911123456"
        assert got.window_start == req.window_start and got.window_start.tzinfo is not None
        assert got.window_end - got.window_start == dt.timedelta(hours=2)
        assert got.timezone == "Europe/Paris"
        assert got.persona_confidence == pytest.approx(0.82)
        assert got.created_at == req.created_at


def test_adding_the_same_request_twice_stores_it_once(db: Database) -> None:
    req = request("live_chat")
    with db.session() as s:
        HandoffRepository(s).add(req)
    with db.session() as s:
        _, created = HandoffRepository(s).add(req)
        assert not created
        assert s.execute(text("select count(*) from handoffs")).scalar_one() == 1


def test_status_workflow(db: Database) -> None:
    req = request()
    with db.session() as s:
        HandoffRepository(s).add(req)
    with db.session() as s:
        repo = HandoffRepository(s)
        with pytest.raises(InvalidTransition, match="cannot go from open to done"):
            repo.transition(req.reference, "done")
        with pytest.raises(InvalidTransition, match="needs an assignee"):
            repo.transition(req.reference, "claimed")
        row = repo.transition(req.reference, "claimed", assignee="agent.ana")
        assert row.assignee == "agent.ana" and row.claimed_at is not None
    with db.session() as s:
        repo = HandoffRepository(s)
        row = repo.transition(req.reference, "done")
        assert row.closed_at is not None
        with pytest.raises(InvalidTransition, match="allowed: none"):
            repo.transition(req.reference, "cancelled")
        with pytest.raises(NotFound):
            repo.get("CB-NOSUCH")


def test_queue_is_oldest_first_and_counts_waiting(db: Database) -> None:
    base = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
    reqs = [request("live_chat", created_at=base + dt.timedelta(minutes=m)) for m in (5, 1, 3)]
    reqs.append(request("callback", created_at=base))
    with db.session() as s:
        for r in reqs:
            HandoffRepository(s).add(r)
    with db.session() as s:
        repo = HandoffRepository(s)
        queue = repo.queue(kind="live_chat")
        assert [h.reference for h in queue] == [reqs[1].reference, reqs[2].reference, reqs[0].reference]
        assert repo.waiting("live_chat") == 3
        assert repo.waiting("live_chat", before=base + dt.timedelta(minutes=4)) == 2
        repo.transition(reqs[1].reference, "cancelled")
    with db.session() as s:
        assert HandoffRepository(s).waiting("live_chat") == 2


def test_customers_from_the_seed_file_and_their_profile(db: Database) -> None:
    records = parse_seed(ROOT / "demo" / "customers.yml", personas=PERSONAS)
    created, updated = seed_customers(db, records)
    assert (created, updated) == (len(records), 0)
    assert seed_customers(db, records) == (0, len(records)), "seeding again updates, never duplicates"
    view = find_customer(db, IdentityKind.phone, "+447911123456")
    assert view is not None and view.customer_ref == "C-1001"
    assert view.profile["contact_history"] == {"phone": 9, "branch": 2, "chat": 1}
    assert view.profile["accessibility_needs"] == ["vision"]
    assert view.phone == "+447911123456"
    assert find_customer(db, IdentityKind.web, "lucia.g").profile["preferred_language"] == "es"  # type: ignore[union-attr]
    assert find_customer(db, IdentityKind.web, "nobody") is None
    with db.session() as s:
        assert CustomerRepository(s).by_identity("telegram", "481516234").customer_ref == "C-1004"


def test_persona_correction_links_handoff_and_customer(db: Database) -> None:
    seed_customers(db, parse_seed(ROOT / "demo" / "customers.yml", personas=PERSONAS))
    req = request("live_chat", customer_ref="C-1004", persona="default")
    with db.session() as s:
        HandoffRepository(s).add(req)
    with db.session() as s:
        correction = HandoffRepository(s).correct_persona(
            staff_user="agent.ana",
            corrected_persona="quick_mobile",
            reference=req.reference,
            note="texts in bursts",
        )
        assert correction.inferred_persona == "default"
        assert correction.customer_id is not None and correction.sender_id == req.sender_id


def test_a_correction_must_name_another_persona_than_the_current_one(db: Database) -> None:
    req = request("live_chat", persona="default")
    with db.session() as s:
        HandoffRepository(s).add(req)
    with pytest.raises(SamePersona, match="has persona 'default' already"), db.session() as s:
        HandoffRepository(s).correct_persona(
            staff_user="ana", corrected_persona="default", reference=req.reference
        )
    with db.session() as s:
        repo = HandoffRepository(s)
        repo.correct_persona(staff_user="ana", corrected_persona="time_pressed", reference=req.reference)
        assert repo.current_persona(repo.get(req.reference)) == "time_pressed"
    with pytest.raises(SamePersona, match="'time_pressed' already"), db.session() as s:
        HandoffRepository(s).correct_persona(
            staff_user="sam", corrected_persona="time_pressed", reference=req.reference
        )
    with db.session() as s:
        repo = HandoffRepository(s)
        back = repo.correct_persona(staff_user="sam", corrected_persona="default", reference=req.reference)
        assert back.inferred_persona == "default", "the inferred persona is what the assistant said"
        assert [c.corrected_persona for c in repo.corrections(repo.get(req.reference))] == [
            "time_pressed",
            "default",
        ]


def test_a_claimed_handoff_changes_hands(db: Database) -> None:
    req = request("live_chat")
    with db.session() as s:
        HandoffRepository(s).add(req)
    with pytest.raises(InvalidTransition, match="is open: only a claimed handoff"), db.session() as s:
        HandoffRepository(s).reassign(req.reference, "bo")
    with db.session() as s:
        HandoffRepository(s).transition(req.reference, "claimed", assignee="ana")
    with db.session() as s:
        row, previous = HandoffRepository(s).reassign(req.reference, "bo")
        assert (previous, row.assignee, row.status) == ("ana", "bo", HandoffStatus.claimed)
    with pytest.raises(InvalidTransition, match="assigned to 'bo' already"), db.session() as s:
        HandoffRepository(s).reassign(req.reference, "bo")
    with db.session() as s:
        HandoffRepository(s).transition(req.reference, "done")
    with pytest.raises(InvalidTransition, match="is done"), db.session() as s:
        HandoffRepository(s).reassign(req.reference, "ana")
    with db.session() as s:
        assert HandoffRepository(s).get(req.reference).assignee == "bo"


def test_naive_datetimes_are_refused(db: Database) -> None:
    req = request(created_at=dt.datetime(2026, 11, 23, 9, 0))  # no timezone
    with pytest.raises(Exception, match="naive datetime"), db.session() as s:
        HandoffRepository(s).add(req)
