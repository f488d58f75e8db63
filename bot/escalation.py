"""Should the assistant offer a phone call now? The phone-offer decision.

Order of the rules (the first that applies decides):

0. Not while a person is already being arranged — the callback form is running, or a
   callback or live chat was handed over in this session — nor after the customer said
   no to a callback in this session (``held_back`` says which; they can still ask).
1. Never when the profile lists a hearing or speech need or says the customer refused
   calls, the customer said they cannot hear or use the phone, or refused calls in this
   conversation — offer the accessible alternative (a person in chat) instead.
2. Never for a persona whose policy is ``never``.
3. Yes when the customer asked to be phoned.
4. By the persona's policy: ``proactive`` — yes once the persona is estimated with at
   least ``proactive_offer_confidence``; ``on_failure`` — yes after
   ``failures_before_offer`` turns the assistant did not understand, or
   ``frustrated_messages_before_offer`` frustrated messages; ``on_request`` — no.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from bot.cues.model import MessageCues
from bot.inference import PersonaEstimate
from bot.personas.model import Catalogue, Escalation
from bot.profile import Profile

# A message shows a signal for these rules when its strength reaches this.
SIGNAL_PRESENT = 0.5


@dataclass(frozen=True)
class PhoneOfferDecision:
    """The decision and its reason.

    Attributes:
        offer: offer a phone call now.
        reason: why, in words staff can read.
        blocked: True when rule 1 applies (never call this customer; use text channels).
    """

    offer: bool
    reason: str
    blocked: bool = False


def _count(messages: Sequence[MessageCues], signal: str) -> int:
    return sum(1 for m in messages if m.signals.get(signal, 0.0) >= SIGNAL_PRESENT)


def decide_phone_offer(
    estimate: PersonaEstimate,
    *,
    messages: Sequence[MessageCues],
    profile: Profile | None,
    catalogue: Catalogue,
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
        held_back: why the offer is held back in this conversation (see
            ``offer_held_back``), or None.
    """
    if held_back:
        return PhoneOfferDecision(False, held_back)
    profile = profile or Profile()
    if profile.cannot_take_calls:
        needs = ", ".join(n for n in profile.accessibility_needs if n in ("hearing", "speech"))
        return PhoneOfferDecision(False, f"profile lists a {needs} need: offer text channels instead", True)
    if profile.refuses_calls:
        return PhoneOfferDecision(False, "profile says the customer does not want calls", True)
    if _count(messages, "hearing_need"):
        return PhoneOfferDecision(False, "customer said they cannot hear or use the phone", True)
    if _count(messages, "call_refusal"):
        return PhoneOfferDecision(False, "customer refused phone calls", True)

    persona = catalogue.lookup(estimate.persona) or catalogue.fallback
    policy = persona.escalation
    if policy is Escalation.never:
        return PhoneOfferDecision(False, f"{persona.id}: phone is never offered")
    if _count(messages, "phone_request"):
        return PhoneOfferDecision(True, "customer asked for a phone call")

    th = catalogue.settings.thresholds
    if policy is Escalation.proactive:
        if estimate.confidence >= th.proactive_offer_confidence:
            return PhoneOfferDecision(True, f"{persona.id} prefers the phone: offered proactively")
        needed = th.proactive_offer_confidence
        return PhoneOfferDecision(
            False, f"{persona.id} not certain enough yet ({estimate.confidence:.2f} < {needed})"
        )
    if policy is Escalation.on_failure:
        frustrated = _count(messages, "frustration")
        if failures >= th.failures_before_offer:
            return PhoneOfferDecision(True, f"{failures} turns not understood")
        if frustrated >= th.frustrated_messages_before_offer:
            return PhoneOfferDecision(True, f"frustrated in {frustrated} messages")
        return PhoneOfferDecision(False, f"{persona.id}: phone offered only after repeated failure")
    return PhoneOfferDecision(False, f"{persona.id}: phone offered on request only")


# Actions that mean the customer said no to a callback (declined the offer, cancelled the form).
CALLBACK_REFUSED_BY = frozenset({"action_decline_callback", "action_cancel_callback"})


def offer_held_back(
    *,
    active_loop: str | None,
    handoff_reference: str | None,
    actions: Collection[str] = (),
) -> str | None:
    """Why offering the phone now would be noise or pestering (rule 0), or None.

    Args:
        active_loop: the form running in the conversation, if any.
        handoff_reference: the reference of a callback or live chat handed over in this
            session, if any.
        actions: names of the actions run in this session.
    """
    if active_loop == "callback_form":
        return "a callback is being arranged"
    if handoff_reference:
        return f"already handed over to the team ({handoff_reference})"
    if CALLBACK_REFUSED_BY.intersection(actions):
        return "the customer said no to a callback in this conversation"
    return None


def phone_blocked(*, messages: Sequence[MessageCues], profile: Profile | None) -> str | None:
    """Why this customer must never be offered a call (rule 1), or None."""
    profile = profile or Profile()
    if profile.cannot_take_calls:
        return "profile lists a hearing or speech need"
    if profile.refuses_calls:
        return "profile says the customer does not want calls"
    if _count(messages, "hearing_need"):
        return "customer said they cannot hear or use the phone"
    if _count(messages, "call_refusal"):
        return "customer refused phone calls"
    return None


def choose_human_route(
    persona_id: str | None,
    *,
    messages: Sequence[MessageCues],
    profile: Profile | None,
    catalogue: Catalogue,
) -> tuple[str, str]:
    """How a customer who asked for a person reaches one: ``callback`` or ``live_chat``.

    A phone callback when the phone is allowed (rule 1) and the customer asked for a call,
    or their persona prefers the phone to chat; a person in the chat otherwise (customers
    who want a person but not the phone, and everyone who must not be called).

    Returns:
        (route, reason) — the reason in words staff can read.
    """
    blocked = phone_blocked(messages=messages, profile=profile)
    if blocked:
        return "live_chat", f"asked for a person; no calls: {blocked}"
    if _count(messages, "phone_request"):
        return "callback", "asked to be called"
    persona = catalogue.lookup(persona_id) or catalogue.fallback
    preferred = list(persona.channels.preferred)
    if "phone" in preferred and (
        "chat" not in preferred or preferred.index("phone") < preferred.index("chat")
    ):
        return "callback", f"asked for a person; {persona.id} prefers the phone"
    return "live_chat", f"asked for a person; {persona.id} prefers to stay in chat"
