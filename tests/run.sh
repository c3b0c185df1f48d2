#!/usr/bin/env bash
# Run pgpkg's test suite from a clean clone, installing what it needs:
#   - Debian packages: the PostgreSQL 15 server and pg_cron (as root; otherwise they must be there already)
#   - Python dependencies, into .venv (pytest, pytest-postgresql, hypothesis, ruff, psycopg, yoyo)
# Then: ruff, and pytest against a real PostgreSQL started by pytest-postgresql.
# Extra arguments go to pytest, e.g. `bash tests/run.sh -k track_events`.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_BINDIR=${PGPKG_PG_BINDIR:-/usr/lib/postgresql/15/bin}
need_packages=()
[ -x "$PG_BINDIR/pg_ctl" ] || need_packages+=(postgresql-15)
ls "$("$PG_BINDIR/pg_config" --pkglibdir 2>/dev/null || echo /usr/lib/postgresql/15/lib)"/pg_cron.so >/dev/null 2>&1 \
  || need_packages+=(postgresql-15-cron)
if [ ${#need_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "tests/run.sh: installing ${need_packages[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}" >/dev/null
  else
    echo "tests/run.sh: missing ${need_packages[*]}; install them (sudo apt-get install ${need_packages[*]})" >&2
    exit 1
  fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true

.venv/bin/ruff check pgpkg tests migrations
.venv/bin/ruff format --check -q pgpkg tests migrations
exec .venv/bin/python -m pytest "$@"
