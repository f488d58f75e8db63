"""The throwaway PostgreSQL server of devtools/postgres.py (pytest-postgresql's executor)."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from devtools.postgres import PostgresServer, start_postgres


@pytest.fixture()
def engine_(postgres_url: str) -> Iterator[Engine]:
    engine = create_engine(postgres_url, future=True)
    try:
        yield engine
    finally:
        engine.dispose()


def test_url_connects_as_the_app_role(engine_: Engine) -> None:
    with engine_.connect() as conn:
        assert "PostgreSQL" in conn.execute(text("select version()")).scalar_one()
        assert conn.execute(text("select current_user")).scalar_one() == "bank"
        assert conn.execute(text("select current_database()")).scalar_one() == "bank"
        assert conn.execute(text("show server_encoding")).scalar_one() == "UTF8"


def test_table_round_trip(engine_: Engine) -> None:
    with engine_.begin() as conn:
        conn.execute(text("create table round_trip (id serial primary key, name text not null)"))
        conn.execute(text("insert into round_trip (name) values (:name)"), [{"name": "Zoë"}, {"name": "Ana"}])
    try:
        with engine_.connect() as conn:
            rows = conn.execute(text("select id, name from round_trip order by id")).all()
        assert [tuple(row) for row in rows] == [(1, "Zoë"), (2, "Ana")]
    finally:
        with engine_.begin() as conn:
            conn.execute(text("drop table round_trip"))


def test_create_database_gives_a_second_working_database(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database("other")
    assert url.endswith("/other") and url != postgres_server.url
    engine = create_engine(url, future=True)
    try:
        with engine.begin() as conn:
            conn.execute(text("create table t (x int)"))
            conn.execute(text("insert into t values (42)"))
        with engine.connect() as conn:
            assert conn.execute(text("select current_database()")).scalar_one() == "other"
            assert conn.execute(text("select x from t")).scalar_one() == 42
    finally:
        engine.dispose()


def test_listens_on_loopback_only(engine_: Engine, postgres_server: PostgresServer) -> None:
    with engine_.connect() as conn:
        assert conn.execute(text("show listen_addresses")).scalar_one() == "127.0.0.1"
        assert int(conn.execute(text("show port")).scalar_one()) == postgres_server.port
    assert postgres_server.url.startswith(f"postgresql+psycopg2://bank@127.0.0.1:{postgres_server.port}/")


def test_a_server_of_its_own_stops_twice_and_leaves_only_its_log(postgres_server: PostgresServer) -> None:
    """Tests stop their own server mid-test and again on the way out; as root it runs as postgres."""
    workdir = Path(tempfile.mkdtemp(prefix="pgown-", dir="/tmp" if os.geteuid() == 0 else None))
    try:
        server = start_postgres(workdir)  # the session server (the argument) started: so must this
        datadir = Path(server.executor.datadir)
        assert server.port != postgres_server.port
        if os.geteuid() == 0:
            assert datadir.stat().st_uid == pwd.getpwnam("postgres").pw_uid
        server.stop()
        server.stop()
        assert not server.executor.running() and not datadir.exists()
        assert [p.name for p in workdir.iterdir()] == ["postgres.log"]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
