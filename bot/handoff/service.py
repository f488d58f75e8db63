"""The service policy for handoffs: business hours, the live-chat wait and the targets
staff work to.

Configured in ``bank.yml`` under ``service`` (see the comments there): the timezone of
the business hours, the hours per weekday, the region for numbers typed without a
country code, the callback window length and lead time, the unusable answers before the
callback form gives up, the live-chat staffing used to estimate an honest wait, and the
staff console's targets (``handoff_sla``): how long a live chat may wait for a person, when
a callback becomes overdue, when to try an unanswered callback again.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import yaml

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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
    # Language -> the region of numbers typed without a country code in that language when
    # they are no number of the customer's or the bank's region (``parse_callback_number``).
    language_regions: Mapping[str, str] = field(default_factory=dict)
    window: dt.timedelta = dt.timedelta(hours=2)
    lead: dt.timedelta = dt.timedelta(minutes=30)
    options: int = 3
    # Answers to one callback question that are not understood before the assistant
    # stops asking and passes the customer to a person instead.
    attempts: int = 3
    live_chat_agents: int = 3
    minutes_per_chat: int = 8
    # The staff console's targets: a live chat nobody has claimed for longer than
    # ``live_chat_sla`` is late; a callback not done ``callback_sla`` after its window
    # opens is overdue; after an unanswered call, try again ``callback_retry`` later; after
    # ``callback_no_answers`` unanswered calls a callback needs a decision.
    live_chat_sla: dt.timedelta = dt.timedelta(minutes=5)
    callback_sla: dt.timedelta = dt.timedelta(0)
    callback_retry: dt.timedelta = dt.timedelta(minutes=15)
    callback_no_answers: int = 3

    @property
    def timezone(self) -> ZoneInfo:
        return self.hours.timezone

    def customer_timezone(self, name: str | None) -> ZoneInfo:
        """The customer's timezone (an IANA name from their profile, already validated
        there), else the bank's."""
        return ZoneInfo(name) if name else self.timezone


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

    def minutes(name: str, default: int) -> dt.timedelta:
        value = service.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ServiceConfigError(
                f"{where}.{name} must be a whole number of minutes (0 or more), got {value!r}"
            )
        return dt.timedelta(minutes=value)

    def phone_region(value: Any, key: str) -> str:
        if not isinstance(value, str) or value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ServiceConfigError(f"{where}.{key}: unknown region {value!r}")
        return value.upper()

    region = phone_region(service.get("default_region", "GB"), "default_region")
    raw_languages = service.get("language_regions") or {}
    if not isinstance(raw_languages, dict):
        raise ServiceConfigError(f"{where}.language_regions must map languages to regions (fr: FR)")
    language_regions = {
        str(language): phone_region(value, f"language_regions.{language}")
        for language, value in raw_languages.items()
    }
    return ServicePolicy(
        hours=BusinessHours(tz, days),
        default_region=region,
        language_regions=language_regions,
        window=dt.timedelta(minutes=positive_int("callback_window_minutes", 120)),
        lead=dt.timedelta(minutes=positive_int("callback_lead_minutes", 30)),
        options=positive_int("callback_options", 3),
        attempts=positive_int("callback_attempts", 3),
        live_chat_agents=positive_int("live_chat_agents", 3),
        minutes_per_chat=positive_int("minutes_per_chat", 8),
        live_chat_sla=minutes("live_chat_sla_minutes", 5),
        callback_sla=minutes("callback_sla_minutes", 0),
        callback_retry=minutes("callback_retry_minutes", 15),
        callback_no_answers=positive_int("callback_no_answers", 3),
    )


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


OPEN_STATUSES = frozenset({"open", "claimed"})


@dataclass(frozen=True)
class Sla:
    """Where a handoff stands against the service targets.

    Attributes:
        due_at: a live chat: when it should have been claimed by; a callback: when it
            becomes overdue (its window's start, or the request when it has no window,
            plus ``callback_sla``).
        late: the target is missed and the handoff is still waiting (a live chat still
            open, a callback neither done nor cancelled).
    """

    due_at: dt.datetime
    late: bool


def handoff_sla(
    policy: ServicePolicy,
    *,
    kind: str,
    status: str,
    created_at: dt.datetime,
    window_start: dt.datetime | None = None,
    now: dt.datetime,
) -> Sla:
    """A handoff against the targets (``kind``: ``live_chat`` or ``callback``; ``status``:
    ``open``, ``claimed``, ``done`` or ``cancelled``)."""
    if kind == "live_chat":
        due = created_at + policy.live_chat_sla
        return Sla(due, status == "open" and now > due)
    if kind == "callback":
        due = (window_start or created_at) + policy.callback_sla
        return Sla(due, status in OPEN_STATUSES and now > due)
    raise ValueError(f"unknown handoff kind {kind!r}; use live_chat or callback")


def callback_retry_at(policy: ServicePolicy, last_no_answer: dt.datetime | None) -> dt.datetime | None:
    """When to call again after an unanswered call at ``last_no_answer`` (None: no such call)."""
    return last_no_answer + policy.callback_retry if last_no_answer is not None else None


def callback_needs_decision(policy: ServicePolicy, no_answers: int) -> bool:
    """The customer did not answer ``no_answers`` times: at least ``callback_no_answers``."""
    return no_answers >= policy.callback_no_answers
