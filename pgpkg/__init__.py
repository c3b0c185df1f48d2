"""pgpkg: Postgres-native event analytics.

The product is the SQL in the `analytics` schema; this package installs it,
streams files into it, and wraps its functions for Python callers. Each
public call is one call into a SQL function.
"""

from pgpkg.errors import PgpkgError
from pgpkg.install import install, status, uninstall

__version__ = "0.1.0"

__all__ = ["PgpkgError", "__version__", "install", "status", "uninstall"]
