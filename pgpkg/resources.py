"""Where the SQL lives: sql/ and migrations/ of a checkout, or their copies in the wheel."""

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"pgpkg cannot find its {name}/ directory next to {_PACKAGE_DIR}")


def migrations_dir() -> Path:
    return _find("migrations")


def sql_dir() -> Path:
    return _find("sql")
