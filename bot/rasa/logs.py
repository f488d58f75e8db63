"""Rasa's logs without card data.

``install()`` (run by ``python -m bot.rasa`` before Rasa starts) installs
``bot.core.logs`` for standard-library records and adds the same redaction to the fields
of Rasa's structured logs (``text``, ``parse_data_text``, ``user_message``…).
"""

from __future__ import annotations

from typing import Any

from bot.core import logs

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    logs.install()
    from rasa.utils import log_utils

    anonymise = log_utils._anonymizer

    def redacting_anonymizer(logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        event_dict = anonymise(logger, method, event_dict)
        return {k: logs.clean(v) if k != "event" else v for k, v in event_dict.items()}

    log_utils._anonymizer = redacting_anonymizer
