"""The customer profile as the plugin sees it (from the CRM / database, or an evaluation file).

Vocabulary shared with the database, the slots and the evaluation files:
``preferred_language`` (ISO 639-1), ``preferred_channel`` and ``contact_history`` keys
(``phone``, ``chat``, ``app``, ``email``, ``branch``), ``persona`` (assigned by staff or
the CRM), ``accessibility_needs`` (``hearing``, ``speech``, ``vision``, ``cognitive``).
There are deliberately no demographic fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.channels import CONTACT_CHANNELS
from bot.persona.catalogue.model import ACCESSIBILITY_NEEDS

PROFILE_KEYS = (
    "preferred_language",
    "preferred_channel",
    "contact_history",
    "persona",
    "accessibility_needs",
    "name",
    "consent_to_calls",
    "timezone",
)
NO_PHONE_NEEDS = frozenset({"hearing", "speech"})


def _valid_timezone(name: Any) -> bool:
    if not isinstance(name, str) or not name or len(name) > 64:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class ProfileError(ValueError):
    """A profile value is not in the shared vocabulary; the message names the field."""


@dataclass(frozen=True)
class Profile:
    preferred_language: str | None = None
    preferred_channel: str | None = None
    contact_history: dict[str, int] = field(default_factory=dict)
    persona: str | None = None
    accessibility_needs: tuple[str, ...] = ()
    name: str | None = None  # how to address the customer; used in wording only, never for inference
    consent_to_calls: bool | None = None  # False: the customer refused calls (never offer one)
    timezone: str | None = None  # IANA name, for callback times; the bank's when unknown

    @property
    def cannot_take_calls(self) -> bool:
        """A hearing or speech need: never propose a phone call."""
        return bool(NO_PHONE_NEEDS & set(self.accessibility_needs))

    @property
    def refuses_calls(self) -> bool:
        """The customer told the bank never to call them."""
        return self.consent_to_calls is False

    def to_dict(self) -> dict[str, Any]:
        return {
            "preferred_language": self.preferred_language,
            "preferred_channel": self.preferred_channel,
            "contact_history": dict(self.contact_history),
            "persona": self.persona,
            "accessibility_needs": list(self.accessibility_needs),
            "name": self.name,
            "consent_to_calls": self.consent_to_calls,
            "timezone": self.timezone,
        }

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, *, strict: bool = False) -> Profile:
        """Build a profile from a mapping.

        Args:
            data: the profile; None or empty gives an empty profile.
            strict: raise ``ProfileError`` on unknown keys or values (evaluation files);
                otherwise drop them (data read back from a tracker).
        """
        if not data:
            return cls()
        if not isinstance(data, Mapping):
            raise ProfileError(f"profile must be a mapping, got {type(data).__name__}")

        def bad(message: str) -> None:
            if strict:
                raise ProfileError(message)

        for key in data:
            if key not in PROFILE_KEYS:
                bad(f"unknown profile field {key!r}; use {', '.join(PROFILE_KEYS)}")
        lang = data.get("preferred_language")
        if lang is not None and not (isinstance(lang, str) and len(lang) == 2 and lang.isalpha()):
            bad(f"preferred_language must be an ISO 639-1 code, got {lang!r}")
            lang = None
        channel = data.get("preferred_channel")
        if channel is not None and channel not in CONTACT_CHANNELS:
            bad(f"preferred_channel must be one of {', '.join(CONTACT_CHANNELS)}, got {channel!r}")
            channel = None
        history: dict[str, int] = {}
        raw_history = data.get("contact_history") or {}
        if not isinstance(raw_history, Mapping):
            bad("contact_history must be a mapping of channel to count")
            raw_history = {}
        for key, count in raw_history.items():
            if key not in CONTACT_CHANNELS:
                bad(f"contact_history: unknown channel {key!r}; use {', '.join(CONTACT_CHANNELS)}")
            elif isinstance(count, bool) or not isinstance(count, int) or count < 0:
                bad(f"contact_history.{key} must be a non-negative integer, got {count!r}")
            else:
                history[key] = count
        persona = data.get("persona")
        if persona is not None and not isinstance(persona, str):
            bad(f"persona must be a persona id, got {persona!r}")
            persona = None
        needs_raw = data.get("accessibility_needs") or []
        if not isinstance(needs_raw, (list, tuple)):
            bad("accessibility_needs must be a list")
            needs_raw = []
        needs = []
        for need in needs_raw:
            if need in ACCESSIBILITY_NEEDS:
                needs.append(need)
            else:
                bad(f"accessibility_needs: unknown need {need!r}; use {', '.join(ACCESSIBILITY_NEEDS)}")
        name = data.get("name")
        if name is not None and not (isinstance(name, str) and 0 < len(name.strip()) <= 60):
            bad(f"name must be a non-empty string of at most 60 characters, got {name!r}")
            name = None
        consent = data.get("consent_to_calls")
        if consent is not None and not isinstance(consent, bool):
            bad(f"consent_to_calls must be true, false or absent, got {consent!r}")
            consent = None
        timezone = data.get("timezone")
        if timezone is not None and not _valid_timezone(timezone):
            bad(f"timezone must be an IANA timezone name such as 'Europe/London', got {timezone!r}")
            timezone = None
        return cls(
            consent_to_calls=consent,
            timezone=timezone,
            name=name.strip() if isinstance(name, str) else None,
            preferred_language=lang.lower() if isinstance(lang, str) else None,
            preferred_channel=channel,
            contact_history=history,
            persona=persona or None,
            accessibility_needs=tuple(needs),
        )
