"""Small builders for the hazard tests: register through the API, evidence rows, plans."""

import uuid
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.attachments.models import Attachment, AttachmentParent
from app.core import db
from app.core.time import today
from app.hazards import service
from app.plans.models import Plan, PlanHazard, PlanStatus
from tests.conftest import World

API = "/api/v1/hazards"


def hazard_body(world: World, school: str = "school_a", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "campaign_id": world.campaign_id,
        "school_id": world.org_id(school),
        "scope": "campus",
        "category": "building",
        "grade": "general",
        "title": "教学楼二楼栏杆松动",
        "description": "二楼走廊东侧栏杆固定螺栓松动,学生倚靠有坠落危险。",
        "location": "教学楼二楼东侧",
        "source": "self_inspection",
        "found_on": (today() - timedelta(days=1)).isoformat(),
        "responsible_person": "王老师",
        "responsible_phone": "029-88881234",
    }
    body.update(overrides)
    return body


def register(
    client: TestClient, world: World, who: str = "school_a", school: str = "school_a", **kw: Any
) -> dict[str, Any]:
    r = client.post(API, json=hazard_body(world, school, **kw), headers=world.headers(who))
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def act(
    client: TestClient,
    world: World,
    who: str,
    hazard_id: int,
    action: str,
    body: dict[str, Any] | None = None,
    **headers: str,
) -> Any:
    return client.post(
        f"{API}/{hazard_id}/{action}",
        json=body or {},
        headers={**world.headers(who), **headers},
    )


def evidence(hazard_id: int, uploader: str = "user:1") -> int:
    """An evidence row as the upload endpoint would leave it (the bytes are not needed here)."""
    with db.write() as session:
        row = Attachment(
            parent_type=AttachmentParent.hazard,
            parent_id=hazard_id,
            filename="photo.jpg",
            content_type="image/jpeg",
            size=10,
            sha256="0" * 64,
            storage_key=uuid.uuid4().hex,
            uploaded_by=uploader,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def plan_for(
    world: World, hazard_ids: list[int], org: str, status: PlanStatus = PlanStatus.approved
) -> int:
    with db.write() as session:
        plan = Plan(
            campaign_id=world.campaign_id,
            owner_org_id=world.org_id(org),
            title="整改方案",
            status=status,
            created_by="user:1",
            deadline=date(2026, 12, 15),
        )
        session.add(plan)
        session.flush()
        assert plan.id is not None
        for hid in hazard_ids:
            session.add(PlanHazard(plan_id=plan.id, hazard_id=hid))
        service.plans_changed(session, hazard_ids)  # as the plan service does
        return plan.id


def timeline(client: TestClient, world: World, who: str, hazard_id: int) -> list[dict[str, Any]]:
    r = client.get(f"{API}/{hazard_id}/events?limit=100", headers=world.headers(who))
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


_seq = iter(range(1, 10**9))


def insert_hazard(world: World, school: str = "school_a", **fields: Any) -> int:
    """A hazard row straight in the register (no API, no timeline), for list and filter tests."""
    from app.hazards.models import Hazard

    values: dict[str, Any] = {
        "code": f"YH-1999-{next(_seq):06d}",
        "campaign_id": world.campaign_id,
        "school_id": world.org_id(school),
        "scope": "campus",
        "category": "building",
        "grade": "general",
        "title": "外墙瓷砖松动",
        "description": "北侧外墙瓷砖空鼓。",
        "source": "self_inspection",
        "found_on": date(2026, 11, 25),
        "reported_by": "user:0",
        "reporter_org_id": world.org_id(school),
        "responsible_org_id": world.org_id(school),
    }
    values.update(fields)
    with db.write() as session:
        row = Hazard.model_validate(values)
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def service_headers(scopes: list[str]) -> dict[str, str]:
    from app.auth.models import ServiceClient
    from app.core import security

    with db.write() as session:
        client = ServiceClient(
            client_id=uuid.uuid4().hex, name="市平台", secret_hash="x", scopes=scopes
        )
        session.add(client)
        session.flush()
        client_id = client.id
    token, _ = security.create_access_token(
        subject=f"client:{client_id}", role="service", org_id=None, scopes=tuple(scopes)
    )
    return {"Authorization": f"Bearer {token}"}
