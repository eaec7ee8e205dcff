"""OpenTelemetry tracing: spans for requests, their SQL and jobs when on; nothing at all when off."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from booklnk import tracing
from booklnk.api.app import create_app
from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.jobs.runtime import Runtime
from booklnk.jobs.tasks import SWEEP_LAPSED_HOLDS, create_job_app
from support import FakeClock


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.export_to(exporter)
    yield exporter
    tracing.export_to(None)


def _traced(settings: Settings) -> Settings:
    return settings.model_copy(update={"otel_enabled": True})


def _descends(span: ReadableSpan, ancestor: ReadableSpan, every: Sequence[ReadableSpan]) -> bool:
    by_id = {s.context.span_id: s for s in every if s.context is not None}
    parent = span.parent
    while parent is not None:
        if ancestor.context is not None and parent.span_id == ancestor.context.span_id:
            return True
        found = by_id.get(parent.span_id)
        parent = found.parent if found is not None else None
    return False


async def test_a_request_is_a_server_span_named_by_its_route_with_its_sql_inside(
    db: Database, settings: Settings, clock: FakeClock, spans: InMemorySpanExporter
) -> None:
    app = create_app(_traced(settings), db, clock=clock)
    try:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            assert (await http.get("/v1/public/businesses/no-such-shop")).status_code == 404
            assert (await http.get("/healthz")).status_code == 200
        app.state.tracing.flush()
    finally:
        app.state.tracing.shutdown()

    finished = spans.get_finished_spans()
    servers = [s for s in finished if s.kind is SpanKind.SERVER]
    assert [s.name for s in servers] == ["GET /v1/public/businesses/{slug}"]  # no /healthz span
    (server,) = servers
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/v1/public/businesses/{slug}"
    assert server.resource.attributes["service.name"] == "booklnk-api"
    sql = [
        s for s in finished if s.kind is SpanKind.CLIENT and s.attributes and "db.statement" in s.attributes
    ]
    assert sql, [s.name for s in finished]
    assert all(_descends(s, server, finished) for s in sql)


async def test_a_job_is_a_span_with_its_task_queue_id_and_outcome(
    database_url: str, db: Database, settings: Settings, clock: FakeClock, spans: InMemorySpanExporter
) -> None:
    traced = tracing.start_tracing(_traced(settings), tracing.WORKER_SERVICE)
    assert traced is not None
    traced.instrument_engine(db.engine)
    try:
        job_app = create_job_app(database_url)
        async with job_app.open_async():
            job_id = await job_app.configure_task(SWEEP_LAPSED_HOLDS).defer_async(timestamp=0)
            await job_app.run_worker_async(
                wait=False,
                install_signal_handlers=False,
                listen_notify=False,
                worker_middleware=[traced.trace_job],
                additional_context={"runtime": Runtime(db, clock, settings)},
            )
        traced.flush()
    finally:
        traced.shutdown()

    finished = spans.get_finished_spans()
    # The worker also defers and runs its periodic tasks: each is a span of its own.
    jobs = {
        s.attributes["messaging.message.id"]: s
        for s in finished
        if s.kind is SpanKind.CONSUMER and s.attributes
    }
    job = jobs[str(job_id)]
    assert job.name == f"job {SWEEP_LAPSED_HOLDS}"
    assert job.attributes is not None
    assert job.attributes["booklnk.job.task"] == SWEEP_LAPSED_HOLDS
    assert job.attributes["messaging.destination.name"] == "default"
    assert job.attributes["messaging.message.id"] == str(job_id)
    assert job.attributes["booklnk.job.outcome"] == "success"
    assert job.resource.attributes["service.name"] == "booklnk-worker"
    sql = [
        s for s in finished if s.kind is SpanKind.CLIENT and s.attributes and "db.statement" in s.attributes
    ]
    assert sql
    assert any(_descends(s, job, finished) for s in sql)
    # Every statement ran inside some job's span (or the worker's own bookkeeping, which
    # procrastinate does through psycopg, not this engine).
    assert all(any(_descends(s, j, finished) for j in jobs.values()) for s in sql)


_LOADED = """
import sys
from booklnk.api.app import create_app
from booklnk.config import Settings
from booklnk.db.database import Database
import booklnk.jobs.worker

create_app(Settings(environment="test"), Database("postgresql+asyncpg://nowhere/none", app_role="r"))
from opentelemetry import trace

# FastAPI itself imports opentelemetry-api, a no-op until a provider is set; never one here.
print(type(trace.get_tracer_provider()).__name__)
print(",".join(sorted(m for m in sys.modules if m.startswith(OURS))))
"""
# What tracing brings: the SDK, its exporters and the instrumentations.
OURS = ("opentelemetry.sdk", "opentelemetry.exporter", "opentelemetry.instrumentation")


def _opentelemetry_modules(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BOOKLNK_", "OTEL_"))}
    done = subprocess.run(
        [sys.executable, "-c", f"OURS = {OURS!r}\n{_LOADED}"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_off_by_default_no_sdk_exporter_or_instrumentation_is_even_imported() -> None:
    assert _opentelemetry_modules().splitlines() == ["ProxyTracerProvider"]
    # The same check sees them when on (so the empty answer above means something); the
    # global provider stays unset even then (ours is passed to each instrumentation).
    provider, loaded = _opentelemetry_modules(BOOKLNK_OTEL_ENABLED="true").splitlines()
    assert provider == "ProxyTracerProvider"
    assert "opentelemetry.instrumentation.fastapi" in loaded.split(",")
    assert "opentelemetry.sdk.trace" in loaded.split(",")
