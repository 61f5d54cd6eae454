"""Service accounts: created by admins, tokens by client credentials, rotated, revoked."""

from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.audit import service as audit
from app.audit.models import AuditLog
from app.auth import dependencies as auth_deps
from app.auth.models import ServiceClient
from app.core import db
from tests.conftest import World
from tests.integration.conftest import bearer, client_token, create_client


def test_admin_creates_client_and_secret_is_shown_once_and_stored_hashed(
    client: TestClient, world: World
) -> None:
    created = create_client(client, world, ["events:read", "hazards:read"])
    assert created["client_id"].startswith("cs_")
    assert len(created["client_secret"]) >= 32
    assert created["scopes"] == ["events:read", "hazards:read"]

    shown = client.get(f"/api/v1/clients/{created['id']}", headers=world.h.admin)
    assert shown.status_code == 200
    assert "client_secret" not in shown.json()
    assert shown.headers["ETag"] == '"v1"'
    listed = client.get("/api/v1/clients", headers=world.h.admin).json()["items"]
    assert [c["id"] for c in listed] == [created["id"]]
    assert all("client_secret" not in c for c in listed)
    with db.read() as session:
        row = session.get(ServiceClient, created["id"])
    assert row is not None
    assert row.secret_hash.startswith("$argon2")
    assert created["client_secret"] not in row.secret_hash


def test_client_logs_in_with_form_fields_and_with_http_basic(
    client: TestClient, world: World
) -> None:
    created = create_client(client, world, ["events:read"])
    for basic in (False, True):
        token = client_token(client, created["client_id"], created["client_secret"], basic=basic)
        me = client.get("/api/v1/auth/me", headers=bearer(token))
        assert me.status_code == 200
        assert me.json()["kind"] == "client"
        assert me.json()["scopes"] == ["events:read"]


def test_client_calls_are_audited_as_the_client(client: TestClient, world: World) -> None:
    created = create_client(client, world, ["events:read"])
    token = client_token(client, created["client_id"], created["client_secret"])
    _, principal = auth_deps._decode(token)
    assert principal.actor == f"client:{created['id']}"
    with db.write() as session:
        audit.record(session, principal, action="probe", object_type="x")
    with db.read() as session:
        actors = session.exec(select(AuditLog.actor).where(col(AuditLog.action) == "probe")).all()
        created_by = session.exec(
            select(AuditLog.actor).where(col(AuditLog.action) == "client.created")
        ).all()
    assert actors == [f"client:{created['id']}"]
    assert created_by == [f"user:{world.users['admin'].id}"]


def test_client_without_events_scope_gets_403_on_feed(client: TestClient, world: World) -> None:
    created = create_client(client, world, ["hazards:read"])
    token = client_token(client, created["client_id"], created["client_secret"])
    r = client.get("/api/v1/events", headers=bearer(token))
    assert r.status_code == 403
    assert r.json()["code"] == "auth.scope_missing"


def test_client_with_events_scope_reads_feed(client: TestClient, world: World) -> None:
    created = create_client(client, world, ["events:read"])
    token = client_token(client, created["client_id"], created["client_secret"])
    assert client.get("/api/v1/events", headers=bearer(token)).status_code == 200


def test_rotation_refuses_old_secret_and_old_token(client: TestClient, world: World) -> None:
    created = create_client(client, world, ["events:read"])
    old_token = client_token(client, created["client_id"], created["client_secret"])
    assert client.get("/api/v1/events", headers=bearer(old_token)).status_code == 200

    rotated = client.post(f"/api/v1/clients/{created['id']}/rotate", headers=world.h.admin)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["client_secret"]
    assert new_secret != created["client_secret"]

    old_login = client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
        },
    )
    assert old_login.status_code == 401
    refused = client.get("/api/v1/events", headers=bearer(old_token))
    assert refused.status_code == 401
    assert refused.json()["code"] == "auth.token_revoked"
    new_token = client_token(client, created["client_id"], new_secret)
    assert client.get("/api/v1/events", headers=bearer(new_token)).status_code == 200


def test_revoked_client_can_neither_log_in_nor_use_its_token(
    client: TestClient, world: World
) -> None:
    created = create_client(client, world, ["events:read"])
    token = client_token(client, created["client_id"], created["client_secret"])
    r = client.post(f"/api/v1/clients/{created['id']}/revoke", headers=world.h.admin)
    assert r.status_code == 200
    assert r.json()["is_active"] is False
    assert client.get("/api/v1/events", headers=bearer(token)).status_code == 401
    login = client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
        },
    )
    assert login.status_code == 401
    rotate = client.post(f"/api/v1/clients/{created['id']}/rotate", headers=world.h.admin)
    assert rotate.status_code == 409
    assert rotate.json()["code"] == "client.revoked"


def test_only_admins_manage_clients(client: TestClient, world: World) -> None:
    body = {"name": "x", "scopes": ["events:read"]}
    assert client.post("/api/v1/clients", json=body).status_code == 401
    assert client.post("/api/v1/clients", json=body, headers=world.h.office).status_code == 403
    assert client.get("/api/v1/clients", headers=world.h.school_a).status_code == 403


def test_client_create_validates_scopes_and_name(client: TestClient, world: World) -> None:
    for body in (
        {"name": "x", "scopes": ["everything"]},
        {"name": "x", "scopes": []},
        {"name": "", "scopes": ["events:read"]},
        {"name": "x" * 101, "scopes": ["events:read"]},
        {"name": "x", "scopes": ["events:read"], "secret": "mine"},
    ):
        r = client.post("/api/v1/clients", json=body, headers=world.h.admin)
        assert r.status_code == 422, body


def test_unknown_client_is_404(client: TestClient, world: World) -> None:
    assert client.get("/api/v1/clients/999", headers=world.h.admin).status_code == 404
    assert client.post("/api/v1/clients/999/rotate", headers=world.h.admin).status_code == 404
    assert client.post("/api/v1/clients/999/revoke", headers=world.h.admin).status_code == 404
