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
Long paragraphs are split on sentence boundaries, then on spaces.
For SMS and WhatsApp the buttons stay in the message (so they are stored in the tracker),
and a numeric reply is mapped back to the button's payload by ``map_numeric_reply``.
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
_NUMERIC_REPLY = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")

REPLY_PROMPT = {
    "en": "Reply with a number:",
    "es": "Responda con un número:",
    "fr": "Répondez avec un chiffre :",
}


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
        for sentence in _SENTENCE_END.split(paragraph):
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
        text = f"{text}\n\n{numbered_options(buttons, language)}"
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
