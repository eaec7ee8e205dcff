"""Every request dependency runs on the event loop: FastAPI runs a plain `def` dependency in
a worker thread, a hop per request that costs more than the work itself (issue 13: the
availability search's floor)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from booklnk.api.app import create_app
from booklnk.config import Settings
from booklnk.db.database import Database


def _route_dependants(app: FastAPI) -> Iterator[Dependant]:
    # FastAPI 0.165 keeps an included router as one entry; its effective routes (with the
    # dependencies the inclusion adds) are what a request is served by.
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for context in contexts() if contexts else [route]:
            if (dependant := getattr(context, "dependant", None)) is not None:
                yield dependant


def _all(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _all(sub)


def _runs_in_a_thread(dependant: Dependant) -> bool:
    call = dependant.call
    if call is None:
        return False  # a parameter
    if isinstance(call, type):
        return True  # a class: FastAPI calls its constructor in a worker thread
    target = call if inspect.isfunction(call) or inspect.ismethod(call) else type(call).__call__
    return not (inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target))


def test_no_route_dependency_runs_in_a_worker_thread() -> None:
    nowhere = Database("postgresql+asyncpg://nowhere/none", app_role="r")  # (never connected)
    app = create_app(Settings(environment="test"), nowhere)
    dependants = list(_route_dependants(app))
    assert len(dependants) > 200  # (the walk reaches the included routers' routes)
    threaded = sorted(
        {
            f"{d.call.__module__}.{d.call.__qualname__}"  # type: ignore[union-attr]
            for route in dependants
            for d in _all(route)
            if _runs_in_a_thread(d)
        }
    )
    assert threaded == []
