"""Nothing lost: bounded retries, the durable spool, and its import — with real databases
made unavailable (a SQLite path that cannot be opened; a PostgreSQL server stopped)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.handoff.request import HandoffRequest
from bot.store.db import Database
from bot.store.repository import HandoffRepository
from bot.store.spool import HandoffWriter, Spool, import_spool
from devtools.postgres import PostgresServer, PostgresUnavailable, start_postgres


def request(kind: str = "live_chat") -> HandoffRequest:
    extra = {"callback_number": "+447911123456"} if kind == "callback" else {}
    return HandoffRequest(
        kind=kind,
        reason="asked for a person; quick_mobile prefers to stay in chat",
        sender_id=f"s-{uuid.uuid4()}",
        transcript=[
            {"at": "2026-11-23T10:00:00+00:00", "from": "customer", "text": "human pls 🙏", "channel": "rest"}
        ],
        persona="quick_mobile",
        language="en",
        **extra,  # type: ignore[arg-type]
    )


def unavailable_sqlite(tmp_path: Path) -> Database:
    """A database SQLite cannot open: its path is a directory."""
    path = tmp_path / "bank-is-a-directory.db"
    path.mkdir(exist_ok=True)
    return Database(f"sqlite:///{path}")


def test_writes_once_when_the_database_works(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'bank.db'}")
    db.upgrade()
    sleeps: list[float] = []
    writer = HandoffWriter(db, Spool(tmp_path / "spool"), sleep=sleeps.append)
    result = writer.write(request())
    assert (result.status, result.attempts, sleeps) == ("stored", 1, [])


def test_unavailable_database_retries_a_bounded_number_of_times_then_spools(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sleeps: list[float] = []
    spool = Spool(tmp_path / "spool")
    writer = HandoffWriter(
        unavailable_sqlite(tmp_path), spool, attempts=3, delays=(0.05, 0.25), sleep=sleeps.append
    )
    req = request("callback")
    with caplog.at_level(logging.WARNING):
        result = writer.write(req)
    assert result.status == "spooled" and result.saved and result.attempts == 3
    assert sleeps == [0.05, 0.25], "pauses between attempts, none after the last"
    assert result.error
    [path] = spool.pending()
    assert HandoffRequest.from_json(json.loads(path.read_text())) == req
    assert sum("handoff.write_failed" in r.message for r in caplog.records) == 3


def test_spooled_handoffs_are_imported_on_the_next_start_exactly_once(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    reqs = [request(), request("callback")]
    writer = HandoffWriter(unavailable_sqlite(tmp_path), spool, sleep=lambda _: None)
    assert [writer.write(r).status for r in reqs] == ["spooled", "spooled"]

    db = Database(f"sqlite:///{tmp_path / 'bank.db'}")
    db.upgrade()
    report = import_spool(db, spool)
    assert sorted(report.imported) == sorted(r.reference for r in reqs)
    assert spool.pending() == []
    with db.session() as s:
        for r in reqs:
            row = HandoffRepository(s).get(r.reference)
            assert row.transcript == [dict(e) for e in r.transcript] and row.sender_id == r.sender_id

    # A crash after the insert but before the file was removed: importing again adds nothing.
    spool.put(reqs[0])
    again = import_spool(db, spool)
    assert again.already_present == [reqs[0].reference] and again.imported == []
    with db.session() as s:
        assert s.execute(text("select count(*) from handoffs")).scalar_one() == 2


def test_a_later_successful_write_drains_the_spool(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    early = request()
    HandoffWriter(unavailable_sqlite(tmp_path), spool, sleep=lambda _: None).write(early)
    db = Database(f"sqlite:///{tmp_path / 'bank.db'}")
    db.upgrade()
    HandoffWriter(db, spool, sleep=lambda _: None).write(request())
    assert spool.pending() == []
    with db.session() as s:
        assert HandoffRepository(s).get(early.reference)


def test_unreadable_spool_file_is_set_aside_not_deleted(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.directory.mkdir()
    (spool.directory / "broken.json").write_text("{not json")
    db = Database(f"sqlite:///{tmp_path / 'bank.db'}")
    db.upgrade()
    report = import_spool(db, spool)
    assert report.rejected == ["broken.json"]
    assert (spool.directory / "rejected" / "broken.json").read_text() == "{not json"


def test_when_even_the_spool_fails_the_result_says_so_and_the_log_keeps_the_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    not_a_dir = tmp_path / "spool-is-a-file"
    not_a_dir.write_text("")
    writer = HandoffWriter(unavailable_sqlite(tmp_path), Spool(not_a_dir), sleep=lambda _: None)
    req = request()
    with caplog.at_level(logging.ERROR):
        result = writer.write(req)
    assert result.status == "failed" and not result.saved
    lost = [r.message for r in caplog.records if "handoff.lost" in r.message]
    assert lost and req.request_id in lost[0] and "human pls" in lost[0]


def _start_own_postgres() -> tuple[PostgresServer, Path]:
    """A PostgreSQL server of the test's own, so it can be stopped (the shared one cannot)."""
    workdir = Path(tempfile.mkdtemp(prefix="pgspool-", dir="/tmp" if os.geteuid() == 0 else None))
    try:
        return start_postgres(workdir), workdir
    except PostgresUnavailable as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL unavailable on CI: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL unavailable: {exc}")


def test_postgres_going_down_loses_nothing(tmp_path: Path) -> None:
    server, workdir = _start_own_postgres()
    try:
        db = Database(server.url)
        db.upgrade()
        spool = Spool(tmp_path / "spool")
        writer = HandoffWriter(db, spool, sleep=lambda _: None)
        assert writer.write(request()).status == "stored"
        server.stop()  # the database server goes away mid-conversation
        down = request("callback")
        assert writer.write(down).status == "spooled"
        db.dispose()
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    replacement, workdir = _start_own_postgres()  # "the next start", on a database that works
    try:
        db = Database(replacement.url)
        db.upgrade()
        assert import_spool(db, spool).imported == [down.reference]
        with db.session() as s:
            row = HandoffRepository(s).get(down.reference)
            assert row.callback_number == "+447911123456" and row.transcript[0]["text"] == "human pls 🙏"
        db.dispose()
    finally:
        replacement.stop()
        shutil.rmtree(workdir, ignore_errors=True)
