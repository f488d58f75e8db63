"""Formatting a rendered message for the channel the customer is really on.

| channel | text | buttons | limit per message |
|---|---|---|---|
| ``sms`` (Twilio) | plain: no emoji, no markup | numbered options in the text | 320 characters |
| ``whatsapp`` (Twilio) | WhatsApp markup, emoji | numbered options in the text | 1,600 characters |
| ``telegram`` | emoji | kept (inline keyboard) | 4,096 characters |
| ``socketio`` (website) | emoji, links | kept | none |
| ``rest`` | as rendered | kept | none |

Parts of a long message are separated by a blank line (``\\n\\n``): Rasa's Twilio output
sends each paragraph as its own SMS, and the other channels show them as paragraphs.
Long paragraphs are split on sentence boundaries (a step number such as "3." stays with
its step), then on spaces. For SMS and WhatsApp the buttons stay in the message (so they
are stored in the tracker) as numbered options, the wording that speaks of tapping buttons
says to reply with a number instead (``TEXT_CHANNEL_WORDING``), and a numeric reply is
mapped back to the button's payload by ``map_numeric_reply``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.channels import SMS, WHATSAPP

LIMITS = {SMS: 320, WHATSAPP: 1600, "telegram": 4096}
NUMBERED_CHANNELS = frozenset({SMS, WHATSAPP})

_EMOJI = re.compile(
    "[\U0001f300-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\u2b50\u2764\ufe0f\u200d]"
)
_MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_MARKUP = re.compile(r"(\*\*|__|`)")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)")
_STEP_NUMBER = re.compile(r"^\d{1,2}[.)]$")
_TRAILING_STEP_NUMBER = re.compile(r"^(.*[:;.!?])[ \t]+(\d{1,2}[.)])$", re.DOTALL)
_NUMERIC_REPLY = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")

REPLY_PROMPT = {
    "en": "Reply with a number:",
    "es": "Responda con un número:",
    "fr": "Répondez avec un chiffre :",
}
# On channels without buttons (the options are numbered in the text): what the wording
# says about tapping buttons, and what it says there instead (case-insensitive).
TEXT_CHANNEL_WORDING: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        ("Please tap one of the buttons below.", ""),
        ("tap one of the times below", "reply with the number of one of the times below"),
        ("tap the button below", "reply with the number below"),
    ),
    "es": (
        ("Toque uno de los botones de abajo para responder.", ""),
        ("Toque uno de los botones de abajo.", ""),
        ("toca uno de los botones de abajo", "responde con uno de los números de abajo"),
        ("toque una de las horas que aparecen abajo", "responda con el número de una de las horas de abajo"),
        ("toque el botón de abajo", "responda con el número de abajo"),
    ),
    "fr": (
        ("Il vous suffit d'appuyer sur l'un des deux boutons ci-dessous.", ""),
        (
            "appuyez sur l'un des horaires proposés ci-dessous",
            "répondez avec le chiffre de l'un des horaires ci-dessous",
        ),
        ("appuyez sur le bouton ci-dessous", "répondez avec le chiffre ci-dessous"),
        ("appuie sur le bouton ci-dessous", "réponds avec le chiffre ci-dessous"),
    ),
}


def without_button_wording(text: str, language: str) -> str:
    """``text`` for a channel whose options are numbered: no talk of tapping buttons."""
    for said, instead in TEXT_CHANNEL_WORDING.get(language, TEXT_CHANNEL_WORDING["en"]):

        def replace(match: re.Match[str], instead: str = instead) -> str:
            if instead and match.group(0)[0].isupper():
                return instead[0].upper() + instead[1:]
            return instead

        text = re.sub(re.escape(said), replace, text, flags=re.IGNORECASE)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _sentences(paragraph: str) -> list[str]:
    """Sentences of ``paragraph``; a step number ("3.") is kept with the step it numbers."""
    pieces: list[str] = []
    for piece in _SENTENCE_END.split(paragraph):
        if pieces and _STEP_NUMBER.match(pieces[-1]):
            pieces[-1] = f"{pieces[-1]} {piece}"
            continue
        trailing = _TRAILING_STEP_NUMBER.match(piece)
        if trailing:  # "…if it has been longer: 1." — the number goes with step 1
            pieces += [trailing.group(1), trailing.group(2)]
        else:
            pieces.append(piece)
    return pieces


def strip_emoji(text: str) -> str:
    return re.sub(r"[ \t]{2,}", " ", _EMOJI.sub("", text)).strip()


def plain_text(text: str) -> str:
    """No markup: links become 'text (url)', emphasis markers go."""
    text = _MARKDOWN_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    return _MARKUP.sub("", strip_emoji(text))


def split_text(text: str, limit: int) -> list[str]:
    """Split into parts of at most ``limit`` characters, on paragraphs, sentences, then words."""
    parts: list[str] = []
    for paragraph in (p.strip() for p in text.split("\n\n")):
        if not paragraph:
            continue
        current = ""
        for sentence in _sentences(paragraph):
            pieces = [sentence]
            if len(sentence) > limit:
                pieces, line = [], ""
                for word in sentence.split():
                    if line and len(line) + 1 + len(word) > limit:
                        pieces.append(line)
                        line = word
                    else:
                        line = f"{line} {word}".strip()
                    while len(line) > limit:  # a single very long "word" (a URL)
                        pieces.append(line[:limit])
                        line = line[limit:]
                if line:
                    pieces.append(line)
            for piece in pieces:
                if current and len(current) + 1 + len(piece) > limit:
                    parts.append(current)
                    current = piece
                else:
                    current = f"{current} {piece}".strip()
        if current:
            parts.append(current)
    return parts


def numbered_options(buttons: Sequence[Mapping[str, Any]], language: str) -> str:
    prompt = REPLY_PROMPT.get(language, REPLY_PROMPT["en"])
    options = "\n".join(f"{i}. {b['title']}" for i, b in enumerate(buttons, start=1))
    return f"{prompt}\n{options}"


def format_message(message: dict[str, Any], *, fmt: str, language: str) -> dict[str, Any]:
    """Adapt a rendered message (``text``, optional ``buttons``) to the output format."""
    out = dict(message)
    text = str(out.get("text") or "")
    buttons = list(out.get("buttons") or [])
    if fmt == SMS:
        text = plain_text(text)
    if fmt in NUMBERED_CHANNELS and buttons:
        # Options as their own part, so an SMS never splits them from their prompt.
        text = f"{without_button_wording(text, language)}\n\n{numbered_options(buttons, language)}"
        out["numbered_buttons"] = True
    limit = LIMITS.get(fmt)
    if limit:
        text = "\n\n".join(split_text(text, limit))
    out["text"] = text
    return out


def map_numeric_reply(text: str, buttons: Sequence[Mapping[str, Any]] | None) -> str | None:
    """The payload of the button a numeric reply ("2", "2.", " 2) ") chooses, if any."""
    if not buttons:
        return None
    match = _NUMERIC_REPLY.match(text or "")
    if not match:
        return None
    index = int(match.group(1)) - 1
    if 0 <= index < len(buttons):
        payload = buttons[index].get("payload")
        return str(payload) if payload else None
    return None
