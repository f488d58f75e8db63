"""What the assistant knows about the customer after each message: the persona estimate,
the language to answer in and the phone-offer decision.

The Rasa action (``action_validate_slot_mappings``) and the evaluation command both call
``PersonaEngine.assess`` with the cues of the conversation so far, so the evaluation
measures exactly the code the assistant runs. ``conversation_from_events`` turns Rasa
tracker events (plain dicts) into those inputs. What happens next (answer, offer a
callback, hand over) is decided from the assessment by ``bot.handoff.routing``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.channels import message_channel
from bot.persona.catalogue.model import PersonaCatalogue
from bot.persona.cues.model import CUES_KEY, MessageCues
from bot.persona.inference import PersonaEstimate, PersonaInferrer, resolve_language
from bot.persona.phone_offer import PhoneOfferDecision, decide_phone_offer
from bot.persona.profile import Profile

FALLBACK_INTENT = "nlu_fallback"
# Slots the action sets; names shared with domain.yml.
SLOT_NAMES = (
    "persona",
    "persona_confidence",
    "persona_runner_up",
    "persona_evidence",
    "language",
    "offer_phone",
    "offer_phone_reason",
)


@dataclass(frozen=True)
class Assessment:
    """Persona, language and phone-offer decision after the latest customer message."""

    estimate: PersonaEstimate
    language: str
    language_reason: str
    phone: PhoneOfferDecision

    def slots(self) -> dict[str, Any]:
        """Slot values, JSON-safe, keyed by ``SLOT_NAMES``."""
        return {
            "persona": self.estimate.persona,
            "persona_confidence": round(self.estimate.confidence, 3),
            "persona_runner_up": self.estimate.runner_up,
            "persona_evidence": self.estimate.evidence_text(),
            "language": self.language,
            "offer_phone": self.phone.offer,
            "offer_phone_reason": self.phone.reason,
        }


class PersonaEngine:
    """Combines inference, language resolution and the phone-offer decision."""

    def __init__(self, catalogue: PersonaCatalogue) -> None:
        self.catalogue = catalogue
        self.inferrer = PersonaInferrer(catalogue)

    def assess(
        self,
        messages: Sequence[MessageCues],
        *,
        profile: Profile | None = None,
        channel: str | None = None,
        previous_persona: str | None = None,
        failures: int = 0,
        held_back: str | None = None,
    ) -> Assessment:
        estimate = self.inferrer.infer(messages, profile=profile, channel=channel, previous=previous_persona)
        language, why = resolve_language(messages, profile=profile, catalogue=self.catalogue)
        phone = decide_phone_offer(
            estimate,
            messages=messages,
            profile=profile,
            catalogue=self.catalogue,
            failures=failures,
            held_back=held_back,
        )
        return Assessment(estimate, language, why, phone)


@dataclass(frozen=True)
class Conversation:
    """What the tracker says about the customer's side of the conversation."""

    messages: list[MessageCues]
    channel: str | None
    failures: int
    actions: frozenset[str] = frozenset()  # actions run in this session


def conversation_from_events(events: Iterable[Mapping[str, Any]]) -> Conversation:
    """Customer messages of the current session, their cues, the channel, failed turns and
    the names of the actions run.

    Only events after the latest ``session_started`` count, and not the answers given to a
    form's questions (a phone number or "yes" says nothing about the customer's style, and
    is not a failed turn). The channel is the one named in the latest message's metadata
    (the REST relay says which channel it serves) or else Rasa's input channel.
    """
    session: list[Mapping[str, Any]] = []
    actions: set[str] = set()
    in_form = False
    for event in events:
        kind = event.get("event")
        if kind == "session_started":
            session, in_form = [], False
            actions.clear()
        elif kind == "action" and isinstance(event.get("name"), str):
            actions.add(event["name"])
        elif kind == "active_loop":
            in_form = bool(event.get("name"))
        elif kind == "user" and not in_form:
            session.append(event)
    messages, failures = [], 0
    for event in session:
        parse = event.get("parse_data") or {}
        messages.append(MessageCues.from_dict(parse.get(CUES_KEY)))
        if (parse.get("intent") or {}).get("name") == FALLBACK_INTENT:
            failures += 1
    latest = session[-1] if session else None
    channel = message_channel(latest.get("metadata"), latest.get("input_channel")) if latest else None
    return Conversation(messages, channel, failures, frozenset(actions))
