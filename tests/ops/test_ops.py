"""Liveness, readiness, metrics, request ids and what the logs may (not) contain."""

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.core import db
from app.core.logging import JsonFormatter
from app.ops import service
from tests.conftest import PASSWORD, World


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


@contextmanager
def stamped(version: str | None) -> Iterator[None]:
    """The test schema is built by create_all; pretend alembic ran (or did not)."""
    with db.get_engine().begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32))"))
        conn.execute(text("DELETE FROM alembic_version"))
        if version is not None:
            conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": version})
    try:
        yield
    finally:
        with db.get_engine().begin() as conn:
            conn.execute(text("DROP TABLE alembic_version"))


def test_health_answers_without_a_database(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_database() -> None:
        raise AssertionError("health must not touch the database")

    monkeypatch.setattr(db, "read", no_database)
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_ready_is_ok_when_migrations_are_at_head(client: TestClient) -> None:
    head = service.expected_head()
    assert head
    with stamped(head):
        r = client.get("/ready")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ok", "database": True, "migrations": head, "expected": head}


def test_ready_reports_pending_migrations_when_database_was_never_migrated(
    client: TestClient,
) -> None:
    r = client.get("/ready")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "migrations_pending"
    assert body["database"] is True
    assert body["migrations"] is None


def test_ready_reports_pending_migrations_when_schema_is_behind(client: TestClient) -> None:
    with stamped("0000_old"):
        r = client.get("/ready")
    assert r.status_code == 503
    assert r.json()["status"] == "migrations_pending"
    assert r.json()["migrations"] == "0000_old"


def test_ready_is_503_when_database_is_unreachable(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    @contextmanager
    def unreachable() -> Iterator[None]:
        raise ConnectionRefusedError("database down")
        yield

    monkeypatch.setattr(db, "read", unreachable)
    r = client.get("/ready")
    assert r.status_code == 503
    assert r.json()["status"] == "unavailable"
    assert r.json()["database"] is False


def _sample(metrics: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in metrics.splitlines():
        if line.startswith(name + "{"):
            got = line[len(name) + 1 : line.rindex("}")]
            if ",".join(sorted(got.split(","))) == wanted:
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_under_their_route_template(
    client: TestClient, world: World
) -> None:
    labels = {"method": "GET", "route": "/api/v1/orgs/{org_id}", "status": "200"}
    before = _sample(client.get("/metrics").text, "http_requests_total", **labels)
    for _ in range(3):
        assert (
            client.get(f"/api/v1/orgs/{world.org_id('office')}", headers=world.h.office).status_code
            == 200
        )
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert _sample(r.text, "http_requests_total", **labels) == before + 3
    # The concrete id never becomes a label: one series per route, not per object.
    assert f'route="/api/v1/orgs/{world.org_id("office")}"' not in r.text
    assert (
        'http_request_duration_seconds_bucket{le="0.1",method="GET",route="/api/v1/orgs/{org_id}"}'
        in r.text
    )


def test_unknown_methods_share_one_metrics_series(client: TestClient) -> None:
    """Any token is a valid HTTP method; the method label must not grow with them."""
    for method in ("BREW", "PROPFIND"):
        client.request(method, "/health")
    text_ = client.get("/metrics").text
    assert 'method="BREW"' not in text_
    assert 'method="PROPFIND"' not in text_
    assert _sample(text_, "http_requests_total", method="OTHER", route="/health", status="405") >= 2


def test_metrics_count_server_errors_by_status(client: TestClient) -> None:
    before = _sample(
        client.get("/metrics").text,
        "http_requests_total",
        method="GET",
        route="unmatched",
        status="404",
    )
    client.get("/no/such/path")
    after = _sample(
        client.get("/metrics").text,
        "http_requests_total",
        method="GET",
        route="unmatched",
        status="404",
    )
    assert after == before + 1


def test_metrics_sum_every_worker_in_multiprocess_mode(
    client: TestClient, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prometheus_client import CollectorRegistry, Counter, values

    from app.core.config import get_settings

    # A second "worker" wrote its counts to the shared directory.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    values.ValueClass = values.get_value_class()
    try:
        other = Counter(
            "http_requests",
            "HTTP requests",
            ["method", "route", "status"],
            registry=CollectorRegistry(),
        )
        other.labels("GET", "/health", "200").inc(7)
    finally:
        monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
        values.ValueClass = values.get_value_class()
    monkeypatch.setattr(get_settings(), "prometheus_multiproc_dir", str(tmp_path))
    text_ = client.get("/metrics").text
    assert _sample(text_, "http_requests_total", method="GET", route="/health", status="200") == 7


def test_request_id_is_echoed_when_valid(client: TestClient) -> None:
    r = client.get("/health", headers={"X-Request-ID": "abc-123.XYZ_9"})
    assert r.headers["x-request-id"] == "abc-123.XYZ_9"


@pytest.mark.parametrize("bad", ["", "has space", "x" * 65, "semi;colon", "ünïcode"])
def test_request_id_is_replaced_when_absent_or_invalid(client: TestClient, bad: str) -> None:
    headers = {"X-Request-ID": bad.encode("utf-8")} if bad else {}
    r = client.get("/health", headers=headers)
    generated = r.headers["x-request-id"]
    assert generated != bad
    assert len(generated) == 16
    assert all(c in "0123456789abcdef" for c in generated)


def test_error_bodies_carry_the_request_id(client: TestClient) -> None:
    r = client.get("/api/v1/auth/me", headers={"X-Request-ID": "trace-me-401"})
    assert r.status_code == 401
    assert r.json()["request_id"] == "trace-me-401"


def test_logs_are_json_lines_with_the_request_id(client: TestClient, world: World) -> None:
    with captured_logs() as stream:
        client.get("/api/v1/orgs", headers={**world.h.office, "X-Request-ID": "req-json-1"})
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines() if line]
    access = [e for e in lines if e["logger"] == "app.access"]
    assert access, stream.getvalue()
    entry = access[-1]
    assert entry["request_id"] == "req-json-1"
    assert entry["route"] == "/api/v1/orgs"
    assert entry["status"] == 200
    assert entry["actor"] == f"user:{world.users['office'].id}"


def test_logs_hold_no_tokens_passwords_or_query_strings(client: TestClient, world: World) -> None:
    with captured_logs() as stream:
        login = client.post("/api/v1/auth/token", data={"username": "office", "password": PASSWORD})
        assert login.status_code == 200
        tokens = login.json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert client.get("/api/v1/orgs?q=SECRETQUERY", headers=bearer).status_code == 200
        client.post("/api/v1/auth/token", data={"username": "office", "password": "WRONGPASSWORD1"})
        client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        client.get("/api/v1/users?q=SECRETQUERY", headers=bearer)
    logged = stream.getvalue()
    assert logged.count('"app.access"') >= 5
    for secret in (
        PASSWORD,
        "WRONGPASSWORD1",
        tokens["access_token"],
        tokens["access_token"].split(".")[2],
        tokens["refresh_token"],
        "SECRETQUERY",
        "q=",
        "Bearer",
    ):
        assert secret not in logged, secret
