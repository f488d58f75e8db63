"""``python -m bot webchat``: serve the web chat page and relay it to Rasa."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from bot.core.bank import BankConfigError, load_bank_info
from bot.core.commands import reported
from bot.core.settings import Settings
from bot.web.relay import serve


def _cmd_webchat(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    with reported(BankConfigError, exit_code=2):
        bank = load_bank_info(settings.bank_config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    serve(host=args.host, port=args.port, rasa_url=args.rasa_url, bank=bank)
    return 0


def add_commands(sub: Any) -> None:
    """Register the ``webchat`` command on the main parser."""
    web = sub.add_parser("webchat", help="serve the web chat page")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=8080)
    web.add_argument("--rasa-url", default="http://127.0.0.1:5005")
    web.set_defaults(func=_cmd_webchat)
