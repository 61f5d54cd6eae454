"""Small helpers for the task tests."""

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.auth.models import ServiceClient
from app.core import db, security
from app.core.time import today
from app.events.models import Event
from tests.conftest import World

API = "/api/v1/tasks"


def service_headers(*scopes: str) -> dict[str, str]:
    """A machine client's bearer token carrying `scopes`."""
    with db.write() as session:
        client = ServiceClient(
            client_id=f"sys-{uuid.uuid4().hex[:8]}",
            name="外部系统",
            secret_hash="x",
            scopes=list(scopes),
        )
        session.add(client)
        session.flush()
        client_id = client.id
    token, _ = security.create_access_token(
        subject=f"client:{client_id}", role="service", org_id=None, scopes=scopes
    )
    return {"Authorization": f"Bearer {token}"}


def in_days(days: int) -> str:
    return (today() + timedelta(days=days)).isoformat()


def create_task(
    client: TestClient,
    world: World,
    *,
    lead: str = "edu",
    participants: tuple[str, ...] = ("chengjian", "police"),
    **over: Any,
) -> dict[str, Any]:
    body = {
        "campaign_id": world.campaign_id,
        "title": "校园周边环境治理行动",
        "key_task_type": "surroundings_cleanup",
        "lead_org_id": world.org_id(lead),
        "participant_org_ids": [world.org_id(p) for p in participants],
        "due_on": in_days(10),
        **over,
    }
    r = client.post(API, json=body, headers=world.h.office)
    assert r.status_code == 201, r.text
    return r.json()


def assignment_of(task: dict[str, Any], org_id: int) -> dict[str, Any]:
    return next(a for a in task["assignments"] if a["org_id"] == org_id)


def submit(client: TestClient, headers: dict[str, str], task_id: int, **over: Any) -> Any:
    body = {"text": "已完成排查。", "figures": {"venues_inspected": 10, "venues_closed": 2}, **over}
    return client.post(f"{API}/{task_id}/reports", json=body, headers=headers)


def event_types(subject_id: int) -> list[str]:
    from sqlmodel import col, select

    with db.read() as session:
        rows = session.exec(
            select(Event)
            .where(col(Event.subject_type) == "task", col(Event.subject_id) == subject_id)
            .order_by(col(Event.id))
        ).all()
    return [e.type for e in rows]
