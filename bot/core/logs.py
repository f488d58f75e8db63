"""Logs without card data: every log record made after ``install()`` goes through
``bot.core.redaction.redact`` — its message and its arguments — so a customer who types a
card number at any log level leaves ``[card number removed]`` in the log, never the number.
The action server installs it at start; ``bot.rasa.logs`` adds Rasa's structured logs.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.core.redaction import redact, redact_value

_installed = False


def clean(value: Any) -> Any:
    """``value`` with card data removed from every string in it."""
    return redact_value(value)[0]


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """``record`` with card data removed from its message and arguments."""
    if isinstance(record.msg, str):
        record.msg = redact(record.msg).text
    if record.args:
        record.args = clean(record.args)
    return record


def install() -> None:
    """Redact every log record made from now on (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    make_record = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(make_record(*args, **kwargs))

    logging.setLogRecordFactory(factory)
