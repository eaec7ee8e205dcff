"""`Idempotency-Key` for creating routes: a retry with the same key and request (method,
path with its parameters, body) gets the first response back for 24 hours; the same key
with another request answers 422; while the first request runs, 409.

Everything happens in the request's own transaction (one pooled connection per request,
however many keyed requests are in flight): the key is claimed there, the response is
recorded there, and a failed request's rollback leaves the key free for a retry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk import idempotency
from booklnk.api.created import Created
from booklnk.tenancy.context import BusinessContext


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """The header's value and the request it came with (a key names one request)."""

    value: str
    method: str
    path: str


async def _idempotency_key(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1, max_length=200, description="Any unique string per intended request (e.g. a UUID)."
        ),
    ] = None,
) -> IdempotencyKey | None:
    if idempotency_key is None:
        return None
    return IdempotencyKey(idempotency_key, request.method, request.url.path)


IdempotencyKeyHeader = Annotated[IdempotencyKey | None, Depends(_idempotency_key)]
Out = TypeVar("Out", bound=BaseModel)


async def create_once(
    session: AsyncSession,
    ctx: BusinessContext,
    key: IdempotencyKey | None,
    body: BaseModel,
    create: Callable[[], Awaitable[Out]],
    *,
    now: datetime,
    created: Created,
    location: Callable[[dict[str, Any]], str],
) -> Out | JSONResponse:
    """`create()` once per key and request; its 201 is replayed to retries. `location`
    finds the created resource's `Location` in the answer's JSON (a replay has no other)."""
    if key is None:
        out = await create()
        # Only the id: the whole answer is serialized once, by FastAPI, on the way out.
        created.at(location(out.model_dump(mode="json", include={"id"})))
        return out
    scope = idempotency.Scope(ctx.business_id, ctx.actor.user_id, key.value)
    fingerprint = idempotency.fingerprint(key.method, key.path, body.model_dump(mode="json"))
    stored = await idempotency.claim(session, scope, fingerprint, now=now)
    if stored is not None:
        return _replay(stored, location(stored.body))
    out = await create()  # if it raises, the request's rollback frees the key
    response = idempotency.StoredResponse(201, out.model_dump(mode="json"))
    await idempotency.record(session, scope, fingerprint, response, now=now)
    created.at(location(response.body))
    return out


def _replay(stored: idempotency.StoredResponse, location: str) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true", "Location": location}
    if "version" in stored.body:
        headers["ETag"] = f'"{stored.body["version"]}"'
    return JSONResponse(stored.body, status_code=stored.status_code, headers=headers)
