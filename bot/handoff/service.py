"""The service policy for handoffs: business hours and the live-chat wait.

Configured in ``bank.yml`` under ``service`` (see the comments there): the timezone of
the business hours, the hours per weekday, the region for numbers typed without a
country code, the callback window length and lead time, the unusable answers before the
callback form gives up, and the live-chat staffing used to estimate an honest wait.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
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
