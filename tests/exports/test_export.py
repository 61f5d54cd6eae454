import csv
import io
from datetime import date
from urllib.parse import quote

import openpyxl
import pytest
import time_machine
from fastapi.testclient import TestClient

from app.hazards.models import HazardCategory, HazardGrade, HazardStatus
from tests.attachments.samples import add_hazard
from tests.conftest import World

XLSX_URL = "/api/v1/exports/hazards.xlsx"
CSV_URL = "/api/v1/exports/hazards.csv"


def sheet_rows(content: bytes) -> list[tuple[object, ...]]:
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    sheet = workbook.active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))


def seed(world: World) -> None:
    add_hazard(world, "school_a", title="灭火器过期")
    add_hazard(
        world,
        "school_a",
        title='=HYPERLINK("http://evil")',
        grade=HazardGrade.major,
        category=HazardCategory.electrical,
        deadline=date(2026, 11, 20),
        status=HazardStatus.rectifying,
        responsible_org_id=world.org_id("chengjian"),
    )
    add_hazard(world, "school_b", title="围墙开裂", description="+cmd|' /C calc'!A0")


@time_machine.travel("2026-11-28 10:00 +08:00", tick=False)
def test_office_exports_the_whole_register_with_chinese_headers_and_labels(
    client: TestClient, world: World
) -> None:
    seed(world)
    r = client.get(XLSX_URL, headers=world.h.office)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert r.headers["content-disposition"].endswith(
        f"filename*=UTF-8''{quote('hazards-2026-11-28.xlsx')}"
    )
    assert r.headers["x-content-type-options"] == "nosniff"
    rows = sheet_rows(r.content)
    header = rows[0]
    for name in ("编号", "学校", "范围", "类别", "等级", "标题", "状态", "是否逾期", "销号时间"):
        assert name in header
    assert len(rows) == 4
    major = rows[2]
    assert major[header.index("学校")] == "城关第一小学"
    assert major[header.index("类别")] == "用电"
    assert major[header.index("等级")] == "重大隐患"
    assert major[header.index("状态")] == "整改中"
    assert major[header.index("是否逾期")] == "是"
    assert major[header.index("责任单位")] == "城建局"
    assert str(major[header.index("发现日期")]).startswith("2026-11-25")
    assert rows[1][header.index("是否逾期")] == "否"


def test_formula_like_text_is_neutralised(client: TestClient, world: World) -> None:
    seed(world)
    rows = sheet_rows(client.get(XLSX_URL, headers=world.h.office).content)
    header = rows[0]
    titles = [row[header.index("标题")] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil")' in titles
    descriptions = [row[header.index("描述")] for row in rows[1:]]
    assert "'+cmd|' /C calc'!A0" in descriptions
    text = client.get(CSV_URL, headers=world.h.office).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert ",=HYPERLINK" not in text


def test_school_exports_only_its_own_hazards(client: TestClient, world: World) -> None:
    seed(world)
    rows = sheet_rows(client.get(XLSX_URL, headers=world.h.school_b).content)
    assert [row[rows[0].index("标题")] for row in rows[1:]] == ["围墙开裂"]


def test_department_exports_what_it_is_responsible_for(client: TestClient, world: World) -> None:
    seed(world)
    rows = sheet_rows(client.get(XLSX_URL, headers=world.h.chengjian).content)
    assert len(rows) == 2
    assert rows[1][rows[0].index("责任单位")] == "城建局"


def test_export_takes_the_register_filters(client: TestClient, world: World) -> None:
    seed(world)
    r = client.get(
        XLSX_URL,
        params={"grade": "major", "school_id": world.org_id("school_a")},
        headers=world.h.office,
    )
    rows = sheet_rows(r.content)
    assert len(rows) == 2
    assert rows[1][rows[0].index("等级")] == "重大隐患"
    r = client.get(CSV_URL, params={"q": "围墙"}, headers=world.h.office)
    assert len(list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))) == 2


def test_csv_has_a_bom_and_parses(client: TestClient, world: World) -> None:
    seed(world)
    r = client.get(CSV_URL, headers=world.h.office)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    assert "attachment;" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "学校", "范围"]
    assert len(rows) == 4
    assert {row[rows[0].index("学校")] for row in rows[1:]} == {"城关第一小学", "城关第二中学"}


def test_export_needs_a_token_and_a_business_role(client: TestClient, world: World) -> None:
    assert client.get(XLSX_URL).status_code == 401
    assert client.get(CSV_URL).status_code == 401
    assert client.get(XLSX_URL, headers=world.h.admin).status_code == 403
    assert client.get(CSV_URL, headers=world.h.admin).status_code == 403


@pytest.mark.parametrize("url", [XLSX_URL, CSV_URL])
def test_bad_filters_are_422(client: TestClient, world: World, url: str) -> None:
    assert client.get(url, params={"status": "nope"}, headers=world.h.office).status_code == 422
    assert client.get(url, params={"school_id": 0}, headers=world.h.office).status_code == 422


def test_a_school_filtering_for_another_school_gets_nothing(
    client: TestClient, world: World
) -> None:
    seed(world)
    r = client.get(
        XLSX_URL, params={"school_id": world.org_id("school_b")}, headers=world.h.school_a
    )
    assert len(sheet_rows(r.content)) == 1
