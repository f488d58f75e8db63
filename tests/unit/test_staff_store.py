"""The staff console's tables through StaffRepository, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError, IntegrityError

from bot.handoff.request import HandoffRequest
from bot.store.db import Database
from bot.store.models import CallbackOutcome, StaffRole
from bot.store.repository import HandoffRepository, NotFound
from bot.store.staff import StaffError, StaffRepository, UserExists, normalise_username

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'bank.db'}")
    else:
        server = request.getfixturevalue("postgres_server")
        database = Database(server.create_database(f"t_{uuid.uuid4().hex[:12]}"))
    database.upgrade()
    try:
        yield database
    finally:
        database.dispose()


def handoff(db: Database, kind: str = "callback") -> str:
    values: dict[str, object] = {
        "kind": kind,
        "reason": "asked to be called",
        "sender_id": f"s-{uuid.uuid4()}",
        "transcript": [],
        "language": "en",
    }
    if kind == "callback":
        values |= {
            "callback_number": "+447911123456",
            "window_start": T0,
            "window_end": T0 + dt.timedelta(hours=2),
        }
    req = HandoffRequest(**values)  # type: ignore[arg-type]
    with db.session() as s:
        HandoffRepository(s).add(req)
    return req.reference


def add(db: Database, name: str = "ana.b", role: str = "agent") -> None:
    with db.session() as s:
        StaffRepository(s).add_user(name, password_hash="$argon2id$fake", role=role, timezone="Europe/Madrid")


def test_the_staff_tables_exist_and_handoffs_are_indexed_by_assignee(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert {
        "staff_users",
        "staff_sessions",
        "audit_entries",
        "handoff_notes",
        "callback_attempts",
        "persona_ratings",
    } <= tables
    indexes = {i["name"] for i in inspect(db.engine).get_indexes("handoffs")}
    assert {"ix_handoffs_status_kind_created", "ix_handoffs_assignee_status"} <= indexes


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("ana.b", "ana.b"), ("  Ana.B ", "ana.b"), ("x_1-2", "x_1-2"), ("a" * 64, "a" * 64)],
)
def test_usernames_are_stored_lowercase(typed: str, stored: str) -> None:
    assert normalise_username(typed) == stored


@pytest.mark.parametrize("bad", ["a", "a" * 65, "ana b", "ana@bank", "anä", "", "../x/"])
def test_bad_usernames_are_refused_by_name(bad: str) -> None:
    with pytest.raises(StaffError, match="invalid username"):
        normalise_username(bad)


def test_accounts_are_unique_and_checked(db: Database) -> None:
    add(db, "Ana.B", "supervisor")
    with db.session() as s:
        repo = StaffRepository(s)
        user = repo.get_user("ana.b")
        assert user.username == "ana.b" and user.role is StaffRole.supervisor
        assert user.timezone == "Europe/Madrid" and user.disabled is False
        assert user.created_at.tzinfo is not None
        with pytest.raises(UserExists, match=r"'ana\.b' exists already"):
            repo.add_user("ANA.B", password_hash="h", role="agent", timezone="Europe/London")
        with pytest.raises(StaffError, match="unknown role 'boss'"):
            repo.add_user("bob", password_hash="h", role="boss", timezone="Europe/London")
        with pytest.raises(StaffError, match="unknown timezone 'Mars/Base'"):
            repo.add_user("bob", password_hash="h", role="agent", timezone="Mars/Base")
        with pytest.raises(NotFound, match="no staff user 'nobody'"):
            repo.get_user("nobody")
        assert [u.username for u in repo.users()] == ["ana.b"]
        assert repo.count_users() == 1


def test_the_database_refuses_a_second_account_of_the_same_name(db: Database) -> None:
    add(db)
    with pytest.raises(IntegrityError), db.session() as s:
        from bot.store.models import StaffUser

        s.add(StaffUser(username="ana.b", password_hash="h", role=StaffRole.agent, timezone="UTC"))
        s.flush()


def test_sessions_are_found_by_token_hash_and_end_on_logout_disable_and_password_change(db: Database) -> None:
    add(db)
    with db.session() as s:
        repo = StaffRepository(s)
        user = repo.get_user("ana.b")
        for n in range(3):
            repo.create_session(
                user,
                token_hash=f"{n:064x}",
                csrf_token=f"csrf{n}",
                now=T0,
                lifetime=dt.timedelta(hours=8),
                client_address="10.0.0.1",
            )
    with db.session() as s:
        repo = StaffRepository(s)
        row = repo.session_by_token_hash(f"{0:064x}")
        assert row is not None and row.user.username == "ana.b" and row.csrf_token == "csrf0"
        assert row.expires_at == T0 + dt.timedelta(hours=8) and row.last_seen_at == T0
        assert repo.get_user("ana.b").last_login_at == T0
        assert repo.end_session(f"{0:064x}") is True
        assert repo.end_session(f"{0:064x}") is False
        assert repo.session_by_token_hash(f"{0:064x}") is None
        repo.set_password("ana.b", "$argon2id$new")
        assert repo.session_by_token_hash(f"{1:064x}") is None
    with db.session() as s:
        repo = StaffRepository(s)
        user = repo.get_user("ana.b")
        repo.create_session(
            user,
            token_hash="f" * 64,
            csrf_token="c",
            now=T0,
            lifetime=dt.timedelta(hours=8),
            client_address=None,
        )
        repo.disable("ana.b")
        assert repo.session_by_token_hash("f" * 64) is None
        assert repo.get_user("ana.b").disabled is True


def test_expired_and_idle_sessions_are_purged(db: Database) -> None:
    add(db)
    with db.session() as s:
        repo = StaffRepository(s)
        user = repo.get_user("ana.b")
        fresh = repo.create_session(
            user,
            token_hash="a" * 64,
            csrf_token="c",
            now=T0,
            lifetime=dt.timedelta(hours=8),
            client_address=None,
        )
        repo.create_session(
            user,
            token_hash="b" * 64,
            csrf_token="c",
            now=T0,
            lifetime=dt.timedelta(hours=1),
            client_address=None,
        )
        idle = repo.create_session(
            user,
            token_hash="c" * 64,
            csrf_token="c",
            now=T0,
            lifetime=dt.timedelta(hours=8),
            client_address=None,
        )
        fresh.last_seen_at = T0 + dt.timedelta(minutes=90)
        idle.last_seen_at = T0
    with db.session() as s:
        purged = StaffRepository(s).purge_sessions(now=T0 + dt.timedelta(hours=2), idle=dt.timedelta(hours=1))
        assert purged == 2
    with db.session() as s:
        repo = StaffRepository(s)
        assert repo.session_by_token_hash("a" * 64) is not None
        assert repo.session_by_token_hash("b" * 64) is None and repo.session_by_token_hash("c" * 64) is None


def test_the_audit_trail_is_newest_first_filtered_and_paged(db: Database) -> None:
    with db.session() as s:
        repo = StaffRepository(s)
        for minute in range(7):
            repo.audit(
                "login.failed" if minute % 2 else "handoff.claim",
                actor=None if minute % 2 else "ana.b",
                target=f"T{minute}",
                detail={"minute": minute, "word": "día"},
                client_address="10.0.0.1",
                at=T0 + dt.timedelta(minutes=minute),
            )
        repo.audit("login", actor="bob", target="bob", at=T0 + dt.timedelta(minutes=10))
    with db.session() as s:
        repo = StaffRepository(s)
        everything = repo.audit_page()
        assert everything.total == 8
        assert [e.target for e in everything.entries][:3] == ["bob", "T6", "T5"]
        assert everything.entries[1].detail == {"minute": 6, "word": "día"}
        claims = repo.audit_page(actor="ana.b")
        assert claims.total == 4 and {e.action for e in claims.entries} == {"handoff.claim"}
        logins = repo.audit_page(action="login.*")
        assert logins.total == 4 and {e.action for e in logins.entries} == {"login", "login.failed"}
        assert repo.audit_page(action="login").total == 1
        second = repo.audit_page(limit=3, offset=3)
        assert [e.target for e in second.entries] == ["T4", "T3", "T2"] and second.total == 8
        assert repo.audit_page(target="T3").entries[0].actor is None
        times = repo.audit_times(
            "login.failed", since=T0 + dt.timedelta(minutes=2), client_address="10.0.0.1"
        )
        assert times == [T0 + dt.timedelta(minutes=m) for m in (3, 5)]
        assert repo.audit_times("login.failed", since=T0, target="T1") == [T0 + dt.timedelta(minutes=1)]


def test_the_database_refuses_to_change_or_delete_audit_entries(db: Database) -> None:
    with db.session() as s:
        StaffRepository(s).audit("user.add", actor="cli", target="ana.b")
    statements = ["UPDATE audit_entries SET actor = 'someone else'", "DELETE FROM audit_entries"]
    if db.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_entries")
    for statement in statements:
        with pytest.raises(DatabaseError, match="append-only"), db.session() as s:
            s.execute(text(statement))
    with db.session() as s:
        [entry] = StaffRepository(s).audit_page().entries
        assert (entry.actor, entry.action, entry.target) == ("cli", "user.add", "ana.b")


def test_long_targets_and_addresses_are_clipped(db: Database) -> None:
    with db.session() as s:
        entry = StaffRepository(s).audit(
            "login.failed", actor=None, target="x" * 500, client_address="y" * 100
        )
        assert len(entry.target) == 128 and len(entry.client_address) == 64


def test_notes_are_kept_in_order_and_checked(db: Database) -> None:
    reference = handoff(db, "live_chat")
    with db.session() as s:
        repo = StaffRepository(s)
        repo.add_note(reference, author="ana.b", text="  Customer sounds worried ")
        repo.add_note(reference, author="bob", text="Called back: no answer")
        with pytest.raises(StaffError, match="1-4000 characters, got 0"):
            repo.add_note(reference, author="bob", text="   ")
        with pytest.raises(NotFound):
            repo.add_note("LC-NOSUCH", author="bob", text="x")
    with db.session() as s:
        notes = StaffRepository(s).notes(reference)
        assert [(n.author, n.text) for n in notes] == [
            ("ana.b", "Customer sounds worried"),
            ("bob", "Called back: no answer"),
        ]


def test_callback_attempts_only_for_callbacks(db: Database) -> None:
    reference, chat = handoff(db, "callback"), handoff(db, "live_chat")
    with db.session() as s:
        repo = StaffRepository(s)
        repo.record_callback_attempt(reference, outcome="no_answer", by="ana.b", at=T0)
        repo.record_callback_attempt(
            reference,
            outcome=CallbackOutcome.reached,
            by="ana.b",
            note="sorted",
            at=T0 + dt.timedelta(hours=1),
        )
        with pytest.raises(StaffError, match="unknown callback outcome 'voicemail'"):
            repo.record_callback_attempt(reference, outcome="voicemail", by="ana.b")
        with pytest.raises(StaffError, match="is a live_chat, not a callback"):
            repo.record_callback_attempt(chat, outcome="reached", by="ana.b")
    with db.session() as s:
        repo = StaffRepository(s)
        attempts = repo.callback_attempts(reference)
        assert [(a.outcome, a.note) for a in attempts] == [
            (CallbackOutcome.no_answer, None),
            (CallbackOutcome.reached, "sorted"),
        ]
        rows = [HandoffRepository(s).get(reference), HandoffRepository(s).get(chat)]
        assert repo.attempt_counts(rows) == {rows[0].id: 2}
        assert repo.attempt_counts([]) == {}


def test_a_persona_rating_per_member_of_staff_replaced_when_rated_again(db: Database) -> None:
    reference = handoff(db, "live_chat")
    with db.session() as s:
        repo = StaffRepository(s)
        repo.rate_persona(reference, by="ana.b", persona_right=True, useful=False)
        repo.rate_persona(reference, by="bob", persona_right=False, useful=False)
    with db.session() as s:
        StaffRepository(s).rate_persona(reference, by="ana.b", persona_right=False, useful=True)
    with db.session() as s:
        ratings = StaffRepository(s).persona_ratings(reference)
        assert sorted((r.by, r.persona_right, r.useful) for r in ratings) == [
            ("ana.b", False, True),
            ("bob", False, False),
        ]
