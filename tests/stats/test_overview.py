from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import col, select

from app.auth.principal import Principal
from app.core import db
from app.hazards import counts
from app.hazards.counts import HazardCount, HazardDueCount
from app.hazards.models import Hazard, HazardStatus
from app.stats.service import Window, count_overdue, counted_overdue_statement, overview_statement
from app.users.models import Role
from tests.conftest import World, make_campaign, make_hazard
from tests.hazards.helpers import act, evidence, register
from tests.stats.dataset import TODAY, at, build
from tests.tasks.helpers import create_task, submit

URL = "/api/v1/stats/overview"


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


def _overview(client: TestClient, headers: dict[str, str], campaign_id: int, **params: str) -> dict:
    response = client.get(URL, params={"campaign_id": campaign_id, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


DISTRICT_HAZARDS = {
    "total": 8,
    "registered": 7,
    "rectified": 4,
    "closed": 3,
    "void": 1,
    "rectification_rate": "0.4286",
    "closed_with_deadline": 2,
    "closed_on_time": 1,
    "on_time_rate": "0.5000",
    "overdue": 2,
    "supervised": 1,
}


def test_office_overview_matches_the_hand_built_register(
    client: TestClient, world: World, frozen: None
) -> None:
    build(world)
    body = _overview(client, world.h.office, world.campaign_id)
    hazards = body["hazards"]
    assert {k: hazards[k] for k in DISTRICT_HAZARDS} == DISTRICT_HAZARDS
    assert hazards["by_status"] == {
        "reported": 1,
        "escalated": 1,
        "rectifying": 1,
        "rectified": 1,
        "rejected": 0,
        "closed": 3,
        "void": 1,
    }
    assert hazards["by_grade"] == {"general": 4, "major": 3}
    assert hazards["by_scope"] == {"campus": 5, "surroundings": 2}
    assert {k: v for k, v in hazards["by_category"].items() if v} == {
        "fire": 2,
        "building": 3,
        "traffic": 1,
        "public_order": 1,
    }
    assert body["as_of"] == "2026-12-05"
    assert body["from"] is None
    assert body["plans"]["total"] == 0
    assert body["tasks"]["overdue_assignments"] == 0
    assert body["cases"] == {
        "total": 0,
        "by_status": dict.fromkeys(body["cases"]["by_status"], 0),
        "supervised": 0,
        "solved": 0,
    }


def test_live_query_and_counters_agree(client: TestClient, world: World, frozen: None) -> None:
    build(world)
    # A date range forces the live GROUP BY; the whole campaign is in range.
    live = _overview(
        client, world.h.office, world.campaign_id, **{"from": "2026-11-01", "to": "2026-12-31"}
    )
    counted = _overview(client, world.h.office, world.campaign_id)
    assert live["hazards"] == counted["hazards"]
    assert live["from"] == "2026-11-01"


def test_date_range_counts_only_hazards_reported_in_it(
    client: TestClient, world: World, frozen: None
) -> None:
    build(world)
    body = _overview(client, world.h.office, world.campaign_id, **{"from": "2026-11-26"})
    assert body["hazards"]["total"] == 1  # only hazard 8, reported 11-26
    assert body["hazards"]["closed"] == 1
    # the local day boundary: 11-26 00:00 Shanghai is 11-25 16:00 UTC
    body = _overview(client, world.h.office, world.campaign_id, to="2026-11-25")
    assert body["hazards"]["total"] == 7


def test_school_sees_only_its_own_figures(client: TestClient, world: World, frozen: None) -> None:
    build(world)
    hazards = _overview(client, world.h.school_a, world.campaign_id)["hazards"]
    assert (hazards["total"], hazards["registered"], hazards["closed"], hazards["rectified"]) == (
        6,
        5,
        2,
        3,
    )
    assert hazards["rectification_rate"] == "0.4000"
    assert hazards["on_time_rate"] == "0.5000"
    assert hazards["overdue"] == 1
    assert hazards["supervised"] == 1
    other = _overview(client, world.h.school_b, world.campaign_id)["hazards"]
    assert (other["total"], other["overdue"], other["closed"]) == (2, 1, 1)
    assert other["on_time_rate"] is None  # its closed hazard had no deadline


def test_school_gets_no_tasks_or_cases(client: TestClient, world: World, frozen: None) -> None:
    body = _overview(client, world.h.school_a, world.campaign_id)
    assert body["tasks"] is None
    assert body["cases"] is None


def test_department_sees_what_it_is_responsible_for(
    client: TestClient, world: World, frozen: None
) -> None:
    build(world)
    hazards = _overview(client, world.h.chengjian, world.campaign_id)["hazards"]
    assert hazards["total"] == 1
    assert hazards["overdue"] == 1
    # 教体局 supervises both schools: sees all eight
    assert _overview(client, world.h.edu, world.campaign_id)["hazards"]["total"] == 8
    assert _overview(client, world.h.edu, world.campaign_id)["cases"] is None


def test_oversight_sees_district_and_cases(client: TestClient, world: World, frozen: None) -> None:
    build(world)
    body = _overview(client, world.h.jiancha, world.campaign_id)
    assert body["hazards"]["total"] == 8
    assert body["cases"] is not None


def test_other_campaign_is_not_counted(client: TestClient, world: World, frozen: None) -> None:
    build(world)
    other = make_campaign(name="另一专项行动")
    make_hazard(other, world.orgs["school_a"], status="reported")
    assert other.id is not None
    assert _overview(client, world.h.office, other.id)["hazards"]["total"] == 1
    assert _overview(client, world.h.office, world.campaign_id)["hazards"]["total"] == 8


def test_counters_follow_transitions_and_rebuild(world: World, frozen: None) -> None:
    hazards = build(world)
    with db.write() as session:
        hazard = session.get(Hazard, hazards[3].id)  # reported → closed on time
        assert hazard is not None
        hazard.status = HazardStatus.closed
        hazard.closed_at = at(12, 4)
        session.add(hazard)
        gone = session.get(Hazard, hazards[6].id)
        session.delete(gone)

    def snapshot() -> dict[tuple, int]:
        with db.read() as session:
            rows = session.exec(select(HazardCount).where(col(HazardCount.n) != 0)).all()
        return {
            (r.status, r.grade, r.category, r.scope, r.supervised, r.timeliness): r.n for r in rows
        }

    def due() -> dict[date, int]:
        with db.read() as session:
            rows = session.exec(select(HazardDueCount).where(col(HazardDueCount.n) != 0)).all()
        return {r.deadline: r.n for r in rows}

    kept, kept_due = snapshot(), due()
    assert kept[("closed", "general", "fire", "campus", False, counts.ON_TIME)] == 2
    assert sum(n for k, n in kept.items() if k[0] == "escalated") == 0
    # Open with a deadline: hazard 3 (rectifying, 12-02); 4 closed, 6 rectified, 7 deleted.
    assert kept_due == {date(2026, 12, 2): 1}
    with db.write() as session:
        counts.rebuild(session)
    assert snapshot() == kept
    assert due() == kept_due


def _overdue_both_ways(campaign_id: int, day: date) -> tuple[int, int]:
    """(from the counters, live) for the district on `day`."""
    office = Principal(kind="user", id=1, role=Role.office, org_id=1)
    with db.read() as session:
        counted = int(session.execute(counted_overdue_statement(campaign_id, day)).scalar_one())
        live = count_overdue(session, office, campaign_id, Window(), day)
    return counted, live


@time_machine.travel("2026-11-26 09:00 +08:00", tick=False)
def test_counted_overdue_follows_every_deadline_and_status_move(
    client: TestClient, world: World
) -> None:
    """Overdue from the counters equals the live count on every day around the deadlines,
    after each action that sets, moves or ends a deadline (Core updates in the service)."""
    days = [date(2026, 11, 20) + timedelta(days=d) for d in range(40)]

    def check(expect_on_dec_10: int) -> None:
        for day in days:
            counted, live = _overdue_both_ways(world.campaign_id, day)
            assert counted == live, (day, counted, live)
        assert _overdue_both_ways(world.campaign_id, date(2026, 12, 10))[0] == expect_on_dec_10

    def step(who: str, hazard_id: int, action: str, body: dict[str, Any]) -> None:
        r = act(client, world, who, hazard_id, action, body)
        assert r.status_code == 200, r.text

    first, second = register(client, world), register(client, world)
    check(0)  # reported, no deadline
    step("school_a", first["id"], "start", {"deadline": "2026-12-04"})
    step("school_a", second["id"], "start", {"deadline": "2026-12-04"})
    check(2)
    step("school_a", first["id"], "request-extension",
         {"reason": "材料未到", "requested_deadline": "2026-12-18"})  # fmt: skip
    extension = client.get(
        f"/api/v1/hazards/{first['id']}/extensions", headers=world.h.office
    ).json()["items"][0]
    step("office", first["id"], "grant-extension", {"extension_id": extension["id"]})
    check(1)
    step("school_a", second["id"], "submit-rectification",
         {"note": "已整改", "attachment_ids": [evidence(second["id"])]})  # fmt: skip
    check(0)  # rectified is not open
    step("inspector", second["id"], "reject", {"comment": "整改不到位"})
    check(1)  # rejected is open again, with its deadline
    step("office", first["id"], "void", {"reason": "重复登记"})
    check(1)


def test_bulk_insert_counts_with_add_bulk(world: World, frozen: None) -> None:
    from sqlalchemy import insert

    row = {
        "code": "YH-BULK-1",
        "campaign_id": world.campaign_id,
        "school_id": world.org_id("school_a"),
        "scope": "campus",
        "category": "fire",
        "grade": "general",
        "title": "灭火器过期",
        "description": "一楼走廊灭火器过期。",
        "source": "self_inspection",
        "found_on": date(2026, 11, 25),
        "reported_by": "user:0",
        "reporter_org_id": world.org_id("school_a"),
        "responsible_org_id": world.org_id("school_a"),
        "status": "reported",
        "reported_at": TODAY,
        "updated_at": TODAY,
    }
    with db.write() as session:
        session.execute(insert(Hazard), [row])
        counts.add_bulk(session, [row])
    with db.read() as session:
        n = session.exec(select(HazardCount.n).where(col(HazardCount.status) == "reported")).one()
    assert n == 1


def test_overview_query_reads_the_covering_index(world: World) -> None:
    office = Principal(kind="user", id=1, role=Role.office, org_id=world.org_id("office"))
    stmt = overview_statement(office, world.campaign_id, Window())
    with db.read() as session:
        compiled = stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        if session.get_bind().dialect.name == "sqlite":
            plan = " ".join(
                str(r[-1]) for r in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            )
            assert "USING COVERING INDEX ix_hazard_stats_overview" in plan, plan
        else:
            session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(str(r[0]) for r in session.execute(text(f"EXPLAIN {compiled}")))
            assert "Seq Scan on hazard" not in plan, plan
            assert "ix_hazard_stats_overview" in plan, plan


def test_overview_validation(client: TestClient, world: World) -> None:
    h = world.h.office
    assert client.get(URL, headers=h).status_code == 422  # campaign_id required
    assert client.get(URL, params={"campaign_id": 0}, headers=h).status_code == 422
    bad = client.get(
        URL,
        params={"campaign_id": world.campaign_id, "from": "2026-12-05", "to": "2026-12-01"},
        headers=h,
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "stats.bad_range"
    assert (
        client.get(
            URL, params={"campaign_id": world.campaign_id, "from": "x"}, headers=h
        ).status_code
        == 422
    )


def test_overview_needs_authentication(client: TestClient, world: World) -> None:
    assert client.get(URL, params={"campaign_id": world.campaign_id}).status_code == 401


def test_admin_may_not_read_statistics(client: TestClient, world: World) -> None:
    response = client.get(URL, params={"campaign_id": world.campaign_id}, headers=world.h.admin)
    assert response.status_code == 403


def test_unknown_campaign_is_404(client: TestClient, world: World) -> None:
    response = client.get(URL, params={"campaign_id": 999999}, headers=world.h.office)
    assert response.status_code == 404


def test_rebuild_counts_command_repairs_drift(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.__main__ import main

    make_hazard(world.campaign, world.orgs["school_a"], status="reported")  # type: ignore[arg-type]
    with db.write() as session:
        session.execute(text("UPDATE hazard_count SET n = 99"))
    main(["rebuild-counts"])
    assert "rebuilt" in capsys.readouterr().out
    with db.read() as session:
        assert session.exec(select(HazardCount.n)).all() == [1]


def test_task_figures_count_assignments_reports_overdue_and_late(
    client: TestClient, world: World
) -> None:
    """Two tasks: 教体局 leads one due 12-10 with 城建局 (reports on time) and 公安局
    (reports late, on 12-11); 镇政府 leads one due 12-20. On 12-11 only 教体局's own
    assignment is overdue."""
    with time_machine.travel(date(2026, 12, 1), tick=False):
        task = create_task(client, world, participants=("chengjian", "police"), due_on="2026-12-10")
        create_task(client, world, lead="town", participants=(), due_on="2026-12-20")
        assert submit(client, world.h.chengjian, task["id"]).status_code == 201
    with time_machine.travel(date(2026, 12, 11), tick=False):
        assert submit(client, world.h.police, task["id"]).status_code == 201
        office = _overview(client, world.h.office, world.campaign_id)["tasks"]
        police = _overview(client, world.h.police, world.campaign_id)["tasks"]
    assert office == {
        "assignments_by_status": {
            "assigned": 2,
            "in_progress": 0,
            "reported": 2,
            "accepted": 0,
            "returned": 0,
        },
        "reports_by_status": {"submitted": 2, "accepted": 0, "returned": 0},
        "overdue_assignments": 1,
        "late_reports": 1,
    }
    # 公安局 sees only its own assignment and report.
    assert police["assignments_by_status"]["reported"] == 1
    assert sum(police["assignments_by_status"].values()) == 1
    assert (police["overdue_assignments"], police["late_reports"]) == (0, 1)
