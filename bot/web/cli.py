"""``python -m bot webchat``: serve the chat widget, the demo help page and the REST relay.
``python -m bot webchat-link CUSTOMER``: the demo page's address for a logged-in customer."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from bot.core.bank import BankConfigError, load_bank_info
from bot.core.commands import CommandError, reported
from bot.core.identity import IDENTITY_KEY_ENV, IdentityKeyError, identity_key, issue_token
from bot.core.settings import Settings
from bot.web.relay import create_app, serve

DEFAULT_LINK_HOURS = 1.0


def _cmd_webchat(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    with reported(BankConfigError, exit_code=2):
        bank = load_bank_info(settings.bank_config)
    with reported(ValueError, OSError, exit_code=2):  # a bad --rasa-url, a missing file
        app = create_app(rasa_url=args.rasa_url, bank=bank)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    serve(app, host=args.host, port=args.port)
    return 0


def _cmd_link(args: argparse.Namespace) -> int:
    """Sign a token for the customer as the bank's website would, and print the demo page's
    address carrying it (``#identity=…``: the fragment never reaches a server)."""
    with reported(IdentityKeyError, exit_code=2):
        key = identity_key()
    if key is None:
        raise CommandError(f"{IDENTITY_KEY_ENV} is not set: 'source scripts/env.sh' sets it", 2)
    if args.hours <= 0:
        raise CommandError(f"--hours must be positive, got {args.hours}", 2)
    with reported(ValueError, exit_code=2):
        token = issue_token(args.customer, key=key, ttl_seconds=int(args.hours * 3600))
    print(f"{args.base_url.rstrip('/')}/#identity={token}")
    return 0


def add_commands(sub: Any) -> None:
    """Register the ``webchat`` and ``webchat-link`` commands on the main parser."""
    web = sub.add_parser(
        "webchat", help="serve the chat widget, a demo help page embedding it, and the REST relay"
    )
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=8080)
    web.add_argument(
        "--rasa-url",
        default="http://127.0.0.1:5005",
        help="where browsers reach Rasa (the widget's socket.io server and the relay's target)",
    )
    web.set_defaults(func=_cmd_webchat)

    link = sub.add_parser(
        "webchat-link", help="the demo page's address with a signed identity token for a customer"
    )
    link.add_argument("customer", help="customer id, e.g. margaret.w (demo/customers.yml)")
    link.add_argument("--base-url", default="http://127.0.0.1:8080")
    link.add_argument("--hours", type=float, default=DEFAULT_LINK_HOURS, help="how long the token is valid")
    link.set_defaults(func=_cmd_link)
