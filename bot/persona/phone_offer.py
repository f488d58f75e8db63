"""Should the assistant offer a phone call now? The phone-offer decision.

Order of the rules (the first that applies decides):

1. Never when the profile lists a hearing or speech need or says the customer refused
   calls, the customer said they cannot hear or use the phone, or refused calls in this
   conversation (``blocked``: a person in the chat is the accessible alternative).
2. Not while a person is already being arranged — the callback form is running, or a
   callback or live chat was handed over in this session — nor after the customer said
   no to a callback in this session (``offer_held_back`` says which; they can still ask).
3. Never for a persona whose policy is ``never``.
4. Yes when the customer asked to be phoned.
5. By the persona's policy: ``proactive`` — yes once the persona is estimated with at
   least ``proactive_offer_confidence``; ``on_failure`` — yes after
   ``failures_before_offer`` turns the assistant did not understand, or
   ``frustrated_messages_before_offer`` frustrated messages; ``on_request`` — no.

What the assistant then does with the decision (the phone line before an answer, a
callback offer after it, a callback or a live chat on request) is ``bot.handoff.routing``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.persona.catalogue.model import Escalation, PersonaCatalogue
from bot.persona.cues.model import MessageCues
from bot.persona.inference import PersonaEstimate, below, cannot_use_phone
from bot.persona.profile import Profile


@dataclass(frozen=True)
class PhoneOfferDecision:
    """The decision and its reason.

    Attributes:
        offer: offer a phone call now.
        reason: why, in words staff can read.
        blocked: rule 1 applies — never call this customer; use text channels.
        cannot_phone: the customer cannot use a voice call (a hearing or speech need, in the
            profile or said): answers give the bank's lines in their text-relay form.
    """

    offer: bool
    reason: str
    blocked: bool = False
    cannot_phone: bool = False


# How the reason of a decision blocked by rule 1 begins ("no calls: profile lists a hearing need").
NO_CALLS_PREFIX = "no calls: "


def count_showing(messages: Sequence[MessageCues], signal: str) -> int:
    """How many of the messages show ``signal``."""
    return sum(1 for m in messages if m.shows(signal))


def no_calls_reason(messages: Sequence[MessageCues], profile: Profile | None) -> str | None:
    """Why this customer must never be offered a call (rule 1), or None."""
    profile = profile or Profile()
    if profile.cannot_take_calls:
        needs = " and ".join(n for n in profile.accessibility_needs if n in ("hearing", "speech"))
        return f"profile lists a {needs} need"
    if profile.refuses_calls:
        return "profile says the customer does not want calls"
    if count_showing(messages, "hearing_need"):
        return "customer said they cannot hear or use the phone"
    if count_showing(messages, "call_refusal"):
        return "customer refused phone calls"
    return None


def offer_held_back(
    *, arranging_callback: bool, handoff_reference: str | None, declined_callback: bool
) -> str | None:
    """Why offering the phone now would be noise or pestering (rule 2), or None.

    Args:
        arranging_callback: the callback form is asking its questions.
        handoff_reference: the reference of a callback or live chat handed over in this
            session, if any.
        declined_callback: the customer said no to a callback in this session.
    """
    if arranging_callback:
        return "a callback is being arranged"
    if handoff_reference:
        return f"already handed over to the team ({handoff_reference})"
    if declined_callback:
        return "the customer said no to a callback in this conversation"
    return None


def decide_phone_offer(
    estimate: PersonaEstimate,
    *,
    messages: Sequence[MessageCues],
    profile: Profile | None,
    catalogue: PersonaCatalogue,
    failures: int = 0,
    held_back: str | None = None,
) -> PhoneOfferDecision:
    """Decide whether to offer a phone call now (see the module docstring for the rules).

    Args:
        estimate: the current persona estimate.
        messages: cues of the customer's messages so far, oldest first.
        profile: the customer's profile, if known.
        catalogue: thresholds and the personas' escalation policies.
        failures: turns in this conversation the assistant did not understand.
        held_back: why the offer is held back in this conversation (``offer_held_back``),
            or None.
    """
    no_calls = no_calls_reason(messages, profile)
    if no_calls:
        return PhoneOfferDecision(
            False,
            f"{NO_CALLS_PREFIX}{no_calls}",
            blocked=True,
            cannot_phone=cannot_use_phone(messages, profile or Profile()) is not None,
        )
    if held_back:
        return PhoneOfferDecision(False, held_back)

    persona = catalogue.lookup(estimate.persona) or catalogue.fallback
    policy = persona.escalation
    if policy is Escalation.never:
        return PhoneOfferDecision(False, f"{persona.id}: phone is never offered")
    if count_showing(messages, "phone_request"):
        return PhoneOfferDecision(True, "customer asked for a phone call")

    th = catalogue.settings.thresholds
    if policy is Escalation.proactive:
        if estimate.confidence >= th.proactive_offer_confidence:
            return PhoneOfferDecision(True, f"{persona.id} prefers the phone: offered proactively")
        needed = th.proactive_offer_confidence
        return PhoneOfferDecision(
            False, f"{persona.id} not certain enough yet ({below(estimate.confidence, needed)} < {needed})"
        )
    if policy is Escalation.on_failure:
        frustrated = count_showing(messages, "frustration")
        if failures >= th.failures_before_offer:
            return PhoneOfferDecision(True, f"{failures} turns not understood")
        if frustrated >= th.frustrated_messages_before_offer:
            return PhoneOfferDecision(True, f"frustrated in {frustrated} messages")
        return PhoneOfferDecision(False, f"{persona.id}: phone offered only after repeated failure")
    return PhoneOfferDecision(False, f"{persona.id}: phone offered on request only")
