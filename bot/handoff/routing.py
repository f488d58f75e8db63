"""What happens after a customer message: the one routing decision.

``route`` takes what the assistant knows after the message (the persona assessment with
its phone-offer decision), what the message asks for and where the conversation stands,
and returns a ``Route``: answer; answer and offer a callback; book a callback; hand over
to a person in the chat; the accessible alternative (a person in the chat, with why no
call is possible); or nothing more (the customer said no to a callback). It also says
whether answers carry the phone line first, with the reason staff read and the response
said first.

The Rasa side only applies it: the persona policy (``bot.rasa.persona_policy``, through
``bot.handoff.turn``) stores the route of every message in the ``route`` slot; the NLG puts
the phone line before an answer when ``phone_line`` says so; ``action_offer_more_help`` /
``action_rephrase`` offer the callback; ``action_hand_over`` books the callback form or the
live chat. Rasa names (intents, actions, forms) are translated into the facts of
``Situation`` by ``bot.handoff.turn``, never read here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.persona.assessment import Assessment
from bot.persona.catalogue.model import Escalation, PersonaCatalogue
from bot.persona.cues.model import MessageCues
from bot.persona.phone_offer import PhoneOfferDecision, count_showing

# The slot the route of the latest message is kept in (``Route.to_slot``).
ROUTE_SLOT = "route"
# Responses said before a handover (names of the wording catalogue).
CALLBACK_INTRO = "utter_callback_intro"
NO_CALL_ALTERNATIVE = "utter_no_call_alternative"


class Request(str, enum.Enum):
    """What the latest customer message asks for."""

    none = "none"
    person = "person"  # to talk to a person
    phone_call = "phone_call"  # to be phoned
    accept_callback = "accept_callback"  # yes to the callback the assistant offered
    decline_callback = "decline_callback"  # no to it


class Next(str, enum.Enum):
    """What the assistant does after the message."""

    answer = "answer"
    offer_callback = "offer_callback"  # answer, then offer a callback
    callback = "callback"  # book a callback (the callback form)
    live_chat = "live_chat"  # hand over to a person in the chat
    accessible_alternative = "accessible_alternative"  # a person in the chat: no call possible
    nothing = "nothing"  # nothing more to arrange (the customer said no to a callback)


HANDOVERS = frozenset({Next.callback, Next.live_chat, Next.accessible_alternative})


@dataclass(frozen=True)
class Situation:
    """Where the conversation stands, as facts (no Rasa names).

    Attributes:
        request: what the latest message asks for.
        messages: cues of the customer's messages of this session, oldest first.
        callback_offered: a callback was offered earlier in this session.
        with_question: the request came with a question in the same message, which is
            answered first (``bot.handoff.asks``).
    """

    request: Request = Request.none
    messages: Sequence[MessageCues] = ()
    callback_offered: bool = False
    with_question: bool = False


@dataclass(frozen=True)
class Route:
    """The routing decision for one message.

    Attributes:
        next: what happens.
        reason: why, in words staff can read (the handoff's reason on a handover).
        phone: the phone-offer decision it builds on.
        phone_line: answers carry the phone line first (a persona that prefers the phone,
            offered it now).
        lead_response: a response said before the handover, if any.
    """

    next: Next
    reason: str
    phone: PhoneOfferDecision
    phone_line: bool = False
    lead_response: str | None = None

    @property
    def hands_over(self) -> bool:
        return self.next in HANDOVERS

    @property
    def contact(self) -> str | None:
        """How the customer reaches a person on a handover: ``callback`` or ``live_chat``."""
        if not self.hands_over:
            return None
        return "callback" if self.next is Next.callback else "live_chat"

    def to_slot(self) -> dict[str, Any]:
        """JSON-safe form for the ``route`` slot."""
        return {
            "next": self.next.value,
            "reason": self.reason,
            "phone_line": self.phone_line,
            "lead_response": self.lead_response,
            "offer_phone": self.phone.offer,
            "offer_phone_reason": self.phone.reason,
            "phone_blocked": self.phone.blocked,
            "cannot_phone": self.phone.cannot_phone,
        }

    @classmethod
    def from_slot(cls, data: Any) -> Route | None:
        """Rebuild from ``to_slot`` output; None when missing or malformed."""
        if not isinstance(data, Mapping):
            return None
        try:
            nxt = Next(data["next"])
            phone = PhoneOfferDecision(
                bool(data["offer_phone"]),
                str(data["offer_phone_reason"]),
                bool(data["phone_blocked"]),
                cannot_phone=bool(data.get("cannot_phone")),
            )
        except (KeyError, ValueError):
            return None
        lead = data.get("lead_response")
        return cls(
            nxt,
            str(data.get("reason") or ""),
            phone,
            phone_line=bool(data.get("phone_line")),
            lead_response=lead if isinstance(lead, str) else None,
        )


def route(assessment: Assessment, situation: Situation, *, catalogue: PersonaCatalogue) -> Route:
    """What happens after the message.

    - A request for a person: a person in the chat, whatever the persona — the customer
      chose — or a phone callback when they also asked to be called (and may be called).
    - A request to be phoned, or yes to the callback offer: the callback form — or, for a
      customer who must not be called, the accessible alternative.
    - No to the callback offer: nothing more.
    - Otherwise an answer, followed by a callback offer when the phone-offer decision says
      so and none was offered in this session yet; answers carry the phone line first for
      a persona that prefers the phone (policy ``proactive``) when the phone is offered.
    """
    phone = assessment.phone
    persona = catalogue.lookup(assessment.estimate.persona) or catalogue.fallback
    phone_line = phone.offer and persona.escalation is Escalation.proactive
    request = situation.request
    asked = " with a question (answered first)" if situation.with_question else ""

    if request is Request.person:
        if phone.blocked:
            return Route(Next.live_chat, f"asked for a person{asked}; {phone.reason}", phone)
        if count_showing(situation.messages, "phone_request"):
            return Route(Next.callback, f"asked to be called{asked}", phone)
        return Route(Next.live_chat, f"asked for a person in the chat{asked}", phone)
    if request in (Request.phone_call, Request.accept_callback):
        if phone.blocked:
            reason = f"asked for a call{asked}; {phone.reason}"
            return Route(Next.accessible_alternative, reason, phone, lead_response=NO_CALL_ALTERNATIVE)
        if request is Request.phone_call:
            # They may only want our number: give it, then book the callback.
            return Route(Next.callback, f"asked to be called{asked}", phone, lead_response=CALLBACK_INTRO)
        return Route(Next.callback, f"accepted the callback offer ({phone.reason})", phone)
    if request is Request.decline_callback:
        return Route(Next.nothing, "said no to a callback", phone)
    if phone.offer and not situation.callback_offered:
        return Route(Next.offer_callback, phone.reason, phone, phone_line=phone_line)
    return Route(Next.answer, phone.reason, phone, phone_line=phone_line)


def unrouted_handover(phone: PhoneOfferDecision | None = None) -> Route:
    """The route when a handover runs although the latest message asked for none (the
    dialogue policy predicted it): a person in the chat, who can always help."""
    decision = phone or PhoneOfferDecision(False, "no routing decision for this message")
    return Route(Next.live_chat, "handed to a person without a request in the latest message", decision)


class FormExit(str, enum.Enum):
    """Why the customer left the callback form before it was complete."""

    person = "person"  # asked for a person (in the chat) instead
    no_number = "no_number"  # does not know a number to be called on


_FORM_EXIT_REASONS = {
    FormExit.person: "was arranging a callback; asked for a person in the chat instead",
    FormExit.no_number: "wanted a callback but does not know a number to be called on",
}


def form_left(why: FormExit, phone: PhoneOfferDecision | None = None) -> Route:
    """The route when the customer leaves the callback form (``why``): a person in the chat."""
    decision = phone or PhoneOfferDecision(False, "a callback was being arranged")
    return Route(Next.live_chat, _FORM_EXIT_REASONS[why], decision)


def form_gave_up(question: str, answers: int, phone: PhoneOfferDecision | None = None) -> Route:
    """The route when the callback form stops after ``answers`` unusable answers to
    ``question`` (``number`` or ``time``): a person in the chat instead."""
    decision = phone or PhoneOfferDecision(False, "a callback was being arranged")
    reason = f"wanted a callback; the {question} was not understood {answers} times"
    return Route(Next.live_chat, reason, decision)
