"""Shared fixtures: the shipped configuration (bank facts, domain, persona catalogue) and the
objects built from it, each built once; a real PostgreSQL server on loopback (one per session)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.bank import BankInfo, load_bank_info
from bot.core.settings import DEFAULT_BANK_CONFIG, DEFAULT_PERSONAS_FILE, PROJECT_ROOT
from bot.persona.assessment import PersonaEngine
from bot.persona.catalogue import PersonaCatalogue, load_catalogue
from bot.persona.cues import CueExtractor
from bot.wording import Renderer, load_wording
from devtools.postgres import PostgresServer, PostgresUnavailable, start_postgres


@pytest.fixture(scope="session")
def bank() -> BankInfo:
    """The bank's facts as shipped (bank.yml)."""
    return load_bank_info(DEFAULT_BANK_CONFIG)


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
def renderer(catalogue: PersonaCatalogue, bank: BankInfo, responses: dict[str, Any]) -> Renderer:
    """The renderer of the shipped wording catalogue."""
    wording = load_wording(PROJECT_ROOT / "data" / "wording", personas=catalogue, domain_responses=responses)
    return Renderer(wording=wording, bank=bank, personas=catalogue)


@pytest.fixture(scope="session")
def catalogue() -> PersonaCatalogue:
    return load_catalogue(DEFAULT_PERSONAS_FILE)


@pytest.fixture(scope="session")
def cue_classifier_dir(catalogue: PersonaCatalogue) -> Path:
    """The cue classifier as the training step leaves it (trained here if it is not)."""
    from bot.persona.cues.classifier import DEFAULT_CORPUS_DIR, DEFAULT_MODEL_DIR
    from bot.persona.cues.training import train

    train(DEFAULT_CORPUS_DIR, DEFAULT_MODEL_DIR, catalogue.learned_signals)
    return DEFAULT_MODEL_DIR


@pytest.fixture(scope="session")
def extractor(catalogue: PersonaCatalogue, cue_classifier_dir: Path) -> CueExtractor:
    """The assistant's extractor: rules and the learned cue classifier."""
    return CueExtractor(catalogue, classifier_dir=cue_classifier_dir)


@pytest.fixture(scope="session")
def rules_extractor(catalogue: PersonaCatalogue) -> CueExtractor:
    """The rules alone (no classifier): what the phrases, patterns and scope find."""
    return CueExtractor(catalogue, classifier_dir=None)


@pytest.fixture(scope="session")
def engine(catalogue: PersonaCatalogue) -> PersonaEngine:
    return PersonaEngine(catalogue)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL cluster (Debian's binaries, run by pytest-postgresql's executor
    through devtools/postgres.py) on a free port of 127.0.0.1.

    Not pytest-postgresql's ``postgresql_proc`` fixture: see devtools/postgres.py for why.
    Skips where PostgreSQL cannot be started, except on CI (CI=true), where that fails the run.
    """
    # Not pytest's tmp_path: as root the server runs as the postgres user, which cannot enter
    # /tmp/pytest-of-root (mode 0700); nor a private $TMPDIR then.
    workdir = Path(tempfile.mkdtemp(prefix="pgtest-", dir="/tmp" if os.geteuid() == 0 else None))
    try:
        server = start_postgres(workdir)
    except PostgresUnavailable as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL unavailable on CI: {exc}", pytrace=False)
        pytest.skip(
            f"PostgreSQL unavailable: {exc}. Install Debian's postgresql package "
            "(bash scripts/system-deps.sh)."
        )
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """SQLAlchemy URL of the session server's `bank` database, as the `bank` role."""
    return postgres_server.url
