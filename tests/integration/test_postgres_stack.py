"""The production shape: Rasa's tracker store and the plugin's database on PostgreSQL —
and the plugin's database going down mid-conversation without losing a handoff."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.core.settings import PROJECT_ROOT
from devtools.postgres import PostgresServer, PostgresUnavailable, start_postgres
from devtools.stack import Stack, StackError
from tests.support import always_open_bank_config, handoffs_in, sent_responses

pytestmark = pytest.mark.integration


@pytest.fixture
def plugin_postgres() -> Iterator[PostgresServer]:
    """The plugin's own PostgreSQL server, separate from the tracker store's, so it can fail."""
    workdir = Path(tempfile.mkdtemp(prefix="pgplugin-", dir="/tmp" if os.geteuid() == 0 else None))
    try:
        server = start_postgres(workdir)
    except PostgresUnavailable as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL unavailable on CI: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def test_postgres_tracker_store_and_a_database_outage_lose_nothing(
    postgres_server: PostgresServer,
    plugin_postgres: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
    model: Path,
) -> None:
    tracker_db = f"tracker_{uuid.uuid4().hex[:8]}"
    tracker_url = postgres_server.create_database(tracker_db)
    workdir = tmp_path_factory.mktemp("pgstack")
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        (PROJECT_ROOT / "endpoints.yml")
        .read_text()
        .replace(
            'tracker_store:\n  type: bot.rasa.tracker_store.RedactingSQLTrackerStore\n  dialect: "sqlite"\n'
            "  db: ${TRACKER_DB}\n",
            "tracker_store:\n  type: bot.rasa.tracker_store.RedactingSQLTrackerStore\n  dialect: postgresql\n"
            "  url: 127.0.0.1\n"
            f"  port: {postgres_server.port}\n  username: {postgres_server.user}\n  db: {tracker_db}\n",
        )
    )
    assert "postgresql" in endpoints.read_text()
    try:
        stack = Stack.start(
            model=model,
            workdir=workdir,
            endpoints=endpoints,
            env={"DATABASE_URL": plugin_postgres.url, "BANK_CONFIG": str(always_open_bank_config(workdir))},
            seed=PROJECT_ROOT / "demo" / "customers.yml",
        )
    except StackError as exc:
        pytest.fail(f"servers did not start: {exc}")
    try:
        # 1. A callback booked with everything on PostgreSQL.
        booked = f"pg-cb-{uuid.uuid4()}"
        stack.rest(booked, "Can someone call me back please?", metadata={"channel": "socketio"})
        window = stack.rest(booked, "07911 123456", metadata={"channel": "socketio"})
        stack.rest(booked, window[-1]["buttons"][0]["payload"], metadata={"channel": "socketio"})
        stack.rest(booked, "yes", metadata={"channel": "socketio"})
        [row] = handoffs_in(plugin_postgres.url, booked)
        assert row.kind.value == "callback" and row.callback_number == "+447911123456"
        engine = create_engine(tracker_url, future=True)
        with engine.connect() as conn:
            stored = conn.execute(text("select count(*) from events where sender_id = :s"), {"s": booked})
            assert stored.scalar_one() > 10, "Rasa's tracker store writes to PostgreSQL"
        engine.dispose()

        # 2. The plugin's database goes away; a customer asks for a person.
        plugin_postgres.stop()
        stranded = f"pg-lc-{uuid.uuid4()}"
        stack.rest(
            stranded, "hey my card 4111 1111 1111 1111 is blocked lol", metadata={"channel": "telegram"}
        )
        replies = stack.rest(stranded, "can i talk to a human pls", metadata={"channel": "telegram"})
        sent = sent_responses(stack, stranded)
        assert sent[-1] == "utter_handoff_delayed", sent
        reference = sent and stack.tracker(stranded)["slots"]["handoff_reference"]
        assert reference and reference in " ".join(r.get("text", "") for r in replies), "told the reference"
        assert stack.tracker(stranded)["paused"] is True
        spooled = list((workdir / "spool").glob("*.json"))
        assert len(spooled) == 1
    finally:
        stack.stop()

    # 3. The next start, on a database that works: the spooled handoff arrives intact.
    recovered_url = postgres_server.create_database(f"bank_{uuid.uuid4().hex[:8]}")
    env = {**stack.env, "DATABASE_URL": recovered_url}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "db", "prepare"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 imported" in done.stdout
    [row] = handoffs_in(recovered_url, stranded)
    assert row.reference == reference and row.kind.value == "live_chat"
    customer_lines = [e["text"] for e in row.transcript if e["from"] == "customer"]
    assert customer_lines[-1] == "can i talk to a human pls"
    assert "4111" not in customer_lines[0] and "[card number removed]" in customer_lines[0]
    assert list((workdir / "spool").glob("*.json")) == []
