"""Command line: ``python -m bot COMMAND``.

Commands:
    webchat      serve the web chat page and relay it to Rasa's REST channel
    wait-ready   wait until the given URLs answer (used by the run script)
"""

from __future__ import annotations

import argparse
import logging
import sys

from bot.bank import BankConfigError, load_bank_info
from bot.config import Settings


def _cmd_webchat(args: argparse.Namespace) -> int:
    from bot.webchat import serve

    settings = Settings.from_env()
    try:
        bank = load_bank_info(settings.bank_config)
    except BankConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    serve(host=args.host, port=args.port, rasa_url=args.rasa_url, bank=bank)
    return 0


def _cmd_wait_ready(args: argparse.Namespace) -> int:
    from bot.readiness import wait_ready

    pending = wait_ready(args.urls, timeout=args.timeout)
    if pending:
        print(f"error: not answering after {args.timeout:.0f}s: {', '.join(pending)}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Persona-aware bank assistant tools")
    sub = parser.add_subparsers(dest="command", required=True)

    web = sub.add_parser("webchat", help="serve the web chat page")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=8080)
    web.add_argument("--rasa-url", default="http://127.0.0.1:5005")
    web.set_defaults(func=_cmd_webchat)

    ready = sub.add_parser("wait-ready", help="wait until URLs answer with 2xx")
    ready.add_argument("urls", nargs="+")
    ready.add_argument("--timeout", type=float, default=120.0)
    ready.set_defaults(func=_cmd_wait_ready)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
