"""``python -m bot wording check``: responses missing a language or a persona's variant."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from bot.core.commands import reported
from bot.persona.catalogue import CatalogueError, load_catalogue
from bot.persona.cli import catalogue_path
from bot.wording.catalogue import WordingError, check_completeness, check_consistency, load_wording


def _cmd_check(args: argparse.Namespace) -> int:
    with reported(CatalogueError, WordingError, OSError, yaml.YAMLError, exit_code=2):
        personas = load_catalogue(catalogue_path(args.personas), compile_patterns=False)
        domain = yaml.safe_load(Path(args.domain).read_text(encoding="utf-8")) or {}
        responses = domain.get("responses") or {}
        wording = load_wording(Path(args.dir), personas=personas, domain_responses=responses)
    errors, warnings = check_completeness(wording, responses=responses, personas=personas)
    drift = check_consistency(wording)
    for line in errors:
        print(f"missing: {line}")
    for line in drift:
        print(f"inconsistent: {line}")
    for line in warnings:
        print(f"variant: {line}")
    total = len(responses)
    print(
        f"{total} responses × {len(wording.languages)} languages: "
        f"{len(errors)} missing defaults, {len(drift)} inconsistent, {len(warnings)} missing variants"
    )
    return 1 if errors or drift or (args.strict and warnings) else 0


def add_commands(sub: Any) -> None:
    """Register the ``wording`` command group on the main parser."""
    wording = sub.add_parser("wording", help="wording catalogue tools").add_subparsers(
        dest="wording_command", required=True
    )
    check = wording.add_parser("check", help="list responses missing a language or a persona's variant")
    check.add_argument("--dir", default="data/wording", help="wording catalogue folder")
    check.add_argument("--domain", default="domain.yml")
    check.add_argument("--personas", help="catalogue file (default: $PERSONAS_FILE or personas.yml)")
    check.add_argument("--strict", action="store_true", help="also fail on missing variants")
    check.set_defaults(func=_cmd_check)
