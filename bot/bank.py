"""The bank's facts (name, phone numbers, hours) from one configuration file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class BankConfigError(ValueError):
    """The bank configuration file is missing or invalid; the message names file and field."""


@dataclass(frozen=True)
class BankInfo:
    """Facts every answer may quote.

    ``template_vars()`` gives the names responses use: ``{bank_name}``, ``{app_name}``,
    ``{website}``, ``{phone_main}``, ``{phone_cards}``, ``{phone_abroad}``, ``{hours}``
    and ``{timezone}``.
    """

    bank_name: str
    app_name: str
    website: str
    phone_main: str
    phone_cards: str
    phone_abroad: str
    hours: str
    timezone: str

    def template_vars(self) -> dict[str, str]:
        return {
            "bank_name": self.bank_name,
            "app_name": self.app_name,
            "website": self.website,
            "phone_main": self.phone_main,
            "phone_cards": self.phone_cards,
            "phone_abroad": self.phone_abroad,
            "hours": self.hours,
            "timezone": self.timezone,
        }


def _text(data: dict[str, Any], key: str, path: Path, field: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BankConfigError(f"{path}: field {field!r} must be a non-empty string, got {value!r}")
    return value.strip()


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
    return BankInfo(
        bank_name=_text(data, "bank_name", path, "bank_name"),
        app_name=_text(data, "app_name", path, "app_name"),
        website=_text(data, "website", path, "website"),
        phone_main=_text(phone, "main", path, "phone.main"),
        phone_cards=_text(phone, "cards", path, "phone.cards"),
        phone_abroad=_text(phone, "abroad", path, "phone.abroad"),
        hours=_text(hours, "text", path, "hours.text"),
        timezone=_text(hours, "timezone", path, "hours.timezone"),
    )
