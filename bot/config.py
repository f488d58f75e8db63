"""Settings from the environment, read in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BANK_CONFIG = PROJECT_ROOT / "bank.yml"
DEFAULT_PERSONAS_FILE = PROJECT_ROOT / "personas.yml"


@dataclass(frozen=True)
class Settings:
    """Where the plugin finds its configuration files.

    Attributes:
        bank_config: YAML file with the bank's name, phone numbers and hours
            (``BANK_CONFIG``).
        personas_file: the persona catalogue (``PERSONAS_FILE``).
    """

    bank_config: Path = DEFAULT_BANK_CONFIG
    personas_file: Path = DEFAULT_PERSONAS_FILE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            bank_config=Path(env.get("BANK_CONFIG") or DEFAULT_BANK_CONFIG),
            personas_file=Path(env.get("PERSONAS_FILE") or DEFAULT_PERSONAS_FILE),
        )
