"""``python -m bot handoff …``: the staff queue of callbacks and live chats on the command line."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.core.commands import CommandError, reported
from bot.core.settings import Settings
from bot.handoff.rasa_api import RasaApiError, resume_conversation, send_to_customer
from bot.persona.catalogue import CatalogueError, persona_ids
from bot.store.cli import database, database_option
from bot.store.models import Handoff, StaffRole
from bot.store.repository import HandoffRepository, InvalidTransition, NotFound, SamePersona
from bot.store.staff import CLI_ACTOR, StaffError, StaffRepository

CHAT_ENDED_RESPONSE = "utter_live_chat_ended"


def _row(h: Handoff) -> dict[str, Any]:
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


def _cmd_list(args: argparse.Namespace) -> int:
    with database(args).session() as session:
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


def _cmd_show(args: argparse.Namespace) -> int:
    with reported(NotFound), database(args).session() as session:
        repo = HandoffRepository(session)
        h = repo.get(args.reference)
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
                for c in repo.corrections(h)
            ],
            "transcript": h.transcript,
        }
    print(json.dumps(data, ensure_ascii=False, indent=2))
    return 0


def _cmd_move(args: argparse.Namespace) -> int:
    with reported(NotFound, InvalidTransition), database(args).session() as session:
        h = HandoffRepository(session).transition(args.reference, args.status, assignee=args.by)
        kind, sender = h.kind.value, h.sender_id
    print(f"{args.reference}: {args.status}")
    if args.status in ("done", "cancelled") and kind == "live_chat" and not args.no_resume:
        try:
            # The customer is told the chat with a person ended, then the assistant answers.
            told = send_to_customer(sender, response=CHAT_ENDED_RESPONSE, author="assistant")
            resume_conversation(sender)
        except RasaApiError as exc:
            print(f"warning: the assistant was not resumed: {exc}", file=sys.stderr)
            return 2
        if not told.delivered:
            print(f"{args.reference}: the customer was not told now ({told.reason})", file=sys.stderr)
        print(f"{args.reference}: the assistant answers {sender!r} again")
    return 0


def _cmd_reply(args: argparse.Namespace) -> int:
    """A live-chat reply from the member of staff who claimed the handoff."""
    with reported(NotFound), database(args).session() as session:
        h = HandoffRepository(session).get(args.reference)
        kind, status, assignee, sender = h.kind.value, h.status.value, h.assignee, h.sender_id
    if kind != "live_chat" or status != "claimed":
        raise CommandError(
            f"{args.reference} is a {kind} handoff, {status}: only a claimed live chat takes replies"
        )
    if assignee != args.by:
        raise CommandError(f"{args.reference} is claimed by {assignee!r}, not {args.by!r}")
    with reported(RasaApiError):
        delivery = send_to_customer(sender, args.text, author="staff", author_name=args.by)
    # Audited like the console's replies (the queue's "customer wrote again" reads them).
    with database(args).session() as session:
        StaffRepository(session).audit(
            "handoff.reply",
            actor=CLI_ACTOR,
            target=args.reference,
            detail={"by": args.by, "channel": delivery.channel, "delivered": delivery.delivered},
        )
    where = f"on {delivery.channel}" if delivery.delivered else f"not delivered now: {delivery.reason}"
    print(f"{args.reference}: reply sent ({where}); it is in the transcript")
    return 0


def _cmd_correct(args: argparse.Namespace) -> int:
    """Record the persona a member of staff says the customer really has."""
    settings = Settings.from_env()
    with reported(CatalogueError):
        personas = persona_ids(settings.personas_file)
    if args.persona not in personas:
        known = ", ".join(personas)
        raise CommandError(f"unknown persona {args.persona!r} (in {settings.personas_file}: {known})")
    with reported(NotFound, SamePersona), database(args).session() as session:
        correction = HandoffRepository(session).correct_persona(
            staff_user=args.by, corrected_persona=args.persona, reference=args.reference, note=args.note
        )
        inferred = correction.inferred_persona
    print(f"{args.reference}: persona corrected from {inferred or '-'} to {args.persona} by {args.by}")
    return 0


def _cmd_transfer(args: argparse.Namespace) -> int:
    """Give a claimed handoff to another active member of staff (audited)."""
    with reported(NotFound, InvalidTransition), database(args).session() as session:
        staff = StaffRepository(session)
        colleague = staff.user(args.to)
        if colleague is None or colleague.disabled:
            raise CommandError(f"no active staff user {args.to!r} (python -m bot staff list)")
        handoffs = HandoffRepository(session)
        assignee = handoffs.get(args.reference).assignee
        by = staff.user(args.by)
        supervises = by is not None and not by.disabled and by.role is not StaffRole.agent
        if assignee is not None and args.by != assignee and not supervises:
            raise CommandError(
                f"{args.reference} is claimed by {assignee!r}: only they or a supervisor may transfer it"
            )
        _, previous = handoffs.reassign(args.reference, colleague.username)
        staff.audit(
            "handoff.transfer",
            actor=CLI_ACTOR,
            target=args.reference,
            detail={"by": args.by, "from": previous, "to": colleague.username},
        )
        to = colleague.username
    print(f"{args.reference}: transferred from {previous or '-'} to {to}")
    return 0


def _cmd_note(args: argparse.Namespace) -> int:
    """An internal note on a handoff (never sent to the customer; audited)."""
    with reported(NotFound, StaffError), database(args).session() as session:
        staff = StaffRepository(session)
        staff.add_note(args.reference, author=args.by, text=args.text)
        staff.audit("handoff.note", actor=CLI_ACTOR, target=args.reference, detail={"by": args.by})
    print(f"{args.reference}: note added by {args.by}")
    return 0


def _cmd_resume(args: argparse.Namespace) -> int:
    with reported(RasaApiError):
        resume_conversation(args.sender_id)
    print(f"the assistant answers {args.sender_id!r} again")
    return 0


def add_commands(sub: Any) -> None:
    """Register the ``handoff`` command group on the main parser."""
    common = database_option()
    handoff = sub.add_parser("handoff", help="the staff queue").add_subparsers(
        dest="handoff_command", required=True
    )
    listing = handoff.add_parser("list", parents=[common], help="open and claimed handoffs, oldest first")
    listing.add_argument("--kind", choices=["callback", "live_chat"])
    listing.add_argument("--status", action="append", choices=["open", "claimed", "done", "cancelled"])
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_cmd_list)
    show = handoff.add_parser("show", parents=[common], help="one handoff with its transcript (JSON)")
    show.add_argument("reference")
    show.set_defaults(func=_cmd_show)
    for status, text in (("claim", "claimed"), ("done", "done"), ("cancel", "cancelled")):
        move = handoff.add_parser(status, parents=[common], help=f"mark a handoff {text}")
        move.add_argument("reference")
        move.add_argument("--by", required=status == "claim", help="the member of staff")
        move.add_argument("--no-resume", action="store_true", help="live chat: leave the assistant paused")
        move.set_defaults(func=_cmd_move, status=text)
    reply = handoff.add_parser("reply", parents=[common], help="reply to the customer of a claimed live chat")
    reply.add_argument("reference")
    reply.add_argument("text")
    reply.add_argument("--by", required=True, help="the member of staff who claimed it")
    reply.set_defaults(func=_cmd_reply)
    correct = handoff.add_parser(
        "correct", parents=[common], help="record the persona staff say the customer really has"
    )
    correct.add_argument("reference")
    correct.add_argument("--persona", required=True, help="a persona id of the catalogue")
    correct.add_argument("--by", required=True, help="the member of staff")
    correct.add_argument("--note", help="why, in a few words")
    correct.set_defaults(func=_cmd_correct)
    transfer = handoff.add_parser(
        "transfer", parents=[common], help="give a claimed handoff to another member of staff"
    )
    transfer.add_argument("reference")
    transfer.add_argument("--to", required=True, help="the colleague's username (an active account)")
    transfer.add_argument("--by", required=True, help="the member of staff transferring it")
    transfer.set_defaults(func=_cmd_transfer)
    note = handoff.add_parser(
        "note", parents=[common], help="add an internal note (the customer never sees it)"
    )
    note.add_argument("reference")
    note.add_argument("text")
    note.add_argument("--by", required=True, help="the member of staff")
    note.set_defaults(func=_cmd_note)
    resume = handoff.add_parser("resume", help="let the assistant answer a conversation again")
    resume.add_argument("sender_id")
    resume.set_defaults(func=_cmd_resume)
