"""The embedded default: a private PostgreSQL cluster for trying pgpkg without a server.

Used when neither --dsn nor DATABASE_URL is given. It is initialised and
started on demand from the PostgreSQL server binaries installed on the
machine (Debian: postgresql-15 in /usr/lib/postgresql/15/bin), with pg_cron
preloaded when postgresql-15-cron is installed. It listens only on a unix
socket inside its own directory, so trust authentication reaches nobody but
its owner. As root, the server runs as the `postgres` user (PostgreSQL
refuses root) and lives under /var/lib/pgpkg.

Where: $PGPKG_HOME, else /var/lib/pgpkg as root, else
$XDG_DATA_HOME/pgpkg (~/.local/share/pgpkg). Port: $PGPKG_PORT or 54329.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from pgpkg.errors import ServerNotAvailable

DBNAME = "pgpkg"
INSTALL_HINT = (
    "pgpkg found no PostgreSQL server binaries (initdb, pg_ctl). Install them, e.g. on Debian/Ubuntu: "
    "apt-get install postgresql-15 postgresql-15-cron; or set PGPKG_PG_BINDIR to their directory; "
    "or point pgpkg at a server with --dsn or DATABASE_URL."
)


def _is_root() -> bool:
    return os.geteuid() == 0


def home() -> Path:
    if os.environ.get("PGPKG_HOME"):
        return Path(os.environ["PGPKG_HOME"])
    if _is_root():
        return Path("/var/lib/pgpkg")
    base = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return Path(base) / "pgpkg"


def data_dir() -> Path:
    return home() / "data"


def socket_dir() -> Path:
    return home() / "run"


def port() -> int:
    return int(os.environ.get("PGPKG_PORT", "54329"))


def bin_dir() -> Path:
    """The newest PostgreSQL (15 or later) server binaries on this machine."""
    if os.environ.get("PGPKG_PG_BINDIR"):
        candidates = [os.environ["PGPKG_PG_BINDIR"]]
    else:
        found = glob.glob("/usr/lib/postgresql/*/bin") + glob.glob("/usr/pgsql-*/bin")
        candidates = sorted(found, key=lambda p: int("".join(c for c in p if c.isdigit()) or 0), reverse=True)
        on_path = shutil.which("pg_ctl")
        if on_path:
            candidates.append(str(Path(on_path).parent))
    for candidate in candidates:
        if (Path(candidate) / "pg_ctl").exists() and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise ServerNotAvailable(INSTALL_HINT)


def has_pg_cron(bindir: Path) -> bool:
    pkglibdir = (
        subprocess.run(
            [str(bindir / "pg_config"), "--pkglibdir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if (bindir / "pg_config").exists()
        else ""
    )
    libdirs = [pkglibdir] if pkglibdir else []
    libdirs.append(str(bindir.parent / "lib"))
    return any((Path(d) / "pg_cron.so").exists() for d in libdirs)


def url() -> str:
    return f"postgresql://postgres@/{DBNAME}?host={socket_dir()}&port={port()}"


def _run(args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a server binary, as the postgres user when we are root."""
    if _is_root():
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, capture_output=True, text=True, check=check, cwd="/")


def _prepare_home() -> None:
    home().mkdir(parents=True, exist_ok=True)
    socket_dir().mkdir(parents=True, exist_ok=True)
    os.chmod(home(), 0o700)
    os.chmod(socket_dir(), 0o700)
    if _is_root():
        shutil.chown(home(), "postgres")
        shutil.chown(socket_dir(), "postgres")


def is_running() -> bool:
    if not (data_dir() / "PG_VERSION").exists():
        return False
    result = _run([str(bin_dir() / "pg_ctl"), "status", "-D", str(data_dir())], check=False)
    return result.returncode == 0


def start() -> str:
    """Initialise (first time) and start the embedded cluster; return its DSN. Idempotent."""
    bindir = bin_dir()
    if is_running():
        return url()
    _prepare_home()
    if not (data_dir() / "PG_VERSION").exists():
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data_dir()),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-instructions",
            ]
        )
        settings = [
            f"port = {port()}",
            "listen_addresses = ''",
            f"unix_socket_directories = '{socket_dir()}'",
            f"cron.host = '{socket_dir()}'",
            f"cron.database_name = '{DBNAME}'",
            "timezone = 'UTC'",
        ]
        if has_pg_cron(bindir):
            settings.append("shared_preload_libraries = 'pg_cron'")
        with open(data_dir() / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# pgpkg embedded default\n" + "\n".join(settings) + "\n")
    result = _run(
        [str(bindir / "pg_ctl"), "start", "-w", "-D", str(data_dir()), "-l", str(home() / "server.log")], check=False
    )
    if result.returncode != 0:
        raise ServerNotAvailable(
            f"the embedded PostgreSQL did not start: {result.stderr.strip()} (log: {home() / 'server.log'})"
        )
    _ensure_database(bindir)
    return url()


def _ensure_database(bindir: Path) -> None:
    psql = [
        str(bindir / "psql"),
        "-h",
        str(socket_dir()),
        "-p",
        str(port()),
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-tAc",
    ]
    exists = _run([*psql, f"SELECT 1 FROM pg_database WHERE datname = '{DBNAME}'"]).stdout.strip()
    if not exists:
        _run([*psql, f"CREATE DATABASE {DBNAME}"])


def stop() -> bool:
    """Stop the embedded cluster; False when it was not running."""
    if not is_running():
        return False
    _run([str(bin_dir() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(data_dir())])
    return True
