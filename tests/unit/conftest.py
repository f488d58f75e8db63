"""Fixtures of the unit tests: the configuration files read once per session, and the
plugin's services on a throwaway SQLite database with a fixed clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker

from bot.core.settings import DEFAULT_BANK_CONFIG, DEFAULT_PERSONAS_FILE, PROJECT_ROOT, Settings
from bot.handoff.service import ServicePolicy, load_service_policy
from bot.persona.assessment import PersonaEngine
from bot.persona.catalogue import PersonaCatalogue
from bot.rasa.persona_policy import PersonaPolicy
from bot.services import Services
from bot.store.db import Database
from bot.store.seed import parse_seed, seed_customers
from tests.support import FixedClock, assessed, persona_policy


@pytest.fixture(scope="session")
def policy() -> ServicePolicy:
    return load_service_policy(DEFAULT_BANK_CONFIG)


@pytest.fixture(scope="session")
def rasa_domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture(scope="session")
def policy_under_test(engine: PersonaEngine, tmp_path_factory: pytest.TempPathFactory) -> PersonaPolicy:
    """The persona policy with the shipped catalogue's engine."""
    return persona_policy(engine, tmp_path_factory.mktemp("persona-policy"))


@pytest.fixture
def assess(policy_under_test: PersonaPolicy, rasa_domain: Domain) -> Callable[[Tracker], Tracker]:
    """``tracker -> tracker`` with the slots the persona policy sets after its latest message."""
    return lambda tracker: assessed(tracker, policy_under_test, rasa_domain)


@pytest.fixture(scope="session")
def shipped() -> str:
    """personas.yml as shipped."""
    return DEFAULT_PERSONAS_FILE.read_text(encoding="utf-8")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The shipped configuration with a database and spool of this test's own."""
    return Settings(database_url=f"sqlite:///{tmp_path / 'bank.db'}", spool_dir=tmp_path / "spool")


@pytest.fixture
def database(settings: Settings, catalogue: PersonaCatalogue) -> Iterator[Database]:
    """The test's database, migrated, with the demo customers."""
    db = Database(settings.database_url)
    db.upgrade()
    seed_customers(db, parse_seed(PROJECT_ROOT / "demo" / "customers.yml", personas=catalogue.ids))
    yield db
    db.dispose()


@pytest.fixture
def services(settings: Settings, database: Database, clock: FixedClock) -> Services:
    """What the actions use: the test's database (seeded) and the fixed clock."""
    return Services(settings, clock=clock)


@pytest.fixture
def broken_services(tmp_path: Path, clock: FixedClock) -> Services:
    """Services whose database cannot be opened (its path is a directory)."""
    broken = tmp_path / "dir.db"
    broken.mkdir()
    settings = Settings(database_url=f"sqlite:///{broken}", spool_dir=tmp_path / "spool")
    return Services(settings, clock=clock)
