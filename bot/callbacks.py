"""Phone callbacks and live chat: business hours, time windows, numbers, waiting times.

Configured in ``bank.yml`` under ``service`` (see the comments there): the timezone of
the business hours, the hours per weekday, the region for numbers typed without a
country code, the callback window length and lead time, and the live-chat staffing used
to estimate an honest wait.

Reads: the policy, "now", the customer's timezone and language. Writes nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import yaml

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FALLBACK_LANGUAGE = "en"


class ServiceConfigError(ValueError):
    """The ``service`` section of the bank configuration is invalid; names file and field."""


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours per weekday (Monday = 0) in one timezone."""

    timezone: ZoneInfo
    days: Mapping[int, tuple[dt.time, dt.time]]

    def _span(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        hours = self.days.get(day.weekday())
        if hours is None:
            return None
        start = dt.datetime.combine(day, hours[0], tzinfo=self.timezone)
        end = dt.datetime.combine(day, hours[1], tzinfo=self.timezone)
        return start, end

    def is_open(self, at: dt.datetime) -> bool:
        span = self._span(at.astimezone(self.timezone).date())
        return span is not None and span[0] <= at < span[1]

    def spans(self, start: dt.datetime, days: int = 14) -> list[tuple[dt.datetime, dt.datetime]]:
        """Opening spans from ``start`` on (the current one clipped to ``start``)."""
        local = start.astimezone(self.timezone).date()
        out = []
        for offset in range(days + 1):
            span = self._span(local + dt.timedelta(days=offset))
            if span is None or span[1] <= start:
                continue
            out.append((max(span[0], start), span[1]))
        return out

    def next_open(self, at: dt.datetime) -> dt.datetime | None:
        """``at`` when open, else when the next opening span starts."""
        spans = self.spans(at)
        return spans[0][0] if spans else None


@dataclass(frozen=True)
class ServicePolicy:
    hours: BusinessHours
    default_region: str = "GB"
    window: dt.timedelta = dt.timedelta(hours=2)
    lead: dt.timedelta = dt.timedelta(minutes=30)
    options: int = 3
    # Answers to one callback question that are not understood before the assistant
    # stops asking and passes the customer to a person instead.
    attempts: int = 3
    live_chat_agents: int = 3
    minutes_per_chat: int = 8

    @property
    def timezone(self) -> ZoneInfo:
        return self.hours.timezone


@dataclass(frozen=True)
class Window:
    """A callback time window (UTC-aware datetimes); ``asap`` for "as soon as possible"."""

    start: dt.datetime
    end: dt.datetime
    asap: bool = False


def _parse_clock(text: str, where: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text.strip())
    except ValueError as exc:
        raise ServiceConfigError(f"{where}: {text!r} is not a time such as 08:00") from exc


def load_service_policy(path: Path) -> ServicePolicy:
    """Read the ``service`` section of the bank configuration.

    Raises:
        ServiceConfigError: naming the file and the field.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ServiceConfigError(f"{path}: cannot read: {exc}") from exc
    service = data.get("service") if isinstance(data, dict) else None
    if not isinstance(service, dict):
        raise ServiceConfigError(f"{path}: field 'service' must be a mapping")
    return policy_from_mapping(service, where=f"{path}: service")


def policy_from_mapping(service: Mapping[str, Any], *, where: str = "service") -> ServicePolicy:
    try:
        tz = ZoneInfo(str(service.get("timezone")))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ServiceConfigError(f"{where}.timezone: unknown timezone {service.get('timezone')!r}") from exc
    raw_hours = service.get("hours")
    if not isinstance(raw_hours, dict) or not raw_hours:
        raise ServiceConfigError(f"{where}.hours must map weekdays (mon…sun) to 'HH:MM-HH:MM'")
    days: dict[int, tuple[dt.time, dt.time]] = {}
    for day, span in raw_hours.items():
        if day not in WEEKDAYS:
            raise ServiceConfigError(f"{where}.hours: unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
        if not isinstance(span, str) or span.count("-") != 1:
            raise ServiceConfigError(f"{where}.hours.{day}: expected 'HH:MM-HH:MM', got {span!r}")
        opens, closes = (_parse_clock(p, f"{where}.hours.{day}") for p in span.split("-"))
        if closes <= opens:
            raise ServiceConfigError(f"{where}.hours.{day}: closes before it opens ({span})")
        days[WEEKDAYS.index(day)] = (opens, closes)

    def positive_int(name: str, default: int) -> int:
        value = service.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ServiceConfigError(f"{where}.{name} must be a positive integer, got {value!r}")
        return value

    region = service.get("default_region", "GB")
    if not isinstance(region, str) or region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ServiceConfigError(f"{where}.default_region: unknown region {region!r}")
    return ServicePolicy(
        hours=BusinessHours(tz, days),
        default_region=region.upper(),
        window=dt.timedelta(minutes=positive_int("callback_window_minutes", 120)),
        lead=dt.timedelta(minutes=positive_int("callback_lead_minutes", 30)),
        options=positive_int("callback_options", 3),
        attempts=positive_int("callback_attempts", 3),
        live_chat_agents=positive_int("live_chat_agents", 3),
        minutes_per_chat=positive_int("minutes_per_chat", 8),
    )


# --- callback windows -------------------------------------------------------------------


def callback_windows(policy: ServicePolicy, now: dt.datetime) -> list[Window]:
    """The windows to offer: "as soon as possible" while open, then whole-hour windows."""
    earliest = now + policy.lead
    asap: list[Window] = []
    if policy.hours.is_open(now) and policy.hours.is_open(earliest):
        span_end = next(end for start, end in policy.hours.spans(now) if start <= now < end)
        asap.append(Window(now, min(now + policy.window, span_end), asap=True))
    regular: list[Window] = []
    for span_start, span_end in policy.hours.spans(earliest):
        local = span_start.astimezone(policy.timezone)
        start = local.replace(minute=0, second=0, microsecond=0)
        if start < local:
            start += dt.timedelta(hours=1)
        while start + policy.window <= span_end and len(regular) < policy.options:
            regular.append(Window(start, start + policy.window))
            start += policy.window
        if len(regular) >= policy.options:
            break
    return asap + regular


_DAY_WORDS = {
    "en": ("Today", "Tomorrow", ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")),
    "es": ("Hoy", "Mañana", ("lun.", "mar.", "mié.", "jue.", "vie.", "sáb.", "dom.")),
    "fr": ("Aujourd'hui", "Demain", ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")),
}
_ASAP_LABEL = {
    "en": "As soon as possible (by {end})",
    "es": "Lo antes posible (antes de las {end})",
    "fr": "Dès que possible (avant {end})",
}


def window_label(window: Window, *, tz: ZoneInfo, language: str | None, now: dt.datetime) -> str:
    """``Today 14:00–16:00`` in the customer's timezone and language."""
    lang = language if language in _DAY_WORDS else FALLBACK_LANGUAGE
    start = window.start.astimezone(tz)
    end = window.end.astimezone(tz)
    if window.asap:
        return _ASAP_LABEL[lang].format(end=end.strftime("%H:%M"))
    today, tomorrow, names = _DAY_WORDS[lang]
    days = (start.date() - now.astimezone(tz).date()).days
    day = (
        today
        if days == 0
        else tomorrow
        if days == 1
        else f"{names[start.weekday()]} {start.day:02d}/{start.month:02d}"
    )
    return f"{day} {start:%H:%M}–{end:%H:%M}"


_ASAP_WORDS = re.compile(
    r"\b(asap|as soon as possible|now|right away|straight away|soon|cuanto antes|lo antes posible|"
    r"ahora|ya|enseguida|dès que possible|des que possible|au plus vite|maintenant|tout de suite)\b",
    re.IGNORECASE,
)
_TOMORROW = re.compile(r"\b(tomorrow|mañana|manana|demain)\b", re.IGNORECASE)
_CLOCK = re.compile(r"\b(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|h\b)?", re.IGNORECASE)
_INDEX = re.compile(r"^\s*(?:option\s*|opción\s*|opcion\s*)?(\d)\s*[.)]?\s*$", re.IGNORECASE)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("–", "-").replace("—", "-")).strip().casefold()


def parse_window_choice(
    text: str,
    *,
    options: Sequence[Window],
    labels: Sequence[str],
    policy: ServicePolicy,
    tz: ZoneInfo,
    now: dt.datetime,
) -> Window | None:
    """The window a customer chose: an option's number or label, "as soon as possible",
    or a clock time (``3pm``, ``15:00``, ``tomorrow 10h``) inside the business hours."""
    clean = _norm(text)
    index = _INDEX.match(clean)
    if index:
        n = int(index.group(1))
        return options[n - 1] if 1 <= n <= len(options) else None
    for option, label in zip(options, labels, strict=False):
        if clean == _norm(label):
            return option
    clock = _CLOCK.search(clean)
    if clock is None:
        if _ASAP_WORDS.search(clean) and options:
            return options[0]
        return None
    hour, minute = int(clock.group(1)), int(clock.group(2) or 0)
    suffix = (clock.group(3) or "").lower()
    if suffix == "pm" and hour < 12:
        hour += 12
    elif suffix == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    local_now = now.astimezone(tz)
    day = local_now.date() + dt.timedelta(days=1 if _TOMORROW.search(clean) else 0)
    start = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)
    if start < now + policy.lead and not _TOMORROW.search(clean):
        start += dt.timedelta(days=1)
    if start < now + policy.lead:
        return None
    for span_start, span_end in policy.hours.spans(start - dt.timedelta(days=1)):
        if span_start <= start < span_end:
            return Window(start, min(start + policy.window, span_end))
    return None


def describe_hours(policy: ServicePolicy) -> str:
    """``Mon–Fri 08:00–20:00, Sat 09:00–17:00`` (for error messages and logs)."""
    parts = []
    for day in range(7):
        if day in policy.hours.days:
            opens, closes = policy.hours.days[day]
            parts.append(f"{WEEKDAYS[day].title()} {opens:%H:%M}–{closes:%H:%M}")
    return ", ".join(parts)


# --- numbers ------------------------------------------------------------------------------


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


def parse_callback_number(text: str, *, regions: Sequence[str]) -> PhoneNumber | None:
    """A number the bank can ring back, with national numbers tried in each region in turn."""
    for region in dict.fromkeys(regions):
        number = parse_phone(text, region=region, for_callback=True)
        if number is not None:
            return number
    return None


def display_number(e164: str) -> str:
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164


# --- live chat ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wait:
    """Expected wait for a person in the chat: minutes while open, else when it opens."""

    minutes: int | None
    opens_at: dt.datetime | None = None


def live_chat_wait(policy: ServicePolicy, *, ahead: int, now: dt.datetime) -> Wait:
    """``ahead`` customers wait before this one; each agent takes ``minutes_per_chat``."""
    if not policy.hours.is_open(now):
        return Wait(None, policy.hours.next_open(now))
    rounds = math.floor(ahead / policy.live_chat_agents) + 1
    return Wait(max(2, rounds * policy.minutes_per_chat))
