"""Persona corrections staff recorded, as labelled conversations for the evaluation.

Reads: persona corrections (``persona_corrections``) with their handoff — its transcript,
language, channel and kind — and the customer's profile, from the plugin's database.
Writes: conversations in the evaluation format (``bot.persona.evaluation``,
``docs/personas.md``), so ``python -m bot personas evaluate FILE`` measures the catalogue
on what staff said:

* ``turns``: the customer's messages of the handoff's transcript (already redacted and
  masked when the handoff was stored);
* ``expect.persona``: the persona of the handoff's latest correction (an earlier
  correction of the same handoff is replaced by it);
* ``expect.language``: the handoff's language; ``channel``: its channel;
* ``expect.offer_phone``, where it can be told: ``true`` for a callback (the customer
  asked for a call or accepted the offer), ``false`` when the profile rules calls out (a
  hearing or speech need, or the customer refused calls); not labelled otherwise;
* ``profile``: the customer's profile as it is now, without an assigned persona (it
  would decide the persona by itself) and without the name.

Skipped, and counted: corrections of a conversation without a handoff (no transcript is
kept), handoffs whose transcript has no customer message, and personas no longer in the
catalogue.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.channels import INPUT_CHANNELS
from bot.handoff.transcript import CUSTOMER
from bot.persona.profile import Profile
from bot.store.models import Handoff, HandoffKind, PersonaCorrection
from bot.store.repository import CustomerRepository

NO_HANDOFF = "without a handoff (no transcript kept)"
NO_CUSTOMER_TURNS = "without a customer message"
UNKNOWN_PERSONA = "naming a persona not in the catalogue"
# Profile fields the evaluation reads; the assigned persona and the name are left out.
PROFILE_FIELDS = ("preferred_language", "preferred_channel", "contact_history", "accessibility_needs")


@dataclass
class CorrectionsExport:
    """The labelled conversations and what could not be exported.

    Attributes:
        conversations: in the evaluation format, one per corrected handoff.
        corrections: how many corrections were read.
        replaced: earlier corrections of a handoff that a later one replaced.
        skipped: corrections that cannot be labelled, by reason.
    """

    conversations: list[dict[str, Any]] = field(default_factory=list)
    corrections: int = 0
    replaced: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def to_yaml(self) -> str:
        """The evaluation file."""
        header = (
            "# Persona corrections recorded by staff (python -m bot personas export-corrections).\n"
            "# Evaluate with: python -m bot personas evaluate FILE\n"
        )
        body = yaml.safe_dump(
            {"version": 1, "conversations": self.conversations},
            allow_unicode=True,
            sort_keys=False,
            width=100,
        )
        return header + body

    def summary(self) -> str:
        text = f"{len(self.conversations)} conversations from {self.corrections} persona corrections"
        if self.replaced:
            text += f"; {self.replaced} replaced by a later correction of the same handoff"
        skipped = sum(self.skipped.values())
        if skipped:
            reasons = ", ".join(f"{count} {reason}" for reason, count in sorted(self.skipped.items()))
            text += f"; skipped {skipped}: {reasons}"
        else:
            text += "; skipped 0"
        return text


def _profile(session: Session, handoff: Handoff) -> Profile:
    if handoff.customer is None:
        return Profile()
    return Profile.from_mapping(CustomerRepository(session).view(handoff.customer).profile)


def _profile_mapping(profile: Profile) -> dict[str, Any]:
    values = profile.to_dict()
    out = {k: values[k] for k in PROFILE_FIELDS if values[k] not in (None, [], {})}
    if profile.consent_to_calls is not None:
        out["consent_to_calls"] = profile.consent_to_calls
    return out


def _offer_phone(handoff: Handoff, profile: Profile) -> bool | None:
    if HandoffKind(handoff.kind) is HandoffKind.callback:
        return True
    if profile.cannot_take_calls or profile.refuses_calls:
        return False
    return None


def _conversation(
    session: Session, handoff: Handoff, persona: str, *, languages: Sequence[str]
) -> dict[str, Any] | None:
    turns = [
        str(entry["text"])
        for entry in handoff.transcript or []
        if isinstance(entry, dict) and entry.get("from") == CUSTOMER and str(entry.get("text") or "").strip()
    ]
    if not turns:
        return None
    profile = _profile(session, handoff)
    conversation: dict[str, Any] = {"id": handoff.reference}
    if handoff.channel in INPUT_CHANNELS:
        conversation["channel"] = handoff.channel
    profile_mapping = _profile_mapping(profile)
    if profile_mapping:
        conversation["profile"] = profile_mapping
    conversation["turns"] = turns
    expect: dict[str, Any] = {"persona": persona}
    if handoff.language in languages:
        expect["language"] = handoff.language
    offer = _offer_phone(handoff, profile)
    if offer is not None:
        expect["offer_phone"] = offer
    conversation["expect"] = expect
    return conversation


def export_corrections(
    session: Session, *, persona_ids: Sequence[str], languages: Sequence[str]
) -> CorrectionsExport:
    """Every persona correction as a labelled conversation (see the module docstring),
    in the order the handoffs were last corrected.

    Args:
        session: a session of the plugin's database.
        persona_ids: the catalogue's personas (labels must be among them).
        languages: the catalogue's languages (a handoff in another has no language label).
    """
    export = CorrectionsExport()
    query = (
        select(PersonaCorrection, Handoff)
        .outerjoin(Handoff, PersonaCorrection.handoff_id == Handoff.id)
        .order_by(PersonaCorrection.created_at, PersonaCorrection.id)
    )
    latest: dict[int, tuple[PersonaCorrection, Handoff]] = {}
    for correction, handoff in session.execute(query):
        export.corrections += 1
        if handoff is None:
            export.skipped[NO_HANDOFF] += 1
            continue
        if handoff.id in latest:
            export.replaced += 1
            del latest[handoff.id]  # re-inserted last: ordered by the latest correction
        latest[handoff.id] = (correction, handoff)
    for correction, handoff in latest.values():
        if correction.corrected_persona not in persona_ids:
            export.skipped[UNKNOWN_PERSONA] += 1
            continue
        conversation = _conversation(session, handoff, correction.corrected_persona, languages=languages)
        if conversation is None:
            export.skipped[NO_CUSTOMER_TURNS] += 1
            continue
        export.conversations.append(conversation)
    return export
