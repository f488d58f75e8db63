"""Everything the actions need, built from the settings on first use (never at import).

services = get_services()          # cached per Settings
services.writer.write(request)     # durable handoff write
services.now()                     # the clock (injected in tests)
with services.database.session() as session: ...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

from bot.core.bank import BankInfo, load_bank_info
from bot.core.clock import utc_now
from bot.core.settings import Settings
from bot.handoff.service import ServicePolicy, load_service_policy
from bot.store.db import Database
from bot.store.spool import HandoffWriter, Spool


@dataclass
class Services:
    """The plugin's services for one configuration.

    Attributes:
        settings: where the configuration comes from.
        clock: "now" (timezone-aware); tests pass a fixed one.
    """

    settings: Settings
    clock: Callable[[], dt.datetime] = field(default=utc_now)

    def now(self) -> dt.datetime:
        return self.clock()

    def timezone(self, name: str | None) -> ZoneInfo:
        """The customer's timezone (an IANA name from their profile), else the bank's."""
        return self.policy.customer_timezone(name)

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
