"""The published API contract: documented, and identical to the committed `openapi.json`.

Regenerate the file after changing routes or schemas with `make openapi`
(`python -m app openapi > openapi.json`).
"""

import json
from datetime import datetime
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo

import pytest
import time_machine
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from app.core.routes import iter_routes
from app.docs.openapi import live_schema, schema_json

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("get", "post", "put", "patch", "delete")


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    # An optional body (`body: X | None = None`) is `anyOf: [X, null]`: X carries the example.
    refs = [s for s in schema.get("anyOf", []) if "$ref" in s]
    if len(refs) == 1 and len(schema["anyOf"]) == 2 and {"type": "null"} in schema["anyOf"]:
        schema = refs[0]
    ref = schema.get("$ref")
    if not ref:
        return schema
    resolved: dict[str, Any] = spec
    for part in ref.removeprefix("#/").split("/"):
        resolved = resolved[part]
    return resolved


def undocumented(spec: dict[str, Any]) -> list[str]:
    """Operations under /api/v1 lacking a description, their 401/422, or a body example."""
    problems = []
    for path, item in spec["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            name = f"{method.upper()} {path}"
            responses = set(op.get("responses", {}))
            if not (op.get("description") or "").strip():
                problems.append(f"{name}: no description")
            if not (op.get("summary") or "").strip():
                problems.append(f"{name}: no summary")
            if op.get("security") and "401" not in responses:
                problems.append(f"{name}: takes a token but does not declare 401")
            takes_input = bool(op.get("parameters")) or "requestBody" in op
            if takes_input and "422" not in responses:
                problems.append(f"{name}: takes input but does not declare 422")
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                schema = _resolve(body.get("schema", {}), spec)
                if "example" not in schema and "examples" not in schema and "example" not in body:
                    problems.append(f"{name}: request body has no example")
    return problems


def test_committed_openapi_matches_the_live_schema() -> None:
    committed_file = ROOT / "openapi.json"
    assert committed_file.exists(), "openapi.json is missing: run `make openapi`"
    committed = json.loads(committed_file.read_text(encoding="utf-8"))
    live = json.loads(schema_json())
    if committed != live:
        added = sorted(set(live["paths"]) - set(committed["paths"]))
        removed = sorted(set(committed["paths"]) - set(live["paths"]))
        pytest.fail(
            "openapi.json differs from the live schema; run `make openapi` and commit it. "
            f"Paths added: {added[:10]}; removed: {removed[:10]}"
        )


def test_my_integration_routes_are_fully_documented() -> None:
    mine = ("/api/v1/clients", "/api/v1/events", "/api/v1/webhooks")
    problems = [p for p in undocumented(live_schema()) if p.split()[1].startswith(mine)]
    assert problems == []


def test_every_api_operation_is_documented() -> None:
    assert undocumented(live_schema()) == []


def _request_models() -> set[type[BaseModel]]:
    """The model of every JSON request body the app accepts."""
    from app.main import create_app

    models = set()
    for _, route in iter_routes(create_app().routes):
        if not isinstance(route, APIRoute):
            continue
        for param in route.dependant.body_params:
            for candidate in (param.field_info.annotation, *get_args(param.field_info.annotation)):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    models.add(candidate)
    return models


@time_machine.travel(datetime(2026, 11, 28, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
def test_every_request_example_is_a_valid_body() -> None:
    """An example a frontend developer copies from /docs is accepted (campaign dates of the
    seed: found dates in the past, deadlines ahead)."""
    checked, invalid = 0, []
    for model in sorted(_request_models(), key=lambda m: m.__name__):
        extra = model.model_config.get("json_schema_extra")
        if not isinstance(extra, dict) or "example" not in extra:
            continue  # the documentation test reports it
        checked += 1
        try:
            model.model_validate(extra["example"])
        except ValidationError as e:
            invalid.append(f"{model.__module__}.{model.__name__}: {e.errors()[0]['msg']}")
    assert checked > 40
    assert invalid == []


def test_an_optional_body_is_documented_by_its_models_example() -> None:
    spec = {
        "components": {"schemas": {"X": {"example": {"comment": "好"}}, "Y": {}}},
        "paths": {
            f"/api/v1/{name}": {
                "post": {
                    "summary": "S",
                    "description": "D",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "anyOf": [
                                        {"$ref": f"#/components/schemas/{name}"},
                                        {"type": "null"},
                                    ]
                                }
                            }
                        }
                    },
                    "responses": {"200": {}, "422": {}},
                }
            }
            for name in ("X", "Y")
        },
    }
    assert undocumented(spec) == ["POST /api/v1/Y: request body has no example"]


def test_lint_catches_an_undocumented_operation() -> None:
    spec = {
        "paths": {
            "/api/v1/x": {
                "post": {
                    "security": [{"OAuth2PasswordBearer": []}],
                    "requestBody": {"content": {"application/json": {"schema": {}}}},
                    "responses": {"200": {}},
                }
            }
        }
    }
    assert len(undocumented(spec)) == 5
