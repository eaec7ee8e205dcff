"""API shapes of the integrations domain (never the table classes)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from booklnk.integrations.catalogue import EVENT_TYPES
from booklnk.integrations.targets import MAX_URL_LENGTH

Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL_LENGTH),
    Field(description="Where events are POSTed: https in production (http allowed in development)."),
]
EventName = Annotated[str, StringConstraints(max_length=40)]
Events = Annotated[
    list[EventName],
    Field(
        min_length=1,
        max_length=len(EVENT_TYPES),
        description="The events this endpoint takes: " + ", ".join(f"`{e}`" for e in EVENT_TYPES) + ".",
    ),
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


def _known_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise PydanticCustomError(
            "unknown_event", "not an event of the catalogue: {unknown}", {"unknown": ", ".join(unknown)}
        )
    if len(set(events)) != len(events):
        raise PydanticCustomError("duplicate_event", "an event is listed twice")
    return events


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EndpointCreate(_In):
    url: Url
    events: Events
    description: Description = ""

    _events = field_validator("events")(_known_events)


class EndpointUpdate(_In):
    """Omitted fields stay as they are; `enabled: true` re-enables an endpoint that was
    disabled (its `disabled_reason` is cleared)."""

    NOT_NULLABLE: ClassVar[frozenset[str]] = frozenset({"url", "events", "enabled", "description"})

    url: Url | None = None
    events: Events | None = None
    description: Description | None = None
    enabled: Annotated[bool, Strict()] | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.NOT_NULLABLE:
            raise PydanticCustomError("not_nullable", "may be omitted but not null")
        return value

    @field_validator("events")
    @classmethod
    def _check_events(cls, events: list[str] | None) -> list[str] | None:
        return None if events is None else _known_events(events)

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class EndpointOut(_Out):
    id: uuid.UUID
    url: str
    description: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None = Field(description="Why it was disabled (by the owner: null).")
    disabled_at: dt.datetime | None
    failing_since: dt.datetime | None = Field(
        description="The first failed attempt since it last answered 2xx; null while it answers."
    )
    created_at: dt.datetime


class EndpointCreated(EndpointOut):
    secret: str = Field(
        description="The signing secret (`whsec_…`, Standard Webhooks). Shown once: store it now."
    )


class AttemptOut(_Out):
    number: int
    at: dt.datetime
    status_code: int | None = Field(description="The endpoint's HTTP status; null when none came.")
    response_excerpt: str | None = Field(description="The start of its answer (1000 characters at most).")
    duration_ms: int
    error: str | None = Field(description="What stopped the attempt (timeout, refused address, …).")


class WebhookMessageOut(BaseModel):
    id: uuid.UUID
    webhook_id: str = Field(description="The `webhook-id` header it is sent with, the same on every attempt.")
    event_type: str
    status: str = Field(description="`pending`, `delivered` or `failed`.")
    attempts: int
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    payload: dict[str, Any] = Field(description="The body as sent.")
    attempt_log: list[AttemptOut]
