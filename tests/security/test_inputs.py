"""Hostile input never causes a 500: NUL characters, huge integers, over-long strings,
malformed or deeply nested JSON, wrong content types.

The generic checks walk every route of the app (`iter_routes`), so routes added later are
covered without touching this file; parameter types come from the route's OpenAPI entry.
"""

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.routes import iter_routes
from tests.conftest import PASSWORD, World

HUGE = 2**70
ROLES = ("anonymous", "admin", "office", "edu", "police", "jiancha", "school_a")
SKIP_PATHS = {"/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"}
_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")


def _operations(app: Any) -> list[tuple[str, str, dict[str, Any]]]:
    spec = app.openapi()
    ops = []
    for path, route in iter_routes(app.routes):
        if path in SKIP_PATHS:
            continue
        for method in sorted(getattr(route, "methods", None) or ()):
            if method in ("HEAD", "OPTIONS"):
                continue
            op = spec["paths"].get(path, {}).get(method.lower(), {})
            ops.append((method, path, op))
    assert len(ops) > 20
    return ops


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = spec["components"]["schemas"][name]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [_resolve(spec, s) for s in schema[key] if s.get("type") != "null"]
            if options:
                return options[0]
    return schema


def _hostile(
    spec: dict[str, Any], schema: dict[str, Any], depth: int = 0, text: int = 20_000
) -> Any:
    schema = _resolve(spec, schema)
    kind = schema.get("type")
    if kind == "integer":
        return HUGE
    if kind == "number":
        return 1e308
    if kind == "string":
        return ("长" if text > 1000 else "x") * text
    if kind == "boolean":
        return True
    if kind == "array":
        return [_hostile(spec, schema.get("items", {}), depth + 1, text)] * (3 if depth else 500)
    if kind == "object" or "properties" in schema:
        if depth > 3:
            return {}
        return {
            name: _hostile(spec, sub, depth + 1, text)
            for name, sub in schema.get("properties", {}).items()
        }
    return HUGE


def _fill(path: str, value: Any) -> str:
    return _PARAM.sub(str(value), path)


def _headers(world: World, role: str) -> dict[str, str]:
    return {} if role == "anonymous" else world.headers(role)


def _json_body_schema(op: dict[str, Any]) -> dict[str, Any] | None:
    content = op.get("requestBody", {}).get("content", {})
    return content.get("application/json", {}).get("schema")


def _form_body(op: dict[str, Any]) -> bool:
    content = op.get("requestBody", {}).get("content", {})
    return any(k.startswith(("multipart/", "application/x-www-form")) for k in content)


def _report(failures: list[str]) -> None:
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} failures)"


# ---------------------------------------------------------------------------------------------
# Generic: every route


def test_huge_ids_in_paths_are_422_never_500(client: TestClient, world: World) -> None:
    failures = []
    for method, path, _ in _operations(client.app):
        if "{" not in path:
            continue
        for role in ROLES:
            r = client.request(method, _fill(path, HUGE), headers=_headers(world, role))
            if r.status_code not in (401, 403, 405, 422):
                failures.append(f"{method} {path} as {role}: {r.status_code} {r.text[:200]}")
    _report(failures)


def test_hostile_query_parameters_are_refused_never_500(client: TestClient, world: World) -> None:
    spec = client.app.openapi()
    failures = []
    for method, path, op in _operations(client.app):
        query = [p for p in op.get("parameters", []) if p["in"] == "query"]
        if not query:
            continue
        params = {p["name"]: _hostile(spec, p.get("schema", {}), 1, text=500) for p in query}
        params = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in params.items()}
        for role in ROLES:
            r = client.request(method, _fill(path, 1), params=params, headers=_headers(world, role))
            if r.status_code not in (401, 403, 422):
                failures.append(f"{method} {path} as {role} {params!r:.120}: {r.status_code}")
    _report(failures)


def test_nul_in_any_query_parameter_is_422_for_everyone(client: TestClient, world: World) -> None:
    failures = []
    for method, path, op in _operations(client.app):
        names = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"] or ["q"]
        for role in ("anonymous", "office"):
            r = client.request(
                method, _fill(path, 1), params={names[0]: "a\x00b"}, headers=_headers(world, role)
            )
            if r.status_code != 422:
                failures.append(f"{method} {path} ?{names[0]}=a%00b as {role}: {r.status_code}")
    _report(failures)


BAD_JSON_BODIES = {
    "malformed": b'{"name": "x", ',
    "not_an_object": b'"just a string"',
    "nul_in_string": b'{"name": "a\\u0000b", "title": "a\\u0000b", "comment": "\\u0000"}',
    "nul_in_key": b'{"a\\u0000": 1}',
    "deeply_nested": b"[" * 5000 + b"]" * 5000,
    "deeply_nested_object": b'{"a":' * 3000 + b"1" + b"}" * 3000,
    "invalid_utf8": b'{"name": "\xff\xfe"}',
    "empty": b"",
    "huge_number_literal": b'{"id": ' + b"9" * 4000 + b"}",
}


def test_bad_json_bodies_are_422_never_500(client: TestClient, world: World) -> None:
    failures = []
    for method, path, op in _operations(client.app):
        if method not in ("POST", "PUT", "PATCH") or _form_body(op):
            continue
        for label, body in BAD_JSON_BODIES.items():
            for role in ROLES:
                headers = {**_headers(world, role), "Content-Type": "application/json"}
                headers["If-Match"] = 'W/"1"'
                r = client.request(method, _fill(path, 1), content=body, headers=headers)
                ok = r.status_code in (401, 403, 422)
                # An action without a body ignores the body entirely; a refusal is fine too.
                if _json_body_schema(op) is None:
                    ok = r.status_code < 500 or (label.startswith("nul") and r.status_code == 422)
                if label == "empty" and not op.get("requestBody", {}).get("required"):
                    ok = r.status_code < 500  # an optional body left out
                if label.startswith(("nul", "deeply")) and r.status_code != 422:
                    ok = False
                if not ok:
                    failures.append(
                        f"{method} {path} {label} as {role}: {r.status_code} {r.text[:160]}"
                    )
    _report(failures)


def test_hostile_json_bodies_never_cause_a_500(client: TestClient, world: World) -> None:
    spec = client.app.openapi()
    failures = []
    for method, path, op in _operations(client.app):
        schema = _json_body_schema(op)
        if schema is None:
            continue
        body = _hostile(spec, schema)
        for role in ROLES:
            headers = {**_headers(world, role), "If-Match": 'W/"1"'}
            r = client.request(method, _fill(path, 1), json=body, headers=headers)
            if r.status_code >= 500:
                failures.append(f"{method} {path} as {role}: {r.status_code} {r.text[:200]}")
    _report(failures)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded"]
)
def test_wrong_content_types_are_refused_never_500(
    client: TestClient, world: World, content_type: str
) -> None:
    failures = []
    for method, path, op in _operations(client.app):
        if _json_body_schema(op) is None:
            continue
        for role in ROLES:
            headers = {**_headers(world, role), "Content-Type": content_type, "If-Match": 'W/"1"'}
            r = client.request(method, _fill(path, 1), content=b'{"name": "x"}', headers=headers)
            if r.status_code not in (401, 403, 415, 422):
                failures.append(f"{method} {path} {content_type} as {role}: {r.status_code}")
    _report(failures)


# ---------------------------------------------------------------------------------------------
# Specific: the foundation's endpoints


def test_nul_in_login_form_fields_is_422(client: TestClient, world: World) -> None:
    for data in (
        {"username": "off\x00ice", "password": PASSWORD},
        {"username": "office", "password": PASSWORD + "\x00"},
        {"grant_type": "client_credentials", "client_id": "a\x00", "client_secret": "x" * 20},
    ):
        r = client.post("/api/v1/auth/token", data=data)
        assert r.status_code == 422, (data, r.text)
        assert r.json()["errors"][0]["code"] == "control_character"


def test_nul_in_a_multipart_text_field_is_422(client: TestClient, world: World) -> None:
    r = client.post(
        "/api/v1/auth/token",
        data={"username": "off\x00ice", "password": PASSWORD},
        files={"file": ("a.txt", b"binary \x00 content is fine", "text/plain")},
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "body.username"


def test_every_form_route_refuses_nul_in_a_multipart_text_field(
    client: TestClient, world: World
) -> None:
    """The check is a dependency of each form route (`FormChecked`): a form route added
    without it fails here."""
    failures = []
    form_routes = [(m, p) for m, p, op in _operations(client.app) if _form_body(op)]
    assert len(form_routes) >= 3
    for method, path in form_routes:
        r = client.request(
            method,
            _fill(path, 1),
            data={"note": "a\x00b"},
            files={"file": ("a.txt", b"binary \x00 content is fine", "text/plain")},
            headers=world.h.office,
        )
        if r.status_code != 422 or r.json()["errors"][0]["code"] != "control_character":
            failures.append(f"{method} {path}: {r.status_code} {r.text[:200]}")
    _report(failures)


def test_nul_in_a_json_string_is_422_and_nothing_is_written(
    client: TestClient, world: World
) -> None:
    r = client.post(
        "/api/v1/orgs", json={"name": "坏\x00名字", "kind": "department"}, headers=world.h.admin
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "control_character"
    names = [
        o["name"]
        for o in client.get("/api/v1/orgs?limit=100", headers=world.h.admin).json()["items"]
    ]
    assert not any("坏" in n for n in names)


def test_an_escaped_backslash_before_u0000_is_plain_text(client: TestClient, world: World) -> None:
    r = client.post(
        "/api/v1/orgs",
        content=b'{"name": "path \\\\u0000 literal", "kind": "department"}',
        headers={**world.h.admin, "Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "path \\u0000 literal"


def test_nul_in_a_path_is_422(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/orgs/1%00", headers=world.h.office)
    assert r.status_code == 422


def test_input_models_refuse_nul_even_when_built_in_code() -> None:
    from pydantic import ValidationError

    from app.orgs.schemas import OrgCreate

    with pytest.raises(ValidationError, match="control characters"):
        OrgCreate.model_validate({"name": "a\x00", "kind": "department"})
    with pytest.raises(ValidationError, match="control characters"):
        OrgCreate.model_validate({"name": "a", "kind": "department", "address": "x\x00"})


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", f"/api/v1/orgs/{HUGE}", None),
        ("GET", f"/api/v1/users/{HUGE}", None),
        ("GET", f"/api/v1/campaigns/{HUGE}", None),
        ("GET", f"/api/v1/orgs?supervising_org_id={HUGE}", None),
        ("GET", f"/api/v1/users?org_id={HUGE}", None),
        ("GET", f"/api/v1/audit?cursor={HUGE}", None),
        ("GET", f"/api/v1/campaigns?year={HUGE}", None),
        ("POST", "/api/v1/orgs", {"name": "x", "kind": "school", "school_type": "primary", "ownership": "public", "supervising_org_id": HUGE}),
        ("POST", "/api/v1/orgs", {"name": "x", "kind": "department", "student_count": HUGE}),
        ("POST", "/api/v1/users", {"username": "u" * 10, "full_name": "x", "org_id": HUGE, "role": "office", "password": "p" * 12}),
        ("POST", "/api/v1/campaigns", {"name": "x", "year": HUGE, "starts_on": "2026-01-01", "ends_on": "2026-02-01"}),
        ("POST", "/api/v1/orgs", {"name": "x" * 10_000, "kind": "department"}),
        ("POST", "/api/v1/auth/refresh", {"refresh_token": "r" * 100_000}),
    ],
)  # fmt: skip
def test_huge_integers_and_over_long_strings_are_422(
    client: TestClient, world: World, method: str, url: str, body: Any
) -> None:
    headers = world.h.office if "campaigns" in url else world.h.admin
    r = client.request(method, url, json=body, headers=headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"


def test_over_long_login_fields_are_422(client: TestClient) -> None:
    r = client.post("/api/v1/auth/token", data={"username": "u" * 5000, "password": "p"})
    assert r.status_code == 422


def test_numbers_are_not_read_as_dates_in_bodies_or_queries(
    client: TestClient, world: World
) -> None:
    body = {"name": "x", "year": 2026, "starts_on": 0, "ends_on": "2026-02-01"}
    r = client.post("/api/v1/campaigns", json=body, headers=world.h.office)
    assert r.status_code == 422, r.text
    failures = []
    for method, path, op in _operations(client.app):
        for p in op.get("parameters", []):
            if p["in"] == "query" and _resolve(client.app.openapi(), p.get("schema", {})).get(
                "format"
            ) in ("date", "date-time"):
                url = _fill(path, 1)
                r = client.request(method, url, params={p["name"]: "0"}, headers=world.h.office)
                if r.status_code == 403:  # an admin's route
                    r = client.request(method, url, params={p["name"]: "0"}, headers=world.h.admin)
                if r.status_code != 422:
                    failures.append(f"{method} {path} ?{p['name']}=0: {r.status_code}")
    _report(failures)


def test_a_405_lists_every_method_the_path_serves(client: TestClient) -> None:
    r = client.request("DELETE", "/api/v1/orgs/1")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, PATCH"


def test_broken_multipart_framing_is_422(client: TestClient) -> None:
    r = client.post(
        "/api/v1/auth/token",
        content=b"--B\r\nNone--B--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=B"},
    )
    assert r.status_code == 422, r.text


@pytest.mark.parametrize(
    ("override", "field", "code"),
    [
        ({"student_count": False}, "body.student_count", "int_parsing"),
        ({"lat": True, "lng": 1.0}, "body.lat", "float_parsing"),
        ({"address": " " + "x" * 200}, "body.address", "string_too_long"),
    ],
)
def test_lax_coercions_are_refused_with_the_field_named(
    client: TestClient, world: World, override: dict[str, Any], field: str, code: str
) -> None:
    body = {"name": "x", "kind": "department", **override}
    r = client.post("/api/v1/orgs", json=body, headers=world.h.admin)
    assert r.status_code == 422, r.text
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in r.json()["errors"]
    ]


def test_a_value_the_database_refuses_is_422_not_500(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The safety net for an unbounded input: the database's DataError becomes a 422."""
    from sqlalchemy.exc import DataError

    from app.orgs import service

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise DataError("SELECT 1", {}, ValueError("integer out of range"))

    monkeypatch.setattr(service, "get", refuse)
    r = client.get(f"/api/v1/orgs/{world.org_id('office')}", headers=world.h.office)
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "out_of_range"


def test_an_attachment_parent_id_beyond_32_bits_is_not_a_500(
    client: TestClient, world: World
) -> None:
    r = client.post(
        "/api/v1/attachments",
        data={"parent_type": "case", "parent_id": str(2**36)},
        files={"file": ("a.png", b"\x89PNG\r\n\x1a\n", "image/png")},
        headers=world.h.police,
    )
    assert r.status_code in (404, 422), r.text


def test_other_control_characters_are_refused_but_tabs_and_newlines_are_text(
    client: TestClient, world: World
) -> None:
    for bad in ("a\x13b", "a\x0bb", "a\x1fb"):
        r = client.post(
            "/api/v1/orgs", json={"name": bad, "kind": "department"}, headers=world.h.admin
        )
        assert r.status_code == 422, repr(bad)
    assert client.get("/api/v1/orgs?q=a%13b", headers=world.h.office).status_code == 422
    r = client.post(
        "/api/v1/orgs",
        json={"name": "ok", "kind": "department", "address": "一楼\t东侧\r\n二楼"},
        headers=world.h.admin,
    )
    assert r.status_code == 201, r.text


def test_numbers_and_words_are_not_read_as_booleans(client: TestClient, world: World) -> None:
    """The schema says boolean: 0, 1 and "yes" are refused with the field named, not coerced."""
    org_id = world.org_id("chengjian")
    for value in (0, 1, "yes", "true"):
        r = client.patch(
            f"/api/v1/orgs/{org_id}",
            json={"is_active": value},
            headers={**world.h.admin, "If-Match": '"v1"'},
        )
        assert r.status_code == 422, (value, r.text)
        assert r.json()["errors"][0]["field"] == "body.is_active"
    ok = client.patch(
        f"/api/v1/orgs/{org_id}",
        json={"is_active": False},
        headers={**world.h.admin, "If-Match": '"v1"'},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["is_active"] is False
