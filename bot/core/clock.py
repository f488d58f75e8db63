"""The clock: "now", timezone-aware. Services and the NLG take it as a parameter so tests
can fix the time instead of patching it."""

from __future__ import annotations

import datetime as dt


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
