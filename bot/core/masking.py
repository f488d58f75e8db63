"""Contact details masked in what is kept of a conversation: phone numbers, e-mail
addresses, UK account numbers and sort codes keep only their last characters, enough for
staff to recognise them ("the number ending 456"), not to use them.

* phone numbers — found with ``phonenumbers.PhoneNumberMatcher`` (the bank's region for
  numbers without a country code): ``07911 123456`` → ``•••• ••• 456``;
* e-mail addresses — ``jane.doe@example.com`` → ``j•••@example.com``;
* sort codes — six digits as ``12-34-56`` or ``12 34 56``: → ``••-••-56``;
* account numbers — eight digits within four words after "account" / "cuenta" / "compte":
  ``12345678`` → ``••••5678``.

``mask`` runs after ``bot.core.redaction.redact`` (card data is removed, not masked).
The callback number is kept whole only where the callback needs it: the handoff row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from bot.core.redaction import redact

DOT = "•"
_EMAIL = re.compile(r"(?<![\w.+-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_SORT_CODE = re.compile(r"(?<![\d-])(\d{2})[- ](\d{2})[- ](\d{2})(?![\d-])")
_ACCOUNT = re.compile(r"(?i)\b(?:account|acct|a/c|cuenta|compte)\b(?:\W+\w+){0,4}?\W+(?P<number>\d{8})\b")


@dataclass(frozen=True)
class Masked:
    text: str
    kinds: tuple[str, ...]


def _phone_spans(text: str, region: str) -> list[tuple[int, int]]:
    spans = []
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
        spans.append((match.start, match.end))
    return spans


def _keep_last(value: str, visible: int) -> str:
    digits_seen = 0
    out = []
    for char in reversed(value):
        if char.isdigit():
            digits_seen += 1
            out.append(char if digits_seen <= visible else DOT)
        else:
            out.append(char)
    return "".join(reversed(out))


def mask(text: str, *, region: str = "GB") -> Masked:
    """``text`` with contact details masked, and the kinds masked."""
    kinds: list[str] = []
    for start, end in sorted(_phone_spans(text, region), reverse=True):
        text = text[:start] + _keep_last(text[start:end], 3) + text[end:]
        kinds.append("phone")

    def email(m: re.Match[str]) -> str:
        kinds.append("email")
        return f"{m.group(1)}{DOT * 3}@{m.group(2)}"

    def sort_code(m: re.Match[str]) -> str:
        kinds.append("sort_code")
        return f"{DOT * 2}-{DOT * 2}-{m.group(3)}"

    def account(m: re.Match[str]) -> str:
        kinds.append("account_number")
        number = m.group("number")
        return m.group(0)[: m.start("number") - m.start(0)] + DOT * 4 + number[-4:]

    text = _EMAIL.sub(email, text)
    text = _ACCOUNT.sub(account, text)
    text = _SORT_CODE.sub(sort_code, text)
    return Masked(text, tuple(dict.fromkeys(kinds)))


def protect(text: str, *, region: str = "GB") -> Masked:
    """What is kept of a customer's message: card data removed (``redact``), then contact
    details masked; the kinds of both."""
    redacted = redact(text)
    masked = mask(redacted.text, region=region)
    return Masked(masked.text, tuple(dict.fromkeys(redacted.kinds + masked.kinds)))
