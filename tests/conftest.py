"""Test harness: one real PostgreSQL 15 per test session, with pg_cron preloaded.

pytest-postgresql starts the server (as the postgres user when we are root,
through tests/pg_ctl_as_postgres.sh), installs pgpkg once into the template
database, and clones a fresh database from it for every test (`postgresql`).
pg_cron runs in its own session-scoped database, cron_tests: a per-test
database cannot host it (dropping it would kill pg_cron's launcher for good).
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from pytest_postgresql import factories
from pytest_postgresql.janitor import DatabaseJanitor

from pgpkg.install import install

ROOT = Path(__file__).resolve().parent.parent
PG_BINDIR = os.environ.get("PGPKG_PG_BINDIR", "/usr/lib/postgresql/15/bin")
PG_CTL = str(ROOT / "tests" / "pg_ctl_as_postgres.sh") if os.geteuid() == 0 else f"{PG_BINDIR}/pg_ctl"
CRON_DB = "cron_tests"


def dsn_of(host: str, port: int | str, user: str, dbname: str, password: str | None = None) -> str:
    parts = [f"host={host}", f"port={port}", f"user={user}", f"dbname={dbname}"]
    if password:
        parts.append(f"password={password}")
    return " ".join(parts)


def _install_into_template(host: str, port: int, user: str, dbname: str, password: str | None, **_: Any) -> None:
    install(dsn_of(host, port, user, dbname, password))


postgresql_proc = factories.postgresql_proc(
    executable=PG_CTL,
    port=None,
    postgres_options=(
        "-c shared_preload_libraries=pg_cron"
        f" -c cron.database_name={CRON_DB}"
        " -c max_connections=200"
        # Durability is not under test; speed is welcome.
        " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    ),
    load=[_install_into_template],
)
postgresql = factories.postgresql("postgresql_proc")


@pytest.fixture
def dsn(postgresql: psycopg.Connection[Any]) -> str:
    """The DSN of this test's own database (a clone of the installed template)."""
    info = postgresql.info
    return dsn_of(info.host, info.port, info.user, info.dbname, info.password)


@pytest.fixture
def conn(postgresql: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    """An autocommit connection with dict rows to this test's database."""
    postgresql.autocommit = True
    postgresql.row_factory = dict_row  # type: ignore[assignment]
    return postgresql


@pytest.fixture
def keep_old_events(conn: psycopg.Connection[Any]) -> None:
    """For modules on fixed dates (`pytestmark = pytest.mark.usefixtures("keep_old_events")`): their events
    must stay storable, and their hourly rollups readable, whenever the suite runs."""
    conn.execute(
        "UPDATE analytics.settings SET value = '36500' WHERE key IN ('raw_retention_days', 'rollup_retention_days')"
    )


_counter = itertools.count()


def _new_database(proc: Any, name: str) -> tuple[DatabaseJanitor, str]:
    """An empty database on the test server (not cloned from the installed template)."""
    janitor = DatabaseJanitor(user=proc.user, host=proc.host, port=proc.port, dbname=name, password=proc.password)
    janitor.init()
    return janitor, dsn_of(proc.host, proc.port, proc.user, name, proc.password)


@pytest.fixture
def empty_database(postgresql_proc: Any) -> Iterator[Callable[[], str]]:
    """A factory of empty databases (not cloned from the installed template); returns DSNs."""
    janitors: list[DatabaseJanitor] = []

    def make() -> str:
        janitor, dsn = _new_database(postgresql_proc, f"empty_{os.getpid()}_{next(_counter)}")
        janitors.append(janitor)
        return dsn

    yield make
    for janitor in reversed(janitors):
        janitor.drop()


@pytest.fixture(scope="session")
def cron_dsn(postgresql_proc: Any) -> Iterator[str]:
    """The database pg_cron runs in, created once per session."""
    janitor, dsn = _new_database(postgresql_proc, CRON_DB)
    yield dsn
    janitor.drop()


@contextmanager
def acting_as(conn: psycopg.Connection[Any], role: str, claims: dict[str, Any] | None = None) -> Iterator[None]:
    """Call as PostgREST does: SET ROLE to the caller's role, request.jwt.claims set for the transaction."""
    with conn.transaction():
        conn.execute(f"SET LOCAL ROLE {role}")
        if claims is not None:
            conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
        yield


def track_events(conn: psycopg.Connection[Any], events: list[Any]) -> dict[str, Any]:
    """POST /rpc/track_events {"events": [...]}: named argument, JSON body."""
    row = conn.execute("SELECT analytics.track_events(events => %s::json) AS result", (json.dumps(events),)).fetchone()
    assert row is not None
    return row["result"]
