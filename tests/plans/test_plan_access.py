"""Who may see and do what with a plan: 401, 403, 404 and 422 on every endpoint."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.attachments.models import AttachmentParent
from app.attachments.parents import ATTACHERS, READERS
from app.auth.principal import Principal
from app.core import db
from app.users.models import Capability, Role
from tests.conftest import World
from tests.plans.helpers import API, act, approved_plan, create_plan, hazard_for, service_headers

# (method, path template, json body) for every plan endpoint; {p} plan id, {m} milestone id.
ENDPOINTS: list[tuple[str, str, Any]] = [
    ("GET", API, None),
    ("POST", API, {"campaign_id": 1, "title": "x", "hazard_ids": [1]}),
    ("GET", API + "/{p}", None),
    ("PATCH", API + "/{p}", {"title": "新标题"}),
    ("POST", API + "/{p}/submit", None),
    ("POST", API + "/{p}/approve", None),
    ("POST", API + "/{p}/return", {"comment": "请补充"}),
    ("POST", API + "/{p}/complete", None),
    ("POST", API + "/{p}/progress", {"text": "进行中", "percent": 10}),
    ("GET", API + "/{p}/progress", None),
    ("GET", API + "/{p}/events", None),
    ("POST", API + "/{p}/milestones/{m}/done", None),
    ("GET", API + "/{p}/export.xlsx", None),
]


def _call(
    client: TestClient, method: str, path: str, body: Any, headers: dict[str, str], **ids: int
) -> Any:
    url = path.format(p=ids.get("p", 1), m=ids.get("m", 1))
    return client.request(method, url, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_every_endpoint_needs_a_token(
    client: TestClient, world: World, method: str, path: str, body: Any
) -> None:
    plan = create_plan(client, world)
    r = _call(client, method, path, body, {}, p=plan["id"], m=plan["milestones"][0]["id"])
    assert r.status_code == 401
    assert r.json()["code"] == "auth.unauthenticated"


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_admins_hold_no_business_data(
    client: TestClient, world: World, method: str, path: str, body: Any
) -> None:
    plan = create_plan(client, world)
    r = _call(
        client, method, path, body, world.h.admin, p=plan["id"], m=plan["milestones"][0]["id"]
    )
    assert r.status_code == 403


@pytest.mark.parametrize(("method", "path", "body"), [e for e in ENDPOINTS if e[1] != API])
def test_another_schools_plan_is_404_on_every_endpoint(
    client: TestClient, world: World, method: str, path: str, body: Any
) -> None:
    plan = approved_plan(client, world)
    if path.endswith(("approve", "return")):
        # The office sees every plan; a missing one is the 404 it can get.
        r = _call(client, method, path, body, world.h.office, p=plan["id"] + 1000)
    else:
        milestone = plan["milestones"][0]["id"]
        r = _call(client, method, path, body, world.h.school_b, p=plan["id"], m=milestone)
    assert r.status_code == 404
    assert r.json()["code"] == "plan.not_found"


@pytest.mark.parametrize(("method", "path", "body"), [e for e in ENDPOINTS if e[1] != API])
def test_a_plan_id_out_of_range_is_422(
    client: TestClient, world: World, method: str, path: str, body: Any
) -> None:
    who = world.h.office if path.endswith(("approve", "return")) else world.h.school_a
    r = _call(client, method, path, body, who, p=0)
    assert r.status_code == 422
    r = _call(client, method, path, body, who, p=2**40)
    assert r.status_code == 422


def test_school_cannot_see_another_schools_plan_in_lists(client: TestClient, world: World) -> None:
    mine = create_plan(client, world, "school_a")
    create_plan(client, world, "school_b")
    r = client.get(API, headers=world.h.school_a)
    assert [p["id"] for p in r.json()["items"]] == [mine["id"]]


def test_department_sees_plans_covering_hazards_at_schools_it_supervises(
    client: TestClient, world: World
) -> None:
    at_school_a = create_plan(client, world, "school_a")
    # 城建局 must fix a hazard at the kindergarten (supervised by 桃花镇).
    kg_hazard = hazard_for(world, "kg", responsible=world.orgs["chengjian"])
    chengjian_plan = create_plan(client, world, "chengjian", hazard_ids=[kg_hazard])

    def seen(who: str) -> set[int]:
        r = client.get(API, headers=world.headers(who))
        assert r.status_code == 200
        return {p["id"] for p in r.json()["items"]}

    assert seen("edu") == {at_school_a["id"]}
    assert seen("town") == {chengjian_plan["id"]}
    assert seen("chengjian") == {chengjian_plan["id"]}
    assert seen("kg") == set()  # the school is not the owner
    assert seen("office") == seen("jiancha") == seen("inspector")
    assert seen("office") == {at_school_a["id"], chengjian_plan["id"]}
    r = client.get(f"{API}/{chengjian_plan['id']}", headers=world.h.edu)
    assert r.status_code == 404
    assert client.get(f"{API}/{at_school_a['id']}", headers=world.h.edu).status_code == 200


def test_supervising_department_reads_but_may_not_act_for_the_owner(
    client: TestClient, world: World
) -> None:
    plan = create_plan(client, world, "school_a")
    got = client.get(f"{API}/{plan['id']}", headers=world.h.edu)
    assert got.json()["allowed_actions"] == []
    r = act(client, world, plan["id"], "submit", "edu")
    assert r.status_code == 403
    assert r.json()["code"] == "plan.not_owner"
    # Not the owner is the answer, not a missing If-Match.
    r = client.patch(f"{API}/{plan['id']}", json={"title": "改"}, headers=world.h.edu)
    assert r.status_code == 403
    r = client.patch(
        f"{API}/{plan['id']}",
        json={"title": "改"},
        headers={**world.h.edu, "If-Match": got.headers["ETag"]},
    )
    assert r.status_code == 403


def test_office_may_not_edit_submit_or_complete_a_plan(client: TestClient, world: World) -> None:
    plan = create_plan(client, world)
    for action in ("submit", "complete"):
        assert act(client, world, plan["id"], action, "office").status_code == 403
    r = client.patch(
        f"{API}/{plan['id']}", json={"title": "改"}, headers={**world.h.office, "If-Match": "*"}
    )
    assert r.status_code == 403


def test_department_cannot_approve(client: TestClient, world: World) -> None:
    plan = create_plan(client, world)
    act(client, world, plan["id"], "submit", "school_a")
    assert act(client, world, plan["id"], "approve", "edu").status_code == 403
    assert act(client, world, plan["id"], "approve", "jiancha").status_code == 403


def test_service_account_reads_plans_only_with_the_plans_scope(
    client: TestClient, world: World
) -> None:
    plan = create_plan(client, world)
    scoped = service_headers("plans:read")
    assert client.get(API, headers=scoped).json()["items"][0]["id"] == plan["id"]
    assert client.get(f"{API}/{plan['id']}", headers=scoped).status_code == 200
    unscoped = service_headers("hazards:read")
    r = client.get(API, headers=unscoped)
    assert r.status_code == 403
    assert r.json()["code"] == "auth.scope_missing"
    assert client.post(API, json={}, headers=scoped).status_code == 403


def test_attachments_on_a_plan_follow_the_plan(client: TestClient, world: World) -> None:
    plan = create_plan(client, world)

    def principal(who: str, role: Role, caps: tuple[Capability, ...] = ()) -> Principal:
        user = world.users[who]
        assert user.id is not None
        return Principal("user", user.id, role, user.org_id, frozenset(caps))

    read = READERS[AttachmentParent.plan]
    attach = ATTACHERS[AttachmentParent.plan]
    with db.read() as session:
        assert read(session, principal("school_a", Role.school), plan["id"])
        assert attach(session, principal("school_a", Role.school), plan["id"])
        assert not read(session, principal("school_b", Role.school), plan["id"])
        assert not attach(session, principal("school_b", Role.school), plan["id"])
        assert read(session, principal("edu", Role.department), plan["id"])
        assert not attach(session, principal("edu", Role.department), plan["id"])
        assert attach(session, principal("office", Role.office), plan["id"])
        assert not read(session, principal("school_a", Role.school), plan["id"] + 1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x", "hazard_ids": [1]}, "body.campaign_id"),
        ({"campaign_id": 1, "hazard_ids": [1]}, "body.title"),
        ({"campaign_id": 1, "title": "x", "hazard_ids": []}, "body.hazard_ids"),
        ({"campaign_id": 1, "title": "x", "hazard_ids": [1, 1]}, "body"),
        ({"campaign_id": 1, "title": "x", "hazard_ids": [0]}, "body.hazard_ids.0"),
        ({"campaign_id": 1, "title": "x" * 201, "hazard_ids": [1]}, "body.title"),
        ({"campaign_id": 1, "title": "x", "hazard_ids": [1], "extra": 1}, "body.extra"),
        ({"campaign_id": 1, "title": "x", "hazard_ids": [1], "deadline": "soon"}, "body.deadline"),
        (
            {"campaign_id": 1, "title": "x", "hazard_ids": [1], "responsible_phone": "call me"},
            "body.responsible_phone",
        ),
        (
            {"campaign_id": 1, "title": "x", "hazard_ids": [1], "milestones": [{"title": "a"}]},
            "body.milestones.0.due_on",
        ),
    ],
)
def test_create_validates_its_body(
    client: TestClient, world: World, body: dict[str, Any], field: str
) -> None:
    r = client.post(API, json=body, headers=world.h.school_a)
    assert r.status_code == 422
    assert field in {e["field"] for e in r.json()["errors"]}


def test_action_bodies_are_validated(client: TestClient, world: World) -> None:
    plan = approved_plan(client, world)
    pid = plan["id"]
    base = f"{API}/{pid}"
    assert client.post(f"{base}/return", json={}, headers=world.h.office).status_code == 422
    r = client.post(f"{base}/approve", json={"comment": "x" * 2001}, headers=world.h.office)
    assert r.status_code == 422
    for body in ({"text": "", "percent": 10}, {"text": "a", "percent": 101}, {"text": "a"}):
        r = client.post(f"{base}/progress", json=body, headers=world.h.school_a)
        assert r.status_code == 422, body
    r = client.post(
        f"{base}/milestones/{plan['milestones'][0]['id']}/done",
        json={"done_on": "yesterday"},
        headers=world.h.school_a,
    )
    assert r.status_code == 422
    r = client.patch(base, json={"title": None}, headers={**world.h.school_a, "If-Match": "*"})
    assert r.status_code == 422
    for query in ("sort=secret", "limit=0", "limit=101", "status=lost", "cursor=%%%"):
        assert client.get(f"{API}?{query}", headers=world.h.office).status_code == 422, query
