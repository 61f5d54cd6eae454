"""Small helpers for the plan tests."""

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.auth.models import ServiceClient
from app.core import db, security
from app.core.time import today
from tests.conftest import World, make_hazard

API = "/api/v1/plans"

# The six parts, filled in: a plan with these passes the five-in-place check.
FULL: dict[str, Any] = {
    "goal_and_tasks": "12月15日前完成教学楼外墙加固,消除坠落隐患。",
    "methods_and_measures": "拆除空鼓瓷砖,改为真石漆饰面。",
    "funds_amount": "186000.00",
    "funds_source": "区财政校舍安全专项资金",
    "materials": "脚手架、真石漆",
    "responsible_body": "学校校舍安全工作组",
    "responsible_person": "王建国",
    "responsible_phone": "029-88886666",
    "deadline": "2026-12-15",
    "requirements": "完工后经区城建局验收。",
    "safety_measures": "北侧设置围挡,学生绕行。",
    "contingency_plan": "发生坠落立即疏散并拨打120。",
}


def in_days(days: int) -> str:
    return (today() + timedelta(days=days)).isoformat()


def hazard_for(world: World, school: str = "school_a", **fields: Any) -> int:
    assert world.campaign is not None
    hazard = make_hazard(world.campaign, world.orgs[school], **fields)
    assert hazard.id is not None
    return int(hazard.id)


def plan_body(world: World, hazard_ids: list[int], **over: Any) -> dict[str, Any]:
    return {
        "campaign_id": world.campaign_id,
        "title": "教学楼外墙整改方案",
        "hazard_ids": hazard_ids,
        "milestones": [
            {"title": "搭设脚手架", "due_on": "2026-12-01"},
            {"title": "完成饰面", "due_on": "2026-12-12"},
        ],
        **FULL,
        **over,
    }


def create_plan(
    client: TestClient,
    world: World,
    who: str = "school_a",
    hazard_ids: list[int] | None = None,
    **over: Any,
) -> dict[str, Any]:
    if hazard_ids is None:
        hazard_ids = [hazard_for(world, who)]
    r = client.post(API, json=plan_body(world, hazard_ids, **over), headers=world.headers(who))
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def act(client: TestClient, world: World, plan_id: int, action: str, who: str, **body: Any) -> Any:
    return client.post(f"{API}/{plan_id}/{action}", json=body or None, headers=world.headers(who))


def approved_plan(
    client: TestClient, world: World, who: str = "school_a", **over: Any
) -> dict[str, Any]:
    plan = create_plan(client, world, who, **over)
    assert act(client, world, plan["id"], "submit", who).status_code == 200
    r = act(client, world, plan["id"], "approve", "office")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def service_headers(*scopes: str) -> dict[str, str]:
    """A machine client's bearer token carrying `scopes`."""
    with db.write() as session:
        client = ServiceClient(
            client_id=f"sys-{uuid.uuid4().hex[:8]}",
            name="市平台",
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
