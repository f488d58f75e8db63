"""Limits on what one client may send: message size and a rate per key.

``RateLimiter`` is a token bucket per key (a sender id, an IP address): ``capacity``
requests at once, refilled at ``per_minute`` a minute. ``check`` answers whether a request
may go ahead and, when not, how many seconds to wait (for a ``Retry-After`` header). Keys
not seen for a while are forgotten, so memory stays bounded.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

# What a customer may type in one message; longer ones are refused with a clear error.
MAX_MESSAGE_CHARS = 5_000
# What a sender id (a channel's conversation key) may be.
MAX_SENDER_CHARS = 128
DEFAULT_MAX_KEYS = 100_000


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds, when not allowed


class RateLimiter:
    """Token buckets by key; thread-safe."""

    def __init__(
        self,
        *,
        per_minute: float,
        capacity: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        if per_minute <= 0 or capacity < 1:
            raise ValueError("per_minute must be > 0 and capacity >= 1")
        self.rate = per_minute / 60.0
        self.capacity = capacity
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def check(self, key: str) -> Verdict:
        """Take one request from ``key``'s bucket if there is one."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (float(self.capacity), now))
            tokens = min(float(self.capacity), tokens + (now - at) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        if allowed:
            return Verdict(True)
        return Verdict(False, max(1, math.ceil((1.0 - tokens) / self.rate)))
