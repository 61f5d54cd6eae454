"""Hardening at the edge: login throttling, body limits, headers, CORS, docs switch."""

import os
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import get_settings
from app.core.ratelimit import RedisCounter, counter
from tests.conftest import PASSWORD, World

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
TOKEN = "/api/v1/auth/token"


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail(f"Redis must be reachable in CI at {REDIS_TEST_URL}")
        pytest.skip(f"Redis not reachable at {REDIS_TEST_URL}")


@pytest.fixture(params=["memory", "redis"])
def throttled_app(
    request: pytest.FixtureRequest, app_with: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> Any:
    if request.param == "redis":
        _redis_or_skip()
        app = app_with(REDIS_URL=REDIS_TEST_URL)
    else:
        app = app_with()
    monkeypatch.setattr(get_settings(), "login_max_attempts", 3)
    return app


def _client(app: Any, ip: str) -> TestClient:
    return TestClient(app, client=(ip, 40000))


def _ip() -> str:
    raw = uuid.uuid4().bytes
    return f"10.{raw[0]}.{raw[1]}.{raw[2]}"


def _fail_login(app: Any, username: str, ip: str) -> int:
    with _client(app, ip) as c:
        return c.post(
            TOKEN, data={"username": username, "password": "wrong-password-x"}
        ).status_code


def test_login_is_throttled_per_account_even_from_fresh_addresses(
    throttled_app: Any, world: World
) -> None:
    for _ in range(3):
        assert _fail_login(throttled_app, "office", _ip()) == 401
    with _client(throttled_app, _ip()) as c:
        r = c.post(TOKEN, data={"username": "office", "password": PASSWORD})
    assert r.status_code == 429, r.text
    assert r.json()["code"] == "auth.throttled"
    retry_after = int(r.headers["Retry-After"])
    assert 1 <= retry_after <= get_settings().login_window_seconds
    # Another account is not locked out by it.
    with _client(throttled_app, _ip()) as c:
        assert c.post(TOKEN, data={"username": "admin", "password": PASSWORD}).status_code == 200
    counter().reset("login:user:office")


def test_login_is_throttled_per_client_address_across_accounts(
    throttled_app: Any, world: World
) -> None:
    ip = _ip()
    for _ in range(3):
        assert _fail_login(throttled_app, f"ghost-{uuid.uuid4().hex[:6]}", ip) == 401
    with _client(throttled_app, ip) as c:
        r = c.post(TOKEN, data={"username": "office", "password": PASSWORD})
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1
    with _client(throttled_app, _ip()) as c:
        assert c.post(TOKEN, data={"username": "office", "password": PASSWORD}).status_code == 200
    counter().reset(f"login:ip:{ip}")


def test_redis_counts_are_shared_between_workers() -> None:
    _redis_or_skip()
    key = f"test:{uuid.uuid4().hex}"
    worker_a, worker_b = RedisCounter(REDIS_TEST_URL), RedisCounter(REDIS_TEST_URL)
    worker_a.hit(key, 60)
    worker_a.hit(key, 60)
    count, ttl = worker_b.hit(key, 60)
    assert count == 3
    assert 1 <= ttl <= 60
    assert worker_b.peek(key, 60)[0] == 3
    worker_a.reset(key)
    assert worker_b.peek(key, 60)[0] == 0


def test_an_unreachable_redis_still_throttles_in_memory() -> None:
    dead = RedisCounter("redis://127.0.0.1:1/0")
    assert dead.hit("k", 60)[0] == 1
    assert dead.hit("k", 60)[0] == 2
    assert dead.peek("k", 60)[0] == 2
    dead.reset("k")
    assert dead.peek("k", 60)[0] == 0


# ---------------------------------------------------------------------------------------------
# Body size


def test_json_body_over_the_limit_by_content_length_is_413(
    client: TestClient, world: World
) -> None:
    big = b'{"name": "' + b"x" * (get_settings().max_json_bytes + 10) + b'"}'
    r = client.post(
        "/api/v1/orgs",
        content=big,
        headers={**world.h.admin, "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "payload_too_large"


def test_chunked_json_body_over_the_limit_is_413(client: TestClient, world: World) -> None:
    limit = get_settings().max_json_bytes

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    r = client.post(
        "/api/v1/orgs",
        content=chunks(),
        headers={**world.h.admin, "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"


def test_multipart_body_over_the_upload_limit_is_413(client: TestClient, world: World) -> None:
    size = get_settings().max_upload_bytes + 128 * 1024
    r = client.post(
        TOKEN,
        files={"file": ("big.pdf", b"%PDF" + b"0" * size, "application/pdf")},
        data={"username": "office"},
    )
    assert r.status_code == 413


def test_chunked_multipart_over_the_upload_limit_is_413(client: TestClient) -> None:
    size = get_settings().max_upload_bytes + 128 * 1024

    def chunks() -> Iterator[bytes]:
        yield b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n'
        sent = 0
        while sent < size:
            yield b"0" * 65536
            sent += 65536
        yield b"\r\n--B--\r\n"

    r = client.post(
        TOKEN, content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=B"}
    )
    assert r.status_code == 413


def test_a_json_body_just_under_the_limit_is_accepted(client: TestClient, world: World) -> None:
    limit = get_settings().max_json_bytes
    # Insignificant whitespace between JSON tokens pads the body to just under the limit.
    body = b'{"name": "ok", "kind": "department"' + b" " * (limit - 200) + b"}"
    assert len(body) < limit
    r = client.post(
        "/api/v1/orgs", content=body, headers={**world.h.admin, "Content-Type": "application/json"}
    )
    assert r.status_code == 201, r.text


# ---------------------------------------------------------------------------------------------
# Headers, CORS, docs

API_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


@pytest.mark.parametrize("path", ["/health", "/api/v1/meta/enums", "/api/v1/orgs", "/nowhere"])
def test_api_responses_carry_security_headers(client: TestClient, path: str) -> None:
    r = client.get(path)
    for name, value in API_HEADERS.items():
        assert r.headers[name] == value, (path, name)
    assert "default-src 'none'" in r.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_docs_responses_carry_security_headers(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_load_only_their_own_assets_as_the_csp_demands(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert "script-src 'self' 'unsafe-inline';" in r.headers["content-security-policy"]
    assert not re.search(r'(src|href)="https?://', r.text)
    for asset in re.findall(r'(?:src|href)="(/static/[^"?]+)', r.text):
        assert client.get(asset).status_code == 200, asset


def test_docs_are_off_when_disabled(app_with: Callable[..., Any]) -> None:
    app = app_with(DOCS_ENABLED="false")
    with TestClient(app) as c:
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
            assert c.get(path).status_code == 404, path
        assert c.get("/health").status_code == 200


def test_cors_answers_only_configured_origins(app_with: Callable[..., Any]) -> None:
    app = app_with(CORS_ORIGINS='["https://app.example.gov.cn"]')
    with TestClient(app) as c:
        ok = c.options(
            "/api/v1/orgs",
            headers={
                "Origin": "https://app.example.gov.cn",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "Authorization",
            },
        )
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://app.example.gov.cn"
        evil = c.options(
            "/api/v1/orgs",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in evil.headers
        simple = c.get("/api/v1/meta/enums", headers={"Origin": "https://evil.example"})
        assert simple.status_code == 200
        assert "access-control-allow-origin" not in simple.headers
        allowed = c.get("/api/v1/meta/enums", headers={"Origin": "https://app.example.gov.cn"})
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.gov.cn"
        assert "x-request-id" in allowed.headers["access-control-expose-headers"].lower()


def test_no_cors_headers_without_configured_origins(client: TestClient) -> None:
    r = client.get("/api/v1/meta/enums", headers={"Origin": "https://app.example.gov.cn"})
    assert "access-control-allow-origin" not in r.headers


def test_imports_take_a_larger_multipart_body_than_attachments(
    client: TestClient, world: World
) -> None:
    settings = get_settings()
    assert settings.max_import_bytes > settings.max_upload_bytes
    size = settings.max_upload_bytes + 256 * 1024
    r = client.post(
        "/api/v1/imports/hazards",
        files={"file": ("register.csv", b"x" * size, "text/csv")},
        headers=world.h.school_a,
    )
    assert r.status_code != 413, r.text
    r = client.post(
        "/api/v1/attachments",
        files={"file": ("photo.png", b"x" * size, "image/png")},
        data={"parent_type": "hazard", "parent_id": "1"},
        headers=world.h.school_a,
    )
    assert r.status_code == 413
