"""What the conversation page (``/handoffs/{reference}``) shows and who may do what on it.

Reads: the logged-in member of staff (``Staff``), a handoff's kind, status and assignee,
the persona catalogue, the customer's profile row, conversation items
(``bot.handoff.conversation``) or a handoff's stored transcript.
Writes: plain values for the templates — ``Allowed`` (the rules), a ``PersonaCard``, the
masked profile, transcript lines.

The rules of a live chat:

* anyone may claim an open handoff;
* only the member of staff it is claimed by replies; others read it, with a note saying
  who has it; a supervisor (or admin) may take it over, then replies;
* its assignee or a supervisor transfers a claimed handoff to a colleague, and ends a
  claimed live chat;
* anyone adds internal notes and corrects or rates the persona.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.console.security import Staff
from bot.core.masking import mask
from bot.handoff.conversation import ConversationItem
from bot.persona.catalogue import Escalation, PersonaCatalogue
from bot.store.models import Customer, HandoffKind, HandoffStatus, StaffRole

LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "fr": "French"}
_FORMALITY = {
    "formal": "Formal and polite: full sentences, no slang.",
    "neutral": "Friendly and plain: no jargon, no slang.",
    "casual": "Casual and friendly: short sentences, first names are fine.",
}
_VERBOSITY = {
    "brief": "Keep replies short: the answer first, one step per message.",
    "standard": "Clear replies of a few sentences.",
    "detailed": "Give the full picture: the exact steps, numbers and limits, and why.",
}
_EMPATHY = {
    "high": "Acknowledge how they feel and be patient; check each step worked before the next.",
    "medium": "Acknowledge the problem in a few words, then solve it.",
    "low": "Get straight to the point: they want the fix, not reassurance.",
}
_ESCALATION = {
    Escalation.proactive: "Offer a phone call early: they would rather speak to someone.",
    Escalation.on_failure: "Offer a call if the chat does not solve it.",
    Escalation.on_request: "Offer a call only if they ask for one.",
    Escalation.never: "Do not offer a call.",
}


@dataclass(frozen=True)
class Allowed:
    """What the member of staff may do with a handoff now, and why the chat is read-only
    for them (``read_only``, None when they may reply)."""

    claim: bool
    reply: bool
    take_over: bool
    transfer: bool
    end: bool
    read_only: str | None


def allowed(staff: Staff, *, kind: str, status: str, assignee: str | None) -> Allowed:
    """The rules of the module docstring for ``staff`` and a handoff in this state."""
    live = HandoffKind(kind) is HandoffKind.live_chat
    state = HandoffStatus(status)
    claimed = state is HandoffStatus.claimed
    mine = claimed and assignee == staff.username
    supervises = staff.has_role(StaffRole.supervisor)
    reply = live and mine
    if reply:
        read_only = None
    elif state is HandoffStatus.open:
        read_only = "Open: claim it to reply." if live else "Open: claim it to take it on."
    elif claimed and not mine:
        read_only = f"Claimed by {assignee}: read-only for you." + (
            " You may take it over." if supervises else ""
        )
    elif claimed:
        read_only = "A callback: the customer is called back, not answered in the chat."
    else:
        read_only = f"This handoff is {state.value}: nothing more is sent to the customer."
    return Allowed(
        claim=state is HandoffStatus.open,
        reply=reply,
        take_over=claimed and not mine and supervises,
        transfer=claimed and (mine or supervises),
        end=live and claimed and (mine or supervises),
        read_only=read_only,
    )


def display_name(username: str) -> str:
    """How a member of staff introduces themselves: ``ana.garcia`` → ``Ana``."""
    first = username.replace("_", ".").replace("-", ".").split(".")[0]
    return first.capitalize() or username


@dataclass(frozen=True)
class PersonaCard:
    """A persona as staff read it before talking to the customer.

    ``how_to_talk`` turns the persona's tone, channels and escalation policy (and the
    customer's language) into advice; the catalogue's words are in English.
    """

    id: str
    name: str
    description: str
    goals: tuple[str, ...]
    challenges: tuple[str, ...]
    tone: Mapping[str, str]
    preferred_channels: tuple[str, ...]
    averse_channels: tuple[str, ...]
    how_to_talk: tuple[str, ...]


def persona_card(
    catalogue: PersonaCatalogue, persona_id: str | None, *, language: str | None, no_calls: str | None = None
) -> PersonaCard | None:
    """The card of ``persona_id`` (None when there is none or the catalogue lacks it).
    ``no_calls``: why this customer must not be phoned (``Conversation.no_calls``); the
    advice then says so instead of the persona's escalation policy, and the phone is not
    among the channels they prefer."""
    if not persona_id:
        return None
    try:
        persona = catalogue.persona(persona_id)
    except KeyError:
        return None
    tone = persona.tone
    advice = [
        _FORMALITY[tone.formality.value],
        _VERBOSITY[tone.verbosity.value],
        _EMPATHY[tone.empathy.value],
        "An emoji is fine if they use them." if tone.emoji else "No emoji.",
    ]
    if language in LANGUAGE_NAMES:
        advice.insert(0, f"Write in {LANGUAGE_NAMES[language]}, the language of the conversation.")
    if persona.channels.averse:
        advice.append(f"Avoid sending them to: {', '.join(persona.channels.averse)}.")
    if no_calls:
        advice.append(f"Do not offer or arrange a phone call ({no_calls}): keep to writing.")
    else:
        advice.append(_ESCALATION[persona.escalation])
    return PersonaCard(
        id=persona.id,
        name=persona.name,
        description=persona.description,
        goals=tuple(persona.goals),
        challenges=tuple(persona.challenges),
        tone={
            "formality": tone.formality.value,
            "verbosity": tone.verbosity.value,
            "empathy": tone.empathy.value,
            "emoji": "yes" if tone.emoji else "no",
        },
        preferred_channels=tuple(c for c in persona.channels.preferred if not (no_calls and c == "phone")),
        averse_channels=tuple(persona.channels.averse),
        how_to_talk=tuple(advice),
    )


def masked_phone(number: str | None) -> str | None:
    """A phone number with only its last digits showing (``+•••••••••456``)."""
    if not number:
        return None
    masked = mask(number).text
    return masked if masked != number else "•" * max(0, len(number) - 3) + number[-3:]


def masked_profile(customer: Customer | None) -> dict[str, Any] | None:
    """What staff see of a known customer (read inside the session): the phone masked."""
    if customer is None:
        return None
    phone = next((i.external_id for i in customer.identities if i.channel.value == "phone"), None)
    return {
        "customer_ref": customer.customer_ref,
        "name": customer.display_name,
        "language": customer.preferred_language,
        "preferred_channel": customer.preferred_channel,
        "timezone": customer.timezone,
        "phone": masked_phone(phone),
        "accessibility_needs": list(customer.accessibility_needs or []),
        "consent_to_calls": customer.consent_to_calls,
    }


def transcript_lines(items: Iterable[ConversationItem]) -> list[dict[str, Any]]:
    """Conversation items as the template shows them."""
    return [
        {
            "kind": i.kind,
            "at": i.at,
            "text": i.text,
            "system": i.system,
            "author_name": i.author_name,
            "while_paused": i.while_paused,
            "buttons": list(i.buttons),
            "removed": list(i.removed),
        }
        for i in items
    ]


def _stored_at(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def stored_lines(transcript: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A handoff's stored transcript (up to the handoff; already redacted) as lines, for
    when Rasa cannot be read."""
    lines = []
    for entry in transcript:
        who = entry.get("from")
        lines.append(
            {
                "kind": "customer" if who == "customer" else "assistant",
                "at": _stored_at(entry.get("at")),
                "text": str(entry.get("text") or ""),
                "system": None,
                "author_name": None,
                "while_paused": False,
                "buttons": [str(b) for b in entry.get("buttons") or [] if isinstance(b, str)],
                "removed": [str(k) for k in entry.get("redacted") or [] if isinstance(k, str)],
            }
        )
    return lines
