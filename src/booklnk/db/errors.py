"""Reading PostgreSQL's verdict out of SQLAlchemy's wrapped driver errors."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError


def violated_constraint(exc: DBAPIError) -> str | None:
    """The name of the constraint an IntegrityError broke (asyncpg reports it)."""
    return getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None)


def sqlstate(exc: DBAPIError) -> str | None:
    """The five-character SQLSTATE of the driver error, e.g. "22021" for a NUL byte."""
    for err in (exc.orig, getattr(exc.orig, "__cause__", None)):
        code = getattr(err, "sqlstate", None)
        if isinstance(code, str):
            return code
    return None
