"""The approval loop: draft → submitted → approved | returned → completed."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.audit.models import AuditLog
from app.core import db
from app.core.errors import Conflict
from app.events.models import Event
from app.hazards import service as hazard_service
from app.hazards.models import Hazard, HazardEvent, HazardStatus
from app.plans.models import Plan, PlanEvent, PlanStatus
from tests.conftest import World
from tests.plans.helpers import API, act, approved_plan, create_plan, hazard_for


def _hazard(hazard_id: int) -> Hazard:
    with db.read() as session:
        hazard = session.get(Hazard, hazard_id)
        assert hazard is not None
        return hazard


def _events(plan_id: int) -> list[str]:
    with db.read() as session:
        rows = session.exec(
            select(Event)
            .where(col(Event.subject_type) == "plan", col(Event.subject_id) == plan_id)
            .order_by(col(Event.id))
        ).all()
        return [e.type for e in rows]


def test_school_writes_a_draft_plan_for_its_own_hazard(client: TestClient, world: World) -> None:
    hazard_id = hazard_for(world)
    r = client.post(
        API,
        json={"campaign_id": world.campaign_id, "title": "外墙整改", "hazard_ids": [hazard_id]},
        headers=world.h.school_a,
    )
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["status"] == "draft"
    assert plan["owner_org_id"] == world.org_id("school_a")
    assert [h["id"] for h in plan["hazards"]] == [hazard_id]
    assert plan["hazard_ids"] == [hazard_id]
    # A draft may be incomplete; the plan says what is still missing.
    assert plan["missing_items"] == [
        "responsibility",
        "measures",
        "funds",
        "deadline",
        "contingency",
    ]
    assert plan["allowed_actions"] == ["edit", "submit"]
    assert r.headers["ETag"] == '"v1"'
    with db.read() as session:
        event = session.exec(select(Event).where(col(Event.type) == "plan.created")).one()
        assert event.school_id == world.org_id("school_a")
        assert event.org_id == world.org_id("school_a")
        assert event.campaign_id == world.campaign_id
        audit = session.exec(select(AuditLog).where(col(AuditLog.action) == "plan.create")).one()
        assert audit.object_id == str(plan["id"])


def test_incomplete_plan_cannot_be_submitted_and_the_error_names_what_is_missing(
    client: TestClient, world: World
) -> None:
    plan = create_plan(
        client,
        world,
        responsible_phone=None,
        funds_source=None,
        contingency_plan="",
    )
    r = act(client, world, plan["id"], "submit", "school_a")
    assert r.status_code == 422
    problem = r.json()
    assert problem["code"] == "plan.incomplete"
    assert "责任落实" in problem["detail"]
    assert "资金落实" in problem["detail"]
    assert "预案落实" in problem["detail"]
    assert "措施落实" not in problem["detail"]
    fields = {e["field"] for e in problem["errors"]}
    assert {"body.responsible_phone", "body.funds_source", "body.contingency_plan"} <= fields
    assert "body.deadline" not in fields
    en = client.post(f"{API}/{plan['id']}/submit", headers=world.headers("school_a", "en")).json()
    assert "Responsibility" in en["detail"]
    assert "Funds" in en["detail"]
    assert "Contingency plan" in en["detail"]
    assert client.get(f"{API}/{plan['id']}", headers=world.h.school_a).json()["status"] == "draft"


def test_each_five_in_place_item_alone_blocks_submission(client: TestClient, world: World) -> None:
    for field, item in (
        ("responsible_body", "责任落实"),
        ("methods_and_measures", "措施落实"),
        ("funds_amount", "资金落实"),
        ("deadline", "时限落实"),
        ("contingency_plan", "预案落实"),
    ):
        plan = create_plan(client, world, **{field: None})
        r = act(client, world, plan["id"], "submit", "school_a")
        assert r.status_code == 422, field
        assert item in r.json()["detail"]
        assert f"body.{field}" in {e["field"] for e in r.json()["errors"]}


def test_school_cannot_approve_its_own_plan(client: TestClient, world: World) -> None:
    plan = create_plan(client, world)
    assert act(client, world, plan["id"], "submit", "school_a").status_code == 200
    r = act(client, world, plan["id"], "approve", "school_a")
    assert r.status_code == 403
    r = act(client, world, plan["id"], "return", "school_a", comment="自己退回")
    assert r.status_code == 403
    got = client.get(f"{API}/{plan['id']}", headers=world.h.school_a).json()
    assert got["status"] == "submitted"


def test_returned_plan_is_edited_resubmitted_approved_and_completed(
    client: TestClient, world: World
) -> None:
    h1 = hazard_for(world)
    h2 = hazard_for(world, status="rejected")
    h3 = hazard_for(world, status="reported")  # not yet being rectified: left as it is
    plan = create_plan(client, world, hazard_ids=[h1, h2, h3])
    pid = plan["id"]

    r = act(client, world, pid, "submit", "school_a")
    assert r.status_code == 200
    assert r.json()["status"] == "submitted"
    assert r.json()["submitted_at"] is not None
    office_view = client.get(f"{API}/{pid}", headers=world.h.office).json()
    assert office_view["allowed_actions"] == ["approve", "return"]

    # Returning needs a comment.
    assert act(client, world, pid, "return", "office").status_code == 422
    r = act(client, world, pid, "return", "office", comment="经费来源不明确")
    assert r.status_code == 200
    assert r.json()["status"] == "returned"
    assert r.json()["review_comment"] == "经费来源不明确"

    etag = client.get(f"{API}/{pid}", headers=world.h.school_a).headers["ETag"]
    r = client.patch(
        f"{API}/{pid}",
        json={"funds_source": "区财政专项(区财预〔2026〕12号)"},
        headers={**world.h.school_a, "If-Match": etag},
    )
    assert r.status_code == 200, r.text
    assert r.json()["funds_source"] == "区财政专项(区财预〔2026〕12号)"

    assert act(client, world, pid, "submit", "school_a").json()["status"] == "submitted"
    r = act(client, world, pid, "approve", "office")
    assert r.json()["status"] == "approved"
    assert r.json()["approved_at"] is not None
    assert set(r.json()["allowed_actions"]) == set()  # the office has nothing more to do

    owner_view = client.get(f"{API}/{pid}", headers=world.h.school_a).json()
    assert owner_view["allowed_actions"] == ["complete", "progress", "milestone-done"]
    r = act(client, world, pid, "complete", "school_a")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed"
    assert r.json()["progress_percent"] == 100
    assert [h["status"] for h in r.json()["hazards"]] == ["rectified", "rectified", "reported"]
    assert _hazard(h1).status == HazardStatus.rectified
    assert _hazard(h2).status == HazardStatus.rectified
    assert _hazard(h3).status == HazardStatus.reported
    with db.read() as session:
        steps = session.exec(
            select(HazardEvent).where(col(HazardEvent.hazard_id).in_([h1, h2, h3]))
        ).all()
        assert sorted(s.hazard_id for s in steps) == [h1, h2]
        assert all(s.data.get("plan_id") == pid for s in steps)
        timeline = session.exec(
            select(PlanEvent).where(col(PlanEvent.plan_id) == pid).order_by(col(PlanEvent.id))
        ).all()
        assert [e.action.value for e in timeline] == [
            "create",
            "submit",
            "return",
            "edit",
            "submit",
            "approve",
            "complete",
        ]
    assert _events(pid) == [
        "plan.created",
        "plan.submitted",
        "plan.returned",
        "plan.submitted",
        "plan.approved",
        "plan.completed",
    ]
    timeline_api = client.get(f"{API}/{pid}/events", headers=world.h.school_a).json()
    assert timeline_api["items"][-1]["data"]["rectified_hazard_ids"] == [h1, h2]


def test_approval_takes_an_optional_comment(client: TestClient, world: World) -> None:
    plan = create_plan(client, world)
    act(client, world, plan["id"], "submit", "school_a")
    r = act(client, world, plan["id"], "approve", "office", comment="同意,注意施工安全")
    assert r.status_code == 200
    assert r.json()["review_comment"] == "同意,注意施工安全"


def test_edits_after_submission_or_approval_are_refused(client: TestClient, world: World) -> None:
    plan = create_plan(client, world)
    pid = plan["id"]
    act(client, world, pid, "submit", "school_a")
    for _ in range(2):
        got = client.get(f"{API}/{pid}", headers=world.h.school_a)
        r = client.patch(
            f"{API}/{pid}",
            json={"funds_amount": "1.00"},
            headers={**world.h.school_a, "If-Match": got.headers["ETag"]},
        )
        assert r.status_code == 409
        assert r.json()["code"] == "plan.not_editable"
        act(client, world, pid, "approve", "office")
    got = client.get(f"{API}/{pid}", headers=world.h.school_a).json()
    assert got["funds_amount"] == "186000.00"


def test_actions_out_of_order_are_409(client: TestClient, world: World) -> None:
    plan = create_plan(client, world)
    pid = plan["id"]
    assert act(client, world, pid, "approve", "office").status_code == 409
    assert act(client, world, pid, "complete", "school_a").status_code == 409
    act(client, world, pid, "submit", "school_a")
    assert act(client, world, pid, "submit", "school_a").status_code == 409
    assert act(client, world, pid, "complete", "school_a").status_code == 409
    act(client, world, pid, "approve", "office")
    assert act(client, world, pid, "return", "office", comment="晚了").status_code == 409
    act(client, world, pid, "complete", "school_a")
    r = act(client, world, pid, "complete", "school_a")
    assert r.status_code == 409
    assert r.json()["code"] == "plan.invalid_transition"


def test_completion_is_all_or_nothing_when_a_hazard_fails_midway(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    h1, h2 = hazard_for(world), hazard_for(world)
    plan = approved_plan(client, world, hazard_ids=[h1, h2])
    real = hazard_service.rectify_by_plan

    def move_first_then_fail(session: Any, principal: Any, *, plan_id: int, hazard_ids: Any) -> Any:
        real(session, principal, plan_id=plan_id, hazard_ids=hazard_ids[:1])
        raise Conflict("hazard.invalid_transition", zh="隐患状态已变化。", en="Hazard moved.")

    monkeypatch.setattr(hazard_service, "rectify_by_plan", move_first_then_fail)
    r = act(client, world, plan["id"], "complete", "school_a")
    assert r.status_code == 409
    assert _hazard(h1).status == HazardStatus.rectifying
    assert _hazard(h2).status == HazardStatus.rectifying
    with db.read() as session:
        row = session.get(Plan, plan["id"])
        assert row is not None
        assert row.status == PlanStatus.approved
        assert session.exec(select(HazardEvent)).all() == []
    assert "plan.completed" not in _events(plan["id"])

    monkeypatch.setattr(hazard_service, "rectify_by_plan", real)
    assert act(client, world, plan["id"], "complete", "school_a").status_code == 200
    assert _hazard(h1).status == _hazard(h2).status == HazardStatus.rectified


def test_completed_major_hazard_can_then_be_verified_by_the_office(
    client: TestClient, world: World
) -> None:
    hazard_id = hazard_for(world, grade="major")
    plan = approved_plan(client, world, hazard_ids=[hazard_id])
    act(client, world, plan["id"], "complete", "school_a")
    r = client.post(
        f"/api/v1/hazards/{hazard_id}/verify", json={"comment": "复查合格"}, headers=world.h.office
    )
    assert r.status_code == 200, r.text
    assert _hazard(hazard_id).status == HazardStatus.closed


def test_department_owned_plan_events_carry_no_school(client: TestClient, world: World) -> None:
    hazard_id = hazard_for(world, "kg", responsible=world.orgs["chengjian"])
    plan = create_plan(client, world, "chengjian", hazard_ids=[hazard_id])
    act(client, world, plan["id"], "submit", "chengjian")
    with db.read() as session:
        events = session.exec(select(Event).where(col(Event.subject_id) == plan["id"])).all()
    assert {e.type for e in events} == {"plan.created", "plan.submitted"}
    assert all(e.school_id is None and e.org_id == world.org_id("chengjian") for e in events)


def test_closed_campaign_refuses_plan_actions(client: TestClient, world: World) -> None:
    plan = create_plan(client, world)
    with db.write() as session:
        from app.campaigns.models import Campaign, CampaignStatus

        campaign = session.get(Campaign, world.campaign_id)
        assert campaign is not None
        campaign.status = CampaignStatus.closed
        session.add(campaign)
    r = act(client, world, plan["id"], "submit", "school_a")
    assert r.status_code == 409
    assert r.json()["code"] == "campaign.closed"
    got = client.get(f"{API}/{plan['id']}", headers=world.h.school_a).json()
    assert got["allowed_actions"] == []
