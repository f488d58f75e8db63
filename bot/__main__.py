"""Command line: ``python -m bot COMMAND``.

Commands:
    personas check [FILE]                validate a persona catalogue
    personas evaluate FILE [--json]      persona / language / phone-offer accuracy on
                                         labelled conversations
    wording check [--strict]             list responses missing a language or a variant
    webchat                              serve the web chat page and relay it to Rasa
    wait-ready URL...                    wait until the URLs answer (used by the run script)
    db upgrade | prepare | seed FILE     migrations; + import spooled handoffs; load customers
    handoff list | show | claim | done | cancel | correct | resume
                                         the staff queue of callbacks and live chats
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

# spaCy's thinc imports TensorFlow when it is installed (Rasa installs it); keep it quiet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

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


def _catalogue_path(value: str | None) -> Path:
    return Path(value) if value else Settings.from_env().personas_file


def _cmd_personas_check(args: argparse.Namespace) -> int:
    from bot.personas import CatalogueError, load_catalogue

    path = _catalogue_path(args.file)
    try:
        catalogue = load_catalogue(path)
    except CatalogueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"{path}: OK — {len(catalogue.personas)} personas ({', '.join(catalogue.ids)}), "
        f"{len(catalogue.signals)} signals, languages {', '.join(catalogue.settings.languages)}"
    )
    return 0


def _cmd_personas_evaluate(args: argparse.Namespace) -> int:
    from bot.assessment import PersonaEngine
    from bot.cues import CueExtractor
    from bot.evaluation import EvaluationFileError, evaluate, load_conversations
    from bot.personas import CatalogueError, load_catalogue

    try:
        catalogue = load_catalogue(_catalogue_path(args.personas))
        conversations = load_conversations(Path(args.file), persona_ids=catalogue.ids)
    except (CatalogueError, EvaluationFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = evaluate(conversations, extractor=CueExtractor(catalogue), engine=PersonaEngine(catalogue))
    print(json.dumps(report.to_json(), ensure_ascii=False, indent=2) if args.json else report.to_text())
    if args.check_targets:
        failed = report.failed_targets()
        if failed:
            print("below target: " + "; ".join(failed), file=sys.stderr)
            return 1
    return 0


def _cmd_wording_check(args: argparse.Namespace) -> int:
    import yaml

    from bot.personas import CatalogueError, load_catalogue
    from bot.wording import WordingError, check_completeness, load_wording

    try:
        personas = load_catalogue(_catalogue_path(args.personas), compile_patterns=False)
        domain = yaml.safe_load(Path(args.domain).read_text(encoding="utf-8")) or {}
        responses = domain.get("responses") or {}
        wording = load_wording(Path(args.dir), personas=personas, domain_responses=responses)
    except (CatalogueError, WordingError, OSError, yaml.YAMLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    errors, warnings = check_completeness(wording, responses=responses, personas=personas)
    for line in errors:
        print(f"missing: {line}")
    for line in warnings:
        print(f"variant: {line}")
    total = len(responses)
    print(
        f"{total} responses × {len(wording.languages)} languages: "
        f"{len(errors)} missing defaults, {len(warnings)} missing variants"
    )
    return 1 if errors or (args.strict and warnings) else 0


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

    personas = sub.add_parser("personas", help="persona catalogue tools").add_subparsers(
        dest="personas_command", required=True
    )
    check = personas.add_parser("check", help="validate a persona catalogue")
    check.add_argument("file", nargs="?", help="catalogue file (default: $PERSONAS_FILE or personas.yml)")
    check.set_defaults(func=_cmd_personas_check)
    ev = personas.add_parser("evaluate", help="evaluate on labelled conversations")
    ev.add_argument("file", help="labelled conversations (YAML, see docs/personas.md)")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument("--personas", help="catalogue file (default: $PERSONAS_FILE or personas.yml)")
    ev.add_argument("--check-targets", action="store_true", help="exit 1 when a metric is below its target")
    ev.set_defaults(func=_cmd_personas_evaluate)

    wording = sub.add_parser("wording", help="wording catalogue tools").add_subparsers(
        dest="wording_command", required=True
    )
    wcheck = wording.add_parser("check", help="list responses missing a language or a persona's variant")
    wcheck.add_argument("--dir", default="data/wording", help="wording catalogue folder")
    wcheck.add_argument("--domain", default="domain.yml")
    wcheck.add_argument("--personas", help="catalogue file (default: $PERSONAS_FILE or personas.yml)")
    wcheck.add_argument("--strict", action="store_true", help="also fail on missing variants")
    wcheck.set_defaults(func=_cmd_wording_check)

    web = sub.add_parser("webchat", help="serve the web chat page")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=8080)
    web.add_argument("--rasa-url", default="http://127.0.0.1:5005")
    web.set_defaults(func=_cmd_webchat)

    from bot.store.cli import add_commands

    add_commands(sub)

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
