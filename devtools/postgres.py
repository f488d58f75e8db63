"""A throwaway PostgreSQL server on loopback, for tests and benchmarks.

The server is run by pytest-postgresql's ``PostgreSQLExecutor``: initdb (trusting local and
loopback connections), ``pg_ctl start`` on a free port of 127.0.0.1 picked by port-for, ``pg_ctl
stop`` and removal of the data directory. ``start_postgres(workdir)`` returns a
:class:`PostgresServer` whose ``url`` is the application database ``bank`` as role ``bank``;
``stop()``, or leaving ``with start_postgres(...) as pg:``, stops it. For tests only: the
cluster runs with ``fsync=off`` and friends and trusts every loopback connection.

What remains hand-written here is what the library does not do:

* finding the binaries: Debian keeps them in ``/usr/lib/postgresql/<N>/bin``, not on PATH, and
  the library looks there only through ``pg_config`` (from libpq-dev, usually absent);
* running as root, which PostgreSQL refuses: the executor has no option to run ``pg_ctl`` as
  another user, so it is given a wrapper that runs it as the ``postgres`` system user;
* the application role: ``bank`` is an ordinary role (with CREATEDB) that owns its databases,
  as in production; the library's ``DatabaseJanitor`` creates databases as whoever connects.

Its ``postgresql_proc`` fixture factory does not fit either: it keeps the data directory under
pytest's basetemp, which the ``postgres`` user cannot enter when we are root (pytest keeps
``/tmp/pytest-of-root`` at mode 0700), it makes one session-scoped server while some tests stop
a server of their own, and the benchmark runs outside pytest.
"""

from __future__ import annotations

import logging
import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

import port_for
import psycopg
from mirakuru.exceptions import ExecutorError
from psycopg import sql
from pytest_postgresql.exceptions import ExecutableMissingException, PostgreSQLUnsupported
from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_postgresql.janitor import DatabaseJanitor

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
SUPERUSER = "postgres"  # initdb's bootstrap superuser, and the system user that runs it as root
DEBIAN_ROOT = Path("/usr/lib/postgresql")
MAX_SOCKET_DIR_LEN = 80  # a Unix socket path must fit in 108 bytes, lock-file suffix included
# pg_ctl already gets -F (fsync off). Speed over durability, loopback only, sockets for us only.
POSTGRES_OPTIONS = " ".join(
    f"-c {setting}"
    for setting in (
        "listen_addresses=127.0.0.1",
        "unix_socket_permissions=0700",
        "synchronous_commit=off",
        "full_page_writes=off",
        "timezone=UTC",
    )
)
START_ERRORS = (
    ExecutorError,  # mirakuru: pg_ctl start failed or timed out, or the port was taken
    ExecutableMissingException,
    PostgreSQLUnsupported,
    subprocess.SubprocessError,  # initdb failed
    psycopg.Error,
    TimeoutError,  # the janitor could not connect
)


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be started here; the message says why."""


@dataclass
class PostgresServer:
    """A running throwaway cluster; ``url`` is the application database as role ``user``."""

    executor: PostgreSQLExecutor
    user: str
    database: str
    timeout: int = 30
    _remove_on_stop: list[Path] = field(default_factory=list, repr=False)
    _stopped: bool = field(default=False, repr=False)

    @property
    def port(self) -> int:
        return int(self.executor.port)

    @property
    def url(self) -> str:
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` on this server, as the application role."""
        role, db = quote(self.user, safe=""), quote(database, safe="")
        return f"postgresql+psycopg2://{role}@{HOST}:{self.port}/{db}"

    def create_database(self, name: str) -> str:
        """Create database ``name``, owned by the application role; return its URL."""
        janitor = DatabaseJanitor(
            user=self.user, host=HOST, port=self.port, dbname=name, connection_timeout=self.timeout
        )
        janitor.init()
        return self.url_for(name)

    def stop(self) -> None:
        """Stop the server (``pg_ctl -m fast stop``) and delete the cluster. Idempotent."""
        if self._stopped:
            return
        try:
            if self.executor.running():
                self.executor.stop()
            self.executor.kill()  # reaps the pg_ctl launcher, whatever state it is in
        finally:
            self.executor.clean_directory()
            for path in self._remove_on_stop:
                shutil.rmtree(path, ignore_errors=True)
        self._stopped = True

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def find_pg_ctl() -> Path | None:
    """``$PG_BIN/pg_ctl`` when set, else the newest Debian one, else ``pg_ctl`` on PATH."""
    if os.environ.get("PG_BIN"):
        candidates = [Path(os.environ["PG_BIN"]) / "pg_ctl"]
    else:
        debian = DEBIAN_ROOT.glob("*/bin/pg_ctl")
        on_path = shutil.which("pg_ctl")
        candidates = sorted(debian, key=_version, reverse=True) + ([Path(on_path)] if on_path else [])
    return next((path for path in candidates if os.access(path, os.X_OK)), None)


def start_postgres(
    workdir: Path, *, user: str = "bank", database: str = "bank", timeout: int = 30
) -> PostgresServer:
    """Start a fresh cluster under ``workdir`` and create role ``user`` and its ``database``.

    Raises PostgresUnavailable, saying why, when no server can be started. As root, the
    ``postgres`` user must be able to enter ``workdir``: use ``tempfile.mkdtemp()`` under
    /tmp, not pytest's ``tmp_path``. The server log, ``<workdir>/postgres.log``, stays.
    """
    pg_ctl = find_pg_ctl()
    if pg_ctl is None:
        raise PostgresUnavailable(
            f"no pg_ctl in $PG_BIN, {DEBIAN_ROOT}/<version>/bin or on PATH "
            "(Debian's postgresql package: bash scripts/system-deps.sh)"
        )
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    remove_on_stop: list[Path] = []
    if os.geteuid() == 0:
        pg_ctl = _as_postgres_user(pg_ctl, workdir, remove_on_stop)
    logfile = workdir / "postgres.log"
    executor = PostgreSQLExecutor(
        executable=str(pg_ctl),
        host=HOST,
        port=port_for.select_random(),
        datadir=str(workdir / "data"),
        # /tmp when workdir is too long for a socket path; unix_socket_permissions keeps it ours
        unixsocketdir=str(workdir) if len(str(workdir)) <= MAX_SOCKET_DIR_LEN else "/tmp",  # noqa: S108
        logfile=str(logfile),
        startparams="-w",
        dbname=database,
        user=SUPERUSER,
        timeout=timeout,
        postgres_options=POSTGRES_OPTIONS,
    )
    server = PostgresServer(executor, user, database, timeout, remove_on_stop)
    try:
        executor.start()
        admin = DatabaseJanitor(
            user=SUPERUSER, host=HOST, port=executor.port, dbname=SUPERUSER, connection_timeout=timeout
        )
        with admin.cursor() as cur:
            cur.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEDB").format(sql.Identifier(user)))
        server.create_database(database)
    except START_ERRORS as exc:
        _stop_quietly(server)
        cause = f" ({exc.__cause__})" if exc.__cause__ else ""
        hint = f" (as root the server runs as {SUPERUSER!r}, which must be able to enter {workdir})"
        raise PostgresUnavailable(
            f"{type(exc).__name__}: {exc}{cause}{hint if os.geteuid() == 0 else ''}\n"
            f"--- end of {logfile} ---\n{_tail(logfile)}"
        ) from exc
    except BaseException:
        _stop_quietly(server)
        raise
    log.info("PostgreSQL (%s) on %s:%d", pg_ctl, HOST, server.port)
    return server


def _as_postgres_user(pg_ctl: Path, workdir: Path, remove_on_stop: list[Path]) -> Path:
    """A ``pg_ctl`` that runs the real one as the ``postgres`` system user, which gets ``workdir``.

    The wrapper lives in a directory of root's own (not in ``workdir``, which that user could
    change) and is removed on stop.
    """
    try:
        account = pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root, which PostgreSQL refuses, and there is no {SUPERUSER!r} system user "
            "to run it as (Debian's postgresql package creates it)"
        ) from None
    os.chown(workdir, account.pw_uid, account.pw_gid)
    bin_dir = Path(tempfile.mkdtemp(prefix="pg-ctl-as-postgres-"))
    remove_on_stop.append(bin_dir)
    wrapper = bin_dir / "pg_ctl"
    as_postgres = f"setpriv --reuid={account.pw_uid} --regid={account.pw_gid} --init-groups --"
    wrapper.write_text(f'#!/bin/sh\ncd / && exec {as_postgres} {shlex.quote(str(pg_ctl))} "$@"\n')
    wrapper.chmod(0o700)
    return wrapper


def _version(pg_ctl: Path) -> tuple[int, ...]:
    """(15,) for /usr/lib/postgresql/15/bin/pg_ctl."""
    return tuple(int(part) for part in pg_ctl.parent.parent.name.split(".") if part.isdigit())


def _stop_quietly(server: PostgresServer) -> None:
    try:
        server.stop()
    except Exception:
        log.exception("could not stop the PostgreSQL server that failed to start")


def _tail(logfile: Path, lines: int = 20) -> str:
    try:
        return "\n".join(logfile.read_text(errors="replace").splitlines()[-lines:]) or "(empty log)"
    except OSError:
        return "(no log)"
