import csv
import io
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import col, func, select

from app.audit.models import AuditLog
from app.campaigns.models import Campaign
from app.core import db
from app.core.config import get_settings
from app.events.models import Event
from app.exports.importer import MIRRORED_VALIDATORS, _sql_literal
from app.hazards.models import Hazard, HazardCodeCounter, HazardEvent
from app.hazards.schemas import HazardCreate
from tests.conftest import World

URL = "/api/v1/imports/hazards"
HEADER = ["学校", "范围", "类别", "场所类型", "等级", "标题", "描述", "位置", "来源", "发现日期"]


def csv_file(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def xlsx_file(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def row(school: str = "", title: str = "灭火器过期", **over: str) -> list[str]:
    values = {
        "学校": school,
        "范围": "校园内",
        "类别": "消防",
        "场所类型": "",
        "等级": "一般隐患",
        "标题": title,
        "描述": "教学楼三楼灭火器已过期",
        "位置": "教学楼",
        "来源": "学校自查",
        "发现日期": "2026-11-25",
        **over,
    }
    return [values[h] for h in HEADER]


def post(
    client: TestClient,
    headers: dict[str, str],
    world: World,
    content: bytes,
    name: str = "register.csv",
) -> Any:
    return client.post(
        URL,
        headers=headers,
        data={"campaign_id": str(world.campaign_id)},
        files={"file": (name, content, "application/octet-stream")},
    )


def count(model: type) -> int:
    with db.read() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_school_imports_its_register_in_one_block(client: TestClient, world: World) -> None:
    content = csv_file(
        [row(title="灭火器过期"), row(title="电线裸露", 类别="electrical", 等级="重大隐患")]
    )
    r = post(client, world.h.school_a, world, content)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["imported"] == 2
    with db.read() as session:
        hazards = session.exec(select(Hazard).order_by(col(Hazard.id))).all()
        assert [h.title for h in hazards] == ["灭火器过期", "电线裸露"]
        assert {h.school_id for h in hazards} == {world.org_id("school_a")}
        assert [h.code for h in hazards] == [body["first_code"], body["last_code"]]
        assert hazards[1].grade == "major"
        assert hazards[0].responsible_org_id == world.org_id("school_a")
        steps = session.exec(select(HazardEvent)).all()
        assert sorted(s.hazard_id for s in steps) == [h.id for h in hazards]
        assert all(s.action == "register" for s in steps)
        audits = session.exec(select(AuditLog).where(col(AuditLog.action) == "hazard.import")).all()
        assert len(audits) == 1
        assert audits[0].changes["count"] == 2
        events = session.exec(select(Event).where(col(Event.type) == "hazard.imported")).all()
        assert len(events) == 1


def test_office_imports_an_xlsx_naming_each_school(client: TestClient, world: World) -> None:
    content = xlsx_file([row(school="城关第一小学"), row(school="城关第二中学", title="围墙开裂")])
    r = post(client, world.h.office, world, content, "台账.xlsx")
    assert r.status_code == 201, r.text
    with db.read() as session:
        schools = session.exec(select(Hazard.school_id).order_by(col(Hazard.id))).all()
    assert schools == [world.org_id("school_a"), world.org_id("school_b")]


def test_a_bad_row_imports_nothing_and_is_reported(client: TestClient, world: World) -> None:
    content = csv_file([row(), row(title="", 类别="火灾"), row(发现日期="2026-13-40")])
    r = post(client, world.h.school_a, world, content)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "import.rows_invalid"
    found = {(e["row"], e["field"]) for e in body["rows"]}
    assert (3, "title") in found
    assert (3, "category") in found
    assert (4, "found_on") in found
    assert all(e["row"] != 2 for e in body["rows"])
    assert count(Hazard) == 0
    assert count(HazardEvent) == 0


def test_school_cannot_import_for_another_school(client: TestClient, world: World) -> None:
    r = post(client, world.h.school_a, world, csv_file([row(school="城关第二中学")]))
    assert r.status_code == 422
    assert r.json()["rows"][0]["field"] == "school"
    assert count(Hazard) == 0


def test_unknown_and_missing_columns_are_reported_on_row_1(
    client: TestClient, world: World
) -> None:
    r = post(client, world.h.office, world, csv_file([["x"]], header=["学校", "标题", "颜色"]))
    assert r.status_code == 422
    problems = {(e["row"], e["column"], e["code"]) for e in r.json()["rows"]}
    assert (1, "颜色", "unknown_column") in problems
    assert (1, "描述", "missing_column") in problems


def test_import_gates(client: TestClient, world: World) -> None:
    content = csv_file([row()])
    assert post(client, {}, world, content).status_code == 401
    assert post(client, world.h.edu, world, content).status_code == 403
    assert post(client, world.h.admin, world, content).status_code == 403
    no_campaign = client.post(URL, headers=world.h.school_a, files={"file": ("a.csv", content)})
    assert no_campaign.status_code == 422
    not_a_sheet = post(client, world.h.school_a, world, b"PK\x03\x04garbage", "a.xlsx")
    assert not_a_sheet.status_code == 415


def test_template_has_the_writable_headers(client: TestClient, world: World) -> None:
    r = client.get(f"{URL}/template.xlsx", headers=world.h.school_a)
    assert r.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(r.content))
    header = [c.value for c in workbook.worksheets[0][1]]
    assert header[:3] == ["学校", "范围", "类别"]
    assert "发现日期" in header
    assert client.get(f"{URL}/template.xlsx").status_code == 401
    assert client.get(f"{URL}/template.xlsx", headers=world.h.admin).status_code == 403


def test_an_exported_register_can_be_reimported(client: TestClient, world: World) -> None:
    assert post(client, world.h.school_a, world, csv_file([row()])).status_code == 201
    exported = client.get("/api/v1/exports/hazards.xlsx", headers=world.h.school_a).content
    r = post(client, world.h.school_a, world, exported, "hazards.xlsx")
    assert r.status_code == 201, r.text
    assert count(Hazard) == 2


def test_an_import_is_counted_in_the_overview(client: TestClient, world: World) -> None:
    content = csv_file(
        [
            row(title="灭火器过期"),
            row(title="楼梯扶手松动", 类别="校舍设施"),
            row(title="电线裸露", 类别="用电", 等级="重大隐患"),
        ]
    )
    assert post(client, world.h.school_a, world, content).status_code == 201
    overview = "/api/v1/stats/overview"
    counted = client.get(
        overview, params={"campaign_id": world.campaign_id}, headers=world.h.office
    ).json()["hazards"]
    assert counted["total"] == 3
    assert counted["by_status"]["reported"] == 3
    assert counted["by_grade"] == {"general": 2, "major": 1}
    assert {k: v for k, v in counted["by_category"].items() if v} == {
        "fire": 1,
        "building": 1,
        "electrical": 1,
    }
    # A date range forces the live query over the hazard table: the counters agree with it.
    live = client.get(
        overview,
        params={"campaign_id": world.campaign_id, "from": "2000-01-01", "to": "2100-01-01"},
        headers=world.h.office,
    ).json()["hazards"]
    assert live == counted


def test_a_large_import_issues_a_bounded_number_of_statements(
    client: TestClient, world: World
) -> None:
    rows = [row(title=f"隐患{i}", 类别="消防" if i % 2 else "交通") for i in range(2000)]
    content = csv_file(rows)
    statements: list[tuple[str, bool]] = []

    def count_statement(
        _conn: Any, _cursor: Any, sql: str, _params: Any, _ctx: Any, executemany: bool
    ) -> None:
        statements.append((sql, executemany))

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        r = post(client, world.h.school_a, world, content)
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
    assert r.status_code == 201, r.text
    assert r.json()["imported"] == 2000
    # Per-row inserts or per-row reads would show as thousands of statements.
    assert len(statements) <= 40, [sql for sql, _ in statements]
    hazard_inserts = [
        s for s in statements if s[0].replace('"', "").startswith("INSERT INTO hazard ")
    ]
    # SQLite: one executemany, PostgreSQL: one COPY, both on the driver's cursor with rows
    # made as it takes them, so no SQL event.
    assert hazard_inserts == []
    assert count(Hazard) == 2000
    assert count(HazardEvent) == 2000


def test_import_rows_follow_every_rule_of_hazard_create() -> None:
    # The import validates dicts against HazardCreate's fields and mirrors its validators:
    # a validator added to HazardCreate must be mirrored in the importer too.
    decorators = HazardCreate.__pydantic_decorators__
    names = set(decorators.field_validators) | set(decorators.model_validators)
    assert names <= MIRRORED_VALIDATORS, names - MIRRORED_VALIDATORS


def test_rows_breaking_model_rules_are_reported_like_a_post(
    client: TestClient, world: World
) -> None:
    content = csv_file(
        [
            row(),
            row(发现日期="2999-01-01"),
            row(场所类型="网吧"),
            row(范围="校园周边", 类别="周边场所"),
        ]
    )
    r = post(client, world.h.school_a, world, content)
    assert r.status_code == 422, r.text
    found = {(e["row"], e["field"], e["code"]) for e in r.json()["rows"]}
    assert found == {(3, "found_on", "value_error"), (4, "", "value_error"), (5, "", "value_error")}
    assert count(Hazard) == 0


def test_an_import_over_the_size_limit_is_413(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "max_import_bytes", 1000)
    r = post(client, world.h.school_a, world, csv_file([row()] * 20))
    assert r.status_code == 413
    assert count(Hazard) == 0


def test_a_code_block_crossing_a_million_gets_every_timeline_step(
    client: TestClient, world: World
) -> None:
    with db.write() as session:
        year = session.get(Campaign, world.campaign_id).year  # type: ignore[union-attr]
        session.add(HazardCodeCounter(year=year, last=999_998))
    content = csv_file([row(title=f"隐患{i}") for i in range(3)])
    r = post(client, world.h.school_a, world, content)
    assert r.status_code == 201, r.text
    assert (r.json()["first_code"], r.json()["last_code"]) == (
        f"YH-{year}-999999",
        f"YH-{year}-1000001",
    )
    with db.read() as session:
        ids = set(session.exec(select(col(Hazard.id))).all())
        steps = session.exec(select(HazardEvent.hazard_id)).all()
    assert len(steps) == 3
    assert set(steps) == ids


def test_a_csv_holding_control_characters_is_refused_whole(
    client: TestClient, world: World
) -> None:
    for bad in ("\x00", "\x01", "\x0b"):
        r = post(client, world.h.school_a, world, csv_file([row(), row(title=f"灭火器{bad}过期")]))
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "import.bad_file"
    assert count(Hazard) == 0


def test_values_every_row_shares_are_stored_as_given(client: TestClient, world: World) -> None:
    """A column whose cells are all alike is written into the SQLite statement once
    (`_sql_literal`): quotes in it, an empty column and the stamps arrive unchanged."""
    title = "O'Neil's \"fire\" 灭火器''"
    content = csv_file([row(title=title, 位置="", 来源="检查组检查")] * 3)
    r = post(client, world.h.school_a, world, content)
    assert r.status_code == 201, r.text
    with db.read() as session:
        hazards = session.exec(select(Hazard).order_by(col(Hazard.id))).all()
    assert len(hazards) == 3
    for hazard in hazards:
        assert hazard.title == title
        assert hazard.location is None
        assert hazard.source == "inspection_group"
        assert hazard.campaign_id == world.campaign_id
        assert hazard.school_id == hazard.responsible_org_id == world.org_id("school_a")
        assert hazard.status == "reported"
        assert hazard.version == 1
        assert hazard.supervised is False
        assert hazard.reported_at == hazard.updated_at == hazards[0].reported_at
        assert hazard.reported_by.startswith("user:")
    # Read back through the API as well: the same representation as any hazard.
    got = client.get(f"/api/v1/hazards/{hazards[0].id}", headers=world.h.school_a).json()
    assert got["title"] == title
    assert got["source"] == "inspection_group"


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (None, "NULL"),
        (True, "1"),
        (7, "7"),
        (-1.5, "-1.5"),
        (float("nan"), None),
        ("it's", "'it''s'"),
        ("a\x00b", None),
        (b"raw", None),
    ],
)
def test_sql_literal(value: Any, literal: str | None) -> None:
    assert _sql_literal(value) == literal
