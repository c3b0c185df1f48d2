"""Install, upgrade, uninstall and inspect pgpkg in one database, through yoyo.

`install()` applies the pending migrations of migrations/ and then always
re-applies the repeatable objects (migrations/post-apply.py: sql/functions,
sql/views, sql/grants.sql), so that it gives exactly what a plain
`yoyo apply migrations/` gives, and also refreshes functions when no
migration was pending.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from psycopg.conninfo import conninfo_to_dict
from yoyo import get_backend, read_migrations

from pgpkg import db
from pgpkg.resources import migrations_dir


def yoyo_url(dsn: str) -> str:
    """A yoyo database URL (postgresql+psycopg://, i.e. psycopg 3) for a libpq DSN or URL."""
    params = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    user = quote(params.pop("user", ""), safe="")
    password = params.pop("password", None)
    host = params.pop("host", "")
    port = params.pop("port", "")
    dbname = quote(params.pop("dbname", ""), safe="")
    auth = f"{user}:{quote(password, safe='')}@" if password is not None else (f"{user}@" if user else "")
    if host.startswith("/") or "," in host:
        # A unix socket directory cannot be a URL host: pass it as a query argument.
        params["host"] = host
        if port:
            params["port"] = port
        netloc = auth
    else:
        netloc = auth + host + (f":{port}" if port else "")
    query = f"?{urlencode(params)}" if params else ""
    return f"postgresql+psycopg://{netloc}/{dbname}{query}"


def _migrations() -> Any:
    return read_migrations(str(migrations_dir()))


def install(dsn: str | None = None) -> dict[str, Any]:
    """Apply pending migrations and (re)apply every function, view and grant.

    Idempotent: a second call applies no migration and leaves the catalog as it was.
    Returns {"applied": [migration ids], "status": analytics.status()}.
    """
    dsn = db.resolve_dsn(dsn)
    backend = get_backend(yoyo_url(dsn))
    migrations = _migrations()
    with backend.lock():
        pending = backend.to_apply(migrations)
        applied = [m.id for m in pending]
        backend.apply_migrations_only(pending)
        backend.run_post_apply(migrations)
    return {"applied": applied, "status": db.call(dsn, "SELECT analytics.status() AS result")}


def uninstall(dsn: str | None = None) -> dict[str, Any]:
    """Roll back every applied migration: drops the analytics schema, and the roles
    that no other database of the cluster still uses."""
    dsn = db.resolve_dsn(dsn)
    backend = get_backend(yoyo_url(dsn))
    migrations = _migrations()
    with backend.lock():
        to_rollback = backend.to_rollback(migrations)
        rolled_back = [m.id for m in to_rollback]
        backend.rollback_migrations(to_rollback)
    return {"rolled_back": rolled_back}


def applied_migrations(dsn: str) -> list[str]:
    backend = get_backend(yoyo_url(dsn))
    migrations = _migrations()
    applied = set(backend.get_applied_migration_hashes())
    return [m.id for m in migrations if m.hash in applied]


def status(dsn: str | None = None) -> dict[str, Any]:
    """Applied and pending migrations, and analytics.status() (partitions, jobs, pg_cron)."""
    dsn = db.resolve_dsn(dsn)
    applied = applied_migrations(dsn)
    pending = [m.id for m in _migrations() if m.id not in applied]
    result: dict[str, Any] = {"applied_migrations": applied, "pending_migrations": pending}
    if applied:
        result.update(db.call(dsn, "SELECT analytics.status() AS result"))
        if not pending:
            result["health"] = db.call(dsn, "SELECT analytics.health() AS result")
    return result
