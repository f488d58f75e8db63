"""A throwaway PostgreSQL server on loopback, for tests and benchmarks.

``start_postgres(workdir)`` creates a fresh cluster in ``<workdir>/data`` with ``initdb``, starts
it with ``pg_ctl`` on a free TCP port of 127.0.0.1 (it listens nowhere else) and creates the
application role and its database. The returned :class:`PostgresServer` carries the SQLAlchemy
URL; ``stop()``, or leaving ``with start_postgres(...) as pg:``, shuts the server down and deletes
the cluster (the server log, ``<workdir>/postgres.log``, stays for post-mortems). The cluster
trusts every connection from 127.0.0.1 and runs with ``fsync=off`` and friends for speed: it is
for tests only, never keep data in it.

Binaries: ``$PG_BIN`` when set, else the newest ``/usr/lib/postgresql/<N>/bin`` (Debian's
``postgresql`` package, which ``scripts/system-deps.sh`` installs), else ``initdb``/``pg_ctl`` on
PATH.

Running as root: PostgreSQL refuses to, so ``initdb`` and the server then run as the
``postgres`` system user (Debian's package creates it) and ``workdir`` is chowned to that user.
The user must also be able to enter every parent directory of ``workdir``; pytest's ``tmp_path``
does not qualify (``/tmp/pytest-of-root`` is mode 0700, owned by root), a directory from
``tempfile.mkdtemp()`` under ``/tmp`` does.

The Unix socket goes to ``workdir`` unless that path is too long for a socket address (about 107
bytes); then to a short ``/tmp/pg*`` directory, which ``stop()`` removes as well.
"""

from __future__ import annotations

import logging
import math
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
SUPERUSER = "postgres"  # the cluster's bootstrap superuser (initdb -U)
SYSTEM_USER = "postgres"  # the system account that runs the server when we are root
DEBIAN_ROOT = Path("/usr/lib/postgresql")
REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")
# sun_path holds 108 bytes; the server also needs "<dir>/.s.PGSQL.<port>.lock" to fit.
MAX_SOCKET_DIR_LEN = 80
PORT_ATTEMPTS = 3  # a port picked as free can be taken before the server binds it
LOG_TAIL_LINES = 25

# Speed over durability: the cluster is thrown away after the run.
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "100",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "unix_socket_permissions": "0700",
    "timezone": "'UTC'",
}

HBA = """\
# Written by bot/testing/postgres.py: a throwaway test cluster that trusts loopback only.
local   all   all                  trust
host    all   all   127.0.0.1/32   trust
"""


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be started here; the message says why."""


@dataclass(frozen=True)
class _Account:
    """The system user that runs initdb, pg_ctl and the server (only when we are root)."""

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]

    def can_enter(self, directory: Path) -> bool:
        """Whether the permission bits let this user search ``directory`` (ACLs aside)."""
        st = directory.stat()
        if st.st_uid == self.uid:
            return bool(st.st_mode & stat.S_IXUSR)
        if st.st_gid in self.groups:
            return bool(st.st_mode & stat.S_IXGRP)
        return bool(st.st_mode & stat.S_IXOTH)


@dataclass
class PostgresServer:
    """A running throwaway cluster; ``url`` is the application database as ``user``."""

    url: str
    port: int
    datadir: Path
    user: str
    database: str
    bin_dir: Path
    logfile: Path
    socket_dir: Path
    timeout: float = 30.0
    host: str = HOST
    _account: _Account | None = field(default=None, repr=False)
    _remove_on_stop: list[Path] = field(default_factory=list, repr=False)
    _stopped: bool = field(default=False, repr=False)

    def url_for(self, database: str, user: str | None = None) -> str:
        """SQLAlchemy URL of ``database`` on this server (as the application role by default)."""
        role = quote(user or self.user, safe="")
        return f"postgresql+psycopg2://{role}@{self.host}:{self.port}/{quote(database, safe='')}"

    @property
    def superuser_url(self) -> str:
        """SQLAlchemy URL of the ``postgres`` database as the ``postgres`` superuser."""
        return self.url_for(SUPERUSER, SUPERUSER)

    def create_database(self, name: str) -> str:
        """Create database ``name`` owned by the application role; return its URL."""
        from psycopg2 import sql

        conn = self._connect_superuser()
        try:
            with conn.cursor() as cur:
                cur.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(name), sql.Identifier(self.user)
                    )
                )
        finally:
            conn.close()
        return self.url_for(name)

    def is_running(self) -> bool:
        """Whether a server runs on ``datadir`` (``pg_ctl status``)."""
        if not (self.datadir / "postmaster.pid").exists():
            return False
        try:
            proc = self._pg_ctl("status", timeout=self.timeout)
        except subprocess.TimeoutExpired:
            return True
        return proc.returncode == 0

    def stop(self) -> None:
        """Fast shutdown (``pg_ctl -m fast stop``), then delete the cluster. Idempotent.

        Falls back to an immediate shutdown when the fast one does not finish in time; raises
        RuntimeError (and keeps the cluster) if the server still runs after that.
        """
        if self._stopped:
            return
        wait = str(max(1, math.ceil(self.timeout)))
        for mode in ("fast", "immediate"):
            if not self.is_running():
                break
            try:
                self._pg_ctl("stop", "-m", mode, "-w", "-t", wait, timeout=self.timeout + 10)
            except subprocess.TimeoutExpired:
                log.warning("pg_ctl -m %s stop did not return in time", mode)
        if self.is_running():
            raise RuntimeError(f"PostgreSQL on {self.datadir} did not stop; see {self.logfile}")
        shutil.rmtree(self.datadir, ignore_errors=True)
        for path in self._remove_on_stop:
            shutil.rmtree(path, ignore_errors=True)
        self._stopped = True
        log.debug("PostgreSQL on port %d stopped", self.port)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _pg_ctl(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin_dir / "pg_ctl"), "-D", str(self.datadir), *args]
        return _run(cmd, account=self._account, timeout=timeout)

    def _connect_superuser(self) -> Any:
        """A psycopg2 connection to the ``postgres`` database as superuser, in autocommit."""
        import psycopg2

        conn = psycopg2.connect(
            host=self.host,
            port=self.port,
            user=SUPERUSER,
            dbname=SUPERUSER,
            connect_timeout=max(1, math.ceil(self.timeout)),
        )
        conn.autocommit = True
        return conn


def find_bin_dir() -> Path | None:
    """The directory with ``initdb``, ``pg_ctl`` and ``postgres``, or None.

    ``$PG_BIN`` when set (None if it lacks one of them), else the newest Debian
    ``/usr/lib/postgresql/<N>/bin``, else the directory of ``pg_ctl`` on PATH.
    """
    override = os.environ.get("PG_BIN")
    if override:
        return Path(override) if _has_binaries(Path(override)) else None
    versions: list[tuple[tuple[int, ...], Path]] = []
    for bin_dir in DEBIAN_ROOT.glob("*/bin"):
        parts = bin_dir.parent.name.split(".")
        if all(part.isdigit() for part in parts) and _has_binaries(bin_dir):
            versions.append((tuple(int(part) for part in parts), bin_dir))
    if versions:
        return max(versions)[1]
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl and _has_binaries(Path(pg_ctl).resolve().parent):
        return Path(pg_ctl).resolve().parent
    return None


def start_postgres(
    workdir: Path, *, user: str = "bank", database: str = "bank", timeout: float = 30.0
) -> PostgresServer:
    """Start a fresh cluster under ``workdir`` and create role ``user`` and its ``database``.

    Raises PostgresUnavailable, saying why, when no server can be started (no binaries, no
    ``postgres`` user to run it as root, initdb or start-up failure with the end of its output
    or log). ``timeout`` bounds each step (initdb, start-up, connecting, shutdown).
    """
    began = time.monotonic()
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise PostgresUnavailable(_no_binaries_reason())
    account = _server_account()
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    datadir = workdir / "data"
    if datadir.exists():
        raise FileExistsError(f"{datadir} exists; start_postgres needs a fresh workdir")

    remove_on_stop: list[Path] = []
    socket_dir = workdir
    if len(str(workdir)) > MAX_SOCKET_DIR_LEN:
        socket_dir = Path(tempfile.mkdtemp(prefix="pg", dir="/tmp"))  # short on purpose
        remove_on_stop.append(socket_dir)
    if account is not None:
        for directory in {workdir, socket_dir}:
            os.chown(directory, account.uid, account.gid)

    server = PostgresServer(
        url="",
        port=0,
        datadir=datadir,
        user=user,
        database=database,
        bin_dir=bin_dir,
        logfile=workdir / "postgres.log",
        socket_dir=socket_dir,
        timeout=timeout,
        _account=account,
        _remove_on_stop=remove_on_stop,
    )
    try:
        _initdb(server, workdir)
        _start(server)
        _create_role_and_database(server)
    except BaseException:
        server.stop()
        raise
    log.info("PostgreSQL (%s) on %s:%d ready in %.1f s", bin_dir, HOST, server.port, time.monotonic() - began)
    return server


def _has_binaries(bin_dir: Path) -> bool:
    return all(
        (bin_dir / name).is_file() and os.access(bin_dir / name, os.X_OK) for name in REQUIRED_BINARIES
    )


def _no_binaries_reason() -> str:
    wanted = ", ".join(REQUIRED_BINARIES)
    override = os.environ.get("PG_BIN")
    if override:
        return f"PG_BIN={override} does not contain {wanted}"
    return f"no PostgreSQL server binaries ({wanted}) in {DEBIAN_ROOT}/<version>/bin or on PATH"


def _server_account() -> _Account | None:
    """None when we may run PostgreSQL ourselves; as root, the ``postgres`` system user."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root, which PostgreSQL refuses, and there is no {SYSTEM_USER!r} system user "
            "to run it as (Debian's postgresql package creates it)"
        ) from None
    groups = tuple(os.getgrouplist(pw.pw_name, pw.pw_gid))
    return _Account(pw.pw_name, pw.pw_uid, pw.pw_gid, groups)


def _clean_env() -> dict[str, str]:
    """Our environment without libpq/server variables (PGPORT, PGDATA, ...), in the C locale."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def _run(cmd: list[str], *, account: _Account | None, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` (as ``account`` when given), capturing its output; raises TimeoutExpired."""
    return subprocess.run(
        cmd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=_clean_env(),
        cwd="/",
        user=account.uid if account else None,
        group=account.gid if account else None,
        extra_groups=list(account.groups) if account else None,
    )


def _initdb(server: PostgresServer, workdir: Path) -> None:
    cmd = [
        str(server.bin_dir / "initdb"),
        "-D",
        str(server.datadir),
        "-U",
        SUPERUSER,
        "--auth=trust",
        "--encoding=UTF8",
        "--no-locale",
        "--no-sync",
    ]
    try:
        proc = _run(cmd, account=server._account, timeout=server.timeout)
    except subprocess.TimeoutExpired:
        raise PostgresUnavailable(f"initdb did not finish within {server.timeout:g} s") from None
    if proc.returncode != 0:
        reason = f"initdb failed (exit {proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}"
        account = server._account
        if account is not None:
            blocked = [d for d in (workdir, *workdir.parents) if not account.can_enter(d)]
            if blocked:
                reason += (
                    f"\nThe {account.name!r} user cannot enter {blocked[-1]}: give start_postgres a "
                    "workdir it can reach, e.g. tempfile.mkdtemp() under /tmp"
                )
        raise PostgresUnavailable(reason)
    (server.datadir / "pg_hba.conf").write_text(HBA)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _conf_text(base: str, server: PostgresServer, port: int) -> str:
    settings = {
        **SETTINGS,
        "port": str(port),
        "unix_socket_directories": "'{}'".format(str(server.socket_dir).replace("'", "''")),
    }
    lines = [f"{key} = {value}" for key, value in settings.items()]
    return base + "\n# Throwaway test cluster (bot/testing/postgres.py)\n" + "\n".join(lines) + "\n"


def _log_tail(logfile: Path, offset: int) -> str:
    try:
        with logfile.open("rb") as fh:
            fh.seek(offset)
            text = fh.read().decode(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-LOG_TAIL_LINES:]) or "(empty log)"


def _start(server: PostgresServer) -> None:
    """``pg_ctl start`` on a free port; retries with another port if that one got taken."""
    conf = server.datadir / "postgresql.conf"
    base = conf.read_text()
    wait = str(max(1, math.ceil(server.timeout)))
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = _free_port()
        conf.write_text(_conf_text(base, server, port))
        offset = server.logfile.stat().st_size if server.logfile.exists() else 0
        cmd = [
            str(server.bin_dir / "pg_ctl"),
            "-D",
            str(server.datadir),
            "-l",
            str(server.logfile),
            "-w",
            "-t",
            wait,
            "start",
        ]
        try:
            proc = _run(cmd, account=server._account, timeout=server.timeout + 10)
        except subprocess.TimeoutExpired:
            proc = None
        if proc is not None and proc.returncode == 0:
            server.port = port
            server.url = server.url_for(server.database)
            return
        tail = _log_tail(server.logfile, offset)
        if "could not bind" in tail and attempt < PORT_ATTEMPTS:
            log.debug("port %d was taken, trying another", port)
            continue
        what = "did not return in time" if proc is None else f"failed (exit {proc.returncode})"
        detail = "" if proc is None else (proc.stderr.strip() or proc.stdout.strip())
        raise PostgresUnavailable(f"pg_ctl start {what}: {detail}\n--- end of {server.logfile} ---\n{tail}")


def _create_role_and_database(server: PostgresServer) -> None:
    import psycopg2
    from psycopg2 import sql

    try:
        conn = server._connect_superuser()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (server.user,))
                if cur.fetchone() is None:
                    cur.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(server.user)))
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (server.database,))
                if cur.fetchone() is None:
                    cur.execute(
                        sql.SQL("CREATE DATABASE {} OWNER {}").format(
                            sql.Identifier(server.database), sql.Identifier(server.user)
                        )
                    )
        finally:
            conn.close()
    except psycopg2.Error as exc:
        raise PostgresUnavailable(
            f"could not create role {server.user!r} and database {server.database!r}: {exc}"
        ) from exc
