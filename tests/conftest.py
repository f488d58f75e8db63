"""Shared fixtures: the shipped catalogue and the objects built from it (built once)."""

from __future__ import annotations

import pytest

from bot.assessment import PersonaEngine
from bot.config import DEFAULT_PERSONAS_FILE
from bot.cues import CueExtractor
from bot.personas import Catalogue, load_catalogue


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue(DEFAULT_PERSONAS_FILE)


@pytest.fixture(scope="session")
def extractor(catalogue: Catalogue) -> CueExtractor:
    return CueExtractor(catalogue)


@pytest.fixture(scope="session")
def engine(catalogue: Catalogue) -> PersonaEngine:
    return PersonaEngine(catalogue)
