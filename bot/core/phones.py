"""Phone numbers: reading them from what customers type and from channel addresses, and
which numbers the bank may ring back (``phonenumbers``)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import phonenumbers


@dataclass(frozen=True)
class PhoneNumber:
    e164: str
    display: str  # international format, for reading back to the customer
    region: str | None = None  # GB, ES…: read the customer's national numbers the same way


# Numbers the bank never rings back: the call would cost the bank (premium rate, shared
# cost — a known way to make a callback service pay a third party) or reach no person.
NOT_CALLABLE = frozenset(
    {
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.PAGER,
        phonenumbers.PhoneNumberType.UAN,
        phonenumbers.PhoneNumberType.VOICEMAIL,
    }
)


# A run of digits as long as a phone number, as people type one (spaces, dots, dashes,
# brackets, a leading + or 00).
_NUMBER_LIKE = re.compile(r"(?<![\w+])\+?(?:\d[\s.()-]*){9,15}(?!\w)")


def mentions_number(text: Any) -> bool:
    """Whether ``text`` holds something typed like a phone number (no validation: that is
    ``parse_callback_number``'s)."""
    return isinstance(text, str) and _NUMBER_LIKE.search(text) is not None


def only_a_number(text: Any, *, other_words: int = 4) -> bool:
    """Whether ``text`` gives something typed like a phone number and at most
    ``other_words`` words besides ("07911 123456", "my number is +44 7911 123456")."""
    if not isinstance(text, str) or not mentions_number(text):
        return False
    return len(re.findall(r"[^\W\d_]+", _NUMBER_LIKE.sub(" ", text))) <= other_words


def parse_phone(text: str, *, region: str, for_callback: bool = False) -> PhoneNumber | None:
    """The first valid phone number in ``text`` (``whatsapp:`` prefixes allowed), or None.

    Args:
        text: what the customer typed, or a channel's sender address.
        region: the region of numbers written without a country code.
        for_callback: also refuse numbers the bank does not ring (``NOT_CALLABLE``).
    """
    cleaned = text.removeprefix("whatsapp:").strip()
    for match in phonenumbers.PhoneNumberMatcher(cleaned, region):
        number = match.number
        if phonenumbers.is_valid_number(number) and not (
            for_callback and phonenumbers.number_type(number) in NOT_CALLABLE
        ):
            home = phonenumbers.region_code_for_number(number)
            return PhoneNumber(
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
                home if home and home != "ZZ" else None,
            )
    return None


@functools.cache
def _timezone_regions() -> dict[str, str]:
    """IANA timezone -> ISO 3166 country, from the IANA ``zone.tab`` shipped in ``tzdata``."""
    table = resources.files("tzdata").joinpath("zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    regions: dict[str, str] = {}
    for line in table.splitlines():
        if line and not line.startswith("#"):
            fields = line.split("\t")
            if len(fields) >= 3:
                regions.setdefault(fields[2], fields[0])
    return regions


def region_for_timezone(timezone: str | None) -> str | None:
    """The country of an IANA timezone ("Europe/Madrid" -> "ES"); None when unknown."""
    return _timezone_regions().get(timezone) if timezone else None


def customer_region(known: PhoneNumber | None, timezone: str | None, default_region: str) -> str:
    """Where the customer's national numbers are from: the region of the number the bank
    knows, else the country of their timezone, else the bank's."""
    return (known.region if known else None) or region_for_timezone(timezone) or default_region


def example_numbers(region: str) -> tuple[str, str]:
    """A mobile number of ``region`` as customers write it at home and with the country
    code ("612 34 56 78", "+34 612 34 56 78"), for showing the expected format."""
    mobile = phonenumbers.PhoneNumberType.MOBILE
    number = phonenumbers.example_number_for_type(region, mobile) or phonenumbers.example_number_for_type(
        "GB", mobile
    )
    assert number is not None  # phonenumbers ships examples for GB
    return (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
    )


def parse_callback_number(
    text: str,
    *,
    known: PhoneNumber | None,
    default_region: str,
    home_region: str | None = None,
    language_region: str | None = None,
) -> PhoneNumber | None:
    """A number the bank can ring back, from what the customer typed.

    Without a country code, a number is read as one of the customer's own country (the
    region of ``known``, the number they text from or the one on their profile, then
    ``home_region``) first, then as one of ``default_region`` (the bank's), and last, when
    it is no number there, as one of ``language_region`` (the country the bank reads the
    conversation's language with: "06 12 34 56 78" typed in French). The number is read
    back with its country code before anything is booked, so the customer can say no.
    """
    regions = [
        r for r in (known.region if known else None, home_region, default_region, language_region) if r
    ]
    for region in dict.fromkeys(regions):
        number = parse_phone(text, region=region, for_callback=True)
        if number is not None:
            return number
    return None


def sender_number(
    metadata: Mapping[str, Any] | None, *, region: str, for_callback: bool = False
) -> PhoneNumber | None:
    """The number an SMS or WhatsApp message came from (Twilio's ``From``, in the metadata)."""
    metadata = metadata or {}
    phone = metadata.get("phone")
    if metadata.get("channel") != "twilio" or not isinstance(phone, str):
        return None
    return parse_phone(phone, region=region, for_callback=for_callback)


def known_number(metadata: Mapping[str, Any] | None, stored: Any, *, region: str) -> PhoneNumber | None:
    """A number the bank may ring: the one the customer texts from, else the one on their
    profile (``stored``, E.164); None when neither is a callable number."""
    sender = sender_number(metadata, region=region, for_callback=True)
    if sender is not None:
        return sender
    return parse_phone(stored, region=region, for_callback=True) if isinstance(stored, str) else None
