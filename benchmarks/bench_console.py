"""Benchmark: the staff console's queue page with 10,000 handoffs.

    python -m benchmarks.bench_console [--handoffs 10000] [--requests 200] [--postgres]

The plugin's database is seeded with ``--handoffs`` handoffs (live chats and callbacks in
every status, persona, language and channel, a month of requests, 20 members of staff,
staff replies in the audit trail) and Rasa's tracker store with three events a
conversation. The console runs in-process (aiohttp's test server on loopback) and one
logged-in member of staff requests, ``--requests`` times each: the default queue (open or
claimed, page 1), a filtered one (callbacks of one persona in one language, nobody's) and
page 50 of the default queue. Each time is the whole request: session check, queries,
the tracker store, rendering. Target: p95 ≤ 300 ms on each database.
``--postgres`` also measures a throwaway local PostgreSQL server (devtools/postgres.py),
the tracker store in a second database of it.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from argon2 import PasswordHasher
from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text, insert
from sqlalchemy.engine import Engine

from benchmarks.bench_persona import summary
from bot.console.app import create_app
from bot.console.passwords import Passwords
from bot.console.views import ConsoleConfig
from bot.store.db import Database, create_engine
from bot.store.models import AuditEntry, Handoff, HandoffKind, HandoffStatus
from bot.store.staff import StaffRepository

TARGET_P95_MS = 300.0
WARMUP = 5
PASSWORD = secrets.token_urlsafe(18)  # the benchmark user's, for this run only
USER = "bench.agent"
PERSONAS = ("default", "phone_first", "quick_mobile", "technical", "time_pressed")
LANGUAGES = ("en", "es", "fr")
CHANNELS = ("rest", "socketio", "telegram", "twilio")
# Share of handoffs per status: most are history; a few hundred wait at any time.
STATUSES = ((HandoffStatus.done, 0.60), (HandoffStatus.cancelled, 0.10), (HandoffStatus.open, 0.18))
PAGES = {
    "default queue": "/",
    "filtered": "/?kind=callback&persona=phone_first&language=es&assignee=%40nobody",
    "page 50": "/?page=50",
}
# Cheap argon2 parameters: logging in is not what is measured.
FAST_PASSWORDS = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ROW = re.compile(r'data-reference="')

# The columns of Rasa's SQLTrackerStore ``events`` table that the console reads.
_TRACKER = MetaData()
_EVENTS = Table(
    "events",
    _TRACKER,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
    Index("ix_events_sender_id", "sender_id"),
)


def _status(rng: random.Random) -> HandoffStatus:
    draw = rng.random()
    for status, share in STATUSES:
        if draw < share:
            return status
        draw -= share
    return HandoffStatus.claimed


def seed(db: Database, tracker: Engine, *, handoffs: int, now: dt.datetime) -> None:
    """The handoffs, staff, their replies and the conversations' events."""
    rng = random.Random(11)  # noqa: S311 (sample data, not security)
    db.upgrade()
    staff = [f"agent.{i:02d}" for i in range(20)]
    rows: list[dict[str, Any]] = []
    replies: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for i in range(handoffs):
        kind = HandoffKind.callback if i % 3 == 0 else HandoffKind.live_chat
        status = _status(rng)
        created = now - dt.timedelta(minutes=rng.uniform(1, 30 * 24 * 60))
        assignee = None if status is HandoffStatus.open else rng.choice(staff)
        reference = f"{'CB' if kind is HandoffKind.callback else 'LC'}-{i:07d}"
        window = created + dt.timedelta(hours=rng.randint(1, 48))
        rows.append(
            {
                "request_id": f"bench-{i}",
                "reference": reference,
                "kind": kind,
                "status": status,
                "reason": "asked for a person"
                if kind is HandoffKind.live_chat
                else "accepted the callback offer",
                "persona": rng.choice(PERSONAS),
                "persona_confidence": 0.8,
                "persona_evidence": ["x"],
                "language": rng.choice(LANGUAGES),
                "channel": rng.choice(CHANNELS),
                "sender_id": f"bench-sender-{i}",
                "transcript": [{"from": "customer", "text": "Hello, my card has not arrived"}] * 20,
                "callback_number": "+447911123456" if kind is HandoffKind.callback else None,
                "window_start": window if kind is HandoffKind.callback else None,
                "window_end": window + dt.timedelta(hours=2) if kind is HandoffKind.callback else None,
                "timezone": "Europe/London" if kind is HandoffKind.callback else None,
                "assignee": assignee,
                "created_at": created,
                "updated_at": created,
                "claimed_at": created + dt.timedelta(minutes=3) if assignee else None,
                "closed_at": created + dt.timedelta(minutes=20)
                if status in (HandoffStatus.done, HandoffStatus.cancelled)
                else None,
            }
        )
        if status is HandoffStatus.claimed:
            replies.append(
                {
                    "at": created + dt.timedelta(minutes=4),
                    "actor": assignee,
                    "action": "handoff.reply",
                    "target": reference,
                    "detail": {},
                }
            )
        for n, type_name in enumerate(("user", "bot", "user")):
            events.append(
                {
                    "sender_id": f"bench-sender-{i}",
                    "type_name": type_name,
                    "timestamp": (created + dt.timedelta(minutes=n * 3)).timestamp(),
                }
            )
    with db.session() as session:
        for start in range(0, len(rows), 1000):
            session.execute(insert(Handoff), rows[start : start + 1000])
        if replies:
            session.execute(insert(AuditEntry), replies)
        hasher = FAST_PASSWORDS
        StaffRepository(session).add_user(
            USER, password_hash=hasher.hash(PASSWORD), role="agent", timezone="Europe/London"
        )
        for name in staff:
            StaffRepository(session).add_user(
                name, password_hash=hasher.hash(PASSWORD), role="agent", timezone="Europe/London"
            )
    _TRACKER.create_all(tracker)
    with tracker.begin() as conn:
        for start in range(0, len(events), 5000):
            conn.execute(insert(_EVENTS), events[start : start + 5000])


async def _login(client: aiohttp.ClientSession, server: TestServer) -> None:
    async with client.get(server.make_url("/login")) as resp:
        token = CSRF.search(await resp.text())
    assert token, "no login form"
    form = {"csrf": token.group(1), "username": USER, "password": PASSWORD, "next": "/"}
    async with client.post(server.make_url("/login"), data=form, allow_redirects=False) as resp:
        assert resp.status == 303, f"login failed: {resp.status}"


async def _measure_pages(db: Database, tracker_url: str, requests: int) -> dict[str, Any]:
    config = ConsoleConfig(tracker_store_url=tracker_url)
    app = create_app(database=db, config=config, passwords=FAST_PASSWORDS)
    results: dict[str, Any] = {}
    async with (
        TestServer(app, host="127.0.0.1") as server,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client,
    ):
        await _login(client, server)
        for name, path in PAGES.items():
            times: list[float] = []
            shown = 0
            for i in range(WARMUP + requests):
                start = time.perf_counter()
                async with client.get(server.make_url(path), allow_redirects=False) as resp:
                    body = await resp.text()
                elapsed = time.perf_counter() - start
                assert resp.status == 200, f"{path}: HTTP {resp.status}"
                if i >= WARMUP:
                    times.append(elapsed)
                shown = len(ROW.findall(body))
            results[name] = {**summary(times), "rows": shown, "path": path}
    return results


def measure(db: Database, tracker_url: str, *, handoffs: int, requests: int) -> dict[str, Any]:
    tracker = create_engine(tracker_url)
    started = time.perf_counter()
    seed(db, tracker, handoffs=handoffs, now=dt.datetime.now(dt.timezone.utc))
    seeded = time.perf_counter() - started
    tracker.dispose()
    pages = asyncio.run(_measure_pages(db, tracker_url, requests))
    return {"seed_s": round(seeded, 1), "pages": pages}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handoffs", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    results: dict[str, Any] = {"handoffs": args.handoffs, "requests": args.requests}
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bank.db'}")
        tracker_url = f"sqlite:///{Path(tmp) / 'tracker.db'}"
        results["sqlite"] = measure(db, tracker_url, handoffs=args.handoffs, requests=args.requests)
        db.dispose()
    if args.postgres:
        from devtools.postgres import start_postgres

        pgdir = Path(tempfile.mkdtemp(prefix="pgbench-", dir="/tmp" if os.geteuid() == 0 else None))  # noqa: S108
        try:
            with start_postgres(pgdir) as server:
                db = Database(server.url)
                tracker_url = server.create_database("tracker")
                results["postgresql"] = measure(
                    db, tracker_url, handoffs=args.handoffs, requests=args.requests
                )
                db.dispose()
        finally:
            shutil.rmtree(pgdir, ignore_errors=True)

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(
        f"console queue page: {args.handoffs} handoffs, {args.requests} requests a page, one logged-in agent"
    )
    worst = 0.0
    for backend in ("sqlite", "postgresql"):
        if backend not in results:
            continue
        for name, r in results[backend]["pages"].items():
            worst = max(worst, r["p95_us"] / 1000)
            print(
                f"  {backend:<10} {name:<14} p50 {r['p50_us'] / 1000:6.1f} ms"
                f"  p95 {r['p95_us'] / 1000:6.1f} ms  p99 {r['p99_us'] / 1000:6.1f} ms  ({r['rows']} rows)"
            )
    verdict = "met" if worst <= TARGET_P95_MS else "NOT met"
    print(
        f"  target p95 ≤ {TARGET_P95_MS:.0f} ms on every page and database: {verdict} (worst {worst:.1f} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
