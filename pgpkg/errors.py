"""PostgreSQL errors of pgpkg's SQL functions, mapped to Python exceptions by SQLSTATE.

The SQL raises standard SQLSTATEs with a message, a detail and a hint; this
module is the one place that gives them Python names.
"""

from __future__ import annotations

import psycopg


class PgpkgError(Exception):
    """An error raised by pgpkg, with the SQLSTATE, message, detail and hint of PostgreSQL."""

    sqlstate: str | None = None

    def __init__(
        self, message: str, *, sqlstate: str | None = None, detail: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate or self.sqlstate
        self.detail = detail
        self.hint = hint

    def __str__(self) -> str:
        parts = [super().__str__()]
        if self.detail:
            parts.append(f"DETAIL: {self.detail}")
        if self.hint:
            parts.append(f"HINT: {self.hint}")
        return "\n".join(parts)


class InvalidArgument(PgpkgError):
    """22023: an argument or event is invalid (the message says which rule)."""

    sqlstate = "22023"


class NullArgument(PgpkgError):
    """22004: a required argument is NULL."""

    sqlstate = "22004"


class BatchTooLarge(PgpkgError):
    """54000: more events in one call than the setting max_batch_size."""

    sqlstate = "54000"


class Forbidden(PgpkgError):
    """42501: the caller's role or project may not do this."""

    sqlstate = "42501"


class LockTimeout(PgpkgError):
    """55P03: a maintenance step gave up waiting for a lock; the next run retries."""

    sqlstate = "55P03"


class ServerNotAvailable(PgpkgError):
    """No PostgreSQL server to run on (the embedded default cannot start)."""


_BY_SQLSTATE: dict[str, type[PgpkgError]] = {
    cls.sqlstate: cls for cls in (InvalidArgument, NullArgument, BatchTooLarge, Forbidden, LockTimeout) if cls.sqlstate
}


def from_psycopg(error: psycopg.Error) -> PgpkgError:
    """The pgpkg exception for a psycopg error, keeping PostgreSQL's diagnostics."""
    diag = error.diag
    cls = _BY_SQLSTATE.get(error.sqlstate or "", PgpkgError)
    return cls(
        diag.message_primary or str(error), sqlstate=error.sqlstate, detail=diag.message_detail, hint=diag.message_hint
    )
