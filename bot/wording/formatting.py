"""Formatting a rendered message for the channel the customer is really on.

| channel | text | buttons | limit per message |
|---|---|---|---|
| ``sms`` (Twilio) | plain: no emoji or markup, GSM-7 dashes | numbered options in the text | 2 segments |
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

SMS parts are limited by what they cost, not by characters: each part fits in
``SMS_MAX_SEGMENTS`` segments of its encoding (``sms_length``). A part in the GSM-7
alphabet (3GPP TS 23.038) holds up to 306 characters (160 alone), one with any other
character (Spanish "á", French "ê", an emoji) is sent as UCS-2 and holds 134 (70 alone).
Typographic punctuation the wording uses ("–", "’", "«»", "…", no-break spaces) becomes
its GSM-7 equivalent first, so it alone never turns a message into UCS-2.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bot.core.channels import SMS, WHATSAPP

# Characters per message where a channel limits them (SMS is limited by segments).
LIMITS = {WHATSAPP: 1600, "telegram": 4096}
NUMBERED_CHANNELS = frozenset({SMS, WHATSAPP})

# SMS encodings (3GPP TS 23.038). The GSM-7 default alphabet without its escape code,
# and the characters of its extension table, sent as escape + character (2 septets).
GSM7, UCS2 = "GSM-7", "UCS-2"
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
# Units a message of one segment holds, and units per segment of a longer message (the
# rest of each 140 bytes carries the header that joins the parts).
SMS_SINGLE = {GSM7: 160, UCS2: 70}
SMS_PART = {GSM7: 153, UCS2: 67}
SMS_MAX_SEGMENTS = 2
# Typographic punctuation with a GSM-7 equivalent (what Twilio's smart encoding would do).
_SMS_PUNCTUATION = str.maketrans(
    {
        "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ",
        "\u2010": "-", "\u2011": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
        "\u2026": "...", "\u2022": "-",
    }
)  # fmt: skip
_GUILLEMETS = re.compile(r"«\s*|\s*»")

_EMOJI = re.compile(
    "[\U0001f300-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\u2b50\u2764\ufe0f\u200d"
    "\u231a\u231b\u23e9-\u23fa\u2b05-\u2b07\u2b1b\u2b1c\u2b55]"
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
        ("Toque «Sí» o «No, gracias» para responder.", ""),
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


@dataclass(frozen=True)
class SmsLength:
    """What an SMS text costs: its encoding, its length in that encoding's units (GSM-7
    septets, UCS-2 code units) and the number of segments Twilio bills."""

    encoding: Literal["GSM-7", "UCS-2"]
    units: int
    segments: int


def sms_length(text: str) -> SmsLength:
    """The encoding, units and segments of ``text`` sent as one SMS.

    GSM-7 when every character is in the default alphabet or its extension table
    (extension characters such as "€" or "[" take 2 septets), else UCS-2 (characters
    outside the Basic Multilingual Plane, most emoji, take 2 units). One segment holds
    160 septets or 70 units; a longer text is sent in parts of 153 or 67, and neither an
    escaped character nor a surrogate pair is split between two parts.
    """
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        encoding: Literal["GSM-7", "UCS-2"] = "GSM-7"
        costs = [2 if c in GSM7_EXTENSION else 1 for c in text]
    else:
        encoding = "UCS-2"
        costs = [2 if ord(c) > 0xFFFF else 1 for c in text]
    units = sum(costs)
    if units <= SMS_SINGLE[encoding]:
        return SmsLength(encoding, units, 1)
    segments, used = 1, 0
    for cost in costs:
        if used + cost > SMS_PART[encoding]:
            segments, used = segments + 1, 0
        used += cost
    return SmsLength(encoding, units, segments)


def sms_segments(text: str) -> int:
    return sms_length(text).segments


def gsm_punctuation(text: str) -> str:
    """Typographic punctuation replaced by its GSM-7 equivalent: dashes, quotes, guillemets
    ("« x »" becomes '"x"'), ellipsis, no-break spaces. Letters are kept."""
    return _GUILLEMETS.sub('"', text).translate(_SMS_PUNCTUATION)


def strip_emoji(text: str) -> str:
    return re.sub(r"[ \t]{2,}", " ", _EMOJI.sub("", text)).strip()


def plain_text(text: str) -> str:
    """No markup: links become 'text (url)', emphasis markers go."""
    text = _MARKDOWN_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    return _MARKUP.sub("", strip_emoji(text))


def _cut(word: str, limit: int, measure: Callable[[str], int]) -> list[str]:
    """A single word longer than ``limit`` (a URL) cut into pieces that fit."""
    pieces, piece = [], ""
    for char in word:
        if piece and measure(piece + char) > limit:
            pieces.append(piece)
            piece = char
        else:
            piece += char
    return [*pieces, piece] if piece else pieces


def split_text(text: str, limit: int, *, measure: Callable[[str], int] = len) -> list[str]:
    """Split into parts of at most ``limit`` (by ``measure``, characters unless told), on
    paragraphs, sentences, then words."""
    parts: list[str] = []
    for paragraph in (p.strip() for p in text.split("\n\n")):
        if not paragraph:
            continue
        current = ""
        for sentence in _sentences(paragraph):
            pieces = [sentence]
            if measure(sentence) > limit:
                pieces, line = [], ""
                for word in sentence.split():
                    if line and measure(f"{line} {word}") > limit:
                        pieces.append(line)
                        line = word
                    else:
                        line = f"{line} {word}".strip()
                    if measure(line) > limit:
                        *whole, line = _cut(line, limit, measure)
                        pieces += whole
                if line:
                    pieces.append(line)
            for piece in pieces:
                if current and measure(f"{current} {piece}") > limit:
                    parts.append(current)
                    current = piece
                else:
                    current = f"{current} {piece}".strip()
        if current:
            parts.append(current)
    return parts


def split_sms(text: str, max_segments: int = SMS_MAX_SEGMENTS) -> list[str]:
    """Split into SMS parts of at most ``max_segments`` segments each (``sms_length``)."""
    return split_text(text, max_segments, measure=sms_segments)


def numbered_options(buttons: Sequence[Mapping[str, Any]], language: str) -> str:
    prompt = REPLY_PROMPT.get(language, REPLY_PROMPT["en"])
    options = "\n".join(f"{i}. {b['title']}" for i, b in enumerate(buttons, start=1))
    return f"{prompt}\n{options}"


def format_message(message: dict[str, Any], *, fmt: str, language: str) -> dict[str, Any]:
    """Adapt a rendered message (``text``, optional ``buttons``) to the output format."""
    out = dict(message)
    text = str(out.get("text") or "")
    buttons = list(out.get("buttons") or [])
    numbered = fmt in NUMBERED_CHANNELS and bool(buttons)
    if numbered:  # before the SMS punctuation: the wording is matched as written
        text = without_button_wording(text, language)
    if fmt == SMS:
        text = gsm_punctuation(plain_text(text))
    if numbered:
        # Options as their own part, so an SMS never splits them from their prompt.
        text = f"{text}\n\n{numbered_options(buttons, language)}"
        out["numbered_buttons"] = True
    limit = LIMITS.get(fmt)
    if fmt == SMS:
        text = "\n\n".join(split_sms(text))
    elif limit:
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
