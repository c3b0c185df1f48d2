"""The checksum of sql/, recorded in the header of the newest migration.

yoyo runs migrations/post-apply.py (which re-applies sql/) only when it
applies a migration. So every change to sql/ ships with a new migration whose
header carries `-- sql-checksum: <sha256>`; then a plain `yoyo apply` of the
newer checkout re-applies the changed functions and views.
`python -m pgpkg.checksum` prints the line to put in the new migration.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from pgpkg.resources import migrations_dir, sql_dir

HEADER = re.compile(r"^-- sql-checksum: ([0-9a-f]{64})$", re.MULTILINE)


def sql_checksum(root: Path | None = None) -> str:
    root = root or sql_dir()
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.sql")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def newest_migration(directory: Path | None = None) -> Path:
    directory = directory or migrations_dir()
    migrations = [p for p in directory.iterdir() if re.fullmatch(r"\d{4}_[a-z0-9_]+\.(sql|py)", p.name)]
    return max(migrations, key=lambda p: p.name)


def recorded_checksum(migration: Path | None = None) -> str | None:
    match = HEADER.search((migration or newest_migration()).read_text(encoding="utf-8"))
    return match.group(1) if match else None


if __name__ == "__main__":
    print(f"-- sql-checksum: {sql_checksum()}")
