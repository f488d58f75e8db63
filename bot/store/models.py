"""The plugin's tables (SQLAlchemy 1.4, 2.0-style declarative mapping).

Schema changes go through Alembic migrations in ``bot/store/migrations`` (a test checks
the migrations and these models agree, on SQLite and PostgreSQL).

Vocabulary shared with the slots and the persona catalogue (docs/architecture.md):
contact channels ``phone chat app email branch``; accessibility needs ``hearing speech
vision cognitive``. There are deliberately no demographic columns.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.types import TypeDecorator

from bot.core.channels import IdentityKind

# Stable constraint names, so migrations behave the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
Base: Any = declarative_base(metadata=MetaData(naming_convention=NAMING))


def utcnow() -> dt.datetime:
    """Now in UTC, timezone-aware (stored as UTC)."""
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator):  # type: ignore[type-arg]
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no timezone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware datetime")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return (
            value.replace(tzinfo=dt.timezone.utc)
            if value.tzinfo is None
            else value.astimezone(dt.timezone.utc)
        )


class HandoffKind(str, enum.Enum):
    callback = "callback"
    live_chat = "live_chat"


class HandoffStatus(str, enum.Enum):
    open = "open"
    claimed = "claimed"
    done = "done"
    cancelled = "cancelled"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings (VARCHAR + CHECK), portable across SQLite and PostgreSQL.
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=20)


class Customer(Base):
    __tablename__ = "customers"

    id = Column(Integer, primary_key=True)
    customer_ref = Column(String(64), nullable=False, unique=True)  # the CRM's customer id
    display_name = Column(String(60))  # how to address the customer; never used for inference
    preferred_language = Column(String(2))
    preferred_channel = Column(String(10))
    persona = Column(String(64))  # assigned by staff or the CRM; overrides inference
    accessibility_needs = Column(JSON, nullable=False, default=list)
    consent_to_calls = Column(Boolean)  # None: not asked; False: never call
    timezone = Column(String(64))  # IANA name; the bank's timezone when unknown
    created_at = Column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)

    identities = relationship("ChannelIdentity", back_populates="customer", cascade="all, delete-orphan")
    contacts = relationship("Contact", back_populates="customer", cascade="all, delete-orphan")


class ChannelIdentity(Base):
    __tablename__ = "channel_identities"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_channel_identities_channel_external"),
    )

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True)
    channel = Column(_enum(IdentityKind, "identity_channel"), nullable=False)
    external_id = Column(String(128), nullable=False)

    customer = relationship("Customer", back_populates="identities")


class Contact(Base):
    """One past contact with the bank (the contact history)."""

    __tablename__ = "contacts"

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True)
    channel = Column(String(10), nullable=False)
    occurred_at = Column(UTCDateTime(), nullable=False, default=utcnow)
    summary = Column(Text)

    customer = relationship("Customer", back_populates="contacts")


class Handoff(Base):
    """A conversation handed to staff: a phone callback or a live chat."""

    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_status_kind_created", "status", "kind", "created_at"),
        # A member of staff's own handoffs ("claimed by me"), by status.
        Index("ix_handoffs_assignee_status", "assignee", "status"),
    )

    id = Column(Integer, primary_key=True)
    request_id = Column(String(36), nullable=False, unique=True)  # idempotency key (spool re-import)
    reference = Column(String(16), nullable=False, unique=True)  # what the customer is told
    kind = Column(_enum(HandoffKind, "handoff_kind"), nullable=False)
    status = Column(_enum(HandoffStatus, "handoff_status"), nullable=False, default=HandoffStatus.open)
    reason = Column(Text, nullable=False)
    persona = Column(String(64))
    persona_confidence = Column(Float)
    persona_evidence = Column(JSON, nullable=False, default=list)
    language = Column(String(2))
    channel = Column(String(32))
    sender_id = Column(String(255), nullable=False, index=True)
    customer_id = Column(Integer, ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    transcript = Column(JSON, nullable=False, default=list)
    callback_number = Column(String(20))  # E.164
    window_start = Column(UTCDateTime())
    window_end = Column(UTCDateTime())
    timezone = Column(String(64))  # the customer's timezone, for showing the window
    assignee = Column(String(128))
    created_at = Column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)
    claimed_at = Column(UTCDateTime())
    closed_at = Column(UTCDateTime())

    customer = relationship("Customer")


class PersonaCorrection(Base):
    """A member of staff corrected the persona the assistant inferred."""

    __tablename__ = "persona_corrections"

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="SET NULL"), index=True)
    sender_id = Column(String(255))
    inferred_persona = Column(String(64))
    corrected_persona = Column(String(64), nullable=False)
    staff_user = Column(String(128), nullable=False)
    note = Column(Text)
    created_at = Column(UTCDateTime(), nullable=False, default=utcnow)


# --- The staff console: accounts, sessions, the audit trail, and what staff record about
# handoffs. Staff are named by username in the other tables (like ``Handoff.assignee``):
# usernames never change and accounts are disabled, never deleted.


class StaffRole(str, enum.Enum):
    """What a member of staff may do; each role may do everything the ones before it may."""

    agent = "agent"
    supervisor = "supervisor"
    admin = "admin"


class CallbackOutcome(str, enum.Enum):
    reached = "reached"
    no_answer = "no_answer"
    wrong_number = "wrong_number"
    cancelled = "cancelled"


class StaffUser(Base):
    """A console account: lowercase username, an argon2 password hash, a role."""

    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    role = Column(_enum(StaffRole, "staff_role"), nullable=False)
    timezone = Column(String(64), nullable=False)  # IANA name: times are shown in it
    disabled = Column(Boolean, nullable=False, default=False)
    created_at = Column(UTCDateTime(), nullable=False, default=utcnow)
    last_login_at = Column(UTCDateTime())

    sessions = relationship("StaffSession", back_populates="user", cascade="all, delete-orphan")


class StaffSession(Base):
    """A logged-in browser. Only the SHA-256 of the cookie's token is stored, so the table
    alone cannot be used to log in."""

    __tablename__ = "staff_sessions"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    csrf_token = Column(String(64), nullable=False)
    user_id = Column(Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = Column(UTCDateTime(), nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime(), nullable=False, index=True)  # absolute limit
    last_seen_at = Column(UTCDateTime(), nullable=False, default=utcnow)  # for the idle limit
    client_address = Column(String(64))

    user = relationship("StaffUser", back_populates="sessions")


class AuditEntry(Base):
    """Who did what, to what, when, from where. Rows are only ever added: triggers refuse
    UPDATE and DELETE (migration 0003)."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_action_at", "action", "at"),
        Index("ix_audit_entries_actor_at", "actor", "at"),
        Index("ix_audit_entries_target_action_at", "target", "action", "at"),
    )

    id = Column(Integer, primary_key=True)
    at = Column(UTCDateTime(), nullable=False, default=utcnow, index=True)
    actor = Column(String(64))  # a username, "cli", or None (an anonymous visitor)
    action = Column(String(64), nullable=False)  # "handoff.claim", "login.failed", "user.add"
    target = Column(String(128))  # a handoff reference, a username…
    detail = Column(JSON, nullable=False, default=dict)
    client_address = Column(String(64))


class HandoffNote(Base):
    """An internal note on a handoff; the customer never sees it."""

    __tablename__ = "handoff_notes"

    id = Column(Integer, primary_key=True)
    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True)
    author = Column(String(64), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(UTCDateTime(), nullable=False, default=utcnow)


class CallbackAttempt(Base):
    """One try at calling a customer back."""

    __tablename__ = "callback_attempts"

    id = Column(Integer, primary_key=True)
    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True)
    outcome = Column(_enum(CallbackOutcome, "callback_outcome"), nullable=False)
    by = Column(String(64), nullable=False)
    at = Column(UTCDateTime(), nullable=False, default=utcnow)
    note = Column(Text)


class PersonaRating(Base):
    """A member of staff's verdict on a handoff's persona: was it right, was it useful.
    One per member of staff and handoff (rating again replaces it)."""

    __tablename__ = "persona_ratings"
    __table_args__ = (UniqueConstraint("handoff_id", "by", name="uq_persona_ratings_handoff_by"),)

    id = Column(Integer, primary_key=True)
    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True)
    by = Column(String(64), nullable=False)
    persona_right = Column(Boolean, nullable=False)
    useful = Column(Boolean, nullable=False)
    at = Column(UTCDateTime(), nullable=False, default=utcnow)
