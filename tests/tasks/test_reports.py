from datetime import date
from typing import Any

import time_machine
from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.audit.models import AuditLog
from app.campaigns.models import Campaign
from app.core import db
from app.demo import CAMPAIGN, seed_campaign, seed_orgs_and_users
from app.orgs.models import Org
from app.tasks.demo import seed_tasks
from app.users.models import Role
from tests.attachments.samples import PNG
from tests.conftest import World, auth, make_user
from tests.tasks.helpers import (
    API,
    assignment_of,
    create_task,
    event_types,
    service_headers,
    submit,
)

FIGURES_BY_TYPE: dict[str, dict[str, int]] = {
    "surroundings_cleanup": {"venues_inspected": 42, "venues_rectified": 30, "venues_closed": 3},
    "hazard_inspection": {"schools_inspected": 12, "hazards_found": 20, "hazards_rectified": 15},
    "private_school_inspection": {
        "schools_inspected": 6,
        "unlicensed_found": 2,
        "unlicensed_closed": 1,
    },
    "case_crackdown": {"cases_filed": 4, "cases_solved": 3},
    "summary_report": {
        "schools_inspected": 12,
        "hazards_found": 20,
        "hazards_rectified": 18,
        "hazards_outstanding": 2,
    },
}


@time_machine.travel(date(2026, 12, 1), tick=False)
def test_the_seed_tasks_flow_from_assignment_to_accepted_reports(client: TestClient) -> None:
    with db.write() as session:
        orgs = seed_orgs_and_users(session)
        campaign = seed_campaign(session, orgs)
        seed_tasks(session, orgs, campaign)
        seed_tasks(session, orgs, campaign)  # idempotent
        org_ids = {name: o.id for name, o in orgs.items()}
        office = session.exec(
            select(Org).where(col(Org.id) == org_ids["区校园安全管理工作整治领导小组办公室"])
        ).one()
    office_h = auth(make_user(office, Role.office))
    tasks = client.get(API, params={"limit": 100}, headers=office_h).json()["items"]
    by_type = {t["key_task_type"]: t for t in tasks}
    assert len(tasks) == 5
    cleanup = by_type["surroundings_cleanup"]
    assert cleanup["lead_org_id"] == org_ids["区政法委"]
    assert len(cleanup["participant_org_ids"]) == 10
    assert org_ids["区教体局"] in cleanup["participant_org_ids"]
    assert by_type["hazard_inspection"]["lead_org_id"] == org_ids["区教体局"]
    private = by_type["private_school_inspection"]
    assert private["lead_org_id"] == org_ids["区幼儿园综合审批工作小组"]
    assert set(private["participant_org_ids"]) == {
        org_ids["桃花镇"],
        org_ids["城关街办"],
        org_ids["东城街办"],
    }
    assert by_type["case_crackdown"]["lead_org_id"] == org_ids["公安分局"]
    assert {t["due_on"] for t in tasks if t["key_task_type"] != "summary_report"} == {"2026-12-10"}
    assert by_type["summary_report"]["due_on"] == "2026-12-15"

    # Every assigned org of the four key tasks reports; the office accepts each report.
    with db.read() as session:
        all_orgs = {o.id: o for o in session.exec(select(Org)).all()}
    for kind in (
        "surroundings_cleanup",
        "hazard_inspection",
        "private_school_inspection",
        "case_crackdown",
    ):
        task = by_type[kind]
        for a in task["assignments"]:
            h = auth(make_user(all_orgs[a["org_id"]], Role.department))
            started = client.post(f"{API}/{task['id']}/assignments/{a['id']}/start", headers=h)
            assert started.status_code == 200, started.text
            r = submit(client, h, task["id"], figures=FIGURES_BY_TYPE[kind])
            assert r.status_code == 201, r.text
            assert r.json()["late"] is False
            ok = client.post(
                f"{API}/{task['id']}/reports/{r.json()['id']}/accept", headers=office_h
            )
            assert ok.status_code == 200, ok.text
        final = client.get(f"{API}/{task['id']}", headers=office_h).json()
        assert {a["status"] for a in final["assignments"]} == {"accepted"}
    accepted = client.get(API, params={"status": "accepted", "limit": 100}, headers=office_h).json()
    assert len(accepted["items"]) == 4
    with db.read() as session:
        assert session.exec(select(Campaign).where(col(Campaign.name) == CAMPAIGN)).one()


def test_a_returned_report_is_resubmitted_and_accepted(client: TestClient, world: World) -> None:
    task = create_task(client, world, participants=("chengjian",))
    first = submit(client, world.h.chengjian, task["id"]).json()
    assert first["status"] == "submitted"
    url = f"{API}/{task['id']}/reports/{first['id']}"
    returned = client.post(
        f"{url}/return", json={"comment": "请补充取缔场所清单。"}, headers=world.h.office
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned"
    assert returned.json()["review_comment"] == "请补充取缔场所清单。"
    mine = assignment_of(
        client.get(f"{API}/{task['id']}", headers=world.h.chengjian).json(),
        world.org_id("chengjian"),
    )
    assert mine["status"] == "returned"

    second = submit(client, world.h.chengjian, task["id"], text="补充了清单。")
    assert second.status_code == 201, second.text
    mine = assignment_of(
        client.get(f"{API}/{task['id']}", headers=world.h.chengjian).json(),
        world.org_id("chengjian"),
    )
    assert mine["status"] == "reported"
    ok = client.post(
        f"{API}/{task['id']}/reports/{second.json()['id']}/accept",
        json={"comment": "可以"},
        headers=world.h.office,
    )
    assert ok.json()["status"] == "accepted"
    reports = client.get(f"{API}/{task['id']}/reports", headers=world.h.office).json()["items"]
    assert [(r["id"], r["status"]) for r in reports] == [
        (second.json()["id"], "accepted"),
        (first["id"], "returned"),
    ]
    assert event_types(task["id"])[-5:] == [
        "task.report_submitted",
        "task.report_returned",
        "task.assignment_started",
        "task.report_submitted",
        "task.report_accepted",
    ]
    # The returned report cannot be accepted afterwards.
    assert client.post(f"{url}/accept", headers=world.h.office).status_code == 409


def test_a_report_after_the_due_date_is_late_and_stays_late(
    client: TestClient, world: World
) -> None:
    with time_machine.travel(date(2026, 12, 1), tick=False):
        task = create_task(client, world, participants=("chengjian", "police"), due_on="2026-12-10")
        on_time = submit(client, world.h.chengjian, task["id"])
        assert on_time.json()["late"] is False
    with time_machine.travel(date(2026, 12, 11), tick=False):
        late = submit(client, world.h.police, task["id"])
        assert late.json()["late"] is True
        client.patch(
            f"{API}/{task['id']}",
            json={"due_on": "2026-12-31"},
            headers={**world.h.office, "If-Match": '"v1"'},
        )
        reports = client.get(f"{API}/{task['id']}/reports", headers=world.h.office).json()["items"]
        assert {r["org_id"]: r["late"] for r in reports} == {
            world.org_id("police"): True,
            world.org_id("chengjian"): False,
        }


def test_assignments_without_a_report_become_overdue_after_the_due_date(
    client: TestClient, world: World
) -> None:
    with time_machine.travel(date(2026, 12, 1), tick=False):
        task = create_task(client, world, participants=("chengjian", "police"), due_on="2026-12-10")
        other = create_task(client, world, lead="town", participants=(), due_on="2026-12-20")
        submit(client, world.h.chengjian, task["id"])
        assert (
            client.get(API, params={"overdue": True}, headers=world.h.office).json()["items"] == []
        )
    with time_machine.travel(date(2026, 12, 11), tick=False):
        detail = client.get(f"{API}/{task['id']}", headers=world.h.office).json()
        overdue = {a["org_id"]: a["overdue"] for a in detail["assignments"]}
        assert overdue == {
            world.org_id("edu"): True,
            world.org_id("chengjian"): False,
            world.org_id("police"): True,
        }
        got = client.get(API, params={"overdue": True}, headers=world.h.office).json()["items"]
        assert [t["id"] for t in got] == [task["id"]]
        not_overdue = client.get(API, params={"overdue": False}, headers=world.h.office).json()[
            "items"
        ]
        assert {t["id"] for t in not_overdue} == {task["id"], other["id"]}
        # chengjian's own assignment is reported: for chengjian the task is not overdue.
        assert (
            client.get(API, params={"overdue": True}, headers=world.h.chengjian).json()["items"]
            == []
        )
        assert [
            t["id"]
            for t in client.get(API, params={"overdue": True}, headers=world.h.police).json()[
                "items"
            ]
        ] == [task["id"]]


def test_a_participant_cannot_see_another_participants_report(
    client: TestClient, world: World
) -> None:
    task = create_task(client, world, lead="edu", participants=("chengjian", "police"))
    theirs = submit(client, world.h.chengjian, task["id"]).json()
    submit(client, world.h.police, task["id"])
    police_view = client.get(f"{API}/{task['id']}/reports", headers=world.h.police).json()["items"]
    assert [r["org_id"] for r in police_view] == [world.org_id("police")]
    lead_view = client.get(f"{API}/{task['id']}/reports", headers=world.h.edu).json()["items"]
    assert {r["org_id"] for r in lead_view} == {world.org_id("chengjian"), world.org_id("police")}
    filtered = client.get(
        f"{API}/{task['id']}/reports",
        params={"org_id": world.org_id("chengjian")},
        headers=world.h.police,
    )
    assert filtered.json()["items"] == []
    assert theirs["id"] not in [r["id"] for r in police_view]


def test_report_list_refusals(client: TestClient, world: World) -> None:
    task = create_task(client, world, participants=())
    url = f"{API}/{task['id']}/reports"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=service_headers("hazards:read")).status_code == 403
    assert client.get(url, headers=world.h.chengjian).status_code == 404
    assert client.get(url, headers=world.h.school_a).status_code == 404
    assert client.get(url, params={"limit": 1000}, headers=world.h.office).status_code == 422
    assert client.get(url, headers=service_headers("tasks:read")).status_code == 200


def test_report_figures_are_checked_against_the_task_type(client: TestClient, world: World) -> None:
    task = create_task(
        client, world, key_task_type="case_crackdown", lead="police", participants=()
    )
    bad = submit(client, world.h.police, task["id"], figures={"venues_inspected": 3})
    assert bad.status_code == 422
    assert bad.json()["code"] == "task.bad_figures"
    assert bad.json()["errors"][0]["field"] == "body.figures.venues_inspected"
    more = submit(client, world.h.police, task["id"], figures={"cases_filed": 1, "cases_solved": 2})
    assert more.status_code == 422
    assert (
        submit(client, world.h.police, task["id"], figures={"cases_filed": -1}).status_code == 422
    )
    assert submit(client, world.h.police, task["id"], text="").status_code == 422
    assert submit(client, world.h.police, task["id"], attachment_ids=[12345]).status_code == 422
    # Nothing changed on refusal.
    detail = client.get(f"{API}/{task['id']}", headers=world.h.police).json()
    assert detail["assignments"][0]["status"] == "assigned"
    ok = submit(client, world.h.police, task["id"], figures={"cases_filed": 4, "cases_solved": 3})
    assert ok.status_code == 201
    assert ok.json()["figures"] == {"cases_filed": 4, "cases_solved": 3}


def test_report_submission_refusals(client: TestClient, world: World) -> None:
    task = create_task(client, world, participants=("chengjian",))
    assert submit(client, {}, task["id"]).status_code == 401
    assert submit(client, world.h.office, task["id"]).status_code == 403
    assert submit(client, world.h.school_a, task["id"]).status_code == 403
    # Oversight sees the task but is not assigned to it.
    oversight = submit(client, world.h.jiancha, task["id"])
    assert oversight.status_code == 403
    assert oversight.json()["code"] == "task.not_assigned"
    assert submit(client, world.h.police, task["id"]).status_code == 404
    assert submit(client, world.h.chengjian, task["id"]).status_code == 201
    twice = submit(client, world.h.chengjian, task["id"])
    assert twice.status_code == 409
    assert (
        len(client.get(f"{API}/{task['id']}/reports", headers=world.h.office).json()["items"]) == 1
    )


def test_review_refusals(client: TestClient, world: World) -> None:
    task = create_task(client, world, participants=("chengjian",))
    other = create_task(client, world, participants=())
    report = submit(client, world.h.chengjian, task["id"]).json()
    url = f"{API}/{task['id']}/reports/{report['id']}"
    assert client.post(f"{url}/accept").status_code == 401
    assert client.post(f"{url}/return", json={"comment": "x"}).status_code == 401
    assert client.post(f"{url}/accept", headers=world.h.edu).status_code == 403
    assert (
        client.post(f"{url}/return", json={"comment": "x"}, headers=world.h.jiancha).status_code
        == 403
    )
    assert client.post(f"{url}/return", json={}, headers=world.h.office).status_code == 422
    assert (
        client.post(f"{url}/return", json={"comment": ""}, headers=world.h.office).status_code
        == 422
    )
    wrong_task = f"{API}/{other['id']}/reports/{report['id']}"
    assert client.post(f"{wrong_task}/accept", headers=world.h.office).status_code == 404
    assert (
        client.post(
            f"{wrong_task}/return", json={"comment": "x"}, headers=world.h.office
        ).status_code
        == 404
    )
    assert (
        client.post(f"{url}/accept", headers={**world.h.office, "If-Match": '"v5"'}).status_code
        == 412
    )
    ok = client.post(f"{url}/accept", headers={**world.h.office, "If-Match": '"v1"'})
    assert ok.status_code == 200
    assert ok.headers["ETag"] == '"v2"'
    assert client.post(f"{url}/accept", headers=world.h.office).status_code == 409
    assert (
        client.post(f"{url}/return", json={"comment": "x"}, headers=world.h.office).status_code
        == 409
    )


def test_every_step_is_audited(client: TestClient, world: World) -> None:
    task = create_task(client, world, participants=())
    report = submit(client, world.h.edu, task["id"]).json()
    client.post(f"{API}/{task['id']}/reports/{report['id']}/accept", headers=world.h.office)
    with db.read() as session:
        actions = session.exec(select(AuditLog.action).order_by(col(AuditLog.id))).all()
    assert actions == [
        "task.create",
        "task_assignment.start",
        "task_report.submit",
        "task_assignment.submit",
        "task_report.accept",
        "task_assignment.accept",
    ]


def _upload(client: TestClient, headers: dict[str, str], assignment_id: int) -> Any:
    return client.post(
        "/api/v1/attachments",
        data={"parent_type": "task_report", "parent_id": str(assignment_id)},
        files={"file": ("report.png", PNG, "image/png")},
        headers=headers,
    )


def test_report_attachments_follow_the_reports_visibility(client: TestClient, world: World) -> None:
    task = create_task(client, world, lead="edu", participants=("chengjian", "police"))
    mine = assignment_of(task, world.org_id("chengjian"))
    # Another participant may not attach to chengjian's report, nor the office.
    assert _upload(client, world.h.police, mine["id"]).status_code == 404
    assert _upload(client, world.h.office, mine["id"]).status_code == 403
    up = _upload(client, world.h.chengjian, mine["id"])
    assert up.status_code == 201, up.text
    att = up.json()["id"]
    r = submit(client, world.h.chengjian, task["id"], attachment_ids=[att])
    assert r.status_code == 201, r.text
    assert r.json()["attachment_ids"] == [att]
    assert client.get(f"/api/v1/attachments/{att}", headers=world.h.edu).status_code == 200
    assert client.get(f"/api/v1/attachments/{att}", headers=world.h.police).status_code == 404
    # Once the report is in, nothing more is attached to it.
    assert _upload(client, world.h.chengjian, mine["id"]).status_code == 403
