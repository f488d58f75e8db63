"""The bank's facts (name, app, phone numbers, hours) from one configuration file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FALLBACK_LANGUAGE = "en"
# The lines a customer who cannot use a voice call is given through text relay.
RELAYED_LINES = ("phone_main", "phone_cards", "phone_abroad", "phone_direct")
UK_PREFIX = "+44"


class BankConfigError(ValueError):
    """The bank configuration file is missing or invalid; the message names file and field."""


@dataclass(frozen=True)
class BankInfo:
    """Facts every answer may quote, some of them per language.

    ``template_vars(language)`` gives the names responses use: ``{bank_name}``,
    ``{app_name}``, ``{website}``, ``{phone_main}``, ``{phone_cards}``, ``{phone_abroad}``,
    ``{phone_direct}`` (the team speaking that language), ``{phone_relay}`` (text relay),
    ``{hours}`` and ``{timezone}``,
    in ``language`` where the file has it, else English. ``template_vars(language,
    relay=True)`` gives the UK lines in their text-relay form instead, for a customer who
    cannot use a voice call: the relay prefix, the number in its national form and the
    words that say how ("18001 020 7946 0999 via Relay UK").
    """

    values: dict[str, dict[str, str]] = field(default_factory=dict)
    relay_prefix: str | None = None
    relay_via: dict[str, str] = field(default_factory=dict)

    def template_vars(self, language: str | None = None, *, relay: bool = False) -> dict[str, str]:
        out = {name: self.text(name, language) for name in self.values}
        if relay:
            for name in RELAYED_LINES:
                if name in out:
                    out[name] = self.relayed(out[name], language)
        return out

    def relayed(self, number: str, language: str | None = None) -> str:
        """``number`` as a customer who cannot use a voice call reaches it (unchanged when
        it is not a UK number or no relay prefix is configured)."""
        if not self.relay_prefix or not number.startswith(UK_PREFIX):
            return number
        national = "0" + number[len(UK_PREFIX) :].strip()
        via = self.relay_via.get(language or FALLBACK_LANGUAGE) or self.relay_via.get(FALLBACK_LANGUAGE, "")
        return f"{self.relay_prefix} {national} {via}".strip()

    def text(self, name: str, language: str | None = None) -> str:
        """One fact in ``language`` (else English)."""
        by_lang = self.values[name]
        return by_lang.get(language or FALLBACK_LANGUAGE) or by_lang[FALLBACK_LANGUAGE]

    @property
    def bank_name(self) -> str:
        return self.text("bank_name")

    @property
    def phone_main(self) -> str:
        return self.text("phone_main")

    @property
    def phone_cards(self) -> str:
        return self.text("phone_cards")

    @property
    def hours(self) -> str:
        return self.text("hours")


def _text(data: dict[str, Any], key: str, path: Path, field_name: str) -> dict[str, str]:
    value = data.get(key)
    if isinstance(value, str) and value.strip():
        return {FALLBACK_LANGUAGE: value.strip()}
    if isinstance(value, dict) and value:
        out = {}
        for lang, text in value.items():
            if not isinstance(text, str) or not text.strip():
                raise BankConfigError(
                    f"{path}: field '{field_name}.{lang}' must be a non-empty string, got {text!r}"
                )
            out[str(lang)] = text.strip()
        if FALLBACK_LANGUAGE not in out:
            raise BankConfigError(f"{path}: field {field_name!r} needs an '{FALLBACK_LANGUAGE}' text")
        return out
    raise BankConfigError(
        f"{path}: field {field_name!r} must be a non-empty string or one per language, got {value!r}"
    )


def _section(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise BankConfigError(f"{path}: field {key!r} must be a mapping, got {value!r}")
    return value


def load_bank_info(path: Path) -> BankInfo:
    """Read and validate the bank configuration.

    Raises:
        BankConfigError: the file cannot be read or a field is missing or of the wrong type.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BankConfigError(f"{path}: cannot read bank configuration: {exc}") from exc
    except yaml.YAMLError as exc:
        raise BankConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise BankConfigError(f"{path}: expected a mapping at the top level")
    phone = _section(data, "phone", path)
    hours = _section(data, "hours", path)
    relay_prefix = phone.get("relay_prefix")
    if relay_prefix is not None and not str(relay_prefix).isdigit():
        raise BankConfigError(f"{path}: field 'phone.relay_prefix' must be digits, got {relay_prefix!r}")
    relay_via = _text(phone, "relay_via", path, "phone.relay_via") if "relay_via" in phone else {}
    return BankInfo(
        {
            "bank_name": _text(data, "bank_name", path, "bank_name"),
            "app_name": _text(data, "app_name", path, "app_name"),
            "website": _text(data, "website", path, "website"),
            "phone_main": _text(phone, "main", path, "phone.main"),
            "phone_cards": _text(phone, "cards", path, "phone.cards"),
            "phone_abroad": _text(phone, "abroad", path, "phone.abroad"),
            # Text relay (Relay UK) for customers who cannot use a voice call; the main line when not given.
            "phone_relay": _text(phone, "relay" if "relay" in phone else "main", path, "phone.relay"),
            # The team that speaks the customer's language; the main line when not given.
            "phone_direct": _text(phone, "direct" if "direct" in phone else "main", path, "phone.direct"),
            "hours": _text(hours, "text", path, "hours.text"),
            "timezone": _text(hours, "timezone", path, "hours.timezone"),
        },
        relay_prefix=str(relay_prefix) if relay_prefix is not None else None,
        relay_via=relay_via,
    )
