"""Fixtures of the unit tests: the configuration files read once per session, and the
plugin's services on a throwaway SQLite database with a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.shared.core.domain import Domain

from bot.core.bank import BankInfo, load_bank_info
from bot.core.settings import DEFAULT_BANK_CONFIG, DEFAULT_PERSONAS_FILE, PROJECT_ROOT, Settings
from bot.handoff.service import ServicePolicy, load_service_policy
from bot.persona.catalogue import PersonaCatalogue
from bot.services import Services
from bot.store.db import Database
from bot.store.seed import parse_seed, seed_customers
from bot.wording import Renderer, load_wording
from tests.support import FixedClock


@pytest.fixture(scope="session")
def bank() -> BankInfo:
    return load_bank_info(DEFAULT_BANK_CONFIG)


@pytest.fixture(scope="session")
def policy() -> ServicePolicy:
    return load_service_policy(DEFAULT_BANK_CONFIG)


@pytest.fixture(scope="session")
def domain_data() -> dict[str, Any]:
    """domain.yml as YAML data."""
    data: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def responses(domain_data: dict[str, Any]) -> dict[str, Any]:
    """The domain's responses (the English defaults)."""
    found: dict[str, Any] = domain_data["responses"]
    return found


@pytest.fixture(scope="session")
def rasa_domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture(scope="session")
def renderer(catalogue: PersonaCatalogue, bank: BankInfo, responses: dict[str, Any]) -> Renderer:
    """The renderer of the shipped wording catalogue."""
    wording = load_wording(PROJECT_ROOT / "data" / "wording", personas=catalogue, domain_responses=responses)
    return Renderer(wording=wording, bank=bank, personas=catalogue)


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
