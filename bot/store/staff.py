"""The staff console's data: accounts, sessions, the audit trail, and what staff record
about handoffs (internal notes, callback attempts, persona ratings).

Like the other repositories, ``StaffRepository`` works inside a session the caller opens
(``with db.session() as s: StaffRepository(s).…``) so a change and its audit entry commit
together. Passwords arrive here already hashed (``bot.console.passwords``); session tokens
as their SHA-256.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from bot.store.models import (
    AuditEntry,
    CallbackAttempt,
    CallbackOutcome,
    Handoff,
    HandoffNote,
    PersonaRating,
    StaffRole,
    StaffSession,
    StaffUser,
    utcnow,
)
from bot.store.repository import HandoffRepository, NotFound

logger = logging.getLogger(__name__)

USERNAME_PATTERN = re.compile(r"[a-z0-9._-]{2,64}")
DEFAULT_STAFF_TIMEZONE = "Europe/London"
MAX_NOTE_CHARS = 4000
MAX_TARGET_CHARS = 128
MAX_ADDRESS_CHARS = 64
# The actor of changes made on the command line.
CLI_ACTOR = "cli"


class StaffError(ValueError):
    """A username, role, timezone or note that cannot be stored; the message names it."""


class UserExists(StaffError):
    """An account with that username exists already."""


def normalise_username(name: str) -> str:
    """``name`` lowercased and checked (``[a-z0-9._-]{2,64}``).

    Raises:
        StaffError: naming the bad username.
    """
    username = name.strip().lower()
    if not USERNAME_PATTERN.fullmatch(username):
        raise StaffError(
            f"invalid username {name!r}: use 2-64 of a-z, 0-9, '.', '_' and '-' (stored lowercase)"
        )
    return username


def check_timezone(name: str) -> str:
    """``name`` if it is an IANA timezone this system knows (``Europe/Madrid``)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise StaffError(f"unknown timezone {name!r}: use an IANA name such as 'Europe/London'") from exc
    return name


def check_role(role: str | StaffRole) -> StaffRole:
    try:
        return StaffRole(role)
    except ValueError as exc:
        known = ", ".join(r.value for r in StaffRole)
        raise StaffError(f"unknown role {role!r}: one of {known}") from exc


@dataclass(frozen=True)
class AuditPage:
    """One page of the audit trail, newest first, and how many entries match in all."""

    entries: list[AuditEntry]
    total: int


class StaffRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- accounts

    def user(self, username: str) -> StaffUser | None:
        row: StaffUser | None = self.session.execute(
            select(StaffUser).where(StaffUser.username == username.strip().lower())
        ).scalar_one_or_none()
        return row

    def get_user(self, username: str) -> StaffUser:
        row = self.user(username)
        if row is None:
            raise NotFound(f"no staff user {username!r}")
        return row

    def users(self) -> list[StaffUser]:
        return list(self.session.execute(select(StaffUser).order_by(StaffUser.username)).scalars())

    def count_users(self, *, enabled_only: bool = True) -> int:
        query = select(func.count()).select_from(StaffUser)
        if enabled_only:
            query = query.where(StaffUser.disabled.is_(False))
        return int(self.session.execute(query).scalar_one())

    def add_user(
        self, username: str, *, password_hash: str, role: str | StaffRole, timezone: str
    ) -> StaffUser:
        """A new account (raises UserExists, or StaffError for a bad name, role or timezone)."""
        name = normalise_username(username)
        if self.user(name) is not None:
            raise UserExists(f"staff user {name!r} exists already")
        row = StaffUser(
            username=name,
            password_hash=password_hash,
            role=check_role(role),
            timezone=check_timezone(timezone),
            disabled=False,
        )
        self.session.add(row)
        self.session.flush()
        logger.info("staff.user_added username=%s role=%s", name, row.role.value)
        return row

    def set_password(self, username: str, password_hash: str) -> StaffUser:
        """Replace the password; the user's sessions end."""
        row = self.get_user(username)
        row.password_hash = password_hash
        self.end_sessions(row)
        return row

    def disable(self, username: str) -> StaffUser:
        """Disable the account (it cannot log in; its sessions end). Idempotent."""
        row = self.get_user(username)
        row.disabled = True
        self.end_sessions(row)
        logger.info("staff.user_disabled username=%s", row.username)
        return row

    # --- sessions

    def create_session(
        self,
        user: StaffUser,
        *,
        token_hash: str,
        csrf_token: str,
        now: dt.datetime,
        lifetime: dt.timedelta,
        client_address: str | None,
    ) -> StaffSession:
        row = StaffSession(
            user_id=user.id,
            token_hash=token_hash,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
            client_address=_clip(client_address, MAX_ADDRESS_CHARS),
        )
        self.session.add(row)
        user.last_login_at = now
        self.session.flush()
        return row

    def session_by_token_hash(self, token_hash: str) -> StaffSession | None:
        row: StaffSession | None = self.session.execute(
            select(StaffSession).where(StaffSession.token_hash == token_hash)
        ).scalar_one_or_none()
        return row

    def end_session(self, token_hash: str) -> bool:
        """Delete the session with that token; whether there was one."""
        result = self.session.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash))
        return bool(result.rowcount)

    def end_sessions(self, user: StaffUser) -> int:
        result = self.session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
        return int(result.rowcount or 0)

    def purge_sessions(self, *, now: dt.datetime, idle: dt.timedelta) -> int:
        """Delete sessions past their absolute or idle limit; how many."""
        result = self.session.execute(
            delete(StaffSession).where(
                or_(StaffSession.expires_at <= now, StaffSession.last_seen_at <= now - idle)
            )
        )
        return int(result.rowcount or 0)

    # --- the audit trail (append-only: there is no update or delete)

    def audit(
        self,
        action: str,
        *,
        actor: str | None,
        target: str | None = None,
        detail: Mapping[str, Any] | None = None,
        client_address: str | None = None,
        at: dt.datetime | None = None,
    ) -> AuditEntry:
        row = AuditEntry(
            at=at or utcnow(),
            actor=actor,
            action=action,
            target=_clip(target, MAX_TARGET_CHARS),
            detail=dict(detail or {}),
            client_address=_clip(client_address, MAX_ADDRESS_CHARS),
        )
        self.session.add(row)
        self.session.flush()
        return row

    def audit_page(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> AuditPage:
        """Entries newest first, filtered by exact actor, action (``login.*``: ``login`` and
        every ``login.…``) and target."""
        conditions = []
        if actor:
            conditions.append(AuditEntry.actor == actor)
        if action:
            if action.endswith(".*"):
                group = action[:-2]
                in_group = AuditEntry.action.startswith(f"{group}.", autoescape=True)
                conditions.append(or_(AuditEntry.action == group, in_group))
            else:
                conditions.append(AuditEntry.action == action)
        if target:
            conditions.append(AuditEntry.target == target)
        total = self.session.execute(select(func.count()).select_from(AuditEntry).where(*conditions))
        rows = self.session.execute(
            select(AuditEntry)
            .where(*conditions)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
            .offset(offset)
        ).scalars()
        return AuditPage(list(rows), int(total.scalar_one()))

    def audit_times(
        self,
        action: str,
        *,
        since: dt.datetime,
        target: str | None = None,
        client_address: str | None = None,
    ) -> list[dt.datetime]:
        """When ``action`` was recorded since ``since`` (for ``target`` or from
        ``client_address``), oldest first: what login throttling counts."""
        query = select(AuditEntry.at).where(AuditEntry.action == action, AuditEntry.at > since)
        if target is not None:
            query = query.where(AuditEntry.target == _clip(target, MAX_TARGET_CHARS))
        if client_address is not None:
            query = query.where(AuditEntry.client_address == _clip(client_address, MAX_ADDRESS_CHARS))
        return list(self.session.execute(query.order_by(AuditEntry.at)).scalars())

    # --- about handoffs

    def _handoff(self, handoff: Handoff | str) -> Handoff:
        return HandoffRepository(self.session).get(handoff) if isinstance(handoff, str) else handoff

    def add_note(self, handoff: Handoff | str, *, author: str, text: str) -> HandoffNote:
        """An internal note (``handoff`` is a row or its reference)."""
        body = text.strip()
        if not body or len(body) > MAX_NOTE_CHARS:
            raise StaffError(f"a note must have 1-{MAX_NOTE_CHARS} characters, got {len(body)}")
        row = HandoffNote(handoff_id=self._handoff(handoff).id, author=author, text=body, created_at=utcnow())
        self.session.add(row)
        self.session.flush()
        return row

    def notes(self, handoff: Handoff | str) -> list[HandoffNote]:
        """Notes oldest first."""
        query = (
            select(HandoffNote)
            .where(HandoffNote.handoff_id == self._handoff(handoff).id)
            .order_by(HandoffNote.created_at, HandoffNote.id)
        )
        return list(self.session.execute(query).scalars())

    def record_callback_attempt(
        self,
        handoff: Handoff | str,
        *,
        outcome: str | CallbackOutcome,
        by: str,
        note: str | None = None,
        at: dt.datetime | None = None,
    ) -> CallbackAttempt:
        row = self._handoff(handoff)
        if row.kind.value != "callback":
            raise StaffError(f"handoff {row.reference} is a {row.kind.value}, not a callback")
        try:
            verdict = CallbackOutcome(outcome)
        except ValueError as exc:
            known = ", ".join(o.value for o in CallbackOutcome)
            raise StaffError(f"unknown callback outcome {outcome!r}: one of {known}") from exc
        attempt = CallbackAttempt(
            handoff_id=row.id, outcome=verdict, by=by, note=(note or "").strip() or None, at=at or utcnow()
        )
        self.session.add(attempt)
        self.session.flush()
        return attempt

    def callback_attempts(self, handoff: Handoff | str) -> list[CallbackAttempt]:
        """Attempts oldest first."""
        query = (
            select(CallbackAttempt)
            .where(CallbackAttempt.handoff_id == self._handoff(handoff).id)
            .order_by(CallbackAttempt.at, CallbackAttempt.id)
        )
        return list(self.session.execute(query).scalars())

    def attempt_counts(self, handoffs: Sequence[Handoff]) -> dict[int, int]:
        """How many callback attempts each handoff (by id) has had: one query for a page."""
        ids = [h.id for h in handoffs]
        if not ids:
            return {}
        rows = self.session.execute(
            select(CallbackAttempt.handoff_id, func.count())
            .where(CallbackAttempt.handoff_id.in_(ids))
            .group_by(CallbackAttempt.handoff_id)
        ).all()
        return {int(handoff_id): int(count) for handoff_id, count in rows}

    def rate_persona(
        self, handoff: Handoff | str, *, by: str, persona_right: bool, useful: bool
    ) -> PersonaRating:
        """Record (or replace) ``by``'s rating of the handoff's persona."""
        row = self._handoff(handoff)
        rating: PersonaRating | None = self.session.execute(
            select(PersonaRating).where(PersonaRating.handoff_id == row.id, PersonaRating.by == by)
        ).scalar_one_or_none()
        if rating is None:
            rating = PersonaRating(handoff_id=row.id, by=by)
            self.session.add(rating)
        rating.persona_right = bool(persona_right)
        rating.useful = bool(useful)
        rating.at = utcnow()
        self.session.flush()
        return rating

    def persona_ratings(self, handoff: Handoff | str) -> list[PersonaRating]:
        query = (
            select(PersonaRating)
            .where(PersonaRating.handoff_id == self._handoff(handoff).id)
            .order_by(PersonaRating.at, PersonaRating.id)
        )
        return list(self.session.execute(query).scalars())


def _clip(value: str | None, limit: int) -> str | None:
    return value[:limit] if value is not None else None
