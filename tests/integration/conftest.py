"""Helpers shared by the integration tests: service accounts and events."""

import base64
from typing import Any

from fastapi.testclient import TestClient

from app.auth.principal import Principal
from app.core import db
from app.events import service as events
from tests.conftest import World


def create_client(client: TestClient, world: World, scopes: list[str]) -> dict[str, Any]:
    r = client.post(
        "/api/v1/clients",
        json={"name": "市综治平台", "scopes": scopes},
        headers=world.h.admin,
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def client_token(client: TestClient, client_id: str, secret: str, *, basic: bool = False) -> str:
    if basic:
        raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        r = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {raw}"},
        )
    else:
        r = client.post(
            "/api/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def emit_event(
    type: str = "hazard.status_changed",
    *,
    school_id: int | None = None,
    org_id: int | None = None,
    audience: str = "all",
    subject_type: str = "hazard",
    subject_id: int = 1,
    actor: Principal | None = None,
) -> int:
    with db.write() as session:
        return events.emit(
            session,
            actor,
            type=type,
            subject_type=subject_type,
            subject_id=subject_id,
            school_id=school_id,
            org_id=org_id,
            audience=audience,
            payload={"note": type},
        )
