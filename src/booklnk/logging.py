"""Structured logging: JSON lines in production, readable console lines in development.

Every line carries the request id (set by the correlation-id middleware). Secrets never
reach a log: settings hold them as SecretStr, and nothing logs request bodies or headers.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog
from asgi_correlation_id import correlation_id
from structlog.types import EventDict, WrappedLogger


def _add_request_id(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    request_id = correlation_id.get()
    if request_id:
        event.setdefault("request_id", request_id)
    return event


def configure_logging(*, json: bool, level: str = "INFO", stream: TextIO | None = None) -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_request_id,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # pgserver narrates every initdb/pg_ctl call at INFO.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    # httpx narrates every request at INFO (lines between a command's own); the Kashier
    # client logs what matters.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # uvicorn's access log duplicates our request log line.
    logging.getLogger("uvicorn.access").handlers = []
    logging.getLogger("uvicorn.access").propagate = False
