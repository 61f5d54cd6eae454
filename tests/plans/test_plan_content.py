"""What a plan may cover, what it says, money, ETags, progress and the timetable."""

import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.attachments.models import Attachment, AttachmentParent
from app.audit.models import AuditLog
from app.auth.principal import Principal
from app.core import db
from app.core.errors import AppError
from app.core.time import today
from app.plans import service
from app.plans.models import Plan
from app.plans.schemas import PlanCreate
from app.users.models import Role
from tests.conftest import World, make_campaign, make_hazard
from tests.plans.helpers import (
    API,
    act,
    approved_plan,
    create_plan,
    hazard_for,
    plan_body,
)


def _post(client: TestClient, world: World, body: dict[str, Any], who: str = "school_a") -> Any:
    return client.post(API, json=body, headers=world.headers(who))


# ---------------------------------------------------------------------------------------------
# What a plan may cover


def test_plan_cannot_cover_a_hazard_the_owner_does_not_fix(
    client: TestClient, world: World
) -> None:
    # At school_a, but assigned to 城建局: the school does not own its fix.
    hazard_id = hazard_for(world, responsible=world.orgs["chengjian"])
    r = _post(client, world, plan_body(world, [hazard_id]))
    assert r.status_code == 422
    assert r.json()["code"] == "plan.hazard_not_owned"
    assert r.json()["errors"][0]["field"] == "body.hazard_ids"


def test_plan_cannot_cover_a_hazard_the_caller_cannot_see(client: TestClient, world: World) -> None:
    other_school = hazard_for(world, "school_b")
    r = _post(client, world, plan_body(world, [other_school]))
    assert r.status_code == 422
    assert r.json()["code"] == "plan.hazard_unknown"
    r = _post(client, world, plan_body(world, [999_999]))
    assert r.json()["code"] == "plan.hazard_unknown"


def test_plan_cannot_cover_a_hazard_of_another_campaign(client: TestClient, world: World) -> None:
    other = make_campaign()
    hazard = make_hazard(other, world.orgs["school_a"]).id
    r = _post(client, world, plan_body(world, [hazard]))
    assert r.status_code == 422
    assert r.json()["code"] == "plan.hazard_other_campaign"


@pytest.mark.parametrize("status", ["closed", "void"])
def test_plan_cannot_cover_a_closed_or_void_hazard(
    client: TestClient, world: World, status: str
) -> None:
    hazard = hazard_for(world, status=status)
    r = _post(client, world, plan_body(world, [hazard]))
    assert r.status_code == 422
    assert r.json()["code"] == "plan.hazard_closed"


def test_a_hazard_is_covered_by_one_plan_in_progress_at_a_time(
    client: TestClient, world: World
) -> None:
    hazard = hazard_for(world)
    first = create_plan(client, world, hazard_ids=[hazard])
    r = _post(client, world, plan_body(world, [hazard]))
    assert r.status_code == 409
    assert r.json()["code"] == "plan.hazard_already_covered"
    # Once the first plan is completed the hazard may be covered again (e.g. after a
    # failed verification).
    act(client, world, first["id"], "submit", "school_a")
    act(client, world, first["id"], "approve", "office")
    act(client, world, first["id"], "complete", "school_a")
    assert _post(client, world, plan_body(world, [hazard])).status_code == 201


def test_office_writes_a_plan_for_a_department(client: TestClient, world: World) -> None:
    hazard = hazard_for(world, "kg", responsible=world.orgs["chengjian"])
    body = plan_body(world, [hazard], owner_org_id=world.org_id("chengjian"))
    r = _post(client, world, body, "office")
    assert r.status_code == 201, r.text
    assert r.json()["owner_org_id"] == world.org_id("chengjian")
    # The owner, not the office, carries it on.
    assert act(client, world, r.json()["id"], "submit", "chengjian").status_code == 200


def test_office_must_name_a_school_or_department_as_owner(client: TestClient, world: World) -> None:
    hazard = hazard_for(world)
    r = _post(client, world, plan_body(world, [hazard]), "office")
    assert r.status_code == 422
    assert r.json()["code"] == "plan.owner_required"
    body = plan_body(world, [hazard], owner_org_id=world.org_id("office"))
    assert _post(client, world, body, "office").json()["code"] == "plan.bad_owner"


def test_school_cannot_write_a_plan_for_another_org(client: TestClient, world: World) -> None:
    hazard = hazard_for(world)
    body = plan_body(world, [hazard], owner_org_id=world.org_id("school_b"))
    r = _post(client, world, body)
    assert r.status_code == 403
    assert r.json()["code"] == "plan.owner_forbidden"


def test_no_plan_in_a_closed_or_unknown_campaign(client: TestClient, world: World) -> None:
    from app.campaigns.models import CampaignStatus

    closed = make_campaign(CampaignStatus.closed)
    hazard = make_hazard(closed, world.orgs["school_a"]).id
    r = _post(client, world, plan_body(world, [hazard], campaign_id=closed.id))
    assert r.status_code == 409
    assert r.json()["code"] == "campaign.closed"
    r = _post(client, world, plan_body(world, [hazard], campaign_id=424242))
    assert r.status_code == 422
    assert r.json()["code"] == "campaign.unknown"


# ---------------------------------------------------------------------------------------------
# Money


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("0.1", "0.10"),
        ("0.2", "0.20"),
        ("0.30", "0.30"),
        (0.3, "0.30"),
        ("12345.6", "12345.60"),
        ("9999999999.99", "9999999999.99"),
        ("999999999999.99", "999999999999.99"),
        ("0", "0.00"),
    ],
)
def test_money_is_exact(client: TestClient, world: World, sent: Any, shown: str) -> None:
    plan = create_plan(client, world, funds_amount=sent)
    assert plan["funds_amount"] == shown
    got = client.get(f"{API}/{plan['id']}", headers=world.h.school_a).json()
    assert got["funds_amount"] == shown
    listed = client.get(API, headers=world.h.school_a).json()["items"][0]
    assert listed["funds_amount"] == shown
    with db.read() as session:
        row = session.get(Plan, plan["id"])
        assert row is not None
        assert row.funds_amount == Decimal(shown)


def test_sums_of_stored_amounts_do_not_drift(client: TestClient, world: World) -> None:
    amounts = [create_plan(client, world, funds_amount=a)["id"] for a in ("0.1", "0.2")]
    with db.read() as session:
        total = sum(
            (p.funds_amount or Decimal(0))
            for p in session.exec(select(Plan).where(col(Plan.id).in_(amounts))).all()
        )
    assert total == Decimal("0.30")


@pytest.mark.parametrize(
    "amount", ["-0.01", "0.001", "1000000000000.00", "NaN", "Infinity", "12,000", True]
)
def test_money_out_of_bounds_is_422(client: TestClient, world: World, amount: Any) -> None:
    hazard = hazard_for(world)
    r = _post(client, world, plan_body(world, [hazard], funds_amount=amount))
    assert r.status_code == 422, amount
    assert "body.funds_amount" in {e["field"] for e in r.json()["errors"]}


def test_money_is_documented_as_a_string(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert schema["PlanPublic"]["properties"]["funds_amount"]["anyOf"][0]["type"] == "string"


# ---------------------------------------------------------------------------------------------
# Editing


def test_patch_needs_a_current_etag(client: TestClient, world: World) -> None:
    plan = create_plan(client, world)
    url = f"{API}/{plan['id']}"
    r = client.patch(url, json={"title": "改"}, headers=world.h.school_a)
    assert r.status_code == 428
    r = client.patch(url, json={"title": "改"}, headers={**world.h.school_a, "If-Match": '"v9"'})
    assert r.status_code == 412
    r = client.patch(url, json={"title": "改"}, headers={**world.h.school_a, "If-Match": '"v1"'})
    assert r.status_code == 200
    assert r.headers["ETag"] == '"v2"'
    # An action with a stale If-Match is refused too.
    r = client.post(f"{url}/submit", headers={**world.h.school_a, "If-Match": '"v1"'})
    assert r.status_code == 412


def test_patch_replaces_milestones_and_hazards_and_is_audited(
    client: TestClient, world: World
) -> None:
    plan = create_plan(client, world)
    other = hazard_for(world)
    r = client.patch(
        f"{API}/{plan['id']}",
        json={
            "milestones": [{"title": "一次完成", "due_on": "2026-12-10"}],
            "hazard_ids": [other],
            "funds_amount": "200000",
            "deadline": None,
        },
        headers={**world.h.school_a, "If-Match": '"v1"'},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [m["title"] for m in body["milestones"]] == ["一次完成"]
    assert body["hazard_ids"] == [other]
    assert body["funds_amount"] == "200000.00"
    assert body["deadline"] is None
    assert "deadline" in body["missing_items"]
    with db.read() as session:
        audit = session.exec(select(AuditLog).where(col(AuditLog.action) == "plan.update")).one()
    assert audit.changes["funds_amount"] == ["186000.00", "200000.00"]
    assert audit.changes["hazard_ids"] == [other]
    # The hazard it no longer covers is free for another plan.
    assert _post(client, world, plan_body(world, plan["hazard_ids"])).status_code == 201


def test_a_hazards_etag_changes_when_a_plan_starts_or_stops_covering_it(
    client: TestClient, world: World
) -> None:
    """`plan_ids` is part of a hazard's representation: its ETag moves with it, and a
    register page shows the new plan ids (the page's cached rows are keyed by version)."""
    first, second, untouched = (hazard_for(world) for _ in range(3))

    def seen(hazard_id: int) -> tuple[str, list[int]]:
        r = client.get(f"/api/v1/hazards/{hazard_id}", headers=world.h.school_a)
        assert r.status_code == 200, r.text
        return r.headers["ETag"], r.json()["plan_ids"]

    def on_page(hazard_id: int) -> list[int]:
        r = client.get("/api/v1/hazards?limit=100", headers=world.h.school_a)
        assert r.status_code == 200, r.text
        return next(h["plan_ids"] for h in r.json()["items"] if h["id"] == hazard_id)

    tags = {h: seen(h)[0] for h in (first, second, untouched)}
    assert on_page(first) == []
    plan = create_plan(client, world, hazard_ids=[first])
    tag, plans = seen(first)
    assert tag != tags[first]
    assert plans == [plan["id"]]
    assert on_page(first) == [plan["id"]]
    r = client.patch(
        f"{API}/{plan['id']}",
        json={"hazard_ids": [second]},
        headers={**world.h.school_a, "If-Match": '"v1"'},
    )
    assert r.status_code == 200, r.text
    assert seen(first)[0] != tag
    assert seen(first)[1] == []
    assert on_page(first) == []
    assert seen(second)[0] != tags[second]
    assert seen(second)[1] == [plan["id"]]
    assert seen(untouched) == (tags[untouched], [])
    # An edit holding the ETag read before the plan changed is refused.
    r = client.patch(
        f"/api/v1/hazards/{first}",
        json={"title": "新标题"},
        headers={**world.h.school_a, "If-Match": tag},
    )
    assert r.status_code == 412, r.text


def test_patch_checks_the_hazards_it_is_given(client: TestClient, world: World) -> None:
    plan = create_plan(client, world)
    foreign = hazard_for(world, "school_b")
    r = client.patch(
        f"{API}/{plan['id']}",
        json={"hazard_ids": [foreign]},
        headers={**world.h.school_a, "If-Match": '"v1"'},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "plan.hazard_unknown"


# ---------------------------------------------------------------------------------------------
# Progress and the timetable


def _attachment(plan_id: int, parent: AttachmentParent = AttachmentParent.plan) -> int:
    with db.write() as session:
        row = Attachment(
            parent_type=parent,
            parent_id=plan_id,
            filename="施工照片.jpg",
            content_type="image/jpeg",
            size=10,
            sha256="0" * 64,
            storage_key="k",
            uploaded_by="user:1",
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def test_owner_reports_progress_with_evidence(client: TestClient, world: World) -> None:
    plan = approved_plan(client, world)
    photo = _attachment(plan["id"])
    url = f"{API}/{plan['id']}/progress"
    r = client.post(
        url,
        json={"text": "脚手架已搭设", "percent": 30, "attachment_ids": [photo]},
        headers=world.h.school_a,
    )
    assert r.status_code == 201, r.text
    assert r.json()["attachment_ids"] == [photo]
    client.post(url, json={"text": "饰面完成一半", "percent": 60}, headers=world.h.school_a)
    listed = client.get(url, headers=world.h.office).json()["items"]
    assert [p["percent"] for p in listed] == [60, 30]
    got = client.get(f"{API}/{plan['id']}", headers=world.h.edu).json()
    assert got["progress_percent"] == 60
    assert got["latest_progress"]["text"] == "饰面完成一半"
    page = client.get(f"{url}?limit=1", headers=world.h.office).json()
    assert len(page["items"]) == 1
    rest = client.get(f"{url}?limit=1&cursor={page['next_cursor']}", headers=world.h.office)
    assert rest.json()["items"][0]["percent"] == 30


def test_progress_refuses_attachments_of_another_object(client: TestClient, world: World) -> None:
    plan = approved_plan(client, world)
    elsewhere = _attachment(plan["id"], AttachmentParent.hazard)
    r = client.post(
        f"{API}/{plan['id']}/progress",
        json={"text": "见附件", "percent": 10, "attachment_ids": [elsewhere]},
        headers=world.h.school_a,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "attachment.not_on_parent"


def test_progress_only_on_an_approved_plan_and_only_by_the_owner(
    client: TestClient, world: World
) -> None:
    plan = create_plan(client, world)
    url = f"{API}/{plan['id']}/progress"
    r = client.post(url, json={"text": "先干起来", "percent": 5}, headers=world.h.school_a)
    assert r.status_code == 409
    act(client, world, plan["id"], "submit", "school_a")
    act(client, world, plan["id"], "approve", "office")
    r = client.post(url, json={"text": "代报", "percent": 5}, headers=world.h.edu)
    assert r.status_code == 403
    r = client.post(url, json={"text": "代报", "percent": 5}, headers=world.h.office)
    assert r.status_code == 403


def test_owner_ticks_off_milestones(client: TestClient, world: World) -> None:
    plan = approved_plan(client, world)
    first, second = (m["id"] for m in plan["milestones"])
    url = f"{API}/{plan['id']}/milestones"
    r = client.post(f"{url}/{first}/done", headers=world.h.school_a)
    assert r.status_code == 200, r.text
    assert r.json()["milestones"][0]["done_on"] == today().isoformat()
    assert client.post(f"{url}/{first}/done", headers=world.h.school_a).status_code == 409
    r = client.post(
        f"{url}/{second}/done", json={"done_on": "2099-01-01"}, headers=world.h.school_a
    )
    assert r.status_code == 422
    r = client.post(
        f"{url}/{second}/done", json={"done_on": "2026-11-26"}, headers=world.h.school_a
    )
    assert r.json()["milestones"][1]["done_on"] == "2026-11-26"
    assert client.post(f"{url}/99999/done", headers=world.h.school_a).status_code == 404
    assert client.post(f"{url}/{first}/done", headers=world.h.edu).status_code == 403


def test_milestone_of_another_plan_is_404(client: TestClient, world: World) -> None:
    mine = approved_plan(client, world)
    other = create_plan(client, world)
    r = client.post(
        f"{API}/{mine['id']}/milestones/{other['milestones'][0]['id']}/done",
        headers=world.h.school_a,
    )
    assert r.status_code == 404
    assert r.json()["code"] == "plan.milestone_not_found"


def test_milestones_of_a_draft_cannot_be_ticked(client: TestClient, world: World) -> None:
    plan = create_plan(client, world)
    r = client.post(
        f"{API}/{plan['id']}/milestones/{plan['milestones'][0]['id']}/done",
        json={"done_on": date(2026, 11, 27).isoformat()},
        headers=world.h.school_a,
    )
    assert r.status_code == 409


def test_two_plans_racing_for_one_hazard_cannot_both_win(world: World) -> None:
    hazard = hazard_for(world)
    user = world.users["school_a"]
    assert user.id is not None
    principal = Principal("user", user.id, Role.school, user.org_id)
    data = PlanCreate.model_validate(plan_body(world, [hazard]))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def write() -> None:
        barrier.wait()
        try:
            service.create(principal, data)
            outcomes.append("created")
        except AppError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=write) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["created", "plan.hazard_already_covered"]
