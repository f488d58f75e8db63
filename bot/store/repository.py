"""Repositories: the queries and writes the assistant and staff tooling use.

Each repository works inside a session the caller opens (``with db.session() as s``),
so several operations commit or roll back together.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.channels import IdentityKind
from bot.handoff.request import HandoffRequest
from bot.store.models import (
    ChannelIdentity,
    Contact,
    Customer,
    Handoff,
    HandoffKind,
    HandoffStatus,
    PersonaCorrection,
    utcnow,
)

logger = logging.getLogger(__name__)

# The status workflow: open → claimed → done / cancelled (an open handoff may be cancelled too;
# a claimed one may be released, back to open and nobody's).
TRANSITIONS: dict[HandoffStatus, frozenset[HandoffStatus]] = {
    HandoffStatus.open: frozenset({HandoffStatus.claimed, HandoffStatus.cancelled}),
    HandoffStatus.claimed: frozenset({HandoffStatus.open, HandoffStatus.done, HandoffStatus.cancelled}),
    HandoffStatus.done: frozenset(),
    HandoffStatus.cancelled: frozenset(),
}


class NotFound(LookupError):
    """No row with that key."""


class InvalidTransition(ValueError):
    """The status workflow does not allow this change; the message names both statuses."""


class SamePersona(ValueError):
    """A persona correction naming the persona the handoff already has."""


@dataclass(frozen=True)
class CustomerView:
    """A customer as the assistant sees it: the profile mapping plus contact details."""

    customer_ref: str
    profile: dict[str, Any]  # the keys of bot.persona.profile.Profile
    phone: str | None  # a known phone number (E.164), to offer for callbacks
    consent_to_calls: bool | None
    timezone: str | None


class CustomerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_ref(self, customer_ref: str) -> Customer | None:
        row: Customer | None = self.session.execute(
            select(Customer).where(Customer.customer_ref == customer_ref)
        ).scalar_one_or_none()
        return row

    def by_identity(self, channel: str | IdentityKind, external_id: str) -> Customer | None:
        """The customer behind a website id, Telegram user id or phone number (E.164)."""
        query = (
            select(Customer)
            .join(ChannelIdentity)
            .where(
                ChannelIdentity.channel == IdentityKind(channel),
                ChannelIdentity.external_id == external_id,
            )
        )
        row: Customer | None = self.session.execute(query).scalar_one_or_none()
        return row

    def contact_counts(self, customer: Customer) -> dict[str, int]:
        rows = self.session.execute(
            select(Contact.channel, func.count())
            .where(Contact.customer_id == customer.id)
            .group_by(Contact.channel)
        ).all()
        return {channel: int(count) for channel, count in rows}

    def view(self, customer: Customer) -> CustomerView:
        phone = next((i.external_id for i in customer.identities if i.channel is IdentityKind.phone), None)
        profile = {
            "preferred_language": customer.preferred_language,
            "preferred_channel": customer.preferred_channel,
            "contact_history": self.contact_counts(customer),
            "persona": customer.persona,
            "accessibility_needs": list(customer.accessibility_needs or []),
            "name": customer.display_name,
            "consent_to_calls": customer.consent_to_calls,
            "timezone": customer.timezone,
        }
        return CustomerView(
            customer_ref=customer.customer_ref,
            profile={k: v for k, v in profile.items() if v not in (None, [], {})},
            phone=phone,
            consent_to_calls=customer.consent_to_calls,
            timezone=customer.timezone,
        )


class HandoffRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, request: HandoffRequest) -> tuple[Handoff, bool]:
        """Store a handoff; (row, created). A request stored before is not stored again."""
        existing = self.session.execute(
            select(Handoff).where(Handoff.request_id == request.request_id)
        ).scalar_one_or_none()
        if existing is not None:
            return existing, False
        customer_id = None
        if request.customer_ref:
            customer = CustomerRepository(self.session).by_ref(request.customer_ref)
            customer_id = customer.id if customer is not None else None
        row = Handoff(
            request_id=request.request_id,
            reference=request.reference,
            kind=HandoffKind(request.kind),
            status=HandoffStatus.open,
            reason=request.reason,
            persona=request.persona,
            persona_confidence=request.persona_confidence,
            persona_evidence=list(request.persona_evidence),
            language=request.language,
            channel=request.channel,
            sender_id=request.sender_id,
            customer_id=customer_id,
            transcript=[dict(entry) for entry in request.transcript],
            callback_number=request.callback_number,
            window_start=request.window_start,
            window_end=request.window_end,
            timezone=request.timezone,
            created_at=request.created_at,
            updated_at=request.created_at,
        )
        self.session.add(row)
        self.session.flush()
        return row, True

    def get(self, reference: str) -> Handoff:
        row: Handoff | None = self.session.execute(
            select(Handoff).where(Handoff.reference == reference)
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no handoff with reference {reference!r}")
        return row

    def queue(
        self,
        *,
        kind: str | None = None,
        statuses: Sequence[str] = ("open",),
        limit: int = 100,
    ) -> list[Handoff]:
        """Handoffs in the given statuses, oldest first (the staff queue)."""
        query = select(Handoff).where(Handoff.status.in_([HandoffStatus(s) for s in statuses]))
        if kind is not None:
            query = query.where(Handoff.kind == HandoffKind(kind))
        return list(self.session.execute(query.order_by(Handoff.created_at).limit(limit)).scalars())

    def waiting(self, kind: str, *, before: dt.datetime | None = None) -> int:
        """How many handoffs of ``kind`` are open (optionally: created before ``before``)."""
        query = select(func.count()).where(
            Handoff.kind == HandoffKind(kind), Handoff.status == HandoffStatus.open
        )
        if before is not None:
            query = query.where(Handoff.created_at < before)
        return int(self.session.execute(query).scalar_one())

    def transition(self, reference: str, status: str, *, assignee: str | None = None) -> Handoff:
        """Move a handoff along the workflow (raises InvalidTransition otherwise)."""
        row = self.get(reference)
        target = HandoffStatus(status)
        current = HandoffStatus(row.status)
        if target not in TRANSITIONS[current]:
            allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none (final)"
            raise InvalidTransition(
                f"handoff {reference}: cannot go from {current.value} to {target.value}; allowed: {allowed}"
            )
        now = utcnow()
        if target is HandoffStatus.claimed:
            if not assignee:
                raise InvalidTransition(f"handoff {reference}: claiming needs an assignee")
            row.assignee = assignee
            row.claimed_at = now
        elif target is HandoffStatus.open:
            row.assignee = None
            row.claimed_at = None
        elif assignee:
            row.assignee = assignee
        if target in (HandoffStatus.done, HandoffStatus.cancelled):
            row.closed_at = now
        row.status = target
        row.updated_at = now
        logger.info("handoff.%s reference=%s assignee=%s", target.value, reference, row.assignee)
        return row

    def reassign(self, reference: str, assignee: str) -> tuple[Handoff, str | None]:
        """Give a claimed handoff to another member of staff (a transfer, or a supervisor
        taking it over); the handoff and who had it before.

        Raises:
            InvalidTransition: the handoff is not claimed, or ``assignee`` has it already.
        """
        row = self.get(reference)
        status = HandoffStatus(row.status)
        if status is not HandoffStatus.claimed:
            raise InvalidTransition(
                f"handoff {reference} is {status.value}: only a claimed handoff can change hands"
            )
        if not assignee:
            raise InvalidTransition(f"handoff {reference}: a transfer needs an assignee")
        if row.assignee == assignee:
            raise InvalidTransition(f"handoff {reference} is assigned to {assignee!r} already")
        previous: str | None = row.assignee
        row.assignee = assignee
        row.updated_at = utcnow()
        logger.info("handoff.reassigned reference=%s from=%s to=%s", reference, previous, assignee)
        return row, previous

    def corrections(self, handoff: Handoff) -> list[PersonaCorrection]:
        """Staff corrections of a handoff's persona, oldest first."""
        query = (
            select(PersonaCorrection)
            .where(PersonaCorrection.handoff_id == handoff.id)
            .order_by(PersonaCorrection.created_at, PersonaCorrection.id)
        )
        return list(self.session.execute(query).scalars())

    def current_persona(self, handoff: Handoff) -> str | None:
        """The handoff's persona as staff last corrected it, else as the assistant inferred it."""
        corrections = self.corrections(handoff)
        persona: str | None = corrections[-1].corrected_persona if corrections else handoff.persona
        return persona

    def correct_persona(
        self,
        *,
        staff_user: str,
        corrected_persona: str,
        reference: str | None = None,
        sender_id: str | None = None,
        note: str | None = None,
    ) -> PersonaCorrection:
        """Record that staff corrected the inferred persona (of a handoff or a conversation).

        Raises:
            NotFound: no handoff ``reference``.
            SamePersona: the handoff has ``corrected_persona`` already (as inferred, or as
                last corrected).
        """
        handoff = self.get(reference) if reference else None
        if handoff is not None and self.current_persona(handoff) == corrected_persona:
            raise SamePersona(
                f"handoff {handoff.reference} has persona {corrected_persona!r} already: "
                "a correction names a different persona"
            )
        correction = PersonaCorrection(
            handoff_id=handoff.id if handoff else None,
            customer_id=handoff.customer_id if handoff else None,
            sender_id=sender_id or (handoff.sender_id if handoff else None),
            inferred_persona=handoff.persona if handoff else None,
            corrected_persona=corrected_persona,
            staff_user=staff_user,
            note=note,
        )
        self.session.add(correction)
        self.session.flush()
        logger.info(
            "persona.corrected reference=%s inferred=%s corrected=%s by=%s",
            reference,
            correction.inferred_persona,
            corrected_persona,
            staff_user,
        )
        return correction


def find_customer(database: Any, channel: IdentityKind, external_id: str) -> CustomerView | None:
    """The customer behind an identity, read in its own session (None if unknown)."""
    with database.session() as session:
        repo = CustomerRepository(session)
        customer = repo.by_identity(channel, external_id)
        return repo.view(customer) if customer is not None else None
