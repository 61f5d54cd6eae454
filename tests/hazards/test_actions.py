"""The closed loop's actions: each refused for the wrong status (409) or role (403) with
nothing changed, another school's hazard is 404, and the rules of each action."""

from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlmodel import col, func, select

from app.audit.models import AuditLog
from app.core import db
from app.core.time import today
from app.events.models import Event
from app.hazards.models import Hazard, HazardEvent, HazardStatus
from app.plans.models import PlanStatus
from tests.conftest import World
from tests.hazards.helpers import (
    API,
    act,
    evidence,
    insert_hazard,
    plan_for,
    register,
    timeline,
)

LATER = (today() + timedelta(days=30)).isoformat()

BODIES: dict[str, dict[str, Any]] = {
    "start": {},
    "escalate": {"reason": "无法自行整改"},
    "assign": {"org_id": 0, "deadline_working_days": 5},  # org_id filled per test
    "submit-rectification": {"note": "已整改", "attachment_ids": [1]},
    "verify": {},
    "reject": {"comment": "不合格"},
    "void": {"reason": "重复登记"},
}
# Who is entitled to each action on a school_a hazard the school itself must fix.
ENTITLED = {
    "start": "school_a",
    "escalate": "school_a",
    "assign": "office",
    "submit-rectification": "school_a",
    "verify": "office",
    "reject": "office",
    "void": "office",
}
ALLOWED_FROM = {
    "start": {"reported"},
    "escalate": {"reported", "rectifying"},
    "assign": {"escalated"},
    "submit-rectification": {"rectifying", "rejected"},
    "verify": {"rectified"},
    "reject": {"rectified"},
    "void": {"reported", "escalated", "rectifying", "rejected"},
}


def _snapshot(hazard_id: int) -> tuple[Any, ...]:
    with db.read() as session:
        hazard = session.get(Hazard, hazard_id)
        assert hazard is not None
        counts = tuple(
            session.exec(select(func.count()).select_from(table)).one()
            for table in (HazardEvent, AuditLog, Event)
        )
        return (hazard.status, hazard.version, hazard.responsible_org_id, hazard.deadline, counts)


def _body(world: World, action: str) -> dict[str, Any]:
    body = dict(BODIES[action])
    if action == "assign":
        body["org_id"] = world.org_id("chengjian")
    return body


ILLEGAL = [
    (action, status)
    for action in ENTITLED
    for status in HazardStatus
    if status.value not in ALLOWED_FROM[action]
]


@pytest.mark.parametrize(("action", "status"), ILLEGAL)
def test_illegal_transition_is_refused_and_changes_nothing(
    client: TestClient, world: World, action: str, status: HazardStatus
) -> None:
    hazard_id = insert_hazard(world, status=status.value, deadline=date(2026, 12, 10))
    before = _snapshot(hazard_id)
    r = act(client, world, ENTITLED[action], hazard_id, action, _body(world, action))
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "hazard.invalid_transition"
    assert _snapshot(hazard_id) == before


WRONG_ROLE = [
    ("start", "reported", {}, "office"),
    ("start", "reported", {}, "edu"),  # supervises the school, but is not responsible
    ("escalate", "reported", {}, "office"),
    ("escalate", "reported", {}, "inspector"),
    ("escalate", "rectifying", {"responsible": "chengjian"}, "school_a"),
    ("assign", "escalated", {}, "school_a"),
    ("assign", "escalated", {}, "inspector"),
    ("submit-rectification", "rectifying", {}, "office"),
    ("submit-rectification", "rectifying", {"responsible": "chengjian"}, "school_a"),
    ("verify", "rectified", {}, "school_a"),
    ("verify", "rectified", {"responsible": "chengjian"}, "chengjian"),
    ("reject", "rectified", {}, "school_a"),
    ("reject", "rectified", {}, "edu"),
    ("void", "reported", {}, "school_a"),
    ("void", "reported", {}, "inspector"),
]


@pytest.mark.parametrize(("action", "status", "extra", "who"), WRONG_ROLE)
def test_wrong_role_is_403_and_changes_nothing(
    client: TestClient, world: World, action: str, status: str, extra: dict[str, str], who: str
) -> None:
    fields: dict[str, Any] = {"status": status}
    if "responsible" in extra:
        fields["responsible_org_id"] = world.org_id(extra["responsible"])
    hazard_id = insert_hazard(world, **fields)
    before = _snapshot(hazard_id)
    r = act(client, world, who, hazard_id, action, _body(world, action))
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "hazard.forbidden_action"
    assert _snapshot(hazard_id) == before


ALL_ACTIONS = [
    *ENTITLED,
    "supervise",
    "delist",
    "request-extension",
    "grant-extension",
    "refuse-extension",
]


@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_other_schools_hazard_is_404_for_every_action(
    client: TestClient, world: World, action: str
) -> None:
    hazard_id = insert_hazard(world, "school_b", status="rectifying")
    before = _snapshot(hazard_id)
    r = act(client, world, "school_a", hazard_id, action, {})
    # The body is checked first for some actions; a valid one must still get 404.
    if r.status_code == 422:
        r = act(client, world, "school_a", hazard_id, action, _valid_body(world, action))
    assert r.status_code == 404, r.text
    assert r.json()["code"] == "hazard.not_found"
    assert _snapshot(hazard_id) == before


def _valid_body(world: World, action: str) -> dict[str, Any]:
    return {
        **BODIES,
        "assign": _body(world, "assign"),
        "supervise": {"notice_no": "督-1", "supervising_org_id": 1, "deadline": LATER},
        "delist": {},
        "request-extension": {"reason": "材料未到", "requested_deadline": LATER},
        "grant-extension": {"extension_id": 1},
        "refuse-extension": {"extension_id": 1, "comment": "不同意"},
    }[action]


@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_actions_need_a_token_and_a_working_role(
    client: TestClient, world: World, action: str
) -> None:
    hazard_id = insert_hazard(world)
    r = client.post(f"{API}/{hazard_id}/{action}", json=_valid_body(world, action))
    assert r.status_code == 401
    r = act(client, world, "admin", hazard_id, action, _valid_body(world, action))
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("start", {"deadline": LATER, "deadline_working_days": 3}),
        ("start", {"deadline": "2020-01-01"}),
        ("start", {"deadline_working_days": 0}),
        ("escalate", {}),
        ("escalate", {"reason": ""}),
        ("escalate", {"reason": "r" * 2001}),
        ("assign", {"org_id": 5}),
        ("submit-rectification", {"note": "已整改", "attachment_ids": []}),
        ("submit-rectification", {"attachment_ids": [1]}),
        ("submit-rectification", {"note": "n", "attachment_ids": list(range(1, 30))}),
        ("reject", {}),
        ("void", {}),
        ("supervise", {"notice_no": "n", "supervising_org_id": 1}),
        ("request-extension", {"reason": "r"}),
        ("grant-extension", {}),
        ("refuse-extension", {"extension_id": 1}),
        ("verify", {"surprise": True}),
    ],
)
def test_malformed_action_bodies_are_422(
    client: TestClient, world: World, action: str, body: dict[str, Any]
) -> None:
    hazard_id = insert_hazard(world)
    before = _snapshot(hazard_id)
    r = act(client, world, "office", hazard_id, action, body)
    assert r.status_code == 422, r.text
    assert _snapshot(hazard_id) == before


# ------------------------------------------------------------------------------------------
# Rules of single actions


def test_start_with_a_date_deadline_and_without_one(client: TestClient, world: World) -> None:
    first = register(client, world)
    r = act(client, world, "school_a", first["id"], "start", {"deadline": LATER})
    assert r.status_code == 200, r.text
    assert r.json()["deadline"] == LATER
    assert r.json()["deadline_working_days"] is None
    assert r.json()["started_at"] is not None
    assert r.headers["ETag"] == '"v2"'
    second = register(client, world)
    r = act(client, world, "school_a", second["id"], "start", {"comment": "马上整改"})
    assert r.status_code == 200
    assert r.json()["deadline"] is None


def test_working_day_deadline_skips_the_official_holidays() -> None:
    # Sanity check of the calendar the deadlines use: 2026-09-30 + 1 working day skips the
    # National Day golden week.
    from app.core.time import add_working_days

    assert add_working_days(date(2026, 9, 30), 1) > date(2026, 10, 7)


def test_assign_needs_a_department(client: TestClient, world: World) -> None:
    hazard_id = insert_hazard(world, status="escalated")
    before = _snapshot(hazard_id)
    for org in ("school_b", "office"):
        r = act(
            client,
            world,
            "office",
            hazard_id,
            "assign",
            {"org_id": world.org_id(org), "deadline": LATER},
        )
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "hazard.not_department"
    assert _snapshot(hazard_id) == before


def test_evidence_must_belong_to_the_hazard(client: TestClient, world: World) -> None:
    hazard_id = insert_hazard(world, status="rectifying")
    other = insert_hazard(world, status="rectifying")
    foreign = evidence(other)
    before = _snapshot(hazard_id)
    r = act(
        client,
        world,
        "school_a",
        hazard_id,
        "submit-rectification",
        {"note": "已整改", "attachment_ids": [foreign]},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "attachment.not_on_parent"
    assert _snapshot(hazard_id) == before


def test_major_hazard_cannot_be_rectified_without_an_approved_plan(
    client: TestClient, world: World
) -> None:
    hazard_id = insert_hazard(world, status="rectifying", grade="major")
    photo = evidence(hazard_id)
    body = {"note": "已整改", "attachment_ids": [photo]}
    plan_for(world, [hazard_id], "school_a", PlanStatus.submitted)  # not yet approved
    before = _snapshot(hazard_id)
    r = act(client, world, "school_a", hazard_id, "submit-rectification", body)
    assert r.status_code == 409
    assert r.json()["code"] == "hazard.plan_required"
    assert _snapshot(hazard_id) == before
    plan_id = plan_for(world, [hazard_id], "school_a", PlanStatus.approved)
    r = act(client, world, "school_a", hazard_id, "submit-rectification", body)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rectified"
    assert plan_id in r.json()["plan_ids"]


def test_void_links_the_duplicate_to_its_original(client: TestClient, world: World) -> None:
    original = register(client, world)
    duplicate = register(client, world)
    for bad in (duplicate["id"], 999_999):
        r = act(
            client,
            world,
            "office",
            duplicate["id"],
            "void",
            {"reason": "重复", "duplicate_of_id": bad},
        )
        assert r.status_code == 422, bad
        assert r.json()["code"] == "hazard.bad_duplicate"
    r = act(
        client,
        world,
        "office",
        duplicate["id"],
        "void",
        {"reason": "与原隐患重复", "duplicate_of_id": original["id"]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "void"
    assert r.json()["duplicate_of_id"] == original["id"]
    assert r.json()["void_reason"] == "与原隐患重复"
    assert r.json()["allowed_actions"] == []
    # A void hazard cannot itself be the original of another duplicate.
    third = register(client, world)
    r = act(
        client,
        world,
        "office",
        third["id"],
        "void",
        {"reason": "重复", "duplicate_of_id": duplicate["id"]},
    )
    assert r.status_code == 422


def test_if_match_is_optional_on_actions_but_checked_when_sent(
    client: TestClient, world: World
) -> None:
    hazard = register(client, world)
    before = _snapshot(hazard["id"])
    r = act(client, world, "school_a", hazard["id"], "start", {}, **{"If-Match": '"v7"'})
    assert r.status_code == 412
    assert _snapshot(hazard["id"]) == before
    r = act(client, world, "school_a", hazard["id"], "start", {}, **{"If-Match": '"v1"'})
    assert r.status_code == 200
    assert r.headers["ETag"] == '"v2"'


def test_every_action_writes_audit_and_event(client: TestClient, world: World) -> None:
    hazard = register(client, world)
    act(client, world, "school_a", hazard["id"], "escalate", {"reason": "无法整改"})
    with db.read() as session:
        audit_actions = session.exec(
            select(AuditLog.action).where(col(AuditLog.object_id) == str(hazard["id"]))
        ).all()
        events = session.exec(
            select(Event).where(col(Event.subject_id) == hazard["id"]).order_by(col(Event.id))
        ).all()
    assert list(audit_actions) == ["hazard.register", "hazard.escalate"]
    assert [e.type for e in events] == ["hazard.registered", "hazard.status_changed"]
    changed = events[1]
    assert changed.payload["from"] == "reported"
    assert changed.payload["to"] == "escalated"
    assert changed.school_id == changed.org_id == world.org_id("school_a")


def test_closed_campaign_refuses_actions(client: TestClient, world: World) -> None:
    from app.campaigns.models import Campaign, CampaignStatus

    hazard = register(client, world)
    with db.write() as session:
        campaign = session.get(Campaign, world.campaign_id)
        assert campaign is not None
        campaign.status = CampaignStatus.closed
        session.add(campaign)
    r = act(client, world, "school_a", hazard["id"], "start", {})
    assert r.status_code == 409
    assert r.json()["code"] == "campaign.closed"


# ------------------------------------------------------------------------------------------
# Listed supervision (挂牌督办)


def test_office_supervises_a_major_hazard_and_delists_it_after_closing(
    client: TestClient, world: World
) -> None:
    general = insert_hazard(world)
    r = act(client, world, "office", general, "supervise", _valid_body(world, "supervise"))
    assert r.status_code == 409
    assert r.json()["code"] == "hazard.not_major"

    major = register(client, world, grade="major")
    body = {
        "notice_no": "区安督〔2026〕3号",
        "supervising_org_id": world.org_id("chengjian"),
        "deadline": LATER,
    }
    r = act(client, world, "school_a", major["id"], "supervise", body)
    assert r.status_code == 403
    r = act(
        client,
        world,
        "office",
        major["id"],
        "supervise",
        {**body, "supervising_org_id": world.org_id("school_b")},
    )
    assert r.status_code == 422
    r = act(client, world, "office", major["id"], "supervise", body)
    assert r.status_code == 200, r.text
    assert r.json()["supervised"] is True
    assert r.json()["supervision_notice_no"] == "区安督〔2026〕3号"
    assert r.json()["status"] == "reported"
    r = act(client, world, "office", major["id"], "supervise", body)
    assert r.status_code == 409
    # The supervising department now sees it, and it shows in the supervised filter.
    seen = client.get(f"{API}?supervised=true", headers=world.h.chengjian).json()["items"]
    assert [h["id"] for h in seen] == [major["id"]]
    # Not before it is closed.
    r = act(client, world, "office", major["id"], "delist", {})
    assert r.status_code == 409
    assert r.json()["code"] == "hazard.not_closed"

    plan_for(world, [major["id"]], "school_a")
    act(client, world, "school_a", major["id"], "start", {})
    photo = evidence(major["id"])
    act(
        client,
        world,
        "school_a",
        major["id"],
        "submit-rectification",
        {"note": "已整改", "attachment_ids": [photo]},
    )
    assert act(client, world, "office", major["id"], "verify", {}).status_code == 200
    assert act(client, world, "school_a", major["id"], "delist", {}).status_code == 403
    r = act(client, world, "office", major["id"], "delist", {"comment": "摘牌"})
    assert r.status_code == 200, r.text
    assert r.json()["supervised"] is False
    assert r.json()["delisted_at"] is not None
    steps = [s["action"] for s in timeline(client, world, "office", major["id"])]
    assert steps[1] == "supervise"
    assert steps[-1] == "delist"
    r = act(client, world, "office", major["id"], "delist", {})
    assert r.status_code == 409
    assert r.json()["code"] == "hazard.not_supervised"


# ------------------------------------------------------------------------------------------
# Deadline extensions (延期)


@time_machine.travel("2026-11-26 10:00 +08:00", tick=False)
def test_extension_request_grant_and_refuse(client: TestClient, world: World) -> None:
    hazard = register(client, world)
    hid = hazard["id"]
    r = act(client, world, "school_a", hid, "request-extension",
            {"reason": "材料未到", "requested_deadline": "2026-12-18"})  # fmt: skip
    assert r.status_code == 409
    assert r.json()["code"] == "hazard.no_deadline"
    act(client, world, "school_a", hid, "start", {"deadline": "2026-12-04"})

    # Not earlier than the current deadline.
    r = act(client, world, "school_a", hid, "request-extension",
            {"reason": "材料未到", "requested_deadline": "2026-12-03"})  # fmt: skip
    assert r.status_code == 422
    assert r.json()["code"] == "hazard.extension_not_later"
    # Only the responsible org asks.
    r = act(client, world, "office", hid, "request-extension",
            {"reason": "材料未到", "requested_deadline": "2026-12-18"})  # fmt: skip
    assert r.status_code == 403

    r = act(client, world, "school_a", hid, "request-extension",
            {"reason": "材料未到", "requested_deadline": "2026-12-18"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["deadline"] == "2026-12-04"
    assert "request-extension" not in r.json()["allowed_actions"]
    r = act(client, world, "school_a", hid, "request-extension",
            {"reason": "再延", "requested_deadline": "2026-12-19"})  # fmt: skip
    assert r.status_code == 409
    assert r.json()["code"] == "hazard.extension_pending"

    extensions = client.get(f"{API}/{hid}/extensions", headers=world.h.school_a).json()["items"]
    assert [(e["status"], e["requested_deadline"]) for e in extensions] == [
        ("pending", "2026-12-18")
    ]
    ext_id = extensions[0]["id"]
    office_view = client.get(f"{API}/{hid}", headers=world.h.office).json()
    assert {"grant-extension", "refuse-extension"} <= set(office_view["allowed_actions"])

    assert act(client, world, "school_a", hid, "grant-extension",
               {"extension_id": ext_id}).status_code == 403  # fmt: skip
    r = act(client, world, "office", hid, "grant-extension", {"extension_id": ext_id + 99})
    assert r.status_code == 422
    r = act(client, world, "office", hid, "grant-extension", {"extension_id": ext_id})
    assert r.status_code == 200, r.text
    assert r.json()["deadline"] == "2026-12-18"
    r = act(client, world, "office", hid, "refuse-extension",
            {"extension_id": ext_id, "comment": "晚了"})  # fmt: skip
    assert r.status_code == 409
    assert r.json()["code"] == "hazard.extension_decided"

    # A second request, refused: the deadline stays.
    act(client, world, "school_a", hid, "request-extension",
        {"reason": "施工队未到", "requested_deadline": "2026-12-25"})  # fmt: skip
    second = client.get(f"{API}/{hid}/extensions", headers=world.h.office).json()["items"][1]
    r = act(client, world, "office", hid, "refuse-extension",
            {"extension_id": second["id"], "comment": "理由不充分"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["deadline"] == "2026-12-18"
    extensions = client.get(f"{API}/{hid}/extensions", headers=world.h.school_a).json()["items"]
    assert [(e["status"], e["granted_deadline"]) for e in extensions] == [
        ("granted", "2026-12-18"),
        ("refused", None),
    ]
    assert [s["action"] for s in timeline(client, world, "school_a", hid)] == [
        "register",
        "start",
        "request-extension",
        "grant-extension",
        "request-extension",
        "refuse-extension",
    ]


# ------------------------------------------------------------------------------------------
# PATCH: corrections


def test_school_corrects_its_hazard_with_if_match(client: TestClient, world: World) -> None:
    hazard = register(client, world)
    url = f"{API}/{hazard['id']}"
    r = client.patch(url, json={"location": "教学楼三楼"}, headers=world.h.school_a)
    assert r.status_code == 428
    r = client.patch(
        url, json={"location": "教学楼三楼"}, headers={**world.h.school_a, "If-Match": '"v9"'}
    )
    assert r.status_code == 412
    r = client.patch(
        url,
        json={"location": "教学楼三楼", "title": "三楼栏杆松动"},
        headers={**world.h.school_a, "If-Match": '"v1"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["location"] == "教学楼三楼"
    assert r.json()["title"] == "三楼栏杆松动"
    assert r.headers["ETag"] == '"v2"'
    edit = timeline(client, world, "school_a", hazard["id"])[-1]
    assert edit["action"] == "edit"
    assert edit["data"]["changes"]["location"] == ["教学楼二楼东侧", "教学楼三楼"]


def test_patch_rules(client: TestClient, world: World) -> None:
    hazard = register(client, world)
    url = f"{API}/{hazard['id']}"
    v1 = {"If-Match": '"v1"'}
    assert (
        client.patch(url, json={"title": None}, headers={**world.h.school_a, **v1}).status_code
        == 422
    )
    assert (
        client.patch(url, json={"lat": 34.2}, headers={**world.h.school_a, **v1}).status_code == 422
    )
    assert (
        client.patch(url, json={"status": "closed"}, headers={**world.h.school_a, **v1}).status_code
        == 422
    )
    assert (
        client.patch(url, json={"title": "x"}, headers={**world.h.school_b, **v1}).status_code
        == 404
    )
    assert (
        client.patch(url, json={"title": "x"}, headers={**world.h.inspector, **v1}).status_code
        == 403
    )
    assert client.patch(url, json={"title": "x"}).status_code == 401
    # The registering department may correct what it registered.
    by_edu = register(client, world, who="edu")
    r = client.patch(f"{API}/{by_edu['id']}", json={"title": "修正"}, headers={**world.h.edu, **v1})
    assert r.status_code == 200, r.text
    closed = insert_hazard(world, status="closed")
    r = client.patch(f"{API}/{closed}", json={"title": "x"}, headers={**world.h.office, **v1})
    assert r.status_code == 409
    assert r.json()["code"] == "hazard.not_editable"


def test_moving_a_venue_recomputes_its_distance(client: TestClient, world: World) -> None:
    school = world.orgs["school_a"]
    assert school.lat is not None
    assert school.lng is not None
    cafe = register(
        client,
        world,
        scope="surroundings",
        category="surroundings_venue",
        venue_type="internet_cafe",
        lat=school.lat + 0.0027,
        lng=school.lng,
    )
    assert cafe["venue_unlawful"] is False
    r = client.patch(
        f"{API}/{cafe['id']}",
        json={"lat": school.lat + 0.001, "lng": school.lng},
        headers={**world.h.school_a, "If-Match": '"v1"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["venue_unlawful"] is True
    assert r.json()["distance_m"] < 200


# ------------------------------------------------------------------------------------------
# Called by the plans capability


def test_completed_plan_marks_its_open_hazards_rectified(client: TestClient, world: World) -> None:
    from app.auth.principal import Principal
    from app.hazards.service import rectify_by_plan
    from app.users.models import Role

    rectifying = insert_hazard(world, status="rectifying", grade="major")
    rejected = insert_hazard(world, status="rejected")
    closed = insert_hazard(world, status="closed")
    plan_id = plan_for(world, [rectifying, rejected, closed], "school_a", PlanStatus.completed)
    user = world.users["school_a"]
    assert user.id is not None
    principal = Principal(kind="user", id=user.id, role=Role.school, org_id=user.org_id)
    with db.write() as session:
        moved = rectify_by_plan(
            session, principal, plan_id=plan_id, hazard_ids=[rectifying, rejected, closed]
        )
    assert moved == [rectifying, rejected]
    for hid, status in ((rectifying, "rectified"), (rejected, "rectified"), (closed, "closed")):
        assert client.get(f"{API}/{hid}", headers=world.h.school_a).json()["status"] == status
    step = timeline(client, world, "school_a", rectifying)[-1]
    assert step["action"] == "plan-completed"
    assert step["data"] == {"plan_id": plan_id}
    assert step["to_status"] == "rectified"
    assert timeline(client, world, "school_a", closed) == []


def test_rectify_by_plan_rolls_back_with_the_callers_transaction(world: World) -> None:
    from app.auth.principal import Principal
    from app.hazards.service import rectify_by_plan
    from app.users.models import Role

    hid = insert_hazard(world, status="rectifying")
    principal = Principal(kind="user", id=1, role=Role.office, org_id=world.org_id("office"))
    moved: list[int] = []

    def plan_completion_that_fails() -> None:
        with db.write() as session:
            moved.extend(rectify_by_plan(session, principal, plan_id=1, hazard_ids=[hid]))
            raise RuntimeError("the plan's own write failed")

    with pytest.raises(RuntimeError):
        plan_completion_that_fails()
    assert moved == [hid]
    with db.read() as session:
        hazard = session.get(Hazard, hid)
        assert hazard is not None
        assert hazard.status == HazardStatus.rectifying
