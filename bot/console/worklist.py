"""What the queue and the callbacks pages share: the service policy's targets, how long
something has waited, times in a timezone, the link to a handoff, where to go back to.

Reads: the bank configuration (``ConsoleConfig.bank_config``), once per file.
"""

from __future__ import annotations

import datetime as dt
import functools
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from bot.console.security import safe_next
from bot.console.views import CONFIG
from bot.handoff.service import ServicePolicy, load_service_policy

HANDOFF_ROUTE = "handoff"
LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "fr": "French"}


@functools.lru_cache(maxsize=4)
def _policy(path: Path) -> ServicePolicy:
    return load_service_policy(path)


def service_policy(request: web.Request) -> ServicePolicy:
    """The service policy of the console's bank configuration (raises ServiceConfigError)."""
    return _policy(request.app[CONFIG].bank_config)


def handoff_url(request: web.Request, reference: str) -> str:
    """The handoff's own page, ``/handoffs/{reference}``."""
    names = request.app.router.named_resources()
    if HANDOFF_ROUTE in names:
        return str(names[HANDOFF_ROUTE].url_for(reference=reference))
    return f"/handoffs/{urllib.parse.quote(reference, safe='')}"


def wait_label(since: dt.datetime, now: dt.datetime) -> str:
    """How long since ``since``, as staff read it at a glance: ``<1 min``, ``12 min``,
    ``2 h 05 min``, ``3 d 4 h``."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 1:
        return "<1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {rest:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def zone(name: str | None, fallback: str) -> ZoneInfo:
    """The IANA timezone ``name``, else ``fallback``'s."""
    for candidate in (name, fallback):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def span_text(start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> str:
    """A window in ``tz``: ``Tue 24 Nov, 14:00–16:00 CET`` (the end's date too when it is
    another day)."""
    first, last = start.astimezone(tz), end.astimezone(tz)
    closing = f"{last:%H:%M %Z}" if last.date() == first.date() else f"{last:%a %d %b, %H:%M %Z}"
    return f"{first:%a %d %b, %H:%M}–{closing}"


def back_path(form: Mapping[str, object], default: str) -> str:
    """The local page a form came from (its ``back`` field), else ``default``."""
    value = form.get("back")
    if isinstance(value, str) and safe_next(value) == value:
        return value
    return default
