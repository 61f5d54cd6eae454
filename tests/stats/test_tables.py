import io
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.conftest import World, make_hazard
from tests.stats.dataset import TODAY, build


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


def _get(client: TestClient, path: str, headers: dict[str, str], **params: Any) -> Any:
    response = client.get(f"/api/v1/stats/{path}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_school_table_matches_the_hand_built_register(
    client: TestClient, world: World, frozen: None
) -> None:
    build(world)
    rows = _get(client, "schools", world.h.office, campaign_id=world.campaign_id)["items"]
    by_name = {r["school_name"]: r for r in rows}
    a, b, kg = by_name["城关第一小学"], by_name["城关第二中学"], by_name["阳光民办幼儿园"]
    assert [r["school_name"] for r in rows] == ["城关第一小学", "城关第二中学", "阳光民办幼儿园"]
    assert {k: a[k] for k in ("registered", "rectified", "closed", "overdue")} == {
        "registered": 5,
        "rectified": 3,
        "closed": 2,
        "overdue": 1,
    }
    assert a["rectification_rate"] == "0.4000"
    # (5 days + 6 days 21 hours) / 2 closed hazards
    assert a["avg_days_to_close"] == 5.9
    assert (b["registered"], b["rectified"], b["closed"], b["overdue"]) == (2, 1, 1, 1)
    assert (b["rectification_rate"], b["avg_days_to_close"]) == ("0.5000", 6.0)
    assert (kg["registered"], kg["rectification_rate"], kg["avg_days_to_close"]) == (0, None, None)


def test_school_table_never_counts_another_school(
    client: TestClient, world: World, frozen: None
) -> None:
    build(world)
    rows = _get(client, "schools", world.h.school_b, campaign_id=world.campaign_id)["items"]
    assert [(r["school_name"], r["registered"]) for r in rows] == [("城关第二中学", 2)]
    # the town supervises only the kindergarten
    rows = _get(client, "schools", world.h.town, campaign_id=world.campaign_id)["items"]
    assert [r["school_name"] for r in rows] == ["阳光民办幼儿园"]


def test_school_table_sorts_and_pages(client: TestClient, world: World, frozen: None) -> None:
    build(world)
    params = {"campaign_id": world.campaign_id, "limit": 2}
    first = _get(client, "schools", world.h.office, sort="rectification_rate", **params)
    assert [r["school_name"] for r in first["items"]] == ["阳光民办幼儿园", "城关第一小学"]
    rest = _get(
        client,
        "schools",
        world.h.office,
        sort="rectification_rate",
        cursor=first["next_cursor"],
        **params,
    )
    assert [r["school_name"] for r in rest["items"]] == ["城关第二中学"]
    assert rest["next_cursor"] is None
    by_name = _get(client, "schools", world.h.office, sort="-name", **params)["items"]
    assert [r["school_name"] for r in by_name] == ["阳光民办幼儿园", "城关第二中学"]
    bad = client.get(
        "/api/v1/stats/schools",
        params={"campaign_id": world.campaign_id, "sort": "title"},
        headers=world.h.office,
    )
    assert bad.status_code == 422


def test_department_table(client: TestClient, world: World, frozen: None) -> None:
    build(world)
    rows = _get(client, "departments", world.h.office, campaign_id=world.campaign_id)["items"]
    chengjian = rows[0]
    assert chengjian["org_name"] == "城建局"
    assert (chengjian["registered"], chengjian["overdue"], chengjian["closed"]) == (1, 1, 0)
    assert chengjian["rectification_rate"] == "0.0000"
    assert {r["org_name"] for r in rows} >= {"区教体局", "公安分局", "区监察局", "桃花镇"}
    own = _get(client, "departments", world.h.chengjian, campaign_id=world.campaign_id)["items"]
    assert [r["org_name"] for r in own] == ["城建局"]


def test_department_table_is_not_for_schools(client: TestClient, world: World) -> None:
    response = client.get(
        "/api/v1/stats/departments",
        params={"campaign_id": world.campaign_id},
        headers=world.h.school_a,
    )
    assert response.status_code == 403


def test_timeseries_per_day_and_week(client: TestClient, world: World, frozen: None) -> None:
    build(world)
    body = _get(
        client,
        "timeseries",
        world.h.office,
        campaign_id=world.campaign_id,
        **{"from": "2026-11-25", "to": "2026-12-03"},
    )
    points = {p["period"]: p for p in body["points"]}
    assert points["2026-11-25"]["registered"] == 6  # hazard 5 is void
    assert points["2026-11-26"]["registered"] == 1
    assert points["2026-11-30"]["closed"] == 1
    assert points["2026-12-02"]["closed"] == 2  # 07:00 local is still 12-01 in UTC
    assert points["2026-12-01"]["closed"] == 0
    assert body["points"][-1]["cumulative_registered"] == 7
    assert body["points"][-1]["cumulative_closed"] == 3
    weeks = _get(
        client,
        "timeseries",
        world.h.office,
        campaign_id=world.campaign_id,
        interval="week",
        **{"from": "2026-11-23", "to": "2026-12-06"},
    )["points"]
    assert [(p["period"], p["registered"], p["closed"]) for p in weeks] == [
        ("2026-11-23", 7, 0),
        ("2026-11-30", 0, 3),  # weeks start on Monday: 11-30 is one
    ]
    mine = _get(client, "timeseries", world.h.school_b, campaign_id=world.campaign_id)
    assert mine["points"][-1]["cumulative_registered"] == 2


def test_timeseries_validation(client: TestClient, world: World) -> None:
    url = "/api/v1/stats/timeseries"
    h = world.h.office
    assert (
        client.get(
            url, params={"campaign_id": world.campaign_id, "interval": "year"}, headers=h
        ).status_code
        == 422
    )
    too_long = {"campaign_id": world.campaign_id, "from": "2025-01-01", "to": "2026-12-31"}
    assert client.get(url, params=too_long, headers=h).status_code == 422
    assert client.get(url, params={"campaign_id": 4242}, headers=h).status_code == 404
    assert client.get(url, params={"campaign_id": world.campaign_id}).status_code == 401


def test_progress_png(client: TestClient, world: World, frozen: None) -> None:
    build(world)
    response = client.get(
        "/api/v1/stats/progress.png",
        params={"campaign_id": world.campaign_id},
        headers=world.h.office,
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert response.content[12:16] == b"IHDR"
    assert (
        client.get(
            "/api/v1/stats/progress.png", params={"campaign_id": world.campaign_id}
        ).status_code
        == 401
    )
    assert (
        client.get(
            "/api/v1/stats/progress.png",
            params={"campaign_id": world.campaign_id},
            headers=world.h.admin,
        ).status_code
        == 403
    )


def test_tables_errors(client: TestClient, world: World) -> None:
    for path in ("schools", "departments"):
        url = f"/api/v1/stats/{path}"
        assert client.get(url, params={"campaign_id": world.campaign_id}).status_code == 401
        assert (
            client.get(
                url, params={"campaign_id": world.campaign_id}, headers=world.h.admin
            ).status_code
            == 403
        )
        assert (
            client.get(url, params={"campaign_id": 4242}, headers=world.h.office).status_code == 404
        )
        assert client.get(url, headers=world.h.office).status_code == 422


SUMMARY = "/api/v1/exports/summary.xlsx"


def test_summary_workbook_holds_the_expected_rows(
    client: TestClient, world: World, frozen: None
) -> None:
    hazards = build(world)
    injected = make_hazard(
        world.campaign,
        world.orgs["kg"],
        title='=HYPERLINK("http://x")',  # type: ignore[arg-type]
        status="rectifying",
        deadline=TODAY.date().replace(day=1),
    )
    response = client.get(
        SUMMARY,
        params={"campaign_id": world.campaign_id, "as_of": "2026-12-05"},
        headers=world.h.office,
    )
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["总览", "学校统计", "部门统计", "逾期隐患", "挂牌督办", "整改进度"]
    overview = {row[0]: row[1] for row in book["总览"].iter_rows(values_only=True) if row}
    assert overview["专项行动"] == world.campaign.name  # type: ignore[union-attr]
    assert overview["统计截止日期"].date().isoformat() == "2026-12-05"
    assert overview["隐患登记(不含作废)"] == 8
    assert overview["已销号"] == 3
    assert overview["逾期未整改"] == 3
    schools = list(book["学校统计"].iter_rows(values_only=True))
    assert schools[0][0] == "学校"
    assert schools[1][:5] == ("城关第一小学", 5, 3, 2, 1)
    overdue = list(book["逾期隐患"].iter_rows(values_only=True))[1:]
    assert [r[0] for r in overdue] == [injected.code, hazards[2].code, hazards[6].code]
    assert [r[7] for r in overdue] == [4, 3, 1]  # days overdue on 12-05
    titles = [r[1] for r in overdue]
    assert '\'=HYPERLINK("http://x")' in titles  # written as text, not run as a formula
    supervised = list(book["挂牌督办"].iter_rows(values_only=True))[1:]
    assert [(r[0], r[1], r[4]) for r in supervised] == [("隐患", hazards[2].code, "督-2026-01")]
    assert len(book["整改进度"]._charts) == 1


def test_summary_as_of_counts_only_what_was_reported_by_then(
    client: TestClient, world: World, frozen: None
) -> None:
    build(world)
    response = client.get(
        SUMMARY,
        params={"campaign_id": world.campaign_id, "as_of": "2026-11-25"},
        headers=world.h.jiancha,
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    overview = {row[0]: row[1] for row in book["总览"].iter_rows(values_only=True) if row}
    assert overview["隐患登记(不含作废)"] == 6
    assert overview["逾期未整改"] == 0  # nothing was past its deadline on 11-25


def test_summary_errors(client: TestClient, world: World, frozen: None) -> None:
    params = {"campaign_id": world.campaign_id}
    assert client.get(SUMMARY, params=params).status_code == 401
    for who in ("school_a", "chengjian", "admin"):
        assert client.get(SUMMARY, params=params, headers=world.headers(who)).status_code == 403
    assert (
        client.get(SUMMARY, params={"campaign_id": 4242}, headers=world.h.office).status_code == 404
    )
    assert client.get(SUMMARY, headers=world.h.office).status_code == 422
    future = {**params, "as_of": "2026-12-06"}
    assert client.get(SUMMARY, params=future, headers=world.h.office).status_code == 422
