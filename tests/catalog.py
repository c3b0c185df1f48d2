"""A comparable snapshot of everything pgpkg puts into a database's catalog."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

QUERIES = {
    "schemas": """
        SELECT nspname, nspacl::text AS acl, obj_description(oid, 'pg_namespace') AS comment
          FROM pg_namespace WHERE nspname = 'analytics'""",
    "relations": """
        SELECT c.relname, c.relkind, c.relacl::text AS acl, c.relrowsecurity, c.relforcerowsecurity,
               pg_get_expr(c.relpartbound, c.oid) AS bound, obj_description(c.oid, 'pg_class') AS comment,
               CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS definition
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'analytics' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')""",
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid) AS default, a.attidentity, a.attacl::text AS acl,
               col_description(c.oid, a.attnum) AS comment
          FROM pg_attribute a
          JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE n.nspname = 'analytics' AND a.attnum > 0 AND NOT a.attisdropped
           AND c.relkind IN ('r', 'p', 'v', 'm')""",
    "indexes": """
        SELECT indexname, pg_get_indexdef(format('%I.%I', schemaname, indexname)::regclass) AS definition
          FROM pg_indexes WHERE schemaname = 'analytics'""",
    "constraints": """
        SELECT conrelid::regclass::text AS relation, conname, pg_get_constraintdef(oid) AS definition
          FROM pg_constraint WHERE connamespace = 'analytics'::regnamespace""",
    "functions": """
        SELECT p.oid::regprocedure::text AS signature, pg_get_function_result(p.oid) AS result,
               md5(p.prosrc) AS body, p.prosecdef, p.provolatile, p.proconfig, p.proacl::text AS acl,
               obj_description(p.oid, 'pg_proc') AS comment
          FROM pg_proc p WHERE p.pronamespace = 'analytics'::regnamespace""",
    "triggers": """
        SELECT tgname, pg_get_triggerdef(t.oid) AS definition
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace = 'analytics'::regnamespace AND NOT t.tgisinternal""",
    "policies": """
        SELECT tablename, policyname, permissive, roles::text, cmd, qual, with_check
          FROM pg_policies WHERE schemaname = 'analytics'""",
    "roles": """
        SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'analytics\\_%'""",
    "settings": "SELECT key, value FROM analytics.settings",
}


def snapshot(dsn: str) -> dict[str, list[dict[str, Any]]]:
    """Everything in QUERIES, each list sorted, so that two installs compare with ==."""
    result: dict[str, list[dict[str, Any]]] = {}
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        has_schema = conn.execute("SELECT to_regnamespace('analytics') IS NOT NULL AS ok").fetchone()["ok"]
        for name, query in QUERIES.items():
            if not has_schema and name != "roles" and name != "schemas":
                result[name] = []
                continue
            rows = conn.execute(query).fetchall()
            result[name] = sorted(rows, key=lambda row: [str(v) for v in row.values()])
    return result
