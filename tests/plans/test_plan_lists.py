"""Lists: filters, derived overdue, keyset pages, sort keys; and the printable export."""

from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import time_machine
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.conftest import World, make_campaign, make_hazard
from tests.plans.helpers import API, act, approved_plan, create_plan, hazard_for

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _ids(client: TestClient, world: World, query: str, who: str = "office") -> list[int]:
    r = client.get(f"{API}?{query}", headers=world.headers(who))
    assert r.status_code == 200, r.text
    return [p["id"] for p in r.json()["items"]]


def test_overdue_is_derived_from_the_local_date(client: TestClient, world: World) -> None:
    due_15 = create_plan(client, world, deadline="2026-12-15")["id"]
    due_20 = create_plan(client, world, deadline="2026-12-20")["id"]
    no_deadline = create_plan(client, world, deadline=None)["id"]
    done = approved_plan(client, world, deadline="2026-12-01")["id"]
    act(client, world, done, "complete", "school_a")

    # 16 Dec 00:30 in Shanghai is still 15 Dec in UTC: the local date decides.
    with time_machine.travel(datetime(2026, 12, 16, 0, 30, tzinfo=SHANGHAI), tick=False):
        assert _ids(client, world, "overdue=true") == [due_15]
        assert _ids(client, world, "overdue=false") == [done, no_deadline, due_20]
        got = client.get(f"{API}/{due_15}", headers=world.h.school_a).json()
        assert got["overdue"] is True
    with time_machine.travel(datetime(2026, 12, 15, 23, 30, tzinfo=SHANGHAI), tick=False):
        assert _ids(client, world, "overdue=true") == []
        got = client.get(f"{API}/{due_15}", headers=world.h.school_a).json()
        assert got["overdue"] is False
        assert got["milestones"][0]["overdue"] is True  # 搭设脚手架 was due 1 Dec
    with time_machine.travel(datetime(2026, 12, 25, 12, tzinfo=SHANGHAI), tick=False):
        assert _ids(client, world, "overdue=true") == [due_20, due_15]


def test_filters_by_campaign_owner_status_and_hazard(client: TestClient, world: World) -> None:
    hazard = hazard_for(world)
    a = create_plan(client, world, hazard_ids=[hazard])["id"]
    b = create_plan(client, world, "school_b")["id"]
    act(client, world, b, "submit", "school_b")
    other_campaign = make_campaign()
    h_other = make_hazard(other_campaign, world.orgs["school_a"]).id
    body = {"campaign_id": other_campaign.id, "title": "另一行动", "hazard_ids": [h_other]}
    c = client.post(API, json=body, headers=world.h.school_a).json()["id"]

    assert _ids(client, world, f"campaign_id={world.campaign_id}") == [b, a]
    assert _ids(client, world, f"campaign_id={other_campaign.id}") == [c]
    assert _ids(client, world, f"owner_org_id={world.org_id('school_b')}") == [b]
    assert _ids(client, world, "status=submitted") == [b]
    assert _ids(client, world, "status=draft") == [c, a]
    assert _ids(client, world, f"hazard_id={hazard}") == [a]
    # Filters never widen what the caller may see.
    assert _ids(client, world, f"owner_org_id={world.org_id('school_b')}", "school_a") == []


def test_pages_walk_every_plan_once_in_each_sort(client: TestClient, world: World) -> None:
    deadlines = ["2026-12-10", None, "2026-12-05", "2026-12-10", "2026-12-01"]
    ids = [create_plan(client, world, deadline=d)["id"] for d in deadlines]
    for sort, expected in (
        ("-id", sorted(ids, reverse=True)),
        ("id", sorted(ids)),
        # Plans without a deadline come last; ties broken by id.
        ("deadline", [ids[4], ids[2], ids[0], ids[3], ids[1]]),
        ("-deadline", [ids[1], ids[3], ids[0], ids[2], ids[4]]),
        ("created_at", sorted(ids)),
        ("-updated_at", sorted(ids, reverse=True)),
    ):
        seen: list[int] = []
        cursor = ""
        while True:
            r = client.get(
                f"{API}?sort={sort}&limit=2" + (f"&cursor={cursor}" if cursor else ""),
                headers=world.h.office,
            )
            assert r.status_code == 200, r.text
            seen += [p["id"] for p in r.json()["items"]]
            cursor = r.json()["next_cursor"]
            if not cursor:
                break
        assert seen == expected, sort


def test_list_items_carry_the_summary(client: TestClient, world: World) -> None:
    plan = create_plan(client, world)
    item = client.get(API, headers=world.h.school_a).json()["items"][0]
    assert item["id"] == plan["id"]
    assert item["hazard_ids"] == plan["hazard_ids"]
    assert item["funds_amount"] == "186000.00"
    assert item["overdue"] is False
    assert "contingency_plan" not in item


def test_export_is_a_printable_workbook_with_chinese_labels(
    client: TestClient, world: World
) -> None:
    hazard = hazard_for(world, title='=HYPERLINK("http://evil")外墙')
    plan = approved_plan(client, world, hazard_ids=[hazard], funds_amount="12345.6")
    client.post(
        f"{API}/{plan['id']}/progress",
        json={"text": "脚手架已搭设", "percent": 30},
        headers=world.h.school_a,
    )
    act(client, world, plan["id"], "complete", "school_a")
    r = client.get(f"{API}/{plan['id']}/export.xlsx", headers=world.h.office)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    sheet = load_workbook(BytesIO(r.content)).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    values = [c.value for c in cells]
    for label in (
        "一、目标和任务",
        "二、方法和措施",
        "三、经费和物资",
        "四、负责治理的机构和人员",
        "五、时限和要求",
        "六、安全措施和应急预案",
        "覆盖的安全隐患",
        "整改时间表",
        "整改进度",
        "已整改待复查",
        "脚手架已搭设",
        "搭设脚手架",
        "已完成",
    ):
        assert label in values, label
    money = next(c for c in cells if c.number_format == "#,##0.00")
    assert str(money.value) in ("12345.6", "12345.60")
    # A title typed by a user stays text in Excel, never a live formula.
    evil = next(c for c in cells if str(c.value).startswith("=HYPERLINK"))
    assert evil.data_type == "s"


def test_export_follows_visibility(client: TestClient, world: World) -> None:
    plan = create_plan(client, world)
    url = f"{API}/{plan['id']}/export.xlsx"
    assert client.get(url, headers=world.h.school_b).status_code == 404
    assert client.get(url, headers=world.h.edu).status_code == 200
    assert client.get(url).status_code == 401
