"""Reading PostgreSQL's verdict out of SQLAlchemy's wrapped driver errors."""

from __future__ import annotations

import re
import socket

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# The server saying "not now" rather than "no": too many connections, an administrator's
# or a crash's shutdown, a server still starting or stopping (class 08, connection
# exceptions, counts too).
_UNAVAILABLE_SQLSTATES = frozenset({"53300", "57P01", "57P02", "57P03"})


def violated_constraint(exc: DBAPIError) -> str | None:
    """The name of the constraint an IntegrityError broke. asyncpg reports it as the server
    sends it; Citus relays a worker's error without that field, naming the shard's copy of
    the constraint in the message (`"ex_allocation_overlap_102019"`): read from there, less
    the shard's number."""
    cause = getattr(exc.orig, "__cause__", None)
    name = getattr(cause, "constraint_name", None)
    if isinstance(name, str):
        return name
    relayed = _SHARD_CONSTRAINT.search(str(cause or ""))
    return relayed.group(1) if relayed else None


# A constraint named in a message with a shard's number after it (Booklnk's names end in
# a letter, so the last "_<digits>" is the shard's).
_SHARD_CONSTRAINT = re.compile(r'constraint "([a-z][a-z0-9_]*[a-z])_\d+"')


def sqlstate(exc: DBAPIError) -> str | None:
    """The five-character SQLSTATE of the driver error, e.g. "22021" for a NUL byte."""
    for err in (exc.orig, getattr(exc.orig, "__cause__", None)):
        code = getattr(err, "sqlstate", None)
        if isinstance(code, str):
            return code
    return None


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached now (down, restarting, failing
    over, every pooled connection taken), as opposed to refusing a statement. A process
    that talks to nothing else over the network (the API) may read a refused or timed-out
    connection as the database's."""
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, DBAPIError):
        code = sqlstate(exc) or ""
        return exc.connection_invalidated or code.startswith("08") or code in _UNAVAILABLE_SQLSTATES
    if isinstance(exc, FileNotFoundError):
        # A server reached through a unix socket (the embedded one, a sidecar's) that is
        # down has no socket file; only a connection attempt's own is an outage.
        return _raised_connecting(exc)
    return isinstance(exc, ConnectionError | TimeoutError | socket.gaierror)


def _raised_connecting(exc: BaseException) -> bool:
    frame = exc.__traceback__
    while frame is not None:
        if frame.tb_frame.f_globals.get("__name__") == "asyncpg.connect_utils":
            return True
        frame = frame.tb_next
    return False
