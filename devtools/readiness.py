"""Wait until HTTP services answer, for the run script and the tests."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import Callable, Sequence

DEFAULT_INTERVAL_SECONDS = 0.5


def is_up(url: str, *, timeout: float = 2.0) -> bool:
    """True when ``url`` answers a GET with a 2xx status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (loopback URLs)
            status: int = resp.status
            return 200 <= status < 300
    except (urllib.error.URLError, OSError):
        return False


def wait_ready(
    urls: Sequence[str],
    *,
    timeout: float,
    interval: float = DEFAULT_INTERVAL_SECONDS,
    alive: Callable[[], bool] = lambda: True,
) -> list[str]:
    """Poll ``urls`` until all answer or ``timeout`` seconds pass.

    Args:
        urls: URLs that must answer with 2xx.
        timeout: seconds to wait in all.
        interval: seconds between rounds.
        alive: called each round; returning False stops waiting early (a process died).

    Returns:
        The URLs that still do not answer (empty when all are up).
    """
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending and time.monotonic() < deadline and alive():
        pending = [url for url in pending if not is_up(url)]
        if pending:
            time.sleep(interval)
    return pending
