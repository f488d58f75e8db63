"""Settings from the environment, read in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BANK_CONFIG = PROJECT_ROOT / "bank.yml"
DEFAULT_PERSONAS_FILE = PROJECT_ROOT / "personas.yml"
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"
DEFAULT_DATABASE_URL = f"sqlite:///{DEFAULT_VAR_DIR / 'bank.db'}"
DEFAULT_SPOOL_DIR = DEFAULT_VAR_DIR / "spool"
DEFAULT_TRACKER_STORE_URL = f"sqlite:///{DEFAULT_VAR_DIR / 'tracker.db'}"


@dataclass(frozen=True)
class Settings:
    """Where the plugin finds its configuration files.

    Attributes:
        bank_config: YAML file with the bank's name, phone numbers and hours
            (``BANK_CONFIG``).
        personas_file: the persona catalogue (``PERSONAS_FILE``).
        database_url: SQLAlchemy URL of the plugin's database — customers, handoffs,
            persona corrections (``DATABASE_URL``; SQLite in ``var/`` by default,
            ``postgresql+psycopg2://…`` in production).
        spool_dir: where handoffs wait when the database cannot take them
            (``HANDOFF_SPOOL_DIR``); imported on the next start.
        rasa_url: the Rasa server's HTTP API, for staff tooling (``RASA_URL``).
        rasa_token: token for Rasa's HTTP API (``RASA_AUTH_TOKEN``, else the one
            ``scripts/run.sh`` generated into ``$VAR_DIR/secrets/rasa_auth_token``).
        tracker_store_url: SQLAlchemy URL of Rasa's SQL tracker store, read by staff
            tooling only (``TRACKER_STORE_URL``; by default the SQLite file ``TRACKER_DB``,
            ``$VAR_DIR/tracker.db``).
        console_secure_cookies: the staff console's cookies are sent over HTTPS only
            (``CONSOLE_SECURE_COOKIES=1``; production, behind an HTTPS proxy).
        console_trust_proxy: the staff console is behind the bank's reverse proxy and
            takes the client's address from ``X-Forwarded-For`` (``CONSOLE_TRUST_PROXY=1``).
    """

    bank_config: Path = DEFAULT_BANK_CONFIG
    personas_file: Path = DEFAULT_PERSONAS_FILE
    database_url: str = DEFAULT_DATABASE_URL
    spool_dir: Path = DEFAULT_SPOOL_DIR
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str | None = None
    tracker_store_url: str = DEFAULT_TRACKER_STORE_URL
    console_secure_cookies: bool = False
    console_trust_proxy: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            bank_config=Path(env.get("BANK_CONFIG") or DEFAULT_BANK_CONFIG),
            personas_file=Path(env.get("PERSONAS_FILE") or DEFAULT_PERSONAS_FILE),
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            spool_dir=Path(env.get("HANDOFF_SPOOL_DIR") or DEFAULT_SPOOL_DIR),
            rasa_url=env.get("RASA_URL") or f"http://127.0.0.1:{env.get('RASA_PORT') or 5005}",
            rasa_token=env.get("RASA_AUTH_TOKEN") or _stored_secret(env, "rasa_auth_token"),
            tracker_store_url=env.get("TRACKER_STORE_URL") or f"sqlite:///{_tracker_db(env)}",
            console_secure_cookies=_flag(env, "CONSOLE_SECURE_COOKIES"),
            console_trust_proxy=_flag(env, "CONSOLE_TRUST_PROXY"),
        )


def _tracker_db(env: Mapping[str, str]) -> Path:
    """The SQLite file of Rasa's tracker store, as ``scripts/env.sh`` sets ``TRACKER_DB``."""
    return Path(env.get("TRACKER_DB") or Path(env.get("VAR_DIR") or DEFAULT_VAR_DIR) / "tracker.db")


def _flag(env: Mapping[str, str], name: str) -> bool:
    return (env.get(name) or "").strip().lower() in ("1", "true", "yes")


def _stored_secret(env: Mapping[str, str], name: str) -> str | None:
    """A secret ``scripts/env.sh`` generated into ``$VAR_DIR/secrets`` on first run."""
    path = Path(env.get("VAR_DIR") or DEFAULT_VAR_DIR) / "secrets" / name
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None
