"""``python -m bot db …`` and ``python -m bot handoff …`` (the database and staff commands)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.config import Settings


def _database(args: argparse.Namespace) -> Any:
    from bot.store.db import Database

    return Database(args.database_url or Settings.from_env().database_url)


def _persona_ids(settings: Settings) -> list[str]:
    """The persona ids of the configured catalogue (raises ``CatalogueError``)."""
    from bot.personas import load_catalogue

    return load_catalogue(settings.personas_file, compile_patterns=False).ids


def _cmd_upgrade(args: argparse.Namespace) -> int:
    db = _database(args)
    db.upgrade()
    print(f"database {db!r}: at the newest migration")
    return 0


def _cmd_prepare(args: argparse.Namespace) -> int:
    """Check the service configuration, apply migrations, import spooled handoffs."""
    from bot.callbacks import ServiceConfigError, load_service_policy
    from bot.store.spool import Spool, import_spool

    settings = Settings.from_env()
    try:
        load_service_policy(settings.bank_config)  # refuse to start with bad business hours
    except ServiceConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    db = _database(args)
    db.upgrade()
    report = import_spool(db, Spool(settings.spool_dir))
    print(f"database {db!r}: migrated; {report}")
    return 1 if report.remaining or report.rejected else 0


def _cmd_seed(args: argparse.Namespace) -> int:
    from bot.callbacks import ServiceConfigError, load_service_policy
    from bot.personas.loader import CatalogueError
    from bot.store.seed import SeedError, load_seed_file

    settings = Settings.from_env()
    try:
        personas = _persona_ids(settings)
        region = load_service_policy(settings.bank_config).default_region
        db = _database(args)
        db.upgrade()
        created, updated = load_seed_file(db, Path(args.file), personas=personas, region=region)
    except (SeedError, CatalogueError, ServiceConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.file}: {created} customers created, {updated} updated")
    return 0


def _row(h: Any) -> dict[str, Any]:
    return {
        "reference": h.reference,
        "kind": h.kind.value,
        "status": h.status.value,
        "created_at": h.created_at.isoformat(),
        "persona": h.persona,
        "language": h.language,
        "channel": h.channel,
        "reason": h.reason,
        "callback_number": h.callback_number,
        "window": [h.window_start.isoformat(), h.window_end.isoformat()] if h.window_start else None,
        "assignee": h.assignee,
        "sender_id": h.sender_id,
    }


def _cmd_handoff_list(args: argparse.Namespace) -> int:
    from bot.store.repository import HandoffRepository

    with _database(args).session() as session:
        rows = HandoffRepository(session).queue(kind=args.kind, statuses=args.status or ["open", "claimed"])
        data = [_row(h) for h in rows]
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    for r in data:
        window = f" {r['window'][0]}–{r['window'][1]}" if r["window"] else ""
        persona = r["persona"] or "-"
        print(f"{r['reference']}  {r['kind']:<9} {r['status']:<9} {persona:<13} {r['reason']}{window}")
    print(f"{len(data)} handoffs")
    return 0


def _cmd_handoff_show(args: argparse.Namespace) -> int:
    from bot.store.repository import HandoffRepository, NotFound

    try:
        with _database(args).session() as session:
            h = HandoffRepository(session).get(args.reference)
            data = {
                **_row(h),
                "persona_confidence": h.persona_confidence,
                "persona_evidence": h.persona_evidence,
                "customer_ref": h.customer.customer_ref if h.customer else None,
                "timezone": h.timezone,
                "claimed_at": h.claimed_at.isoformat() if h.claimed_at else None,
                "closed_at": h.closed_at.isoformat() if h.closed_at else None,
                "persona_corrections": [
                    {
                        "corrected_persona": c.corrected_persona,
                        "by": c.staff_user,
                        "note": c.note,
                        "at": c.created_at.isoformat(),
                    }
                    for c in HandoffRepository(session).corrections(h)
                ],
                "transcript": h.transcript,
            }
    except NotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(data, ensure_ascii=False, indent=2))
    return 0


def _cmd_handoff_move(args: argparse.Namespace) -> int:
    from bot.store.repository import HandoffRepository, InvalidTransition, NotFound

    try:
        with _database(args).session() as session:
            h = HandoffRepository(session).transition(args.reference, args.status, assignee=args.by)
            kind, sender = h.kind.value, h.sender_id
    except (NotFound, InvalidTransition) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.reference}: {args.status}")
    if args.status in ("done", "cancelled") and kind == "live_chat" and not args.no_resume:
        from bot.staff import RasaApiError, resume_conversation

        try:
            resume_conversation(sender)
        except RasaApiError as exc:
            print(f"warning: the assistant was not resumed: {exc}", file=sys.stderr)
            return 2
        print(f"{args.reference}: the assistant answers {sender!r} again")
    return 0


def _cmd_handoff_correct(args: argparse.Namespace) -> int:
    """Record the persona a member of staff says the customer really has."""
    from bot.personas.loader import CatalogueError
    from bot.store.repository import HandoffRepository, NotFound

    settings = Settings.from_env()
    try:
        personas = _persona_ids(settings)
    except CatalogueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.persona not in personas:
        print(
            f"error: unknown persona {args.persona!r} (in {settings.personas_file}: {', '.join(personas)})",
            file=sys.stderr,
        )
        return 1
    try:
        with _database(args).session() as session:
            correction = HandoffRepository(session).correct_persona(
                staff_user=args.by, corrected_persona=args.persona, reference=args.reference, note=args.note
            )
            inferred = correction.inferred_persona
    except NotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.reference}: persona corrected from {inferred or '-'} to {args.persona} by {args.by}")
    return 0


def _cmd_handoff_resume(args: argparse.Namespace) -> int:
    from bot.staff import RasaApiError, resume_conversation

    try:
        resume_conversation(args.sender_id)
    except RasaApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"the assistant answers {args.sender_id!r} again")
    return 0


def add_commands(sub: Any) -> None:
    """Register the ``db`` and ``handoff`` command groups on the main parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", help="SQLAlchemy URL (default: $DATABASE_URL or var/bank.db)")

    db = sub.add_parser("db", help="the plugin's database").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", parents=[common], help="apply migrations").set_defaults(func=_cmd_upgrade)
    db.add_parser("prepare", parents=[common], help="migrations, then import spooled handoffs").set_defaults(
        func=_cmd_prepare
    )
    seed = db.add_parser("seed", parents=[common], help="load customers from a YAML file")
    seed.add_argument("file")
    seed.set_defaults(func=_cmd_seed)

    handoff = sub.add_parser("handoff", help="the staff queue").add_subparsers(
        dest="handoff_command", required=True
    )
    listing = handoff.add_parser("list", parents=[common], help="open and claimed handoffs, oldest first")
    listing.add_argument("--kind", choices=["callback", "live_chat"])
    listing.add_argument("--status", action="append", choices=["open", "claimed", "done", "cancelled"])
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_cmd_handoff_list)
    show = handoff.add_parser("show", parents=[common], help="one handoff with its transcript (JSON)")
    show.add_argument("reference")
    show.set_defaults(func=_cmd_handoff_show)
    for status, text in (("claim", "claimed"), ("done", "done"), ("cancel", "cancelled")):
        move = handoff.add_parser(status, parents=[common], help=f"mark a handoff {text}")
        move.add_argument("reference")
        move.add_argument("--by", required=status == "claim", help="the member of staff")
        move.add_argument("--no-resume", action="store_true", help="live chat: leave the assistant paused")
        move.set_defaults(func=_cmd_handoff_move, status=text)
    correct = handoff.add_parser(
        "correct", parents=[common], help="record the persona staff say the customer really has"
    )
    correct.add_argument("reference")
    correct.add_argument("--persona", required=True, help="a persona id of the catalogue")
    correct.add_argument("--by", required=True, help="the member of staff")
    correct.add_argument("--note", help="why, in a few words")
    correct.set_defaults(func=_cmd_handoff_correct)
    resume = handoff.add_parser("resume", help="let the assistant answer a conversation again")
    resume.add_argument("sender_id")
    resume.set_defaults(func=_cmd_handoff_resume)
