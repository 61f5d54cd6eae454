"""Builders for the case tests: file and move cases through the API, a 卫生局 user, a service
account, and a look at the audit log and events outbox."""

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.audit.models import AuditLog
from app.auth.models import ServiceClient
from app.core import db, security
from app.core.time import now, today
from app.events.models import Event
from app.orgs.models import OrgKind
from app.users.models import Capability, Role
from tests.conftest import PASSWORD_HASH, World, make_org, make_user

API = "/api/v1/cases"

VICTIM = {
    "name": "张小明",
    "id_number": "110101201501011234",
    "contact": "13800001111",
    "age": 9,
    "note": "左臂轻微伤",
}


def weisheng_headers(world: World) -> dict[str, str]:
    """A user of 卫生局 (health bureau): a department with neither `cases` nor `oversight`."""
    if "weisheng" not in world.users:
        world.orgs["weisheng"] = make_org("卫生局", OrgKind.department)
        world.users["weisheng"] = make_user(
            world.orgs["weisheng"], Role.department, username="weisheng"
        )
    return world.headers("weisheng")


def other_police_headers(world: World) -> dict[str, str]:
    """Police of another sub-bureau: `cases` capability, different org."""
    if "police2" not in world.users:
        world.orgs["police2"] = make_org("公安二分局", OrgKind.department)
        world.users["police2"] = make_user(
            world.orgs["police2"],
            Role.department,
            username="police2",
            capabilities=(Capability.cases,),
        )
    return world.headers("police2")


def office_oversight_headers(world: World) -> dict[str, str]:
    if "office_oversight" not in world.users:
        world.users["office_oversight"] = make_user(
            world.orgs["office"],
            Role.office,
            username="office_oversight",
            capabilities=(Capability.oversight,),
        )
    return world.headers("office_oversight")


def service_headers(*scopes: str) -> dict[str, str]:
    with db.write() as session:
        client = ServiceClient(
            client_id=f"sys-{uuid.uuid4().hex[:8]}",
            name="市综治平台",
            secret_hash=PASSWORD_HASH,
            scopes=list(scopes),
        )
        session.add(client)
        session.flush()
        client_id = client.id
    token, _ = security.create_access_token(
        subject=f"client:{client_id}", role=Role.service, org_id=None, scopes=scopes
    )
    return {"Authorization": f"Bearer {token}"}


def case_body(world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "campaign_id": world.campaign_id,
        "case_type": "campus_intrusion",
        "occurred_at": (now() - timedelta(days=2)).isoformat(),
        "location": "城关第一小学东门外",
        "school_id": world.org_id("school_a"),
        "summary": "一男子持械在校门口滋扰上学学生,致张小明左臂轻微伤。",
        "sanitized_summary": "校门口发生一起滋扰学生事件,公安机关已立案侦查。",
        "victim_minor_count": 1,
        "suspect_count": 1,
        "suspect_status": "at_large",
        "victims": [VICTIM],
    }
    body.update(overrides)
    return body


def file_case(client: TestClient, world: World, who: str = "police", **kw: Any) -> dict[str, Any]:
    r = client.post(API, json=case_body(world, **kw), headers=world.headers(who))
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def act(
    client: TestClient,
    headers: dict[str, str],
    case_id: int,
    action: str,
    body: dict[str, Any] | None = None,
) -> Any:
    return client.post(f"{API}/{case_id}/{action}", json=body or {}, headers=headers)


PATH = {
    "investigating": ["start-investigation"],
    "solved": ["start-investigation", "solve"],
    "prosecuted": ["start-investigation", "solve", "prosecute"],
    "judged": ["start-investigation", "solve", "prosecute", "judge"],
    "closed": ["start-investigation", "solve", "prosecute", "judge", "close"],
}


def advance(client: TestClient, world: World, case_id: int, to: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for action in PATH[to]:
        payload = {"judgement_outcome": "判处有期徒刑二年"} if action == "judge" else {}
        r = act(client, world.h.police, case_id, action, payload)
        assert r.status_code == 200, r.text
        body = r.json()
    return body


def supervision_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "level": "district",
        "notice_no": "区综治督〔2026〕3号",
        "solve_deadline": (today() + timedelta(days=20)).isoformat(),
        "requirements": "限期侦破,每周报告侦办进展。",
        "report_interval_days": 7,
    }
    body.update(overrides)
    return body


def supervise(
    client: TestClient, world: World, case_id: int, who: str = "office", **kw: Any
) -> dict[str, Any]:
    r = client.post(
        f"{API}/{case_id}/supervision", json=supervision_body(**kw), headers=world.headers(who)
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def audit_rows(action: str, case_id: int | None = None) -> list[AuditLog]:
    stmt = select(AuditLog).where(col(AuditLog.action) == action)
    if case_id is not None:
        stmt = stmt.where(col(AuditLog.object_id) == str(case_id))
    with db.read() as session:
        return list(session.exec(stmt.order_by(col(AuditLog.id))).all())


def case_events(case_id: int) -> list[Event]:
    with db.read() as session:
        return list(
            session.exec(
                select(Event)
                .where(col(Event.subject_type) == "case", col(Event.subject_id) == case_id)
                .order_by(col(Event.id))
            ).all()
        )
