"""The OpenAPI document as a client generator needs it: FastAPI's document, then shaped
to say what the server really does (problem+json errors with their codes, the body limit,
outages, response headers)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from booklnk.api.examples import ANSWERS
from booklnk.api.problem_codes import CODES, shared_codes
from booklnk.api.problems import PROBLEM_MEDIA_TYPE, Problem, problem_title
from booklnk.api.request_examples import REQUESTS


def build(app: FastAPI) -> dict[str, object]:
    """The app's document, built once: FastAPI's, then shaped by the `_document_*` steps."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
            servers=app.servers,
            contact=app.contact,
        )
        # Routes reference the Problem schema by $ref; register it, and the schemas it
        # nests (ProblemIssue), once.
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(problem.pop("$defs", {}))
        schemas["Problem"] = problem
        _document_body_limit(schema)
        _document_validation_problems(schema)
        _document_outages(schema)
        _document_headers(schema)
        _document_problem_codes(schema)
        _document_examples(schema)
        app.openapi_schema = schema
    return app.openapi_schema


_PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every operation of the document, with its path (what each `_document_*` walks)."""
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            yield path, operation


def _document_body_limit(schema: dict[str, Any]) -> None:
    """Every operation that takes a body may answer 413 `body_too_large` (`BodyLimitMiddleware`)."""
    too_large = {
        "description": "The body is larger than the route accepts (`body_too_large`, naming its `limit`)",
        "content": _PROBLEM_CONTENT,
    }
    for _, operation in _operations(schema):
        if "requestBody" in operation:
            operation["responses"].setdefault("413", too_large)


def _document_validation_problems(schema: dict[str, Any]) -> None:
    """FastAPI documents its own 422 shape (`HTTPValidationError`); the server answers a
    validation problem+json (`validation_failed`, each field and rule in `errors`), so a
    generated client reading `error.code` there type-checks."""
    invalid = {
        "description": "The input breaks a rule (`validation_failed`; `errors` names each field and rule)",
        "content": _PROBLEM_CONTENT,
    }
    for _, operation in _operations(schema):
        if "422" in operation.get("responses", {}):
            operation["responses"]["422"] = invalid
    components = schema.get("components", {}).get("schemas", {})
    for fastapi_shape in ("HTTPValidationError", "ValidationError"):
        components.pop(fastapi_shape, None)


def _document_outages(schema: dict[str, Any]) -> None:
    """Any operation that reads the database answers 503 `database_unavailable` with
    `Retry-After` while it cannot be reached (`db.errors.unreachable`)."""
    unavailable = {
        "description": "The database cannot be reached (`database_unavailable`): retry after `Retry-After`",
        "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
        "content": _PROBLEM_CONTENT,
    }
    for path, operation in _operations(schema):
        if path not in ("/healthz", "/metrics", "/readyz"):  # (no database read; readiness has its own 503)
            operation["responses"].setdefault("503", unavailable)


_ETAG = {
    "description": "The resource's version, quoted: send it back in `If-Match` to change it",
    "schema": {"type": "string", "examples": ['"3"']},
}
_REPLAYED = {
    "description": "`true` when this is the stored answer to an earlier request with the same "
    "`Idempotency-Key` (nothing was done again)",
    "schema": {"type": "string", "enum": ["true"]},
}
_RETRY_AFTER = {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}
_LOCATION = {
    "description": "Where the created resource is read (or managed), as a path or URL",
    "schema": {"type": "string", "format": "uri-reference"},
}


def _document_headers(schema: dict[str, Any]) -> None:
    """The headers the server sends, where it sends them: `ETag` with every versioned
    resource (a body with a `version`), `Idempotent-Replayed` on operations that take an
    `Idempotency-Key`, `Retry-After` on every 429, `Location` on every 201 (`api.created`)."""
    components = schema.get("components", {}).get("schemas", {})

    def versioned(answer: dict[str, Any]) -> bool:
        ref = answer.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
        return "version" in components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})

    for _, operation in _operations(schema):
        names = {p["name"].lower() for p in operation.get("parameters", []) if p.get("in") == "header"}
        for code, answer in operation.get("responses", {}).items():
            headers = answer.setdefault("headers", {})
            if code.startswith("2") and versioned(answer):
                headers.setdefault("ETag", _ETAG)
            if code.startswith("2") and "idempotency-key" in names:
                headers.setdefault("Idempotent-Replayed", _REPLAYED)
            if code == "429":
                headers.setdefault("Retry-After", _RETRY_AFTER)
            if code == "201":
                headers.setdefault("Location", _LOCATION)
            if not headers:
                del answer["headers"]


_NAMED_CODE = re.compile(r"`([a-z][a-z0-9_]*)`")


def _named_codes(operation: dict[str, Any]) -> list[str]:
    """The problem codes an operation's description names (in backticks), in order."""
    text = f"{operation.get('summary', '')} {operation.get('description', '')}"
    return list(dict.fromkeys(c for c in _NAMED_CODE.findall(text) if c in CODES))


def _document_problem_codes(schema: dict[str, Any]) -> None:
    """Each error answer lists the codes it can carry, with an example of each: those every
    operation of its kind shares (`shared_codes`) and those its description names (whose
    status is added when it was not documented yet)."""
    for path, operation in _operations(schema):
        responses = operation.get("responses", {})
        named = _named_codes(operation)
        headers = {p["name"].lower() for p in operation.get("parameters", []) if p.get("in") == "header"}
        kind = {
            "signed_in": "security" in operation,
            "in_business": "{business_id}" in path or "{slug}" in path,
            "idempotent": "idempotency-key" in headers,
            "conditional": "if-match" in headers,
        }
        by_header = {"idempotency_key_in_flight": kind["idempotent"], "version_mismatch": kind["conditional"]}
        for code in named + [code for code, taken in by_header.items() if taken]:
            responses.setdefault(str(CODES[code].status), {"content": _PROBLEM_CONTENT})
        for status, answer in list(responses.items()):
            if PROBLEM_MEDIA_TYPE not in answer.get("content", {}):
                continue
            codes = shared_codes(int(status), **kind) + [c for c in named if CODES[c].status == int(status)]
            codes = list(dict.fromkeys(codes))
            responses[status] = {
                **answer,
                "description": _problem_description(int(status), codes),
                "content": {
                    PROBLEM_MEDIA_TYPE: {
                        "schema": {"$ref": "#/components/schemas/Problem"},
                        "examples": {code: _problem_example(path, int(status), code) for code in codes},
                    }
                },
            }
        operation["responses"] = dict(sorted(responses.items()))


def _problem_description(status: int, codes: list[str]) -> str:
    listed = "; ".join(f"`{code}`: {CODES[code].meaning}" for code in codes)
    return f"{problem_title(status)}. {listed}" if listed else problem_title(status)


def _problem_example(path: str, status: int, code: str) -> dict[str, Any]:
    errors = []
    if status == 422:
        errors = [{"field": "body.starts_at", "rule": code, "message": CODES[code].meaning}]
    return {
        "summary": CODES[code].meaning,
        "value": {
            "type": f"https://booklnk.dev/problems/{code}",
            "title": problem_title(status),
            "status": status,
            "detail": CODES[code].meaning,
            "code": code,
            "instance": path,
            "request_id": "5b0f1c8e9d2a4f6b8c3e7a1d0f9b2c4e",
            "errors": errors,
        },
    }


_NEXT_CURSOR = "WyIyMDI2LTEyLTA4VDA4OjAwOjAwKzAwOjAwIl0"


def _document_examples(schema: dict[str, Any]) -> None:
    """Each request body and answer its example (`api.examples`); a page of items, a page
    holding its item's example."""
    components = schema.get("components", {}).get("schemas", {})
    for model, example in {**REQUESTS, **ANSWERS}.items():
        if model.__name__ in components:
            components[model.__name__]["examples"] = [example]
    for name, component in components.items():
        item = components.get(name.removeprefix("Page_").removesuffix("_"), {})
        if name.startswith("Page_") and "examples" in item:
            component["examples"] = [{"items": item["examples"], "next_cursor": _NEXT_CURSOR}]
