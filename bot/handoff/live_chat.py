"""Handing a conversation to a person in the chat: write the handoff and tell the customer
how long they will wait (or when the chat opens).

Reads: the handoff request, the queue of open live chats, the service policy, "now", the
customer's timezone and language. Writes: the handoff (durably, through ``HandoffWriter``).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from bot.handoff.request import HandoffRequest
from bot.handoff.service import ServicePolicy, live_chat_wait
from bot.handoff.windows import moment_label
from bot.store.db import Database
from bot.store.repository import HandoffRepository
from bot.store.spool import HandoffWriter, WriteResult

logger = logging.getLogger(__name__)
WAITING_RESPONSE = "utter_live_chat_handoff"  # {wait_minutes}
CLOSED_RESPONSE = "utter_live_chat_closed"  # {opens_at}


@dataclass(frozen=True)
class LiveChatHandoff:
    """The outcome: how the write ended and what to tell the customer."""

    result: WriteResult
    response: str
    values: dict[str, Any] = field(default_factory=dict)


def waiting_ahead(database: Database) -> int | None:
    """Open live chats in the queue; None when the database cannot say (the wait is then
    estimated for an empty queue — the write decides whether the handoff happens)."""
    try:
        with database.session() as session:
            return HandoffRepository(session).waiting("live_chat")
    except SQLAlchemyError as exc:
        logger.warning("handoff.queue_unknown error=%s", exc, exc_info=True)
        return None


def wait_message(
    policy: ServicePolicy, *, ahead: int, now: dt.datetime, tz: ZoneInfo, language: str | None
) -> tuple[str, dict[str, Any]]:
    """The response telling the customer the wait, and its values."""
    wait = live_chat_wait(policy, ahead=ahead, now=now)
    if wait.minutes is not None:
        return WAITING_RESPONSE, {"wait_minutes": wait.minutes}
    opens = moment_label(wait.opens_at, tz=tz, language=language, now=now) if wait.opens_at else "?"
    return CLOSED_RESPONSE, {"opens_at": opens}


def hand_to_live_chat(
    request: HandoffRequest,
    *,
    database: Database,
    writer: HandoffWriter,
    policy: ServicePolicy,
    now: dt.datetime,
    tz: ZoneInfo,
) -> LiveChatHandoff:
    """Write a ``live_chat`` handoff and work out what to tell the customer (blocking I/O)."""
    ahead = waiting_ahead(database)
    result = writer.write(request)
    response, values = wait_message(policy, ahead=ahead or 0, now=now, tz=tz, language=request.language)
    return LiveChatHandoff(result, response, values)
