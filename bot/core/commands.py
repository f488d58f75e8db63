"""What the command groups of ``python -m bot`` share: errors the user reads, not tracebacks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class CommandError(Exception):
    """A command failed for a reason the user can act on; ``python -m bot`` prints
    ``error: <message>`` and exits with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@contextmanager
def reported(*errors: type[Exception], exit_code: int = 1) -> Iterator[None]:
    """Turn the expected ``errors`` (a bad file, an unknown reference…) into a ``CommandError``."""
    try:
        yield
    except errors as exc:
        raise CommandError(str(exc), exit_code) from exc
