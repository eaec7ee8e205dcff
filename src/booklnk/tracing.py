"""OpenTelemetry tracing: off by default, on with `BOOKLNK_OTEL_ENABLED=true`.

Off, nothing here imports OpenTelemetry: `start_tracing` answers None and the callers add nothing.
On, a process (the API's `booklnk-api`, the worker's `booklnk-worker`) gets one tracer
provider exporting over OTLP/HTTP in batches (the standard `OTEL_EXPORTER_OTLP_*` variables
say where: `OTEL_EXPORTER_OTLP_ENDPOINT`, default http://localhost:4318, and headers), and
spans for: FastAPI requests (server spans named by route template; not /healthz, /readyz,
/metrics), SQLAlchemy statements on the application's engine, httpx calls (Kashier's), and
each job the worker runs (`trace_job`).

`export_to` is the test hook: spans go to the given exporter instead of OTLP.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.util.types import AttributeValue
    from procrastinate import JobContext
    from procrastinate.middleware import AsyncCallNext
    from procrastinate.worker import Worker
    from sqlalchemy.ext.asyncio import AsyncEngine

    from booklnk.config import Settings

API_SERVICE = "booklnk-api"
WORKER_SERVICE = "booklnk-worker"
# Probes and scrapes: frequent, and nothing to follow (matched as regexes in the URL).
UNTRACED_PATHS = "/healthz$,/readyz$,/metrics$"

_exporter_override: SpanExporter | None = None


def export_to(exporter: SpanExporter | None) -> None:
    """Send the spans of tracing started from now on to `exporter` (tests: an in-memory
    one) instead of OTLP; None restores OTLP."""
    global _exporter_override
    _exporter_override = exporter


class Tracing:
    """One process's tracer provider and the libraries it instruments."""

    def __init__(self, provider: TracerProvider) -> None:
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        self.provider = provider
        self._tracer = provider.get_tracer("booklnk.jobs")
        self._engines = False
        # Every httpx client of the process (the Kashier client is made later, on first use).
        HTTPXClientInstrumentor().instrument(tracer_provider=provider)

    def instrument_app(self, app: FastAPI) -> None:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=self.provider,
            excluded_urls=UNTRACED_PATHS,
            # One span a request: not one more per ASGI message sent or received.
            exclude_spans=["receive", "send"],
        )

    def instrument_engine(self, engine: AsyncEngine) -> None:
        """Spans for the statements run on `engine` (one engine a process: the instrumentor
        is one per process)."""
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        # Its declared range ends below SQLAlchemy 2.1, which its engine events work with
        # (tests/test_tracing.py shows the spans): hence skip_dep_check.
        SQLAlchemyInstrumentor().instrument(
            engine=engine.sync_engine, tracer_provider=self.provider, skip_dep_check=True
        )
        self._engines = True

    async def trace_job(self, call_next: AsyncCallNext, context: JobContext, worker: Worker) -> Any:
        """Worker middleware: one span per job, with its task, queue, id and outcome."""
        from opentelemetry.trace import SpanKind, Status, StatusCode

        job = context.job
        attributes: dict[str, AttributeValue] = {
            "messaging.system": "procrastinate",
            "messaging.operation.type": "process",
            "messaging.destination.name": job.queue,
            "messaging.message.id": str(job.id),
            "booklnk.job.task": job.task_name,
            "booklnk.job.attempts": job.attempts,
        }
        with self._tracer.start_as_current_span(
            f"job {job.task_name}", kind=SpanKind.CONSUMER, attributes=attributes, record_exception=False
        ) as span:
            outcome = "error"
            try:
                result = await call_next()
                outcome = "success"
                return result
            except asyncio.CancelledError:
                outcome = "cancelled"
                raise
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise
            finally:
                span.set_attribute("booklnk.job.outcome", outcome)

    def flush(self) -> None:
        self.provider.force_flush()

    def shutdown(self) -> None:
        """Export what is left and undo the instrumentation (the app's stays with the app)."""
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        HTTPXClientInstrumentor().uninstrument()
        if self._engines:
            SQLAlchemyInstrumentor().uninstrument()
        self.provider.shutdown()


def start_tracing(settings: Settings, service: str) -> Tracing | None:
    """This process's tracing when the settings turn it on; None (and no import) otherwise."""
    if not settings.otel_enabled:
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": service, "deployment.environment.name": settings.environment})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(_exporter_override or _otlp()))
    return Tracing(provider)


def _otlp() -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout: the OTEL_EXPORTER_OTLP_* variables
