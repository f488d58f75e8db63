"""``python -m bot personas …``: check a persona catalogue, train the cue classifier,
evaluate on labelled conversations, export staff's persona corrections as labelled
conversations."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.core.commands import CommandError, reported
from bot.core.settings import Settings
from bot.persona.assessment import PersonaEngine
from bot.persona.catalogue import CatalogueError, load_catalogue
from bot.persona.evaluation import (
    TARGET_SETS,
    EvaluationFileError,
    default_jobs,
    evaluate,
    load_conversations,
)
from bot.store.cli import database, database_option


def catalogue_path(value: str | None) -> Path:
    """The catalogue file given on the command line, else the configured one."""
    return Path(value) if value else Settings.from_env().personas_file


def _cmd_check(args: argparse.Namespace) -> int:
    path = catalogue_path(args.file)
    with reported(CatalogueError):
        catalogue = load_catalogue(path)
    print(
        f"{path}: OK — {len(catalogue.personas)} personas ({', '.join(catalogue.ids)}), "
        f"{len(catalogue.signals)} signals, languages {', '.join(catalogue.settings.languages)}"
    )
    return 0


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _cmd_evaluate(args: argparse.Namespace) -> int:
    # spaCy and lingua load with the extractor: only for this command.
    from bot.persona.cues import CueExtractor

    with reported(CatalogueError, EvaluationFileError, exit_code=2):
        catalogue = load_catalogue(catalogue_path(args.personas))
        conversations = load_conversations(Path(args.file), persona_ids=catalogue.ids)
    jobs = args.jobs if args.jobs else default_jobs(len(conversations))
    report = evaluate(
        conversations, extractor=CueExtractor(catalogue), engine=PersonaEngine(catalogue), jobs=jobs
    )
    print(json.dumps(report.to_json(), ensure_ascii=False, indent=2) if args.json else report.to_text())
    if args.check_targets:
        failed = report.failed_targets(TARGET_SETS[args.check_targets])
        if failed:
            print("below target: " + "; ".join(failed), file=sys.stderr)
            return 1
    return 0


def _cmd_train_cues(args: argparse.Namespace) -> int:
    from bot.persona.cues.classifier import DEFAULT_CORPUS_DIR, DEFAULT_MODEL_DIR
    from bot.persona.cues.training import CorpusError, train

    with reported(CatalogueError, CorpusError, exit_code=2):
        catalogue = load_catalogue(catalogue_path(args.personas))
        out = Path(args.out) if args.out else DEFAULT_MODEL_DIR
        result = train(
            Path(args.corpus) if args.corpus else DEFAULT_CORPUS_DIR,
            out,
            catalogue.learned_signals,
            force=args.force,
        )
    # Building the extractor once also caches the compact lemma tables it needs, so the
    # assistant and the evaluation load in about a second.
    from bot.persona.cues import CueExtractor

    CueExtractor(catalogue)
    if args.json:
        print(json.dumps(result, indent=2))
    elif not result["trained"]:
        print(f"train-cues: cue classifier is up to date ({out})")
    else:
        print(f"train-cues: {out} ({result['bytes_on_disk'] / 1e6:.1f} MB); held-out fifth of the corpus:")
        for lang, rep in result["report"].items():
            print(f"  {lang}: {rep['examples']} examples, {rep['features']} features")
            for cue, m in rep["cues"].items():
                shown = f"precision {m['precision']:.2f}  recall {m['recall']:.2f}  ({m['support']})"
                print(f"    {cue:<17} {shown}")
    return 0


def _cmd_export_corrections(args: argparse.Namespace) -> int:
    from bot.persona.corrections import export_corrections

    with reported(CatalogueError, exit_code=2):
        catalogue = load_catalogue(catalogue_path(args.personas), compile_patterns=False)
    with database(args).session() as session:
        export = export_corrections(
            session, persona_ids=catalogue.ids, languages=catalogue.settings.languages
        )
    if not export.conversations:
        raise CommandError(f"nothing to write to {args.file}: {export.summary()}")
    path = Path(args.file)
    with reported(OSError):
        path.write_text(export.to_yaml(), encoding="utf-8")
    print(f"{path}: {export.summary()}")
    return 0


def add_commands(sub: Any) -> None:
    """Register the ``personas`` command group on the main parser."""
    personas = sub.add_parser("personas", help="persona catalogue tools").add_subparsers(
        dest="personas_command", required=True
    )
    check = personas.add_parser("check", help="validate a persona catalogue")
    check.add_argument("file", nargs="?", help="catalogue file (default: $PERSONAS_FILE or personas.yml)")
    check.set_defaults(func=_cmd_check)
    tr = personas.add_parser("train-cues", help="train the cue classifier from the labelled cue corpus")
    tr.add_argument("--corpus", help="corpus directory (default: cue_corpus/)")
    tr.add_argument("--out", help="model directory (default: models/cues/classifier/)")
    tr.add_argument("--personas", help="catalogue file (default: $PERSONAS_FILE or personas.yml)")
    tr.add_argument("--force", action="store_true", help="retrain even when the corpus is unchanged")
    tr.add_argument("--json", action="store_true", help="print one JSON object")
    tr.set_defaults(func=_cmd_train_cues)
    ev = personas.add_parser("evaluate", help="evaluate on labelled conversations")
    ev.add_argument("file", help="labelled conversations (YAML, see docs/personas.md)")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument(
        "--jobs",
        type=_positive,
        help="worker processes (default: one per core, at most 4; one for fewer than 200 conversations)",
    )
    ev.add_argument("--personas", help="catalogue file (default: $PERSONAS_FILE or personas.yml)")
    ev.add_argument(
        "--check-targets",
        nargs="?",
        const="dev",
        choices=sorted(TARGET_SETS),
        help="exit 1 when a metric is below its target (dev: the development set's, the default; "
        "holdout: the fresh hold-out's)",
    )
    ev.set_defaults(func=_cmd_evaluate)
    export = personas.add_parser(
        "export-corrections",
        parents=[database_option()],
        help="write staff's persona corrections as labelled conversations for evaluate",
    )
    export.add_argument("file", help="the evaluation file to write (YAML)")
    export.add_argument("--personas", help="catalogue file (default: $PERSONAS_FILE or personas.yml)")
    export.set_defaults(func=_cmd_export_corrections)
