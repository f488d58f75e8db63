"""``python -m bot db …``: migrations, importing spooled handoffs, loading customers."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.core.commands import reported
from bot.core.settings import Settings
from bot.handoff.service import ServiceConfigError, load_service_policy
from bot.persona.catalogue import CatalogueError, persona_ids
from bot.store.db import Database
from bot.store.seed import SeedError, load_seed_file
from bot.store.spool import Spool, import_spool


def database(args: argparse.Namespace) -> Database:
    """The plugin's database: ``--database-url``, else the configured one."""
    return Database(args.database_url or Settings.from_env().database_url)


def database_option() -> argparse.ArgumentParser:
    """The ``--database-url`` option shared by the database and staff commands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", help="SQLAlchemy URL (default: $DATABASE_URL or var/bank.db)")
    return common


def _cmd_upgrade(args: argparse.Namespace) -> int:
    db = database(args)
    db.upgrade()
    print(f"database {db!r}: at the newest migration")
    return 0


def _cmd_prepare(args: argparse.Namespace) -> int:
    """Check the service configuration, apply migrations, import spooled handoffs."""
    settings = Settings.from_env()
    with reported(ServiceConfigError):
        load_service_policy(settings.bank_config)  # refuse to start with bad business hours
    db = database(args)
    db.upgrade()
    report = import_spool(db, Spool(settings.spool_dir))
    print(f"database {db!r}: migrated; {report}")
    return 1 if report.remaining or report.rejected else 0


def _cmd_seed(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    with reported(SeedError, CatalogueError, ServiceConfigError):
        personas = persona_ids(settings.personas_file)
        region = load_service_policy(settings.bank_config).default_region
        db = database(args)
        db.upgrade()
        created, updated = load_seed_file(db, Path(args.file), personas=personas, region=region)
    print(f"{args.file}: {created} customers created, {updated} updated")
    return 0


def add_commands(sub: Any) -> None:
    """Register the ``db`` command group on the main parser."""
    common = database_option()
    db = sub.add_parser("db", help="the plugin's database").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", parents=[common], help="apply migrations").set_defaults(func=_cmd_upgrade)
    db.add_parser("prepare", parents=[common], help="migrations, then import spooled handoffs").set_defaults(
        func=_cmd_prepare
    )
    seed = db.add_parser("seed", parents=[common], help="load customers from a YAML file")
    seed.add_argument("file")
    seed.set_defaults(func=_cmd_seed)
