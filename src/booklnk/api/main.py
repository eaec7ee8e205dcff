"""Entry point for server processes: `uvicorn booklnk.api.main:create_app_from_env --factory`."""

from __future__ import annotations

from fastapi import FastAPI

from booklnk.api.app import create_app
from booklnk.bootstrap import load_settings, open_database
from booklnk.logging import configure_logging


def create_app_from_env() -> FastAPI:
    settings = load_settings()
    configure_logging(json=settings.json_logs, level=settings.log_level)
    return create_app(settings, open_database(settings))
