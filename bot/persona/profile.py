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
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    Extra,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    conint,
    constr,
    create_model,
    validator,
)

from bot.core.channels import CONTACT_CHANNELS
from bot.persona.catalogue.model import ACCESSIBILITY_NEEDS

NO_PHONE_NEEDS = frozenset({"hearing", "speech"})
MAX_NAME_CHARS = 60
MAX_TIMEZONE_CHARS = 64

if TYPE_CHECKING:
    LanguageCode = str
    Name = str
    TimezoneName = str
    Count = int
else:
    LanguageCode = constr(strict=True, regex=r"^[A-Za-z]{2}$")
    Name = constr(strict=True, strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS)
    TimezoneName = constr(strict=True, min_length=1, max_length=MAX_TIMEZONE_CHARS)
    Count = conint(strict=True, ge=0)


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
            strict: raise ``ProfileError`` on unknown keys or values (evaluation files,
                seed files); otherwise drop them (data read back from a tracker).
        """
        if not data:
            return cls()
        if not isinstance(data, Mapping):
            raise ProfileError(f"profile must be a mapping, got {type(data).__name__}")
        values: dict[str, Any] = dict(data)
        # Lenient: drop what does not validate, one offending value at a time (a bad entry of
        # contact_history or accessibility_needs, not the whole field), and validate again.
        for _ in range(len(values) + sum(len(v) for v in values.values() if isinstance(v, (dict, list))) + 1):
            try:
                fields = _ProfileFields.parse_obj(values)
            except ValidationError as exc:
                if strict:
                    raise ProfileError(_message(exc)) from exc
                _drop(values, exc.errors()[0]["loc"])
                continue
            return cls(
                preferred_language=fields.preferred_language.lower() if fields.preferred_language else None,
                preferred_channel=fields.preferred_channel,
                contact_history=fields.contact_history.dict(exclude_none=True),  # type: ignore[attr-defined]
                persona=fields.persona or None,
                accessibility_needs=tuple(fields.accessibility_needs),
                name=fields.name,
                consent_to_calls=fields.consent_to_calls,
                timezone=fields.timezone,
            )
        return cls()


def _drop(values: dict[str, Any], loc: tuple[Any, ...]) -> None:
    key = loc[0] if loc else None
    if key not in values:  # an unknown field, or a whole-model error
        values.pop(str(key), None) if key is not None else values.clear()
        return
    inner = values[key]
    if len(loc) > 1 and isinstance(inner, dict) and loc[1] in inner:
        values[key] = {k: v for k, v in inner.items() if k != loc[1]}
    elif len(loc) > 1 and isinstance(inner, list) and isinstance(loc[1], int):
        values[key] = [v for i, v in enumerate(inner) if i != loc[1]]
    else:
        del values[key]


def _message(exc: ValidationError) -> str:
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    if error["type"] == "value_error.extra" and len(loc) == 1:
        return f"unknown profile field {loc[0]!r}; use {', '.join(_ProfileFields.__fields__)}"
    if error["type"] == "value_error.extra":
        return f"{loc[0]}: unknown channel {loc[1]!r}; use {', '.join(CONTACT_CHANNELS)}"
    where = ".".join(loc)
    return f"{where}: {error['msg']}"


def _one_of(value: Any, allowed: tuple[str, ...], what: str) -> Any:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; use {', '.join(allowed)}")
    return value


class _Strict(BaseModel):
    class Config:
        extra = Extra.forbid


# Past contacts per contact channel (counts).
_HISTORY_FIELDS: dict[str, Any] = {channel: (Count | None, None) for channel in CONTACT_CHANNELS}
_ContactHistory: type[BaseModel] = create_model("_ContactHistory", __base__=_Strict, **_HISTORY_FIELDS)


class _ProfileFields(_Strict):
    """The profile vocabulary, validated (``Profile.from_mapping``)."""

    preferred_language: LanguageCode | None = None
    preferred_channel: StrictStr | None = None
    contact_history: _ContactHistory = Field(default_factory=_ContactHistory)  # type: ignore[valid-type]
    persona: StrictStr | None = None
    accessibility_needs: list[StrictStr] = Field(default_factory=list)
    name: Name | None = None
    consent_to_calls: StrictBool | None = None
    timezone: TimezoneName | None = None

    @validator("preferred_channel")
    def _channel(cls, value: str) -> str:
        return str(_one_of(value, CONTACT_CHANNELS, "channel"))

    @validator("accessibility_needs", each_item=True)
    def _need(cls, value: str) -> str:
        return str(_one_of(value, ACCESSIBILITY_NEEDS, "need"))

    @validator("timezone")
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"not an IANA timezone name such as 'Europe/London': {value!r}") from exc
        return value
