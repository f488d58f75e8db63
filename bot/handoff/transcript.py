"""Transcripts for staff: both sides of the conversation, timestamps and channel, redacted.

Reads: Rasa tracker events (the JSON form the action server receives). Writes: a list of
entries ``{"at", "from", "text", "channel"}`` (plus ``"buttons"`` offered by the
assistant and ``"redacted"`` kinds), with card numbers, IBANs, security codes and
passwords removed before anything is stored (bot.core.redaction), and the customer's
phone numbers, e-mail addresses, account numbers and sort codes masked
(bot.core.masking).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from bot.core.masking import protect
from bot.core.redaction import redact

CUSTOMER = "customer"
ASSISTANT = "assistant"


def _at(timestamp: Any) -> str | None:
    if not isinstance(timestamp, (int, float)):
        return None
    return dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc).isoformat(timespec="milliseconds")


def build_transcript(
    events: Iterable[Mapping[str, Any]], *, channel: str | None = None
) -> list[dict[str, Any]]:
    """The conversation (the current session) as staff read it, oldest first.

    Args:
        events: tracker events (``tracker.events``).
        channel: the conversation's channel, for assistant messages (customer messages
            carry their own ``input_channel``).
    """
    transcript: list[dict[str, Any]] = []
    current = channel
    for event in events:
        kind = event.get("event")
        if kind == "session_started":
            transcript = []
        elif kind == "user":
            text = event.get("text") or ""
            metadata = event.get("metadata") or {}
            current = (metadata.get("channel") if isinstance(metadata, Mapping) else None) or (
                event.get("input_channel") or current
            )
            if not text.strip():
                continue
            redaction = protect(text)
            entry: dict[str, Any] = {
                "at": _at(event.get("timestamp")),
                "from": CUSTOMER,
                "text": redaction.text,
                "channel": current,
            }
            if redaction.kinds:
                entry["redacted"] = list(redaction.kinds)
            transcript.append(entry)
        elif kind == "bot":
            text = event.get("text") or ""
            data = event.get("data") or {}
            buttons = [b.get("title") for b in (data.get("buttons") or []) if isinstance(b, Mapping)]
            if not text.strip() and not buttons:
                continue
            cleaned = redact(text)
            entry = {
                "at": _at(event.get("timestamp")),
                "from": ASSISTANT,
                "text": cleaned.text,
                "channel": current,
            }
            if buttons:
                entry["buttons"] = buttons
            if cleaned.kinds:
                entry["redacted"] = list(cleaned.kinds)
            transcript.append(entry)
    return transcript
