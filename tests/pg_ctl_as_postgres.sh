#!/bin/sh
# pg_ctl for pytest-postgresql when the tests run as root (as CI does):
# PostgreSQL refuses to run as root, so re-run pg_ctl as the postgres user.
# pytest creates its temp dirs as root with mode 0700: make the data dir's
# parent ours and its ancestors traversable. Relies on pytest-postgresql
# calling `pg_ctl initdb --pgdata DIR ...` (pinned in pyproject.toml).
set -e
PG_CTL=${PGPKG_PG_BINDIR:-/usr/lib/postgresql/15/bin}/pg_ctl
[ "$(id -u)" = 0 ] || exec "$PG_CTL" "$@"
if [ "$1" = initdb ]; then
    parent=$(dirname "$3"); chown postgres "$parent"
    d=$parent; while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
fi
cd /
exec runuser -u postgres -- "$PG_CTL" "$@"
