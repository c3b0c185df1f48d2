"""Install paths: yoyo and `pgpkg install` give the same catalog; idempotence, upgrade, rollback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row
from yoyo import get_backend, read_migrations

from pgpkg import checksum
from pgpkg.install import install, uninstall, yoyo_url
from tests.catalog import snapshot
from tests.conftest import ROOT, track_events
from tests.oracle import mismatches

MIGRATIONS = str(ROOT / "migrations")


def yoyo_cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "yoyo", *args], check=True, capture_output=True, cwd=ROOT)


def yoyo(command: str, dsn: str, *extra: str) -> None:
    yoyo_cli(command, "--batch", "--database", yoyo_url(dsn), *extra, MIGRATIONS)


def test_yoyo_apply_and_pgpkg_install_give_the_same_catalog(empty_database):
    by_yoyo, by_pgpkg = empty_database(), empty_database()
    yoyo("apply", by_yoyo)
    install(by_pgpkg)
    reference = snapshot(by_pgpkg)
    assert snapshot(by_yoyo) == reference
    assert reference["functions"] and reference["indexes"] and reference["relations"]


def test_applying_twice_changes_nothing(empty_database):
    dsn = empty_database()
    first = install(dsn)
    before = snapshot(dsn)
    second = install(dsn)
    yoyo("apply", dsn)
    assert first["applied"] and second["applied"] == []
    assert snapshot(dsn) == before


def test_plain_yoyo_apply_of_a_newer_checkout_refreshes_functions(empty_database):
    fresh, upgraded = empty_database(), empty_database()
    install(fresh)
    # An older install: every migration but the newest, with stale functions.
    backend = get_backend(yoyo_url(upgraded))
    migrations = read_migrations(MIGRATIONS)
    with backend.lock():
        backend.apply_migrations_only(backend.to_apply(migrations[:-1]))
    with psycopg.connect(upgraded, autocommit=True) as conn:
        conn.execute("CREATE FUNCTION analytics.status() RETURNS jsonb LANGUAGE sql AS $$ SELECT '{}'::jsonb $$")
    yoyo("apply", upgraded)
    assert snapshot(upgraded) == snapshot(fresh)


def test_every_change_to_sql_ships_with_a_migration():
    newest = checksum.newest_migration()
    expected = checksum.sql_checksum()
    assert checksum.recorded_checksum(newest) == expected, (
        f"sql/ changed since {newest.name} was written. Add a new migration (it may hold only comments) whose "
        f"header carries the line\n-- sql-checksum: {expected}\nso that `yoyo apply` re-applies sql/."
    )


def test_migrate_up_down_up(empty_database):
    dsn = empty_database()
    yoyo("apply", dsn)
    installed = snapshot(dsn)
    yoyo("rollback", dsn, "--all")
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT to_regnamespace('analytics')").fetchone()[0] is None
    yoyo("apply", dsn)
    assert snapshot(dsn) == installed


def test_every_migration_has_a_rollback_and_a_numbered_name():
    for path in (ROOT / "migrations").glob("*.sql"):
        if path.name.endswith(".rollback.sql"):
            continue
        assert re.fullmatch(r"\d{4}_[a-z0-9_]+\.sql", path.name), path.name
        assert path.with_name(path.stem + ".rollback.sql").exists(), f"{path.name} has no rollback"


def test_uninstall_keeps_roles_that_another_database_uses(empty_database, conn):
    dsn = empty_database()
    install(dsn)
    result = uninstall(dsn)
    assert len(result["rolled_back"]) == len(read_migrations(MIGRATIONS))
    assert snapshot(dsn)["schemas"] == []
    # The test's own database (a clone of the installed template) still holds grants to the roles.
    roles = conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'analytics\\_%' ORDER BY 1").fetchall()
    assert [r["rolname"] for r in roles] == ["analytics_admin", "analytics_ingest", "analytics_reader"]
    assert conn.execute("SELECT analytics.track_event('s', 'click') IS NOT NULL AS ok").fetchone()["ok"]


def test_install_into_two_databases_of_one_cluster(empty_database):
    first, second = empty_database(), empty_database()
    install(first)
    install(second)
    assert snapshot(first) == snapshot(second)


def test_functions_and_views_match_the_files_one_to_one(conn):
    files = {p.stem for p in (ROOT / "sql" / "functions").glob("*.sql")}
    functions = conn.execute("SELECT proname FROM pg_proc WHERE pronamespace = 'analytics'::regnamespace").fetchall()
    names = [f["proname"] for f in functions]
    assert sorted(set(names)) == sorted(files), "each function lives in sql/functions/<its name>.sql"
    assert len(names) == len(set(names)), "no overloads: PostgREST exposes only one"
    views = {p.stem for p in (ROOT / "sql" / "views").glob("*.sql")}
    in_db = conn.execute(
        "SELECT relname FROM pg_class WHERE relnamespace = 'analytics'::regnamespace AND relkind IN ('v', 'm')"
    ).fetchall()
    assert {v["relname"] for v in in_db} == views


# Called once per event by the rollup job: a SQL function with a SET clause is never inlined
# into its caller. Each is IMMUTABLE, not SECURITY DEFINER, and is parsed where it is inlined,
# under the search_path its caller pins.
INLINED_HELPERS = {"_event_key_char", "_event_key_code"}


def test_every_function_states_its_contract(conn):
    rows = conn.execute("""
        SELECT p.proname, obj_description(p.oid, 'pg_proc') AS comment, p.prosrc, p.proconfig, p.prosecdef,
               p.provolatile, l.lanname = 'sql' AS is_sql
          FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
         WHERE p.pronamespace = 'analytics'::regnamespace""").fetchall()
    for row in rows:
        assert row["comment"], f"{row['proname']} has no COMMENT"
        assert "Contract:" in row["prosrc"] and "Example:" in row["prosrc"], f"{row['proname']} lacks its header"
        if row["proname"] in INLINED_HELPERS:
            assert row["proconfig"] is None and row["is_sql"] and row["provolatile"] == "i" and not row["prosecdef"]
            continue
        assert row["proconfig"] and any(c.startswith("search_path=pg_catalog, pg_temp") for c in row["proconfig"]), (
            f"{row['proname']} must pin search_path = pg_catalog, pg_temp"
        )


def test_wheel_carries_sql_and_migrations(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = Path(tmp_path).glob("pgpkg-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in [*ROOT.glob("sql/**/*.sql"), *ROOT.glob("migrations/*")]:
        assert f"pgpkg/{path.relative_to(ROOT).as_posix()}" in names


@pytest.mark.parametrize("command", [["install"], ["status"]])
def test_cli_with_dsn(dsn, command):
    result = subprocess.run(
        [sys.executable, "-m", "pgpkg.cli", "--dsn", dsn, *command], capture_output=True, text=True, check=True
    )
    assert '"partitions"' in result.stdout


def test_readme_names_every_public_function(conn):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = conn.execute(
        "SELECT proname FROM pg_proc WHERE pronamespace = 'analytics'::regnamespace AND proname NOT LIKE '\\_%'"
    ).fetchall()
    missing = [r["proname"] for r in rows if f"{r['proname']}(" not in readme and f"`{r['proname']}`" not in readme]
    assert missing == [], f"README.md does not document {missing}"


def test_every_unique_key_of_a_tenant_table_starts_with_project_id(conn):
    """Citus distributes by project_id: unique keys (and ON CONFLICT targets) must lead with it."""
    rows = conn.execute("""
        SELECT c.relname, i.indexrelid::regclass::text AS index, a.attname AS first_column
          FROM pg_index i
          JOIN pg_class c ON c.oid = i.indrelid
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
         WHERE c.relnamespace = 'analytics'::regnamespace AND i.indisunique AND NOT c.relispartition
           AND EXISTS (SELECT 1 FROM pg_attribute p WHERE p.attrelid = c.oid AND p.attname = 'project_id')""").fetchall()
    assert rows, "no tenant table found"
    assert [r for r in rows if r["first_column"] != "project_id"] == []


def test_every_tenant_table_has_row_level_security(conn):
    """Every table with a project_id column (partitions inherit from their parent) is behind the
    tenant policy for readers and ingest, and the open policy for admins."""
    rows = conn.execute("""
        SELECT c.relname, c.relrowsecurity,
               array(SELECT p.polname::text FROM pg_policy p WHERE p.polrelid = c.oid ORDER BY 1) AS policies
          FROM pg_class c
         WHERE c.relnamespace = 'analytics'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'project_id')""").fetchall()
    assert len(rows) >= 18
    assert [
        r["relname"] for r in rows if not r["relrowsecurity"] or r["policies"] != ["admin_all", "tenant_isolation"]
    ] == []


def test_upgrade_to_0008_links_the_visits_already_rolled_up(empty_database):
    """0008 adds the links between visits and the visit, page, exposure and group rollups: on an install
    that already holds data, its backfill must give what the rollup job would (checked by the oracle)."""
    dsn = empty_database()
    install(dsn)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=30)
    events = [
        {
            "session_id": f"s{n % 17}",
            "event_type": "pageview" if n % 3 else "click",
            "occurred_at": (start + timedelta(minutes=37 * n)).isoformat(),
            **({"user_id": f"u{n % 4}"} if n % 17 < 12 else {}),
        }
        for n in range(40)
    ]
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        track_events(conn, events)
        conn.execute("SELECT analytics.identify('u1', '{\"group\": \"acme\"}')")
        conn.execute("SELECT analytics.refresh_rollups()")
        assert conn.execute("SELECT count(*) AS n FROM analytics.rollup_hourly_visits").fetchone()["n"] > 0
    yoyo("rollback", dsn, "--revision", "0008_visit_rollups")
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('analytics.rollup_hourly_visits')").fetchone()[0] is None
    yoyo("apply", dsn)
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        assert (
            conn.execute(
                "SELECT count(*) AS n FROM analytics.sessions WHERE previous_first_seen IS NOT NULL"
            ).fetchone()["n"]
            > 0
        )
        assert (
            conn.execute(
                "SELECT count(*) AS n FROM analytics.rollup_daily_groups WHERE group_value = 'acme'"
            ).fetchone()["n"]
            > 0
        )
        assert mismatches(conn) == {}


@pytest.mark.parametrize(
    ("revision", "table"),
    [("0011_session_paths", "analytics.event_keys"), ("0013_session_path_rollup", "analytics.rollup_hourly_paths")],
)
def test_upgrade_gives_the_sessions_already_rolled_up_their_paths(empty_database, revision, table):
    """0011 adds session paths, 0013 their hourly rollup: on an install that already holds data, their
    backfill must give the paths, event keys and path rollup the rollup job would (checked by the
    oracle), ties included."""
    dsn = empty_database()
    install(dsn)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=30)
    events = [
        {
            "session_id": f"s{n // 2 % 7}",
            "event_type": ("pageview", "click", "conversion")[n % 3],
            "name": ("/", "/pricing", None, "cta")[n % 4],
            # Events 5, 15, 25, ... share the timestamp of the one before, in the same session.
            "occurred_at": (start + timedelta(minutes=37 * (n - (n % 10 == 5)))).isoformat(),
        }
        for n in range(60)
    ]
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        track_events(conn, events)
        conn.execute("SELECT analytics.refresh_rollups()")
    yoyo("rollback", dsn, "--revision", revision)
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None
    yoyo("apply", dsn)
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        paths = conn.execute(
            "SELECT count(*) FILTER (WHERE path IS NULL) AS tied, count(path) AS with_path FROM analytics.sessions"
        ).fetchone()
        assert paths["tied"] > 0 and paths["with_path"] > 0
        assert mismatches(conn) == {}


def test_upgrade_to_0015_rolls_up_the_traits_set_before_it(empty_database):
    """0015 clears every user's rolled-up traits: the next refresh weighs each trait key set before the
    upgrade, rolls up those with few values, and leaves the group rollup equal to the oracle."""
    dsn = empty_database()
    install(dsn)
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        track_events(conn, [{"session_id": f"s{n}", "user_id": f"u{n}", "event_type": "click"} for n in range(4)])
        for n in range(4):
            traits = {"country": ("fr", "de")[n % 2], "group": "acme"}
            conn.execute("SELECT analytics.identify(%s, %s::jsonb)", (f"u{n}", json.dumps(traits)))
        conn.execute("SELECT analytics.refresh_rollups()")
    # As an install at 0014 whose job ran: the traits carried over, "group" alone rolled up.
    yoyo("rollback", dsn, "--revision", "0015_automatic_trait_rollups")
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        assert conn.execute("SELECT count(*) AS n FROM analytics.trait_rollups").fetchone()["n"] == 0
        assert (
            conn.execute("SELECT count(*) AS n FROM analytics.users WHERE rolled_traits = traits").fetchone()["n"] == 4
        )
    yoyo("apply", dsn)
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("SELECT analytics.refresh_rollups()")
        rolled = conn.execute("SELECT trait, automatic FROM analytics.trait_rollups").fetchall()
        assert [(r["trait"], r["automatic"]) for r in rolled] == [("country", True)]
        assert mismatches(conn) == {}


def test_upgrade_to_0016_keeps_the_funnels_saved_before_it_by_session(empty_database):
    """0016 adds count_by to saved funnels: a funnel saved before it stays a session funnel that funnel()
    answers from its rollup, and the same steps may then be saved by user too."""
    dsn = empty_database()
    install(dsn)
    start = datetime.now(UTC) - timedelta(hours=5)
    events = [
        {"session_id": f"s{n}", "user_id": f"u{n % 2}", "event_type": kind, "occurred_at": at.isoformat()}
        for n in range(4)
        for kind, at in (("signup", start + timedelta(minutes=n)), ("conversion", start + timedelta(minutes=30 + n)))
    ]
    steps, span = ["signup", "conversion"], (start - timedelta(hours=1), datetime.now(UTC))

    def funnel(conn, count_by: str) -> dict:
        return conn.execute(
            "SELECT analytics.funnel(%s, %s, %s, count_by => %s, project_id => 'default') AS r",
            (steps, *span, count_by),
        ).fetchone()["r"]

    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        track_events(conn, events)
        conn.execute("SELECT analytics.refresh_rollups()")
        conn.execute("SELECT analytics.save_funnel('signup', ARRAY['signup', 'conversion'], project_id => 'default')")
        conn.execute(
            "SELECT analytics.save_funnel('signup-users', ARRAY['signup', 'conversion'], count_by => 'user',"
            " project_id => 'default')"
        )
    # As an install at 0015 that saved the session funnel: the funnel by user goes with the rollback.
    yoyo("rollback", dsn, "--revision", "0016_saved_user_funnels")
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        assert conn.execute("SELECT funnel_id FROM analytics.funnels").fetchall() == [{"funnel_id": "signup"}]
        assert conn.execute("SELECT to_regclass('analytics.funnel_users') AS t").fetchone()["t"] is None
    yoyo("apply", dsn)
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        saved = conn.execute("SELECT funnel_id, count_by FROM analytics.funnels").fetchall()
        assert saved == [{"funnel_id": "signup", "count_by": "session"}]
        by_session = funnel(conn, "session")
        assert by_session["saved_funnel"] == "signup" and [s["count"] for s in by_session["steps"]] == [4, 4]
        conn.execute(
            "SELECT analytics.save_funnel('signup-users', ARRAY['signup', 'conversion'], count_by => 'user',"
            " project_id => 'default')"
        )
        by_user = funnel(conn, "user")
        assert by_user["saved_funnel"] == "signup-users" and [s["count"] for s in by_user["steps"]] == [2, 2]


def _readme_prebuild_statement() -> str:
    """The README's query that writes one CREATE INDEX CONCURRENTLY per partition, ahead of 0017."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("**Upgrading a large install without blocking ingest.**", 1)[1]
    block = re.search(r"```sql\n(.*?)```", section, flags=re.S)
    assert block is not None
    return block.group(1).replace("\\gexec", "").strip()


def test_an_index_built_concurrently_ahead_of_its_migration_is_attached_not_rebuilt(empty_database):
    """The README's way to apply 0017 to a large install without blocking writes: build the index on each
    partition CONCURRENTLY first; the migration's CREATE INDEX then attaches those very indexes."""
    dsn = empty_database()
    install(dsn)
    start = datetime.now(UTC) - timedelta(days=2)
    events = [
        {
            "session_id": f"s{n % 5}",
            "user_id": f"u{n % 3}",
            "event_type": "pageview",
            "name": "/",
            "occurred_at": (start + timedelta(hours=3 * n)).isoformat(),
        }
        for n in range(20)
    ]
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        track_events(conn, events)
        conn.execute("SELECT analytics.maintain_partitions()")  # the past days' rows leave the default partition
        conn.execute("SELECT analytics.refresh_rollups()")
    yoyo("rollback", dsn, "--revision", "0017_user_index_in_c_collation")
    index_of_partitions = """
        SELECT i.indrelid::regclass::text AS partition, i.indexrelid AS index, i.indisvalid AS valid,
               (SELECT p.inhparent::regclass::text FROM pg_inherits p WHERE p.inhrelid = i.indexrelid) AS parent
          FROM pg_index i JOIN pg_inherits t ON t.inhrelid = i.indrelid
         WHERE t.inhparent = 'analytics.events'::regclass
           AND pg_get_indexdef(i.indexrelid) LIKE
               '%(project_id COLLATE "C", user_id COLLATE "C", event_type COLLATE "C", name COLLATE "C", occurred_at)%'
         ORDER BY 1, 2"""
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        assert conn.execute(index_of_partitions).fetchall() == []
        partitions = conn.execute(
            "SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'analytics.events'::regclass"
        ).fetchone()["n"]
        statements = [row["format"] for row in conn.execute(_readme_prebuild_statement()).fetchall()]
        assert len(statements) == partitions >= 3
        for statement in statements:  # autocommit: CONCURRENTLY refuses to run in a transaction
            conn.execute(statement)
        prebuilt = conn.execute(index_of_partitions).fetchall()
        assert len(prebuilt) == partitions and all(row["parent"] is None for row in prebuilt)
    yoyo("apply", dsn)
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        after = conn.execute(index_of_partitions).fetchall()
        # The same indexes, one per partition, now valid children of the migration's index.
        assert [(r["partition"], r["index"]) for r in after] == [(r["partition"], r["index"]) for r in prebuilt]
        assert {(r["parent"], r["valid"]) for r in after} == {("analytics.events_project_user_key_time_c_idx", True)}
        assert mismatches(conn) == {}


def _readme_recipes() -> list[tuple[str, str]]:
    """(statement, the output comment under it) for every SQL block of the README's Recipes section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Recipes", 1)[1].split("\n## ", 1)[0]
    recipes: list[tuple[str, str]] = []
    for block in re.findall(r"```sql\n(.*?)```", section, flags=re.S):
        statement, output = "", ""
        for line in block.splitlines():
            code, _, comment = line.partition("--")
            if code.strip():
                if statement.endswith(";"):
                    recipes.append((statement, output))
                    statement, output = "", ""
                statement = (statement + " " + code.strip()).strip()
            if comment and not comment.strip().startswith(("POST ", "supabase.")):
                output += comment
        if statement:
            recipes.append((statement, output))
    return recipes


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_readme_recipes_run_and_return_what_they_show(conn):
    """Every SQL recipe in the README runs on sample data, and each key its output shows is in the result."""
    from pgpkg import sample

    track_events(conn, list(sample.events(3000, days=3, seed=11)))
    conn.execute("SELECT analytics.refresh_rollups()")
    recipes = _readme_recipes()
    assert len(recipes) >= 20
    for statement, output in recipes:
        row = conn.execute(statement.rstrip(";")).fetchone()
        shown = set(re.findall(r'"([a-z_]+)":', output))
        if shown:
            assert row is not None, statement
            result = next(iter(row.values()))
            assert shown <= _keys(result), (statement, shown - _keys(result))


# Examples that need something saved first: the statement that sets it up.
EXAMPLE_SETUP = {
    "_write_funnel_walks": "SELECT analytics.save_funnel('signup', ARRAY['signup'], project_id => 'default')",
    "_write_funnel_user_walks": "SELECT analytics.save_funnel('signup', ARRAY['signup'], count_by => 'user',"
    " project_id => 'default')",
}


def test_every_function_example_runs(conn):
    """The `Example:` of each function's header is a statement that runs on a fresh install (rolled back)."""
    rows = conn.execute(
        "SELECT proname, prosrc FROM pg_proc WHERE pronamespace = 'analytics'::regnamespace ORDER BY 1"
    ).fetchall()
    for row in rows:
        example = re.search(r"Example:\s*(.*?;)", row["prosrc"], re.S)
        assert example, f"{row['proname']} has no example"
        with conn.transaction(force_rollback=True):
            conn.execute("SET LOCAL statement_timeout = '20s'")
            if row["proname"] in EXAMPLE_SETUP:
                conn.execute(EXAMPLE_SETUP[row["proname"]])
            try:
                conn.execute(example.group(1))
            except psycopg.Error as error:
                pytest.fail(f"{row['proname']}: its example fails: {error}")
