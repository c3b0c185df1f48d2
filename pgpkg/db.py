"""Connections: which database pgpkg talks to, and how one SQL function is called."""

from __future__ import annotations

import os
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pgpkg import errors


def resolve_dsn(dsn: str | None = None) -> str:
    """--dsn, else DATABASE_URL, else the embedded default cluster (started on demand)."""
    if dsn:
        return dsn
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    from pgpkg import embedded

    return embedded.start()


def connect(dsn: str, **kwargs: Any) -> psycopg.Connection[dict[str, Any]]:
    return psycopg.connect(dsn, row_factory=dict_row, **kwargs)


def call(dsn_or_conn: str | psycopg.Connection[Any], query: str, params: Any = None) -> Any:
    """Run one query returning one row with a column `result`, and return that value.

    Takes a DSN (a connection is opened and committed) or a caller's
    connection (its transaction is left to the caller). PostgreSQL errors come
    back as pgpkg.errors exceptions, by SQLSTATE.
    """
    try:
        if isinstance(dsn_or_conn, str):
            with connect(dsn_or_conn) as conn:
                return _fetch_result(conn, query, params)
        return _fetch_result(dsn_or_conn, query, params)
    except psycopg.Error as error:
        if error.sqlstate is None:
            raise
        raise errors.from_psycopg(error) from error


def _fetch_result(conn: psycopg.Connection[Any], query: str, params: Any) -> Any:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        row = cur.fetchone()
    return None if row is None else row["result"]
