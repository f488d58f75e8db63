"""What a handoff to staff carries, independent of where it is stored.

A ``HandoffRequest`` is built by the escalation actions from the conversation: kind
(``callback`` or ``live_chat``), why, the persona estimate and its evidence, language,
channel, the redacted transcript and, for callbacks, the number and time window. It has
a ``request_id`` (idempotency key) and a ``reference`` (what the customer is told) from
the start, so it can be spooled to disk and imported later without duplicates.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("callback", "live_chat")
REFERENCE_PREFIX = {"callback": "CB", "live_chat": "LC"}
# No 0/O, 1/I/L, U: easy to read out on the phone.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 6


def new_reference(kind: str) -> str:
    """A fresh reference such as ``CB-7KM3QZ`` (30^6 ≈ 7·10^8 codes per kind)."""
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{REFERENCE_PREFIX[kind]}-{body}"


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.timezone.utc).isoformat() if value is not None else None


def _parse_dt(value: Any, name: str) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be an ISO 8601 string, got {value!r}")
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"{name} must carry a timezone, got {value!r}")
    return parsed


@dataclass(frozen=True)
class HandoffRequest:
    """A handoff as the assistant decided it (see the module docstring)."""

    kind: str
    reason: str
    sender_id: str
    transcript: Sequence[Mapping[str, Any]]
    persona: str | None = None
    persona_confidence: float | None = None
    persona_evidence: Sequence[str] = ()
    language: str | None = None
    channel: str | None = None
    customer_ref: str | None = None
    callback_number: str | None = None
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    timezone: str | None = None
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    reference: str = ""
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))

    def __post_init__(self) -> None:
        object.__setattr__(self, "persona_evidence", tuple(self.persona_evidence))
        object.__setattr__(self, "transcript", [dict(entry) for entry in self.transcript])
        if self.kind not in KINDS:
            raise ValueError(f"unknown handoff kind {self.kind!r}; use {', '.join(KINDS)}")
        if not self.reference:
            object.__setattr__(self, "reference", new_reference(self.kind))
        if self.kind == "callback" and not self.callback_number:
            raise ValueError("a callback handoff needs a callback number")
        if (self.window_start is None) != (self.window_end is None):
            raise ValueError("window_start and window_end go together")
        if self.window_start and self.window_end and self.window_end <= self.window_start:
            raise ValueError(f"window ends before it starts: {self.window_start} – {self.window_end}")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["transcript"] = [dict(entry) for entry in self.transcript]
        data["persona_evidence"] = list(self.persona_evidence)
        for name in ("window_start", "window_end", "created_at"):
            data[name] = _iso(getattr(self, name))
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HandoffRequest:
        """Rebuild a request written by ``to_json`` (raises ValueError/TypeError if malformed)."""
        values = dict(data)
        for name in ("window_start", "window_end"):
            values[name] = _parse_dt(values.get(name), name)
        created = _parse_dt(values.get("created_at"), "created_at")
        if created is None:
            raise ValueError("created_at is missing")
        values["created_at"] = created
        return cls(**values)


def request_from_conversation(
    kind: str,
    *,
    reason: str,
    sender_id: str,
    events: Sequence[Mapping[str, Any]],
    slots: Mapping[str, Any],
    channel: str | None,
    **details: Any,
) -> HandoffRequest:
    """A handoff request from a conversation's events and persona slots (transcript redacted).

    ``details``: ``callback_number``, ``window_start``, ``window_end``, ``timezone``.
    """
    from bot.handoff.transcript import build_transcript

    confidence = slots.get("persona_confidence")
    evidence = slots.get("persona_evidence") or []
    return HandoffRequest(
        kind=kind,
        reason=reason,
        sender_id=sender_id,
        transcript=build_transcript(events, channel=channel),
        persona=slots.get("persona"),
        persona_confidence=float(confidence) if isinstance(confidence, (int, float)) else None,
        persona_evidence=[str(e) for e in evidence] if isinstance(evidence, list) else [],
        language=slots.get("language"),
        channel=channel,
        customer_ref=slots.get("customer_ref"),
        **details,
    )
