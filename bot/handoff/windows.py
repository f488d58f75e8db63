"""Callback time windows: which to offer, how to label them for the customer, how to read
the customer's choice, and how a window is kept in a slot between turns.

Reads: the service policy (``bot.handoff.service``), "now", the customer's timezone and
language. Writes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.phones import region_for_timezone
from bot.handoff.service import ServicePolicy

FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True)
class Window:
    """A callback time window (UTC-aware datetimes); ``asap`` for "as soon as possible"."""

    start: dt.datetime
    end: dt.datetime
    asap: bool = False

    def to_interval(self) -> str:
        """The window as an ISO 8601 time interval (``start/end``), for a text slot."""
        return f"{self.start.isoformat()}/{self.end.isoformat()}"

    @classmethod
    def from_interval(cls, text: Any) -> Window | None:
        """Rebuild from ``to_interval`` output; None when missing or malformed."""
        if not isinstance(text, str) or text.count("/") != 1:
            return None
        start, end = text.split("/")
        return cls.from_json({"start": start, "end": end})

    def to_json(self) -> dict[str, Any]:
        """JSON-safe form, for a slot."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "asap": self.asap}

    @classmethod
    def from_json(cls, data: Any) -> Window | None:
        """Rebuild from ``to_json`` output; None when missing or malformed."""
        if not isinstance(data, Mapping):
            return None
        try:
            start = dt.datetime.fromisoformat(data["start"])
            end = dt.datetime.fromisoformat(data["end"])
        except (KeyError, TypeError, ValueError):
            return None
        if start.tzinfo is None or end.tzinfo is None or end <= start:
            return None
        return cls(start, end, bool(data.get("asap")))


@dataclass(frozen=True)
class WindowOption:
    """A window offered to the customer with the label they saw."""

    window: Window
    label: str

    def to_json(self) -> dict[str, Any]:
        return {**self.window.to_json(), "label": self.label}

    @classmethod
    def from_json(cls, data: Any) -> WindowOption | None:
        window = Window.from_json(data)
        label = data.get("label") if isinstance(data, Mapping) else None
        return cls(window, label) if window is not None and isinstance(label, str) else None


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


_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
}
_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
           "octubre", "noviembre", "diciembre"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre"),
}  # fmt: skip
_DATE = {"en": "{weekday} {day} {month}", "es": "{weekday} {day} de {month}", "fr": "{weekday} {day} {month}"}
_DAY_WORDS = {"en": ("Today", "Tomorrow"), "es": ("Hoy", "Mañana"), "fr": ("Aujourd'hui", "Demain")}
_ASAP_LABEL = {
    "en": "As soon as possible (by {end})",
    "es": "Lo antes posible (antes de las {end})",
    "fr": "Dès que possible (avant {end})",
}


# How customers name the time of the places most of them live in; elsewhere the city of the
# timezone ("Lisbon time"). Never "Europe/London".
_LOCAL_TIME = {
    "GB": {"en": "UK time", "es": "hora del Reino Unido", "fr": "heure du Royaume-Uni"},
    "IE": {"en": "Irish time", "es": "hora de Irlanda", "fr": "heure d'Irlande"},
    "ES": {"en": "Spanish time", "es": "hora peninsular", "fr": "heure d'Espagne"},
    "FR": {"en": "French time", "es": "hora de Francia", "fr": "heure de France"},
}
_CITY_TIME = {"en": "{city} time", "es": "hora de {city}", "fr": "heure de {city}"}


def local_time_name(tz: ZoneInfo, language: str | None) -> str:
    """``UK time``, ``hora del Reino Unido``… for the customer's timezone, in their language."""
    lang = _language(language)
    names = _LOCAL_TIME.get(region_for_timezone(tz.key) or "")
    if names:
        return names[lang]
    return _CITY_TIME[lang].format(city=tz.key.rsplit("/", 1)[-1].replace("_", " "))


def _language(language: str | None) -> str:
    return language if language in _DAY_WORDS else FALLBACK_LANGUAGE


def _days_ahead(at: dt.datetime, now: dt.datetime) -> int:
    """Calendar days from ``now`` to ``at``, counted in ``at``'s timezone (0 = today)."""
    return (at.date() - now.astimezone(at.tzinfo).date()).days


def _day(at: dt.datetime, *, language: str, now: dt.datetime) -> str:
    """``Today``, ``Tomorrow`` or ``Monday 7 December`` for ``at`` (already in the customer's
    timezone), in words: no numeric dates a customer could read day-first or month-first."""
    today, tomorrow = _DAY_WORDS[language]
    days = _days_ahead(at, now)
    if days == 0:
        return today
    if days == 1:
        return tomorrow
    weekday = _WEEKDAYS[language][at.weekday()]
    date = _DATE[language].format(weekday=weekday, day=at.day, month=_MONTHS[language][at.month - 1])
    return date[0].upper() + date[1:]


def clock(at: dt.datetime, language: str) -> str:
    """A time of day as customers of ``language`` write it: ``8am``, ``2:30pm``; ``08:00``."""
    if language != "en":
        return f"{at:%H:%M}"
    hour = at.hour % 12 or 12
    minutes = f":{at.minute:02d}" if at.minute else ""
    return f"{hour}{minutes}{'am' if at.hour < 12 else 'pm'}"


def _span(start: dt.datetime, end: dt.datetime, language: str) -> str:
    """``8–10am``, ``11am–1pm``; ``08:00–10:00``."""
    if language == "en" and (start.hour < 12) == (end.hour < 12):
        first = clock(start, language).removesuffix("am").removesuffix("pm")
        return f"{first}–{clock(end, language)}"
    return f"{clock(start, language)}–{clock(end, language)}"


def window_label(window: Window, *, tz: ZoneInfo, language: str | None, now: dt.datetime) -> str:
    """``Today, 2–4pm`` (``Hoy, 14:00–16:00``) in the customer's timezone and language."""
    lang = _language(language)
    start = window.start.astimezone(tz)
    end = window.end.astimezone(tz)
    if window.asap:
        return _ASAP_LABEL[lang].format(end=clock(end, lang))
    return f"{_day(start, language=lang, now=now)}, {_span(start, end, lang)}"


def moment_label(at: dt.datetime, *, tz: ZoneInfo, language: str | None, now: dt.datetime) -> str:
    """``Tomorrow, 8am`` (when the live chat opens, say) in the customer's timezone and language."""
    local = at.astimezone(tz)
    lang = _language(language)
    return f"{_day(local, language=lang, now=now)}, {clock(local, lang)}"


_ASAP_WORDS = re.compile(
    r"\b(asap|as soon as possible|now|right away|straight away|soon|cuanto antes|lo antes posible|"
    r"ahora|ya|enseguida|dès que possible|des que possible|au plus vite|maintenant|tout de suite)\b",
    re.IGNORECASE,
)
_TOMORROW = re.compile(r"\b(tomorrow|mañana|manana|demain)\b", re.IGNORECASE)
# Parts of the day a customer may name instead of a time (local hours they cover). "por la
# mañana" is "in the morning", not "tomorrow": it is matched, and taken out, first.
_PARTS_OF_DAY = tuple(
    (re.compile("|".join(words), re.IGNORECASE), first, last)
    for words, first, last in (
        (
            (r"\b(?:this )?morning\b", r"\b(?:por|de|en) la (?:mañana|manana)\b",
             r"\b(?:ce )?matin(?:ée)?\b"),
            8, 12,
        ),
        (
            (r"\b(?:this )?afternoon\b", r"\b(?:por|de|en) la tarde\b", r"\besta tarde\b",
             r"\baprès-midi\b", r"\bapres-midi\b", r"\baprem\b"),
            12, 17,
        ),
        (
            (r"\b(?:this )?evening\b", r"\btonight\b", r"\b(?:por|de|en) la noche\b", r"\besta noche\b",
             r"\b(?:ce )?soir(?:ée)?\b"),
            17, 24,
        ),
    )
)  # fmt: skip
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
        part = _part_of_day_window(clean, policy=policy, tz=tz, now=now)
        if part is not None:
            return part
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


def _part_of_day_window(
    clean: str, *, policy: ServicePolicy, tz: ZoneInfo, now: dt.datetime
) -> Window | None:
    """The earliest window in the part of the day a customer named ("tomorrow morning",
    "por la tarde", "demain matin"), or on the day alone ("tomorrow"): today's unless
    "tomorrow" was said or today's has passed. None when no part or day is named, or when
    the lines are closed all that part of the day (the hours are then said again)."""
    rest, first, last = clean, 0, 24
    for rx, part_first, part_last in _PARTS_OF_DAY:
        found = rx.search(clean)
        if found is not None:
            rest = clean[: found.start()] + " " + clean[found.end() :]
            first, last = part_first, part_last
            break
    if (first, last) == (0, 24) and not _TOMORROW.search(clean):
        return None
    tomorrow = bool(_TOMORROW.search(rest))
    today = now.astimezone(tz).date()
    for ahead in (1,) if tomorrow else (0, 1):
        day = today + dt.timedelta(days=ahead)
        earliest = max(dt.datetime.combine(day, dt.time(first), tzinfo=tz), now + policy.lead)
        part_end = dt.datetime.combine(day, dt.time(0), tzinfo=tz) + dt.timedelta(hours=last)
        for span_start, span_end in policy.hours.spans(earliest, days=1):
            start = span_start
            if start.minute % 15 or start.second or start.microsecond:  # a quarter past, half past…
                start = start.replace(second=0, microsecond=0) + dt.timedelta(minutes=15 - start.minute % 15)
            if start < min(span_end, part_end):
                return Window(start, min(start + policy.window, span_end))
    return None


_WHEN = {  # today, tomorrow, another day
    "en": ("today at {time}", "tomorrow at {time}", "on {day} at {time}"),
    "es": ("hoy a las {time}", "mañana a las {time}", "el {day} a las {time}"),
    "fr": ("aujourd'hui à {time}", "demain à {time}", "{day} à {time}"),
}
_CLOSED = {
    "en": "closed now; open again {when}",
    "es": "ahora cerrado; vuelve a abrir {when}",
    "fr": "fermé pour le moment ; réouverture {when}",
}


def closed_hours_text(
    policy: ServicePolicy, *, now: dt.datetime, tz: ZoneInfo, language: str | None
) -> str | None:
    """What to say instead of the opening hours while the lines are closed ("closed now;
    open again tomorrow at 08:00", in the customer's timezone and language); None while open."""
    if policy.hours.is_open(now):
        return None
    lang = _language(language)
    opens = policy.hours.next_open(now)
    if opens is None:
        return _CLOSED[lang].split(";")[0]
    local = opens.astimezone(tz)
    days = _days_ahead(local, now)
    today, tomorrow, other = _WHEN[lang]
    pattern = today if days == 0 else tomorrow if days == 1 else other
    when = pattern.format(time=clock(local, lang), day=_WEEKDAYS[lang][local.weekday()])
    return _CLOSED[lang].format(when=when)
