"""The decision after each customer message: the persona slots and the route, in one place.

``decide(facts, engine)`` reads ``TurnFacts`` — what a tracker says about the turn, in
plain terms — and returns the ``Decision``: the persona assessment
(``bot.persona.assessment``) and the route (``bot.handoff.routing``), with the slot values
to store. The Rasa policy ``bot.rasa.persona_policy`` builds the facts from Rasa's tracker
and applies ``changed_slots`` after every customer message; the action server's helpers
(``actions.common``) use ``profile_from_slot`` and ``conversation_channel`` for the same
readings.

The Rasa names the decision reads (slots, intents, the callback form, the actions that mean
"no" to a callback) are declared here, next to ``SLOT_NAMES`` and ``ROUTE_SLOT``, and
shared with ``domain.yml``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.channels import message_channel
from bot.core.phones import only_a_number
from bot.handoff.asks import ALSO_REQUESTED_KEY, requested_in
from bot.handoff.routing import ROUTE_SLOT, Request, Route, Situation, route
from bot.persona.assessment import DETAIL_SLOTS, SLOT_NAMES, Assessment, Conversation, PersonaEngine
from bot.persona.cues import CUES_KEY, MessageCues
from bot.persona.phone_offer import offer_held_back
from bot.persona.profile import Profile

# Slots set after customer messages: the persona slots and the route (``DETAIL_SLOTS``
# only on a handover).
OWNED_SLOTS = (*SLOT_NAMES, ROUTE_SLOT)
PROFILE_SLOT = "customer_profile"
CALLBACK_FORM = "callback_form"
# Actions that mean the customer said no to a callback (declined the offer, cancelled the form).
CALLBACK_REFUSED_BY = frozenset({"action_decline_callback", "action_cancel_callback"})
# What an intent asks for; ``affirm``/``deny`` only while a callback offer is pending.
REQUEST_INTENTS = {"request_human": Request.person, "request_phone_call": Request.phone_call}
OFFER_ANSWERS = {"affirm": Request.accept_callback, "deny": Request.decline_callback}
NOT_UNDERSTOOD = "nlu_fallback"


@dataclass(frozen=True)
class TurnFacts:
    """What a tracker says about the turn, as the decision reads it.

    Attributes:
        conversation: the customer's messages of this session (``read_conversation``).
        latest: the parse data of the latest message (intent, text, cues, ``also_requested``).
        input_channel: Rasa's input channel of the latest message.
        active_loop: the form asking its questions, if any.
        slot: a slot's current value (None when unset or not in the domain).
    """

    conversation: Conversation
    latest: Mapping[str, Any]
    input_channel: str | None
    active_loop: str | None
    slot: Callable[[str], Any]


def intent_of(latest: Mapping[str, Any]) -> str | None:
    """The intent name in a message's parse data."""
    found = latest.get("intent")
    name = found.get("name") if isinstance(found, Mapping) else None
    return name if isinstance(name, str) else None


def profile_from_slot(value: Any) -> Profile:
    """The customer's profile from the ``customer_profile`` slot (empty when unknown)."""
    return Profile.from_mapping(value if isinstance(value, dict) else None)


def conversation_channel(conversation: Conversation, input_channel: str | None) -> str | None:
    """The channel of the conversation's latest customer message, else Rasa's input channel."""
    return conversation.channel or message_channel(None, input_channel)


def requested_with_question(facts: TurnFacts) -> Request | None:
    """A call or a person asked for beside a question in the latest message (the NLU's
    ``also_requested``, ``bot.rasa.asks``); None when the message asked for neither, or
    asked only that (then the intent says it)."""
    if intent_of(facts.latest) in REQUEST_INTENTS:
        return None
    found = facts.latest.get(ALSO_REQUESTED_KEY)
    try:
        return Request(found["request"]) if isinstance(found, Mapping) else None
    except (KeyError, ValueError):
        return None


def request(facts: TurnFacts) -> Request:
    """What the latest message asks for."""
    name = intent_of(facts.latest)
    if name in REQUEST_INTENTS:
        return REQUEST_INTENTS[name]
    if name in OFFER_ANSWERS and facts.slot("callback_offer_pending"):
        return OFFER_ANSWERS[name]
    if facts.slot("callback_offer_pending") and name != "deny" and only_a_number(facts.latest.get("text")):
        # The answer to "would you like a call?" is the number to call (a question that
        # mentions a number is a question).
        return Request.accept_callback
    if name == NOT_UNDERSTOOD and not facts.active_loop:
        # The classifier could not place it, but its words ask for a call or a person.
        text = facts.latest.get("text")
        cues = MessageCues.from_dict(facts.latest.get(CUES_KEY))
        asked = requested_in(text, cues.evidence) if isinstance(text, str) else None
        if asked is not None:
            return asked
    return requested_with_question(facts) or Request.none


def held_back(facts: TurnFacts) -> str | None:
    """Why a phone offer now would be noise or pestering (``offer_held_back``), or None."""
    return offer_held_back(
        arranging_callback=facts.active_loop == CALLBACK_FORM,
        handoff_reference=facts.slot("handoff_reference"),
        declined_callback=bool(CALLBACK_REFUSED_BY & facts.conversation.actions),
    )


def situation(facts: TurnFacts) -> Situation:
    return Situation(
        request=request(facts),
        messages=facts.conversation.messages,
        callback_offered=bool(facts.slot("callback_offered")),
        with_question=requested_with_question(facts) is not None,
    )


@dataclass(frozen=True)
class Decision:
    """The assessment and the route after the latest customer message."""

    assessment: Assessment
    route: Route
    profile: Profile

    def slots(self) -> dict[str, Any]:
        """The values of ``OWNED_SLOTS`` to store, JSON-safe: ``DETAIL_SLOTS`` only when the
        route hands the conversation over (staff read them on the handoff)."""
        values = {**self.assessment.slots(), ROUTE_SLOT: self.route.to_slot()}
        if not self.route.hands_over:
            for name in DETAIL_SLOTS:
                del values[name]
        return values

    def log_fields(self) -> str:
        """The fields of the ``persona.inferred`` log line, after the sender."""
        slots = self.assessment.slots()
        return (
            f"profile={'yes' if self.profile != Profile() else 'no'} persona={slots['persona']} "
            f"confidence={slots['persona_confidence']:.2f} language={slots['language']} "
            f"offer_phone={slots['offer_phone']} next={self.route.next.value}"
        )


def decide(facts: TurnFacts, engine: PersonaEngine) -> Decision | None:
    """The decision after the latest customer message; None when this session has none."""
    convo = facts.conversation
    if not convo.messages:
        return None
    profile = profile_from_slot(facts.slot(PROFILE_SLOT))
    assessment = engine.assess(
        convo.messages,
        profile=profile,
        channel=conversation_channel(convo, facts.input_channel),
        previous_persona=facts.slot("persona"),
        failures=convo.failures,
        held_back=held_back(facts),
    )
    decided = route(assessment, situation(facts), catalogue=engine.catalogue)
    return Decision(assessment, decided, profile)


def changed_slots(decision: Decision, facts: TurnFacts, *, declared: Collection[str]) -> dict[str, Any]:
    """The slots of ``decision`` whose value differs from the tracker's, among ``declared``
    (the domain's slots): what to set."""
    return {
        name: value
        for name, value in decision.slots().items()
        if name in declared and facts.slot(name) != value
    }
