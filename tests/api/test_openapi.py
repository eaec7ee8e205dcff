"""The OpenAPI document is complete enough to build a client from it alone."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from collections.abc import Iterator
from typing import Any

import httpx

import booklnk
from booklnk.api.examples import ANSWERS
from booklnk.api.problem_codes import CODES
from booklnk.api.request_examples import REQUESTS
from booklnk.kernel.errors import BooklnkError, Conflict, Forbidden, PreconditionFailed
from booklnk.scheduling.errors import SlotRuleBroken
from booklnk.scheduling.rules import SlotRule

OPERATIONAL = {"/healthz", "/readyz", "/metrics"}


async def _spec(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = response.json()
    return spec


async def test_every_operation_is_documented(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    problems = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            if not op.get("summary"):
                problems.append(f"{where}: no summary")
            if not op.get("tags"):
                problems.append(f"{where}: no tag")
            # (A redirect is the success of a route a browser follows: a pay link's button.)
            if not any(code.startswith(("2", "303")) for code in op["responses"]):
                problems.append(f"{where}: no success response")
            if path in OPERATIONAL:
                continue
            error_codes = {c for c in op["responses"] if c[0] in "45"}
            if not error_codes:
                problems.append(f"{where}: no error responses")
            for code in error_codes - {"422"}:
                content = op["responses"][code].get("content", {})
                if "application/problem+json" not in content:
                    problems.append(f"{where}: {code} is not documented as problem+json")
    assert problems == []


async def test_guarded_operations_declare_bearer_security(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    missing = [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method, op in item.items()
        # Credentials-for-tokens routes answer 401 for a wrong password, and the providers'
        # webhooks for a wrong signature, not for a missing token.
        if "401" in op["responses"]
        and not op.get("security")
        and not path.startswith(("/v1/auth/", "/v1/webhooks/"))
    ]
    assert missing == []


async def test_docs_pages_are_served(client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        response = await client.get(page)
        assert response.status_code == 200
        assert "text/html" in response.headers["content-type"]


async def test_every_error_is_problem_json_only_422_included(client: httpx.AsyncClient) -> None:
    """A typed client reads `error.code` on every error. Before, 38 operations documented
    422 in FastAPI's HTTPValidationError shape, and every error was documented under
    application/json as well as application/problem+json."""
    spec = await _spec(client)
    wrong = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for code, answer in op["responses"].items():
                if code[0] not in "45" or (path, code) == ("/readyz", "503"):
                    continue  # (readiness answers its own small document)
                if set(answer.get("content", {})) != {"application/problem+json"}:
                    wrong.append(f"{method.upper()} {path} {code}: {sorted(answer.get('content', {}))}")
    assert wrong == []
    assert not {"HTTPValidationError", "ValidationError"} & set(spec["components"]["schemas"])


async def test_operation_ids_are_short_stable_names(client: httpx.AsyncClient) -> None:
    """Before, FastAPI's ids appended the path and method (up to 88 characters)."""
    spec = await _spec(client)
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if len(i) > 40 or not re.fullmatch(r"[a-z][a-z0-9_]*", i) or "_v1_" in i] == []
    assert "create_booking" in ids
    assert {
        "business_get_weekly_schedule",
        "staff_get_weekly_schedule",
        "resource_get_weekly_schedule",
    } <= set(ids)


async def test_every_operation_that_reads_the_database_documents_the_outage_answer(
    client: httpx.AsyncClient,
) -> None:
    """503 `database_unavailable` with Retry-After was answered but not documented."""
    spec = await _spec(client)
    missing = [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        if path not in ("/healthz", "/metrics")
        for method, op in item.items()
        if "503" not in op["responses"]
    ]
    assert missing == []
    booking = spec["paths"]["/v1/businesses/{business_id}/bookings"]["post"]["responses"]["503"]
    assert "Retry-After" in booking["headers"]


async def test_the_headers_the_server_sends_are_documented(client: httpx.AsyncClient) -> None:
    """ETag, Idempotent-Replayed and Retry-After were sent but documented nowhere."""
    spec = await _spec(client)
    created = spec["paths"]["/v1/businesses/{business_id}/bookings"]["post"]["responses"]["201"]
    assert {"ETag", "Idempotent-Replayed"} <= set(created["headers"])
    shown = spec["paths"]["/v1/businesses/{business_id}/bookings/{booking_id}"]["get"]["responses"]["200"]
    assert "ETag" in shown["headers"]
    throttled = [
        op["responses"]["429"]
        for item in spec["paths"].values()
        for op in item.values()
        if "429" in op["responses"]
    ]
    assert throttled
    assert all("Retry-After" in answer.get("headers", {}) for answer in throttled)
    # (Location was sent by no route: the in-process clients now check every 201 carries it.)
    creating = [
        op["responses"]["201"]
        for item in spec["paths"].values()
        for op in item.values()
        if "201" in op["responses"]
    ]
    assert len(creating) == 23
    assert all("Location" in answer["headers"] for answer in creating)


async def test_the_docs_load_their_files_from_the_app_itself(client: httpx.AsyncClient) -> None:
    """Swagger UI and ReDoc loaded their scripts from a CDN: blank offline or behind a strict
    Content-Security-Policy."""
    for page in ("/docs", "/redoc"):
        html = (await client.get(page)).text
        scripts = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
        assert scripts, html[:500]
        assert all(url.startswith("/") for url in scripts), scripts
        for url in scripts:
            assert (await client.get(url)).status_code == 200, url


async def test_every_list_is_a_page(client: httpx.AsyncClient) -> None:
    """Before, 7 lists answered bare arrays (members, invitations, business types, class sessions
    twice, waitlists, reconciliation runs and mismatches): a client could not page them."""
    spec = await _spec(client)
    bare = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for code, answer in op["responses"].items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
                if code.startswith("2") and schema.get("type") == "array":
                    bare.append(f"{method.upper()} {path}")
            if method == "get" and "200" in op["responses"]:
                schema = (
                    op["responses"]["200"].get("content", {}).get("application/json", {}).get("schema", {})
                )
                if schema.get("$ref", "").startswith("#/components/schemas/Page_"):
                    names = {p["name"] for p in op.get("parameters", [])}
                    if not {"cursor", "limit"} <= names:
                        bare.append(f"{method.upper()} {path}: a page without cursor and limit")
    assert bare == []


async def test_every_error_answer_lists_its_codes_with_an_example(client: httpx.AsyncClient) -> None:
    """Before, 43 of the ~49 problem codes appeared nowhere in the document."""
    spec = await _spec(client)
    gaps = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for status, answer in op["responses"].items():
                content = answer.get("content", {}).get("application/problem+json")
                if content is None:
                    continue
                examples = content.get("examples", {})
                if not examples:
                    gaps.append(f"{method.upper()} {path} {status}: no code listed")
                for code, example in examples.items():
                    value = example["value"]
                    if (value["code"], value["status"]) != (code, int(status)) or f"`{code}`" not in answer[
                        "description"
                    ]:
                        gaps.append(f"{method.upper()} {path} {status}: {code} misdocumented")
    assert gaps == []


def _defined_codes() -> set[str]:
    """Every code the code base can answer: each domain error's, each slot rule's, and the
    ones the HTTP layer answers itself."""
    for module in pkgutil.walk_packages(booklnk.__path__, "booklnk."):
        if not module.name.startswith(("booklnk.cli", "booklnk.api.main")):
            importlib.import_module(module.name)

    def subclasses(kind: type[BooklnkError]) -> Iterator[type[BooklnkError]]:
        for sub in kind.__subclasses__():
            yield sub
            yield from subclasses(sub)

    # (The kernel's bases are never raised as such: every raise names its own kind.)
    bases = {BooklnkError, Conflict, Forbidden, PreconditionFailed, SlotRuleBroken}
    domain = {kind.code for kind in subclasses(BooklnkError) if kind not in bases}
    http_layer = {"body_too_large", "database_unavailable", "internal_error", "invalid_value"}
    by_instance = {"invalid_metrics_token"}  # Unauthorized(..., code=...)
    return domain | {rule.value for rule in SlotRule} | http_layer | by_instance


async def test_the_code_table_holds_every_code_and_each_is_documented(client: httpx.AsyncClient) -> None:
    assert set(CODES) == _defined_codes()
    spec = await _spec(client)
    documented = {
        code
        for item in spec["paths"].values()
        for op in item.values()
        for answer in op["responses"].values()
        for code in answer.get("content", {}).get("application/problem+json", {}).get("examples", {})
    }
    assert set(CODES) - documented == set()


async def test_availability_answers_are_told_apart_by_mode(client: httpx.AsyncClient) -> None:
    """Before, a bare union whose `mode` was optional: a typed client could not narrow it."""
    spec = await _spec(client)
    schemas = spec["components"]["schemas"]
    for path in ("/v1/businesses/{business_id}/availability", "/v1/public/businesses/{slug}/availability"):
        schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["discriminator"]["propertyName"] == "mode"
        assert set(schema["discriminator"]["mapping"]) == {"appointment", "class"}
        for ref in schema["discriminator"]["mapping"].values():
            assert "mode" in schemas[ref.rsplit("/", 1)[-1]]["required"]


def _schema_names(schema: dict[str, Any]) -> list[str]:
    return [ref["$ref"].rsplit("/", 1)[-1] for ref in schema.get("oneOf", [schema]) if "$ref" in ref]


async def test_every_request_body_and_answer_has_an_example(client: httpx.AsyncClient) -> None:
    """Before, no request body had an example."""
    spec = await _spec(client)
    schemas = spec["components"]["schemas"]
    bare = set()
    for item in spec["paths"].values():
        for op in item.values():
            bodies = [c["schema"] for c in op.get("requestBody", {}).get("content", {}).values()]
            answers = [
                answer["content"]["application/json"]["schema"]
                for status, answer in op["responses"].items()
                if status.startswith("2") and "application/json" in answer.get("content", {})
            ]
            for schema in bodies + answers:
                bare |= {name for name in _schema_names(schema) if not schemas[name].get("examples")}
    assert bare == set()


def test_the_examples_are_what_the_api_accepts_and_answers() -> None:
    """A request example validates against its model; an answer example is exactly what
    the model serializes (no field missing, none invented, every value in its wire form)."""
    for model, example in REQUESTS.items():
        model.model_validate(example)
    for model, example in ANSWERS.items():
        assert (
            json.loads(model.model_validate(example, by_name=True).model_dump_json(by_alias=True)) == example
        ), model


async def test_one_time_convention_instants_in_utc_with_local_fields(client: httpx.AsyncClient) -> None:
    """Before, `starts_at` was local time in slots and sessions and UTC in bookings."""
    spec = await _spec(client)
    schemas = spec["components"]["schemas"]
    for name in ("SlotOut", "PublicSlotOut", "SessionOut", "PublicSessionOut", "BookingOut"):
        properties = schemas[name]["properties"]
        assert properties["starts_at"]["description"] == "In UTC.", name
        assert {"starts_at_local", "ends_at_local"} <= set(properties), name
        assert "starts_at_utc" not in properties, name
    for name in ("SessionOut", "PublicSessionOut", "BookingOut"):  # (slots: their answer names it)
        assert "time_zone" in schemas[name]["properties"], name
