"""Remove card numbers, IBANs, security codes and passwords from customer messages.

Transcripts are written to the database for support staff to read, and they must never
hold a card number, an IBAN, a card security code, a PIN or a password. ``redact`` replaces
each of them with a fixed placeholder and reports what it removed:

* ``card`` — 13 to 19 digits, written together or in groups split by single spaces or
  hyphens, that pass the Luhn check. Order and reference numbers of that length almost
  always fail it, so they stay readable for staff.
* ``iban`` — two letters, two check digits and 11 to 30 letters or digits, written together
  or in groups of four split by spaces, that pass the ISO 13616 mod-97 check.
* ``cvv`` — a 3- or 4-digit number at most four words after "cvv", "security code",
  "three digits on the back", "código de seguridad", "cryptogramme", "trois chiffres"...
* ``pin`` — a 4- to 6-digit number at most four words after "pin", "code secret"...
* ``password`` — the word after "password", "passcode", "contraseña", "clave",
  "mot de passe", "mdp"... when an explicit "is/es/est/was/era/était" or ":"/"=" joins
  them ("my password is X", "password: X"). Without that connector ("I forgot my
  password", "mot de passe oublié") or when the word shows there is no secret ("my password
  is not working") nothing is removed.

Keywords are kept and only the secret goes, so staff still see what the customer tried to
share. Redaction is idempotent: the placeholders are never matched again, and a number
split by a removed secret is checked again on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

REDACTED_CARD = "[card number removed]"
REDACTED_IBAN = "[IBAN removed]"
REDACTED_CODE = "[security code removed]"
REDACTED_SECRET = "[password removed]"  # noqa: S105 - a placeholder, not a password

# Every kind ``redact`` reports, by priority: when two findings overlap, their union is
# removed under the kind listed first.
KINDS: tuple[str, ...] = ("iban", "card", "password", "cvv", "pin")

_PLACEHOLDERS = {
    "card": REDACTED_CARD,
    "iban": REDACTED_IBAN,
    "cvv": REDACTED_CODE,
    "pin": REDACTED_CODE,
    "password": REDACTED_SECRET,
}

# Removed text (and placeholders already in the message) is masked with this character,
# which no pattern below matches, so nothing is found twice.
_MASK = "\x00"
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in sorted(set(_PLACEHOLDERS.values()))))
# A UUID (8-4-4-4-12 hex digits): a conversation or transaction id, never card data, though
# its first groups may be all digits and pass the card check ("66193851-7477-4104-9f8a-…",
# one random UUID in ten thousand). Masked before anything is looked for.
_UUID_RE = re.compile(r"(?<!\w)[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}(?!\w)")

# A group of digits standing alone (not glued to letters); groups joined by one space or
# hyphen form a run, the unit cards, security codes and PINs are read from.
_DIGIT_GROUP_RE = re.compile(r"(?<!\w)[0-9]+(?!\w)")
_RUN_SEPARATORS = (" ", "-")

_IBAN_RE = re.compile(
    r"(?<!\w)[A-Za-z]{2}[0-9]{2}"
    r"(?:[A-Za-z0-9]{11,30}|(?: [A-Za-z0-9]{4})*(?: [A-Za-z0-9]{1,4})?)(?!\w)"
)

# Between a keyword and the code: up to four words (no digits), joined by spaces, ":", "=", "#", "-".
_SEP = r"[\s:=#\-]+"
_WORD = r"[^\W\d_]+(?:['’][^\W\d_]+)*"
_GAP = rf"(?:{_SEP}{_WORD}){{0,4}}{_SEP}"

_CVV_KEYWORDS = (
    r"cvv2|cvc2|cvv|cvc|cv2|csc",
    r"security\s+code",
    r"(?:3|three)\s+digits(?:\s+on\s+the\s+back)?",
    r"the\s+code\s+on\s+the\s+back",
    r"c[óo]digo\s+de\s+seguridad",
    r"tres\s+d[íi]gitos",
    r"cryptogramme(?:\s+visuel)?",
    r"code\s+de\s+s[ée]curit[ée]",
    r"trois\s+chiffres",
)
_PIN_KEYWORDS = (r"pin(?:\s+code)?", r"code\s+pin", r"code\s+secret")

_CVV_RE = re.compile(rf"(?<!\w)(?:{'|'.join(_CVV_KEYWORDS)}){_GAP}(?P<code>[0-9]{{3,4}})(?![0-9])", re.I)
_PIN_RE = re.compile(rf"(?<!\w)(?:{'|'.join(_PIN_KEYWORDS)}){_GAP}(?P<code>[0-9]{{4,6}})(?![0-9])", re.I)

_PASSWORD_KEYWORDS = (
    r"pass\s?word|passcode|passphrase|pwd",
    r"contrase[ñn]a|clave(?:\s+de\s+acceso)?|c[óo]digo\s+de\s+acceso",
    r"mot\s+de\s+passe|mdp|code\s+d['’]acc[èe]s",
)
_CONNECTOR = (
    r"(?:\s*[:=]\s*"
    r"|\s+(?:is|was|es|era|est|était|etait)(?:\s+(?:now|ahora|maintenant))?(?:\s*[:=]\s*|\s+))"
)
_PASSWORD_RE = re.compile(
    rf"(?<!\w)(?:{'|'.join(_PASSWORD_KEYWORDS)}){_CONNECTOR}(?P<secret>[^\s\x00]+)", re.I
)
_TRAILING_PUNCTUATION = ".,!?;:…"

# Words after "password is" that show the customer is not giving the secret.
_NOT_A_SECRET = frozenset(
    """
    not no wrong incorrect invalid expired blocked locked correct right the a an my your too
    still being been same different forgotten forgot lost changed reset working required
    needed missing empty weak strong long short now ahora maintenant
    incorrecta incorrecto errónea erróneo erronea erroneo correcta correcto inválida invalida
    caducada bloqueada olvidada la el los las un una mi tu su muy demasiado que igual otra
    diferente
    pas incorrect incorrecte faux fausse erroné erronée errone erronee invalide expiré expirée
    expire expiree bloqué bloquée bloque bloquee oublié oubliée oublie correct correcte bon
    bonne le les une mon ma ton ta son sa trop toujours
    """.split()
)


@dataclass(frozen=True)
class Redaction:
    """A message with its sensitive parts removed.

    Attributes:
        text: the message with each finding replaced by its placeholder.
        kinds: what was removed, one entry per placeholder, in order of appearance; each one
            of ``"card"``, ``"iban"``, ``"cvv"``, ``"pin"`` and ``"password"``.
    """

    text: str
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    kind: str


def redact(text: str) -> Redaction:
    """Remove card numbers, IBANs, security codes, PINs and passwords from ``text``.

    Text outside the removed parts is kept exactly; a message with nothing to remove comes
    back as the same string with no kinds.
    """
    work = _PLACEHOLDER_RE.sub(lambda m: _MASK * len(m.group()), text)
    if "-" in work:
        work = _UUID_RE.sub(lambda m: _MASK * len(m.group()), work)
    spans: list[_Span] = []
    # Removing one finding can leave a number standing on its own (a card after a
    # password); look again until nothing new turns up. Each round masks new characters.
    while found := _merge(_find(work)):
        spans.extend(found)
        for span in found:
            work = work[: span.start] + _MASK * (span.end - span.start) + work[span.end :]
    if not spans:
        return Redaction(text, ())
    spans.sort(key=lambda s: s.start)
    parts: list[str] = []
    position = 0
    for span in spans:
        parts += [text[position : span.start], _PLACEHOLDERS[span.kind]]
        position = span.end
    parts.append(text[position:])
    return Redaction("".join(parts), tuple(span.kind for span in spans))


def _find(text: str) -> list[_Span]:
    runs = list(_digit_runs(text))
    single_groups = {(start, end) for start, end, digits in runs if end - start == len(digits)}
    spans = [
        _Span(start, end, "card") for start, end, digits in runs if 13 <= len(digits) <= 19 and _luhn(digits)
    ]
    spans += _ibans(text)
    for pattern, kind in ((_CVV_RE, "cvv"), (_PIN_RE, "pin")):
        spans += [
            _Span(m.start("code"), m.end("code"), kind)
            for m in pattern.finditer(text)
            if m.span("code") in single_groups
        ]
    for m in _PASSWORD_RE.finditer(text):
        secret = m.group("secret").rstrip(_TRAILING_PUNCTUATION)
        if secret and secret.casefold() not in _NOT_A_SECRET:
            spans.append(_Span(m.start("secret"), m.start("secret") + len(secret), "password"))
    return spans


def _merge(spans: list[_Span]) -> list[_Span]:
    """Join overlapping spans, each union under the kind of highest priority."""
    merged: list[_Span] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            kind = min(last.kind, span.kind, key=KINDS.index)
            merged[-1] = _Span(last.start, max(last.end, span.end), kind)
        else:
            merged.append(span)
    return merged


def _digit_runs(text: str) -> Iterator[tuple[int, int, str]]:
    """Yield ``(start, end, digits)`` for each run of digit groups joined by one space or hyphen."""
    start = end = -1
    digits = ""
    for m in _DIGIT_GROUP_RE.finditer(text):
        if start >= 0 and text[end : m.start()] in _RUN_SEPARATORS:
            end, digits = m.end(), digits + m.group()
            continue
        if start >= 0:
            yield start, end, digits
        start, end, digits = m.start(), m.end(), m.group()
    if start >= 0:
        yield start, end, digits


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _ibans(text: str) -> list[_Span]:
    """IBAN spans; a grouped candidate is shortened group by group until it passes mod-97.

    Shortening lets a following word ("... 1332 is mine") sit right after the IBAN.
    """
    spans: list[_Span] = []
    for m in _IBAN_RE.finditer(text):
        groups = m.group().split(" ")
        for count in range(len(groups), 0, -1):
            if _iban_valid("".join(groups[:count])):
                length = sum(len(g) for g in groups[:count]) + count - 1
                spans.append(_Span(m.start(), m.start() + length, "iban"))
                break
    return spans


def _iban_valid(compact: str) -> bool:
    if not 15 <= len(compact) <= 34 or not compact.isascii() or not compact[2:4].isdigit():
        return False
    rearranged = (compact[4:] + compact[:4]).upper()
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def redact_value(value: Any) -> tuple[Any, tuple[str, ...]]:
    """``value`` (a string, or lists, tuples and dicts of them) with every string redacted,
    and the kinds removed; other values as they are."""
    if isinstance(value, str):
        result = redact(value)
        return result.text, result.kinds
    if isinstance(value, (list, tuple)):
        pairs = [redact_value(v) for v in value]
        return type(value)(v for v, _ in pairs), tuple(k for _, ks in pairs for k in ks)
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        kinds: list[str] = []
        for key, item in value.items():
            out[key], found = redact_value(item)
            kinds += found
        return out, tuple(kinds)
    return value, ()
