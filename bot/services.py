"""Everything the actions need, built from the settings on first use (never at import).

services = get_services()          # cached per Settings
services.writer.write(request)     # durable handoff write
with services.database.session() as session: ...
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

from bot.assessment import PersonaEngine
from bot.bank import BankInfo, load_bank_info
from bot.callbacks import ServicePolicy, load_service_policy
from bot.config import Settings
from bot.personas import load_catalogue
from bot.store.db import Database
from bot.store.spool import HandoffWriter, Spool


@dataclass
class Services:
    settings: Settings

    @cached_property
    def database(self) -> Database:
        return Database(self.settings.database_url)

    @cached_property
    def spool(self) -> Spool:
        return Spool(self.settings.spool_dir)

    @cached_property
    def writer(self) -> HandoffWriter:
        return HandoffWriter(self.database, self.spool)

    @cached_property
    def engine(self) -> PersonaEngine:
        # Token patterns were compiled when the Rasa model loaded the same file.
        return PersonaEngine(load_catalogue(self.settings.personas_file, compile_patterns=False))

    @cached_property
    def bank(self) -> BankInfo:
        return load_bank_info(self.settings.bank_config)

    @cached_property
    def policy(self) -> ServicePolicy:
        return load_service_policy(self.settings.bank_config)


@lru_cache(maxsize=4)
def _services(settings: Settings) -> Services:
    return Services(settings)


def get_services() -> Services:
    """The services for the current environment (``Settings.from_env()``), built lazily."""
    return _services(Settings.from_env())
