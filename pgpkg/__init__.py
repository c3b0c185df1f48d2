"""pgpkg: Postgres-native event analytics.

The product is the SQL in the `analytics` schema; this package installs it,
streams files into it, and wraps its functions for Python callers. Each
public call is one call into a SQL function. Streaming a file in:
`from pgpkg.ingest import ingest`.
"""

from pgpkg.errors import PgpkgError
from pgpkg.install import install, status, uninstall
from pgpkg.maintenance import aggregate, backfill, cleanup, refresh, run_jobs, schedule_jobs, unschedule_jobs

__version__ = "0.1.0"

__all__ = [
    "PgpkgError",
    "__version__",
    "aggregate",
    "backfill",
    "cleanup",
    "install",
    "refresh",
    "run_jobs",
    "schedule_jobs",
    "status",
    "uninstall",
    "unschedule_jobs",
]
