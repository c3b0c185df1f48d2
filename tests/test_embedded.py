"""The embedded default: pgpkg with no --dsn and no DATABASE_URL starts its own private cluster."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pgpkg import embedded


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def embedded_env(monkeypatch):
    home = Path(tempfile.mkdtemp(prefix="pgpkg-embedded-"))
    env = {"PGPKG_HOME": str(home), "PGPKG_PORT": str(free_port())}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    yield {**os.environ, **env}
    embedded.stop()
    subprocess.run(["rm", "-rf", str(home)], check=False)


def pgpkg(env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pgpkg.cli", *args], env=env, capture_output=True, text=True)


def test_demo_runs_on_the_embedded_default(embedded_env):
    result = pgpkg(embedded_env, "demo", "--events", "300")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["track_events"]["accepted"] == 300
    assert {r["code"] for r in report["track_events"]["rejected"]} == {"missing_session_id", "invalid_event_type"}
    assert sum(row["events"] for row in report["events_by_type"]) == 300
    # Every sample event ends in its day's partition, none waits in the default one.
    assert report["health"]["default_partition_rows"] == 0 and report["health"]["pending_buckets"] == 0

    url = pgpkg(embedded_env, "db", "url")
    assert url.returncode == 0 and json.loads(url.stdout) == report["dsn"]
    status = json.loads(pgpkg(embedded_env, "status").stdout)
    assert status["pending_migrations"] == [] and status["applied_migrations"]
    assert status["pg_cron"] is False  # preloaded, but CREATE EXTENSION is the DBA's (jobs) call
    assert json.loads(pgpkg(embedded_env, "db", "stop").stdout) == {"stopped": True}
    assert json.loads(pgpkg(embedded_env, "db", "stop").stdout) == {"stopped": False}


def test_embedded_cluster_preloads_pg_cron(embedded_env):
    dsn = embedded.start()
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.execute("SHOW shared_preload_libraries").fetchone()[0] == "pg_cron"
        conn.execute("CREATE EXTENSION pg_cron")
        assert conn.execute("SELECT count(*) FROM cron.job").fetchone()[0] == 0
    assert embedded.start() == dsn  # idempotent


def test_missing_server_binaries_say_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PGPKG_PG_BINDIR", str(tmp_path))
    with pytest.raises(embedded.ServerNotAvailable) as error:
        embedded.bin_dir()
    assert "apt-get install postgresql-15" in str(error.value)
