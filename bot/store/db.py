"""The plugin's database: one URL, an engine built on first use, sessions in a context manager.

    db = Database("sqlite:///var/bank.db")      # nothing connects yet
    db.upgrade()                                # Alembic migrations to the newest revision
    with db.session() as session:               # commit on success, rollback on error
        session.add(...)

SQLite (the default) gets foreign keys, WAL journaling and a busy timeout; PostgreSQL
(``postgresql+psycopg2://…``) a pre-ping pool. No engine exists at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.engine import create_engine as _create_engine
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
DEFAULT_SQLITE_TIMEOUT = 5.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the settings the plugin relies on."""
    parsed = make_url(url)
    options: dict[str, Any] = {"future": True, **kwargs}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        options.setdefault("connect_args", {"timeout": DEFAULT_SQLITE_TIMEOUT, "check_same_thread": False})
        engine = _create_engine(url, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    options.setdefault("pool_pre_ping", True)
    return _create_engine(url, **options)


class Database:
    """One database URL and the engine and sessions for it, created on first use."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self._engine_options = engine_options
        self._engine: Engine | None = None
        self._sessions: sessionmaker | None = None

    def __repr__(self) -> str:
        return f"Database({make_url(self.url).render_as_string(hide_password=True)!r})"

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.url, **self._engine_options)
            self._sessions = sessionmaker(self._engine, future=True, expire_on_commit=False)
        return self._engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back on an exception."""
        _ = self.engine
        assert self._sessions is not None
        session: Session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def upgrade(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to ``revision`` (idempotent)."""
        from alembic import command

        command.upgrade(alembic_config(self.url), revision)

    def downgrade(self, revision: str) -> None:
        from alembic import command

        command.downgrade(alembic_config(self.url), revision)

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._sessions = None


def alembic_config(url: str) -> Any:
    """Alembic's configuration for ``url`` (the migrations ship inside the package)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config
