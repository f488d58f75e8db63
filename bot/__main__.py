"""Command line: ``python -m bot COMMAND``.

Commands (each group lives with its package):
    personas check [FILE]                validate a persona catalogue            (bot.persona.cli)
    personas evaluate FILE [--json]      persona / language / phone-offer accuracy on
                                         labelled conversations
    personas export-corrections FILE     staff's persona corrections as labelled conversations
    wording check [--strict]             responses missing a language or a variant (bot.wording.cli)
    webchat                              serve the chat widget, a demo help page and the REST
                                         relay to Rasa                           (bot.web.cli)
    webchat-link CUSTOMER                the demo page's address with a signed identity token
    db upgrade | prepare | seed FILE     migrations; + import spooled handoffs; load customers
                                                                                 (bot.store.cli)
    handoff list | show | claim | reply | done | cancel | correct | resume
                                         the staff queue of callbacks and live chats
                                                                                 (bot.handoff.cli)
    console                              serve the staff console (web)          (bot.console.cli)
    staff add-user NAME | list | disable NAME
                                         staff console accounts
"""

from __future__ import annotations

import argparse
import os
import sys

# spaCy's thinc imports TensorFlow when it is installed (Rasa installs it) only to offer
# TensorFlow layers; no command here uses them, and the import takes ~4 s. Marking the
# module absent makes thinc skip it (Rasa itself runs in its own process, bot.rasa).
if "tensorflow" not in sys.modules:
    sys.modules["tensorflow"] = None  # type: ignore[assignment]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bot.console import cli as console_cli
from bot.core.commands import CommandError
from bot.handoff import cli as handoff_cli
from bot.persona import cli as persona_cli
from bot.store import cli as store_cli
from bot.web import cli as web_cli
from bot.wording import cli as wording_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Persona-aware bank assistant tools")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (persona_cli, wording_cli, web_cli, store_cli, handoff_cli, console_cli):
        group.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
