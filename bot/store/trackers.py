"""Read-only access to Rasa's SQL tracker store: when each customer last wrote.

Reads: the ``events`` table Rasa's ``SQLTrackerStore`` creates (``sender_id`` — indexed —,
``type_name``, ``timestamp`` in seconds since the epoch, ``intent_name``, ``action_name``,
``data``), at ``Settings.tracker_store_url`` (``TRACKER_STORE_URL``).
Writes: nothing. A SQLite file is opened read-only (it is never created, and its journal
mode is left as Rasa set it); on PostgreSQL, give staff tooling a role that may only
``SELECT`` from ``events``.

Build the engine once (``tracker_store_engine``) where a page runs often, such as the
staff queue; ``last_customer_messages`` also takes a URL for one-off use.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Iterable
from typing import Any

from sqlalchemy import column, create_engine, func, select, table
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

USER_EVENT = "user"  # Rasa's ``UserUttered.type_name``: a message from the customer
# Sender ids per query (SQLite allows 32,766 bound parameters, older builds 999).
MAX_IDS_PER_QUERY = 500
DEFAULT_SQLITE_TIMEOUT = 5.0

_EVENTS = table("events", column("sender_id"), column("type_name"), column("timestamp"))


class TrackerStoreError(RuntimeError):
    """Rasa's tracker store cannot be read; the message names the store (without its
    password) and says why."""


def _shown(url: Any) -> str:
    return str(make_url(url).render_as_string(hide_password=True))


def tracker_store_engine(url: str, **options: Any) -> Engine:
    """An engine for reading the tracker store at ``url`` (SQLite: read-only)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            raise TrackerStoreError(f"tracker store {url!r}: give the SQLite file Rasa writes (TRACKER_DB)")
        readonly = parsed.set(
            database=f"file:{urllib.parse.quote(database)}",
            query={**parsed.query, "mode": "ro", "uri": "true"},
        )
        options.setdefault("connect_args", {"timeout": DEFAULT_SQLITE_TIMEOUT, "check_same_thread": False})
        return create_engine(readonly, future=True, **options)
    options.setdefault("pool_pre_ping", True)
    return create_engine(parsed, future=True, **options)


def _at(timestamp: Any) -> dt.datetime | None:
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(float(timestamp), tz=dt.timezone.utc)


def last_customer_messages(engine_or_url: Engine | str, sender_ids: Iterable[str]) -> dict[str, dt.datetime]:
    """When each of ``sender_ids`` last wrote (UTC), in one query for up to
    ``MAX_IDS_PER_QUERY`` ids; conversations without a customer message are left out.

    Compare with a handoff's ``created_at`` (or the latest staff reply) to show that
    the customer wrote again.

    Raises:
        TrackerStoreError: the store cannot be opened or has no ``events`` table.
    """
    ids = sorted({s for s in sender_ids if s})
    if not ids:
        return {}
    own_engine = not isinstance(engine_or_url, Engine)
    engine = tracker_store_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    latest: dict[str, dt.datetime] = {}
    try:
        with engine.connect() as connection:
            for start in range(0, len(ids), MAX_IDS_PER_QUERY):
                chunk = ids[start : start + MAX_IDS_PER_QUERY]
                query = (
                    select(_EVENTS.c.sender_id, func.max(_EVENTS.c.timestamp))
                    .where(_EVENTS.c.type_name == USER_EVENT, _EVENTS.c.sender_id.in_(chunk))
                    .group_by(_EVENTS.c.sender_id)
                )
                for sender_id, timestamp in connection.execute(query):
                    at = _at(timestamp)
                    if at is not None:
                        latest[str(sender_id)] = at
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise TrackerStoreError(f"cannot read Rasa's tracker store {_shown(engine.url)}: {reason}") from exc
    finally:
        if own_engine:
            engine.dispose()
    return latest
