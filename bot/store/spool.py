"""Durable writes of handoffs: retry with a bound, else a local spool imported later.

``HandoffWriter.write`` tries the database ``attempts`` times (with short pauses). If
every attempt fails, the request goes to the spool — one JSON file per request, written
to a temporary name, fsync'ed and renamed, so a crash leaves either the whole file or
none — and the caller tells the customer honestly that passing it on may take longer.
``import_spool`` (run at start by ``python -m bot db prepare``, and after any later
successful write) moves spooled requests into the database; requests carry an
idempotency key, so importing twice never duplicates a handoff. A file that cannot be
read is moved to ``rejected/`` and reported, never deleted.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.handoff.request import HandoffRequest
from bot.store.db import Database
from bot.store.repository import HandoffRepository

logger = logging.getLogger(__name__)

DEFAULT_ATTEMPTS = 3
DEFAULT_DELAYS = (0.05, 0.25)  # pauses between attempts, seconds
REJECTED_DIR = "rejected"


class Spool:
    """A directory of handoff requests waiting for the database."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def put(self, request: HandoffRequest) -> Path:
        """Write ``request`` durably (raises OSError when the disk refuses)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / f"{request.request_id}.json"
        tmp = self.directory / f".{request.request_id}.tmp"
        data = json.dumps(request.to_json(), ensure_ascii=False, sort_keys=True).encode("utf-8")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return final

    def pending(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("*.json"))

    def read(self, path: Path) -> HandoffRequest:
        return HandoffRequest.from_json(json.loads(path.read_text(encoding="utf-8")))

    def reject(self, path: Path) -> Path:
        target_dir = self.directory / REJECTED_DIR
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / path.name
        os.replace(path, target)
        return target


@dataclass(frozen=True)
class WriteResult:
    """How a handoff write ended: ``stored`` in the database, ``spooled`` or ``failed``."""

    status: str
    reference: str
    attempts: int
    error: str | None = None

    @property
    def saved(self) -> bool:
        """The handoff will reach staff (now, or when the spool is imported)."""
        return self.status in ("stored", "spooled")


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)  # references
    already_present: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # file names moved to rejected/
    remaining: int = 0  # left in the spool because the database failed again

    def __str__(self) -> str:
        return (
            f"spool: {len(self.imported)} imported, {len(self.already_present)} already present, "
            f"{len(self.rejected)} rejected, {self.remaining} remaining"
        )


def import_spool(database: Database, spool: Spool) -> ImportReport:
    """Move spooled handoffs into the database (stops at the first database failure)."""
    report = ImportReport()
    paths = spool.pending()
    for index, path in enumerate(paths):
        try:
            request = spool.read(path)
        except (OSError, ValueError, TypeError) as exc:
            target = spool.reject(path)
            logger.error("handoff.spool_rejected file=%s error=%s moved_to=%s", path.name, exc, target)
            report.rejected.append(path.name)
            continue
        try:
            with database.session() as session:
                _, created = HandoffRepository(session).add(request)
        except (SQLAlchemyError, OSError) as exc:
            report.remaining = len(paths) - index
            logger.warning("handoff.spool_import_failed reference=%s error=%s", request.reference, exc)
            return report
        (report.imported if created else report.already_present).append(request.reference)
        path.unlink()
        logger.info("handoff.spool_imported reference=%s created=%s", request.reference, created)
    return report


class HandoffWriter:
    """Writes handoffs so that none is lost (see the module docstring)."""

    def __init__(
        self,
        database: Database,
        spool: Spool,
        *,
        attempts: int = DEFAULT_ATTEMPTS,
        delays: Sequence[float] = DEFAULT_DELAYS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {attempts}")
        self.database = database
        self.spool = spool
        self.attempts = attempts
        self.delays = tuple(delays)
        self.sleep = sleep

    def _attempts(self) -> Iterator[int]:
        for attempt in range(1, self.attempts + 1):
            yield attempt
            if attempt < self.attempts and self.delays:
                self.sleep(self.delays[min(attempt - 1, len(self.delays) - 1)])

    def write(self, request: HandoffRequest) -> WriteResult:
        error: str | None = None
        attempt = 0
        for attempt in self._attempts():
            try:
                with self.database.session() as session:
                    HandoffRepository(session).add(request)
            except (SQLAlchemyError, OSError) as exc:
                error = f"{type(exc).__name__}: {exc}".splitlines()[0]
                logger.warning(
                    "handoff.write_failed reference=%s attempt=%d/%d error=%s",
                    request.reference,
                    attempt,
                    self.attempts,
                    error,
                )
                continue
            logger.info(
                "handoff.created reference=%s kind=%s attempt=%d", request.reference, request.kind, attempt
            )
            if self.spool.pending():
                logger.info("handoff.spool_drain %s", import_spool(self.database, self.spool))
            return WriteResult("stored", request.reference, attempt)
        try:
            path = self.spool.put(request)
        except OSError as exc:
            # Last resort: the whole request in the log, so an operator can still recover it.
            logger.error(
                "handoff.lost reference=%s db_error=%s spool_error=%s request=%s",
                request.reference,
                error,
                exc,
                json.dumps(request.to_json(), ensure_ascii=False),
            )
            return WriteResult("failed", request.reference, attempt, f"{error}; spool: {exc}")
        logger.error("handoff.spooled reference=%s file=%s db_error=%s", request.reference, path, error)
        return WriteResult("spooled", request.reference, attempt, error)
