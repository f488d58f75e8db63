"""Benchmark: writing a handoff (transcript included) to the plugin's database.

    python -m benchmarks.bench_handoff [--writes 2000] [--turns 20] [--postgres]

Each write is what an escalation action does: build the request from the conversation's
events (transcript with redaction) and store it through ``HandoffWriter`` (one
transaction, idempotency check included) in a SQLite file — the default set-up — with
a growing table. Baseline in the same run: a bare one-row INSERT + COMMIT through the
same engine, i.e. what any SQL write costs here. Target: p95 ≤ 50 ms on SQLite.
``--postgres`` also measures a throwaway local PostgreSQL server (Debian's binaries, run by
pytest-postgresql's ``PostgreSQLExecutor`` through devtools/postgres.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks.bench_persona import summary
from bot.handoff.request import request_from_conversation
from bot.store.db import Database
from bot.store.spool import HandoffWriter, Spool

TARGET_P95_MS = 50.0
CUSTOMER_LINES = [
    "Hello, my card hasn't arrived and I'm not very good with computers.",
    "It was sent two weeks ago to 12 Station Road.",
    "My card number is 4111 1111 1111 1111 if that helps",
    "I would rather speak to someone on the phone, please.",
    "Mi contraseña es perro123, ¿me pueden llamar?",
    "Je suis pressée, rappelez-moi vite svp 🙏",
]


def conversation(turns: int, rng: random.Random) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [{"event": "session_started"}]
    t = time.time()
    for i in range(turns):
        events.append(
            {
                "event": "user",
                "text": rng.choice(CUSTOMER_LINES),
                "timestamp": t + 2 * i,
                "input_channel": "rest",
            }
        )
        events.append(
            {"event": "bot", "text": "Here is what to do: 1. Open the app. 2. Tap Cards.", "timestamp": t}
        )
    return events


def measure(db: Database, workdir: Path, *, writes: int, turns: int) -> dict[str, Any]:
    db.upgrade()
    rng = random.Random(7)  # noqa: S311 (sample texts, not security)
    writer = HandoffWriter(db, Spool(workdir / "spool"))
    slots = {"persona": "phone_first", "persona_confidence": 0.8, "persona_evidence": ["x"], "language": "en"}
    handoff_s: list[float] = []
    for i in range(writes):
        events = conversation(turns, rng)
        start = time.perf_counter()
        request = request_from_conversation(
            "live_chat" if i % 2 else "callback",
            reason="benchmark",
            sender_id=f"bench-{i}",
            events=events,
            slots=slots,
            channel="rest",
            **({} if i % 2 else {"callback_number": "+447911123456"}),
        )
        result = writer.write(request)
        handoff_s.append(time.perf_counter() - start)
        assert result.status == "stored", result
    with db.engine.begin() as conn:
        conn.execute(text("create table if not exists bench_baseline (id integer primary key, v text)"))
    baseline_s: list[float] = []
    for i in range(writes):
        start = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(
                text("insert into bench_baseline (id, v) values (:i, :v)"), {"i": i, "v": f"row {i}"}
            )
        baseline_s.append(time.perf_counter() - start)
    handoff = summary(handoff_s)
    baseline = summary(baseline_s)
    return {
        "handoff": handoff,
        "baseline_insert": baseline,
        "ratio_p95": round(handoff["p95_us"] / baseline["p95_us"], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--turns", type=int, default=20, help="customer messages per conversation")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    results: dict[str, Any] = {"writes": args.writes, "turns": args.turns}
    with tempfile.TemporaryDirectory(prefix="bench-handoff-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bank.db'}")
        results["sqlite"] = measure(db, Path(tmp), writes=args.writes, turns=args.turns)
        db.dispose()
    if args.postgres:
        from devtools.postgres import start_postgres

        pgdir = Path(tempfile.mkdtemp(prefix="pgbench-", dir="/tmp" if os.geteuid() == 0 else None))  # noqa: S108
        try:
            with start_postgres(pgdir) as server:
                db = Database(server.url)
                results["postgresql"] = measure(db, pgdir, writes=args.writes, turns=args.turns)
                db.dispose()
        finally:
            shutil.rmtree(pgdir, ignore_errors=True)

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"handoff writes: {args.writes}, {args.turns} customer messages + replies per transcript")
        for backend in ("sqlite", "postgresql"):
            if backend not in results:
                continue
            r = results[backend]
            h, b = r["handoff"], r["baseline_insert"]
            print(
                f"  {backend:<10} handoff p50 {h['p50_us'] / 1000:.2f} ms  p95 {h['p95_us'] / 1000:.2f} ms  "
                f"p99 {h['p99_us'] / 1000:.2f} ms | bare insert p95 {b['p95_us'] / 1000:.2f} ms "
                f"| ratio ×{r['ratio_p95']}"
            )
        p95_ms = results["sqlite"]["handoff"]["p95_us"] / 1000
        verdict = "met" if p95_ms <= TARGET_P95_MS else "NOT met"
        print(f"  target p95 ≤ {TARGET_P95_MS:.0f} ms on SQLite: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
