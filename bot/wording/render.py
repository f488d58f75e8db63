"""Render a response for a persona, a language and a channel.

Reads: the wording catalogue, the bank's facts, the persona catalogue and a
``RenderContext`` (persona, language, channel, frustration, what was said this turn).
Writes: the message dict Rasa sends (``text``, optional ``buttons``).

On the first message of a turn, a frustrated customer gets an acknowledgement first
(worded for the persona and language, never the same as the previous one), and when the
route says so (``phone_line``) the phone line comes before the answer — each where the
response allows it (``data/wording/allows.yml``).
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.bank import BankInfo
from bot.persona.catalogue.model import Persona, PersonaCatalogue
from bot.wording.catalogue import Selection, WordingCatalogue
from bot.wording.formatting import format_message, strip_emoji

ACK = "ack_frustration"
# How many of the conversation's latest bot texts an acknowledgement is kept different from.
RECENT_TEXTS = 6
# The customer's name when known ("" otherwise), and " <name>" for "Hello{name_suffix}, …".
CUSTOMER_NAME = "customer_name"
NAME_SUFFIX = "name_suffix"
PHONE_LINE = "phone_line"
# Said first when the customer's message held card data (removed before it was stored).
CARD_DATA_NOTICE = "notice_card_data"


@dataclass(frozen=True)
class RenderContext:
    """What the renderer needs to know about the conversation.

    Attributes:
        persona: the persona id (None when not inferred yet).
        language: ISO 639-1 language to answer in.
        fmt: output format (``sms``, ``whatsapp``, ``telegram``, ``socketio``, ``rest``).
        frustrated: the latest customer message shows frustration.
        first_of_turn: no bot message has been sent since the customer's message.
        shared_card_data: the customer's message held card data (a card number, an IBAN,
            a security code, a PIN or a password).
        phone_line: the route puts the phone line before answers (``bot.handoff.routing``).
        cannot_phone: the customer cannot use a voice call (a hearing or speech need): the
            bank's lines are given in their text-relay form (``BankInfo.relayed``).
        previous_texts: earlier bot texts of the conversation, newest last (the last
            ``RECENT_TEXTS`` are read).
        variables: extra template variables (slots, action keyword arguments);
            ``customer_name`` when known also fills ``{name_suffix}``.
        choices: buttons an action adds at run time (for example callback times), after
            the wording's own buttons; formatted for the channel like them.
    """

    persona: str | None = None
    language: str | None = None
    fmt: str = "rest"
    frustrated: bool = False
    first_of_turn: bool = True
    shared_card_data: bool = False
    phone_line: bool = False
    cannot_phone: bool = False
    previous_texts: Sequence[str] = ()
    variables: Mapping[str, Any] = field(default_factory=dict)
    choices: Sequence[Mapping[str, str]] = ()


class _Vars(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(text: str, variables: Mapping[str, Any]) -> str:
    """Fill ``{name}`` placeholders; unknown names stay as they are (never an exception)."""
    values = _Vars({k: v for k, v in variables.items() if v is not None})
    try:
        return string.Formatter().vformat(text, (), values)
    except (ValueError, IndexError, KeyError, AttributeError):
        return text


class Renderer:
    def __init__(self, *, wording: WordingCatalogue, bank: BankInfo, personas: PersonaCatalogue) -> None:
        self.wording = wording
        self.bank = bank
        self.personas = personas

    def _persona(self, persona_id: str | None) -> Persona | None:
        return self.personas.lookup(persona_id)

    def _ack(self, persona: Persona | None, ctx: RenderContext) -> str | None:
        selection = self.wording.select(ACK, persona=persona, language=ctx.language)
        if selection is None:
            return None
        alternatives = [self._fill(a, selection) for a in selection.variant.texts]
        recent = ctx.previous_texts[-RECENT_TEXTS:]
        used = [alt for text in recent for alt in alternatives if text.startswith(alt)]
        last = used[-1] if used else None
        fresh = [a for a in alternatives if a not in used]
        return (fresh or [a for a in alternatives if a != last] or alternatives)[0]

    def _fill(
        self, text: str, selection: Selection, extra: Mapping[str, Any] | None = None, *, relay: bool = False
    ) -> str:
        extra = extra or {}
        name = extra.get(CUSTOMER_NAME)
        personal = {CUSTOMER_NAME: name or "", NAME_SUFFIX: f" {name}" if name else ""}
        return fill(text, {**self.bank.template_vars(selection.language, relay=relay), **extra, **personal})

    def render(self, response: str, ctx: RenderContext) -> dict[str, Any] | None:
        """The message for ``response``, or None when the catalogue does not know it."""
        persona = self._persona(ctx.persona)
        selection = self.wording.select(response, persona=persona, language=ctx.language)
        if selection is None:
            return None
        language = selection.language
        variant = selection.variant
        text = self._fill(variant.texts[0], selection, ctx.variables, relay=ctx.cannot_phone)
        parts: list[str] = []
        allows = self.wording.allows(response)
        if ctx.first_of_turn and ctx.shared_card_data:
            notice = self.wording.select(CARD_DATA_NOTICE, persona=persona, language=language)
            if notice is not None:
                parts.append(self._fill(notice.variant.texts[0], notice))
        if ctx.first_of_turn and ctx.frustrated and allows.acknowledgement:
            ack = self._ack(persona, ctx)
            if ack:
                parts.append(ack)
        if ctx.first_of_turn and ctx.phone_line and allows.phone_line:
            line = self.wording.select(PHONE_LINE, persona=persona, language=language)
            if line is not None:
                parts.append(self._fill(line.variant.texts[0], line))
        parts.append(text)
        body = "\n\n".join(parts)
        if persona is not None and not persona.tone.emoji:
            body = strip_emoji(body)
        message: dict[str, Any] = {"text": body}
        buttons = [
            {"title": fill(b["title"], ctx.variables), "payload": b["payload"]} for b in variant.buttons
        ]
        buttons += [{"title": str(c["title"]), "payload": str(c["payload"])} for c in ctx.choices]
        if buttons:
            message["buttons"] = buttons
        formatted = format_message(message, fmt=ctx.fmt, language=language)
        formatted["metadata"] = {
            "wording": {
                "response": response,
                "language": language,
                "variant": selection.key,
                "format": ctx.fmt,
            }
        }
        return formatted
