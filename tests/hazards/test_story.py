"""The seed's story end to end: register, fix with evidence, escalate, assign, rectify,
reject once, verify and close — and the timeline shows every step."""

from datetime import date

import time_machine
from fastapi.testclient import TestClient

from app.core.time import add_working_days
from tests.conftest import World
from tests.hazards.helpers import API, act, evidence, register, timeline


@time_machine.travel("2026-11-26 09:00 +08:00", tick=False)
def test_the_seed_story_plays_end_to_end(client: TestClient, world: World) -> None:
    # The school inspects itself and registers two hazards.
    railing = register(client, world, title="教学楼栏杆松动")
    road = register(
        client,
        world,
        scope="surroundings",
        category="traffic",
        title="校门前道路缺少减速带",
        description="校门前主干道车速快,无减速带和警示标志。",
    )
    assert railing["status"] == road["status"] == "reported"
    assert railing["code"].startswith("YH-2026-")
    assert railing["code"] != road["code"]
    assert railing["responsible_org_id"] == world.org_id("school_a")
    assert "start" in railing["allowed_actions"]
    assert "escalate" in railing["allowed_actions"]

    # It fixes the railing itself, with a photo as evidence.
    r = act(client, world, "school_a", railing["id"], "start", {"deadline_working_days": 3})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rectifying"
    assert r.json()["deadline"] == add_working_days(date(2026, 11, 26), 3).isoformat()
    photo = evidence(railing["id"])
    r = act(
        client,
        world,
        "school_a",
        railing["id"],
        "submit-rectification",
        {"note": "已更换固定螺栓并加固", "attachment_ids": [photo]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rectified"
    r = act(client, world, "inspector", railing["id"], "verify", {"comment": "复查合格"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed"

    # The road it cannot fix: it escalates to the office.
    r = act(client, world, "school_a", road["id"], "escalate", {"reason": "需城建部门施工"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "escalated"
    assert r.json()["escalation_reason"] == "需城建部门施工"

    # The office orders 城建局 to fix it within 10 working days.
    r = act(
        client,
        world,
        "office",
        road["id"],
        "assign",
        {"org_id": world.org_id("chengjian"), "deadline_working_days": 10, "comment": "限期整改"},
    )
    assert r.status_code == 200, r.text
    assigned = r.json()
    assert assigned["status"] == "rectifying"
    assert assigned["responsible_org_id"] == world.org_id("chengjian")
    # 10 working days from Thu 26 Nov 2026: two weekends skipped.
    assert assigned["deadline"] == "2026-12-10"
    assert assigned["deadline_working_days"] == 10

    # 城建局 now sees it and rectifies it.
    listed = client.get(API, headers=world.h.chengjian).json()["items"]
    assert [h["id"] for h in listed] == [road["id"]]
    first_photo = evidence(road["id"])
    r = act(
        client,
        world,
        "chengjian",
        road["id"],
        "submit-rectification",
        {"note": "已设置减速带", "attachment_ids": [first_photo]},
    )
    assert r.status_code == 200, r.text

    # The office finds it incomplete once ...
    r = act(client, world, "office", road["id"], "reject", {"comment": "警示标志未设置"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected"
    second_photo = evidence(road["id"])
    r = act(
        client,
        world,
        "chengjian",
        road["id"],
        "submit-rectification",
        {"note": "已补设警示标志", "attachment_ids": [second_photo]},
    )
    assert r.status_code == 200, r.text
    # ... then verifies and closes it.
    r = act(client, world, "office", road["id"], "verify", {})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed"
    assert r.json()["closed_at"] is not None

    steps = timeline(client, world, "school_a", road["id"])
    assert [(s["action"], s["from_status"], s["to_status"]) for s in steps] == [
        ("register", None, "reported"),
        ("escalate", "reported", "escalated"),
        ("assign", "escalated", "rectifying"),
        ("submit-rectification", "rectifying", "rectified"),
        ("reject", "rectified", "rejected"),
        ("submit-rectification", "rejected", "rectified"),
        ("verify", "rectified", "closed"),
    ]
    assert steps[3]["attachment_ids"] == [first_photo]
    assert steps[5]["attachment_ids"] == [second_photo]
    assert steps[4]["comment"] == "警示标志未设置"
    assert steps[2]["data"]["responsible_org_id"] == world.org_id("chengjian")
    assert steps[1]["actor"] == f"user:{world.users['school_a'].id}"
    assert steps[2]["actor"] == f"user:{world.users['office'].id}"
    assert [s["action"] for s in timeline(client, world, "school_a", railing["id"])] == [
        "register",
        "start",
        "submit-rectification",
        "verify",
    ]
