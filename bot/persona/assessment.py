"""What the assistant knows about the customer after each message: the persona estimate,
the language to answer in and the phone-offer decision.

The Rasa policy (``bot.rasa.persona_policy``, through ``bot.handoff.turn``) and the
evaluation command both call ``PersonaEngine.assess`` with the cues of the conversation so
far, so the evaluation measures exactly the code the assistant runs. ``read_conversation``
turns tracker events into those inputs: ``TrackerEvent`` facts built by an adapter from
Rasa's event objects, or ``conversation_from_events`` from their JSON form. What happens
next (answer, offer a callback, hand over) is decided from the assessment by
``bot.handoff.routing``.
"""

from __future__ import annotations

import enum
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
# The assessment's slots; names shared with domain.yml.
SLOT_NAMES = (
    "persona",
    "persona_confidence",
    "persona_runner_up",
    "persona_evidence",
    "language",
    "offer_phone",
    "offer_phone_reason",
)
# Why the persona, and the phone offer on its own: what staff read on a handoff. The
# confidence and evidence change with nearly every message, and the phone offer (with its
# reason) is also in the ``route`` slot, where the assistant reads it; so they are stored
# only when the conversation is handed over (``bot.handoff.turn``): each slot event is
# stored, re-read and sent to the action server with the conversation from then on.
DETAIL_SLOTS = (
    "persona_confidence",
    "persona_runner_up",
    "persona_evidence",
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


class EventKind(enum.Enum):
    """The tracker events the conversation reader looks at."""

    session_start = "session_start"  # a new session, or a restart: what came before is forgotten
    action = "action"  # an action ran
    active_loop = "active_loop"  # a form started (name) or ended (None)
    user = "user"  # a customer message
    paused = "paused"  # the assistant stopped answering: a person took the conversation over
    resumed = "resumed"  # the assistant answers again


@dataclass(frozen=True)
class TrackerEvent:
    """One tracker event as ``read_conversation`` needs it (no Rasa types).

    Attributes:
        kind: what happened.
        name: the action's or the form's name (``action``, ``active_loop``).
        parse_data: the message's parse data, with its cues (``user``).
        metadata: the message's metadata (``user``).
        input_channel: Rasa's input channel of the message (``user``).
        cues: the cues of ``parse_data``, when already read (``user``).
    """

    kind: EventKind
    name: str | None = None
    parse_data: Mapping[str, Any] | None = None
    metadata: Mapping[str, Any] | None = None
    input_channel: str | None = None
    cues: MessageCues | None = None


SESSION_START = TrackerEvent(EventKind.session_start)
PAUSED = TrackerEvent(EventKind.paused)
RESUMED = TrackerEvent(EventKind.resumed)
_DICT_KINDS = {
    "session_started": SESSION_START,
    "restart": SESSION_START,
    "pause": PAUSED,
    "resume": RESUMED,
}


def read_conversation(events: Iterable[TrackerEvent | None]) -> Conversation:
    """Customer messages of the current session, their cues, the channel, failed turns and
    the names of the actions run (None items, events of no interest, are skipped).

    Only events after the latest session start (or restart) count, and not the answers
    given to a form's questions nor what the customer writes to a person while the
    assistant is paused (a phone number, "yes" or "no, just that one" says nothing about
    the customer's style, and is not a failed turn). The channel is the one named in the
    latest message's metadata (the REST relay says which channel it serves) or else Rasa's
    input channel.
    """
    reader = ConversationReader()
    reader.read(events)
    return reader.conversation()


class ConversationReader:
    """``read_conversation``, one event at a time: a conversation read up to some event
    carries on from there (``copy``, then ``read`` the events after it)."""

    def __init__(self) -> None:
        self._start()

    def _start(self) -> None:
        """A new session: nothing read yet."""
        self.messages: list[MessageCues] = []
        self.failures = 0
        self.latest: TrackerEvent | None = None
        self.actions: set[str] = set()
        self.in_form = False
        self.paused = False

    def copy(self) -> ConversationReader:
        other = ConversationReader()
        other.messages = list(self.messages)
        other.failures, other.latest = self.failures, self.latest
        other.in_form, other.paused = self.in_form, self.paused
        other.actions = set(self.actions)
        return other

    def read(self, events: Iterable[TrackerEvent | None]) -> None:
        for event in events:
            if event is None:
                continue
            kind = event.kind
            if kind is EventKind.session_start:
                self._start()
            elif kind is EventKind.action and event.name:
                self.actions.add(event.name)
            elif kind is EventKind.active_loop:
                self.in_form = bool(event.name)
            elif kind is EventKind.paused or kind is EventKind.resumed:
                self.paused = kind is EventKind.paused
            elif kind is EventKind.user and not self.in_form and not self.paused:
                parse = event.parse_data or {}
                cues = event.cues if event.cues is not None else MessageCues.from_dict(parse.get(CUES_KEY))
                self.messages.append(cues)
                intent = parse.get("intent")
                if isinstance(intent, Mapping) and intent.get("name") == FALLBACK_INTENT:
                    self.failures += 1
                self.latest = event

    def conversation(self) -> Conversation:
        latest = self.latest
        channel = message_channel(latest.metadata, latest.input_channel) if latest else None
        return Conversation(list(self.messages), channel, self.failures, frozenset(self.actions))


def event_from_dict(event: Mapping[str, Any]) -> TrackerEvent | None:
    """The ``TrackerEvent`` of a tracker event in its JSON form (None: of no interest)."""
    kind = event.get("event")
    if kind in _DICT_KINDS:
        return _DICT_KINDS[kind]
    if kind == "action":
        name = event.get("name")
        return TrackerEvent(EventKind.action, name=name) if isinstance(name, str) else None
    if kind == "active_loop":
        name = event.get("name")
        return TrackerEvent(EventKind.active_loop, name=name if isinstance(name, str) else None)
    if kind == "user":
        parse, metadata, channel = event.get("parse_data"), event.get("metadata"), event.get("input_channel")
        return TrackerEvent(
            EventKind.user,
            parse_data=parse if isinstance(parse, Mapping) else None,
            metadata=metadata if isinstance(metadata, Mapping) else None,
            input_channel=channel if isinstance(channel, str) else None,
        )
    return None


def conversation_from_events(events: Iterable[Mapping[str, Any]]) -> Conversation:
    """``read_conversation`` over tracker events in their JSON form (rasa-sdk's tracker,
    the tracker API)."""
    return read_conversation(event_from_dict(event) for event in events)
