"""Re-apply pgpkg's repeatable objects after every yoyo apply.

migrations/ owns the stateful objects (tables, indexes, roles). Functions and
views live in sql/functions/ and sql/views/, one object per file, and are
re-created idempotently here, followed by the grants (sql/grants.sql, the one
place where privileges are declared) and by maintain_partitions(), so that a
fresh install has today's partitions and those ahead.

yoyo runs post-apply hooks only after an apply that applied at least one
migration. Every change to sql/ therefore ships with a new migration whose
header records the new checksum of sql/ (tests/test_install.py checks it), so
that a plain `yoyo apply` of a newer checkout always brings functions and
views up to date. `pgpkg install` runs this hook on every call.

This file must stay self-contained: a DBA may run `yoyo apply` from a checkout
where the pgpkg Python package is not installed.
"""

from pathlib import Path

from yoyo import step

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


def repeatable_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    """The files re-applied on every install, in the order they run."""
    return [
        *sorted((sql_dir / "functions").glob("*.sql")),
        *sorted((sql_dir / "views").glob("*.sql")),
        sql_dir / "grants.sql",
    ]


def apply_repeatable(conn) -> None:
    with conn.cursor() as cur:
        # Function bodies reference each other and tables; check them when
        # they run, not in file order.
        cur.execute("SET LOCAL check_function_bodies = off")
        for path in repeatable_files():
            cur.execute(path.read_text(encoding="utf-8"))
        cur.execute("SELECT analytics.maintain_partitions()")


steps = [step(apply_repeatable)]
