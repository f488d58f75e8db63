"""One entry point for everything the plugin decides after a customer message.

The Rasa action (``action_validate_slot_mappings``) and the evaluation command both call
``PersonaEngine.assess`` with the cues of the conversation so far, so the evaluation
measures exactly the code the assistant runs. ``conversation_from_events`` turns Rasa
tracker events (plain dicts) into those inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.cues.model import MessageCues
from bot.escalation import PhoneOfferDecision, decide_phone_offer
from bot.inference import PersonaEstimate, PersonaInferrer, resolve_language
from bot.personas.model import CHANNELS, Catalogue
from bot.profile import Profile

CUES_KEY = "persona_cues"
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

    def __init__(self, catalogue: Catalogue) -> None:
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


def _channel(event: Mapping[str, Any]) -> str | None:
    metadata = event.get("metadata") or {}
    named = metadata.get("channel") if isinstance(metadata, Mapping) else None
    if isinstance(named, str) and named in CHANNELS:
        return named
    input_channel = event.get("input_channel")
    return input_channel if isinstance(input_channel, str) and input_channel in CHANNELS else None


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
    channel = _channel(session[-1]) if session else None
    return Conversation(messages, channel, failures, frozenset(actions))
