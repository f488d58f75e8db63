"""Shared fixtures: the shipped catalogue and the objects built from it (built once), and a
real PostgreSQL server on loopback (one per test session)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.settings import DEFAULT_PERSONAS_FILE
from bot.persona.assessment import PersonaEngine
from bot.persona.catalogue import PersonaCatalogue, load_catalogue
from bot.persona.cues import CueExtractor
from devtools.postgres import PostgresServer, PostgresUnavailable, start_postgres


@pytest.fixture(scope="session")
def catalogue() -> PersonaCatalogue:
    return load_catalogue(DEFAULT_PERSONAS_FILE)


@pytest.fixture(scope="session")
def extractor(catalogue: PersonaCatalogue) -> CueExtractor:
    return CueExtractor(catalogue)


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
