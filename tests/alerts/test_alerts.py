from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.alerts.service import emit_overdue_events
from app.campaigns.models import CampaignStatus
from app.cases.models import Case, CaseSupervision, CaseType, SupervisionLevel
from app.core import db
from app.events.models import Event
from app.hazards.models import Hazard
from app.plans.models import Plan
from app.tasks.models import KeyTaskType, Task, TaskAssignment, TaskRole
from tests.conftest import World, make_campaign, make_hazard

URL = "/api/v1/alerts"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def on(day: int, month: int = 12) -> Any:
    """Travel to 09:00 local on 2026-<month>-<day>. 2026-12-05 is a Saturday."""
    return time_machine.travel(datetime(2026, month, day, 9, 0, tzinfo=SHANGHAI), tick=False)


def _alerts(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = client.get(URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _hazard_for_chengjian(world: World, **fields: Any) -> Any:
    return make_hazard(
        world.campaign,  # type: ignore[arg-type]
        world.orgs["school_a"],
        responsible=world.orgs["chengjian"],
        **{"status": "rectifying", **fields},
    )


def test_hazard_alert_moves_from_due_soon_to_overdue(client: TestClient, world: World) -> None:
    hazard = _hazard_for_chengjian(world, deadline=date(2026, 12, 10))
    with on(5):
        assert _alerts(client, world.h.chengjian) == []  # 5 days out: not yet due soon
    with on(7):
        [alert] = _alerts(client, world.h.chengjian)
        assert (alert["stage"], alert["days_left"], alert["days_overdue"]) == ("due_soon", 3, None)
        assert (alert["kind"], alert["object_id"], alert["code"]) == (
            "hazard",
            hazard.id,
            hazard.code,
        )
        assert alert["org_name"] == "城建局"
        assert _alerts(client, world.h.office) == []  # not overdue: not the office's business
    with on(10):
        assert [a["stage"] for a in _alerts(client, world.h.chengjian)] == ["due_today"]
    with on(12):
        [alert] = _alerts(client, world.h.chengjian)
        assert (alert["stage"], alert["days_overdue"], alert["days_left"]) == ("overdue", 2, None)
        [escalated] = _alerts(client, world.h.office)
        assert escalated["stage"] == "escalated"
        assert escalated["object_id"] == hazard.id


def test_working_day_deadlines_count_working_days(client: TestClient, world: World) -> None:
    working = _hazard_for_chengjian(world, deadline=date(2026, 12, 9), deadline_working_days=5)
    _hazard_for_chengjian(world, deadline=date(2026, 12, 9))  # calendar days: 4 days out
    with on(5):  # Saturday: three working days reach Wednesday 12-09
        [alert] = _alerts(client, world.h.chengjian)
        assert alert["object_id"] == working.id
        assert alert["working_days"] is True
        assert alert["days_left"] == 3


def test_closed_rectified_and_void_hazards_raise_no_alert(client: TestClient, world: World) -> None:
    for status in ("rectified", "closed", "void"):
        _hazard_for_chengjian(world, deadline=date(2026, 12, 1), status=status)
    with on(5):
        assert _alerts(client, world.h.chengjian) == []
        assert _alerts(client, world.h.office) == []


def test_each_org_sees_only_its_own_items(client: TestClient, world: World) -> None:
    _hazard_for_chengjian(world, deadline=date(2026, 12, 1))
    make_hazard(world.campaign, world.orgs["school_a"], deadline=date(2026, 12, 2))  # type: ignore[arg-type]
    with on(5):
        assert [a["org_name"] for a in _alerts(client, world.h.school_a)] == ["城关第一小学"]
        assert _alerts(client, world.h.school_b) == []
        assert _alerts(client, world.h.edu) == []
        office = _alerts(client, world.h.office)
        assert [a["deadline"] for a in office] == ["2026-12-01", "2026-12-02"]
        assert {a["stage"] for a in office} == {"escalated"}


def test_closed_campaign_raises_no_alerts(client: TestClient, world: World) -> None:
    closed = make_campaign(status=CampaignStatus.closed, name="旧行动")
    make_hazard(closed, world.orgs["school_a"], deadline=date(2026, 12, 1))
    with on(5):
        assert _alerts(client, world.h.school_a) == []


def _task_plan_and_case(world: World) -> None:
    with db.write() as session:
        task = Task(
            campaign_id=world.campaign_id,
            title="校园周边环境治理书面报告",
            key_task_type=KeyTaskType.surroundings_cleanup,
            lead_org_id=world.org_id("chengjian"),
            due_on=date(2026, 12, 8),
            created_by="user:0",
        )
        session.add(task)
        session.flush()
        session.add(
            TaskAssignment(task_id=task.id, org_id=world.org_id("chengjian"), role=TaskRole.lead)
        )
        session.add(
            Plan(
                campaign_id=world.campaign_id,
                owner_org_id=world.org_id("chengjian"),
                title="周边网吧整治方案",
                deadline=date(2026, 12, 4),
                created_by="user:0",
            )
        )
        case = Case(
            code="AJ-2026-000001",
            campaign_id=world.campaign_id,
            case_type=CaseType.campus_intrusion,
            occurred_at=datetime(2026, 11, 28, 8, 0, tzinfo=SHANGHAI),
            location="城关第一小学门口",
            summary="张某持械滋扰学生。",
            handling_org_id=world.org_id("police"),
            filed_by="user:0",
        )
        session.add(case)
        session.flush()
        session.add(
            CaseSupervision(
                case_id=case.id,
                level=SupervisionLevel.district,
                supervising_org_id=world.org_id("office"),
                notice_no="督-2026-01",
                solve_deadline=date(2026, 12, 20),
                next_report_due=date(2026, 12, 5),
                listed_by="user:0",
            )
        )


def test_tasks_plans_and_supervised_cases_alert_their_orgs(
    client: TestClient, world: World
) -> None:
    _task_plan_and_case(world)
    with on(5):
        mine = _alerts(client, world.h.chengjian)
        assert [(a["kind"], a["stage"]) for a in mine] == [
            ("plan", "overdue"),
            ("task_assignment", "due_soon"),
        ]
        [report] = _alerts(client, world.h.police)
        assert (report["kind"], report["stage"], report["code"]) == (
            "case_report",
            "due_today",
            "AJ-2026-000001",
        )
        assert "张某" not in report["title"]
        assert report["title"].startswith("侵害校园")
        only_tasks = _alerts(client, world.h.chengjian, kind="task_assignment")
        assert [a["kind"] for a in only_tasks] == ["task_assignment"]
        overdue = _alerts(client, world.h.chengjian, stage="overdue")
        assert [a["kind"] for a in overdue] == ["plan"]
    with on(9):
        stages = {a["kind"]: a["stage"] for a in _alerts(client, world.h.office)}
        assert stages == {
            "plan": "escalated",
            "task_assignment": "escalated",
            "case_report": "escalated",
        }


def test_alerts_page_by_deadline(client: TestClient, world: World) -> None:
    for day in (1, 2, 3):
        _hazard_for_chengjian(world, deadline=date(2026, 12, day))
    with on(5):
        first = client.get(URL, params={"limit": 2}, headers=world.h.chengjian).json()
        assert [a["deadline"] for a in first["items"]] == ["2026-12-01", "2026-12-02"]
        rest = client.get(
            URL, params={"limit": 2, "cursor": first["next_cursor"]}, headers=world.h.chengjian
        ).json()
        assert [a["deadline"] for a in rest["items"]] == ["2026-12-03"]
        assert rest["next_cursor"] is None


def test_alerts_errors(client: TestClient, world: World) -> None:
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers=world.h.admin).status_code == 403
    assert client.get(URL, params={"stage": "late"}, headers=world.h.office).status_code == 422
    assert client.get(URL, params={"limit": 0}, headers=world.h.office).status_code == 422
    assert client.get(URL, params={"cursor": "@@"}, headers=world.h.office).status_code == 422


def _overdue_events() -> list[Event]:
    with db.read() as session:
        return list(session.exec(select(Event).where(col(Event.type) == "hazard.overdue")).all())


def test_overdue_event_is_emitted_once_per_missed_deadline(world: World) -> None:
    hazard = _hazard_for_chengjian(world, deadline=date(2026, 12, 3))
    _hazard_for_chengjian(world, deadline=date(2026, 12, 9))
    with on(5):
        assert emit_overdue_events() == 1
        assert emit_overdue_events() == 0
    [event] = _overdue_events()
    assert (event.subject_id, event.org_id, event.school_id) == (
        hazard.id,
        world.org_id("chengjian"),
        world.org_id("school_a"),
    )
    assert event.payload["days_overdue"] == 2
    with db.write() as session:  # an extension is granted, then missed too
        row = session.get(Hazard, hazard.id)
        assert row is not None
        row.deadline = date(2026, 12, 7)
        session.add(row)
    with on(10):
        assert emit_overdue_events() == 2  # the extended one again, and the other one
    assert len(_overdue_events()) == 3


def test_emit_overdue_events_command(world: World, capsys: Any) -> None:
    from app.__main__ import main

    _hazard_for_chengjian(world, deadline=date(2026, 12, 3))
    with on(5):
        main(["emit-overdue-events"])
    assert "1 hazard.overdue events emitted" in capsys.readouterr().out
    assert len(_overdue_events()) == 1
