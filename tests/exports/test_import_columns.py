"""The import checks a file column by column (`importer._validate`: each field's check runs
once over the distinct cells of its column) and words the errors of a refused row one row at
a time (`importer._check_row`, HazardCreate's fields as a TypedDict). These tests hold the
two ways to the same decisions and the same values, and the CSV splitter to the rows of the
csv module, on files built from cells that break each rule."""

import csv
import io
import random
from typing import Any

import pytest

from app.auth.principal import Principal
from app.core import db
from app.core.time import today
from app.exports import importer
from app.exports.register import WRITABLE
from tests.conftest import World

HEADER = [c.header for c in WRITABLE]

# Cells for each column: valid ones in every accepted spelling, and ones that break a rule.
CELLS: dict[str, list[str]] = {
    "学校": [
        "城关第一小学",
        " 城关第一小学 ",
        "城关第二中学",
        "不存在的学校",
        "",
        "阳光民办幼儿园",
    ],
    "范围": ["校园内", "campus", " CAMPUS ", "校园周边", "surroundings", "周边", ""],
    "类别": ["消防", "fire", "Fire", "周边场所", "surroundings_venue", "火灾", ""],
    "场所类型": ["", "", "网吧", "internet_cafe", "书摊", "歌厅"],
    "等级": ["一般隐患", "general", "重大隐患", "major", "严重", ""],
    "标题": ["灭火器过期", "  前后空格  ", "", "长" * 200, "长" * 201, "a\tb", "=1+1"],
    "描述": ["教学楼三楼灭火器已过期", "", "d" * 4000, "d" * 4001],
    "位置": ["", "教学楼", "l" * 200, "l" * 201],
    "纬度": ["", "", "34.2615", "91", "-90", "abc", " 34.26 ", "1e1", "nan", "inf"],
    "经度": ["", "", "108.9432", "181", "x", "-180"],
    "来源": ["学校自查", "self_inspection", "检查组", "", "?"],
    "发现日期": [
        "2026-11-25",
        "2026/11/5",
        "2026年11月5日",
        "46351",
        "46351.0",
        "2026-13-40",
        "",
        "2999-01-01",
        "abc",
        "0",
        today().isoformat(),
    ],
    "责任人": ["", "王老师", "x" * 50, "x" * 51],
    "联系电话": ["", "029-88881234", "abc", "12", "(029) 8888-1234"],
}


def principal(world: World, who: str) -> Principal:
    user = world.users[who]
    assert user.id is not None
    return Principal(kind="user", id=user.id, role=user.role, org_id=user.org_id)


def table_of(rows: list[list[str]]) -> importer.Table:
    return importer._table([(1, HEADER), *((i + 2, r) for i, r in enumerate(rows))])


BASE = {
    "学校": "城关第一小学",
    "范围": "校园内",
    "类别": "消防",
    "场所类型": "",
    "等级": "一般隐患",
    "标题": "灭火器过期",
    "描述": "教学楼三楼灭火器已过期",
    "位置": "",
    "纬度": "",
    "经度": "",
    "来源": "学校自查",
    "发现日期": "2026-11-25",
    "责任人": "",
    "联系电话": "",
}


def random_rows(seed: int, n: int) -> list[list[str]]:
    """Valid rows with up to three cells swapped for any cell of their column (a surroundings
    venue with coordinates needs three)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        row = dict(BASE)
        for column in rng.sample(HEADER, rng.choice([0, 1, 1, 2, 2, 3])):
            row[column] = rng.choice(CELLS[column])
        rows.append([row[h] for h in HEADER])
    return rows


def both_ways(
    world: World, who: str, rows: list[list[str]]
) -> tuple[Any, list[importer.RowError], list[importer.RowError], dict[int, dict[str, Any]]]:
    """(column path's rows, its errors, the row path's errors, the row path's valid values by
    row index)."""
    caller = principal(world, who)
    with db.read() as session:
        schools = importer._Schools.load(session, caller)
    table = table_of(rows)
    result, errors = importer._validate(caller, world.campaign_id, table, schools)
    layout = importer._layout(importer._header_map(HEADER)[0])
    expected: list[importer.RowError] = []
    valid: dict[int, dict[str, Any]] = {}
    for i, number in enumerate(table.numbers):
        cells = table.row(i)
        found = importer._check_row(
            caller, world.campaign_id, layout, schools, number, cells, today()
        )
        expected.extend(found)
        if not found:
            data = importer._ROW.validate_python(
                importer._row_values(world.campaign_id, layout, cells)
            )
            school, _ = schools.seen[cells[HEADER.index("学校")].strip()]
            assert school is not None
            valid[i] = {**data, "school_id": school.id}
    return result, errors, expected, valid


@pytest.mark.parametrize("who", ["office", "school_a"])
def test_the_column_checks_refuse_exactly_the_rows_the_row_checks_refuse(
    world: World, who: str
) -> None:
    rows = random_rows(seed=10, n=3000)
    result, errors, expected, valid = both_ways(world, who, rows)
    assert valid, "the cells should make some valid rows"
    assert expected, "the cells should make some invalid rows"
    assert errors == expected
    assert result.count == 0  # nothing is imported from a file with a bad row


@pytest.mark.parametrize("who", ["office", "school_a"])
def test_the_column_checks_give_the_row_checks_values(world: World, who: str) -> None:
    rows = random_rows(seed=11, n=4000)
    _, _, _, valid = both_ways(world, who, rows)
    accepted = [rows[i] for i in sorted(valid)]
    result, errors, expected, again = both_ways(world, who, accepted)
    assert errors == expected == []
    assert result.count == len(accepted) == len(again)
    for name in importer._FROM_ROW:
        assert result.values(name) == [again[i].get(name) for i in range(len(accepted))], name


def test_a_school_left_empty_is_the_importing_school(world: World) -> None:
    row = ["", "校园内", "消防", "", "一般隐患", "灭火器过期", "三楼", "", "", "", "学校自查"]
    row += ["2026-11-25", "", ""]
    result, errors, expected, _ = both_ways(world, "school_a", [row])
    assert errors == expected == []
    assert result.values("school_id") == [world.org_id("school_a")]
    result, errors, expected, _ = both_ways(world, "office", [row])
    assert [(e.field, e.code) for e in errors] == [("school", "missing")]
    assert errors == expected


def test_schools_are_found_by_name_or_code_in_any_case(world: World) -> None:
    with db.write() as session:
        school = session.get(type(world.orgs["school_b"]), world.org_id("school_b"))
        assert school is not None
        school.code = "CG-02"
    caller = principal(world, "office")
    with db.read() as session:
        schools = importer._Schools.load(session, caller)
    schools.resolve(caller, ["cg-02", "城关第二中学", "CG-02", "城关第三中学"])
    assert schools.seen["cg-02"][0] is not None
    assert schools.seen["cg-02"][0].id == world.org_id("school_b")  # type: ignore[union-attr]
    assert schools.seen["CG-02"][0].id == world.org_id("school_b")  # type: ignore[union-attr]
    assert schools.seen["城关第三中学"] == (None, ("unknown_school", "学校“城关第三中学”不存在"))


# ------------------------------------------------------------------------------------------
# CSV


def csv_module_table(text: str) -> importer.Table:
    return importer._table(importer._csv_rows(text))


def shape(table: importer.Table) -> tuple[list[str], list[int], list[list[str]]]:
    return table.header, list(table.numbers), [list(c) for c in table.columns]


@pytest.mark.parametrize("block", [2, importer._SPLIT_ROWS])
def test_splitting_a_csv_without_quotes_gives_the_csv_modules_rows(
    monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    """Also split two rows at a time, so most files cross a block's end."""
    monkeypatch.setattr(importer, "_SPLIT_ROWS", block)
    rng = random.Random(3)
    pieces = ["a", "学校", " ", "\u3000", "\t", ",", ",", "\r\n", "\n", "\r", "x y", "1.5"]
    split = 0
    for _ in range(3000):
        width = rng.randint(1, 4)
        lines = [
            ",".join(
                "".join(rng.choice(pieces[:6]) for _ in range(rng.randint(0, 3)))
                for _ in range(width)
            )
            for _ in range(rng.randint(1, 6))
        ]
        ends = [rng.choice(["\r\n", "\n", "\r"]) for _ in lines]
        text = "".join(line + end for line, end in zip(lines, ends, strict=True))
        if rng.random() < 0.3:
            text = text.rstrip("\r\n")
        fast = importer._split_table(text)
        if fast is None:
            continue
        split += 1
        assert shape(fast) == shape(csv_module_table(text)), repr(text)
    assert split > 1000  # most of these files take the fast path


def test_a_column_keeps_one_string_per_distinct_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "_SPLIT_ROWS", 2)
    text = "类别,标题\n" + "".join(f"消防,隐患{i}\n" for i in range(5))
    fast = importer._split_table(text)
    assert fast is not None
    category, title = fast.columns
    assert list(category) == ["消防"] * 5
    assert all(cell is category[0] for cell in category)  # across blocks too
    assert list(title) == [f"隐患{i}" for i in range(5)]


def test_a_csv_with_quotes_or_ragged_rows_is_read_by_the_csv_module() -> None:
    quoted = '学校,标题\n"城关,第一小学","灭火器\n过期"\n'
    assert importer._split_table(quoted) is None
    assert shape(csv_module_table(quoted)) == (
        ["学校", "标题"],
        [2],
        [["城关,第一小学"], ["灭火器\n过期"]],
    )
    ragged = "学校,标题\n城关第一小学\n城关第二中学,围墙,多余\n"
    assert importer._split_table(ragged) is None
    assert shape(csv_module_table(ragged)) == (
        ["学校", "标题"],
        [2, 3],
        [["城关第一小学", "城关第二中学"], ["", "围墙"]],
    )


def test_blank_lines_are_skipped_and_rows_keep_their_numbers() -> None:
    text = "学校,标题\n城关第一小学,a\n\n , \u3000\n城关第二中学,b\n"
    fast = importer._split_table(text)
    assert fast is not None
    assert shape(fast) == (
        ["学校", "标题"],
        [2, 5],
        [["城关第一小学", "城关第二中学"], ["a", "b"]],
    )
    assert shape(fast) == shape(csv_module_table(text))


def test_a_field_over_the_limit_is_refused_as_the_csv_module_refuses_it() -> None:
    text = "学校,标题\n城关第一小学," + "x" * (importer._FIELD_LIMIT + 1) + "\n"
    assert importer._split_table(text) is None
    with pytest.raises(importer.Invalid):
        csv_module_table(text)


def test_a_csv_with_a_quoted_comma_and_line_break_imports_the_cell_whole(
    client: Any, world: World
) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["学校", "范围", "类别", "等级", "标题", "描述", "来源", "发现日期"])
    writer.writerow(
        ["", "校园内", "消防", "一般隐患", "灭火器,过期", "三楼\n东侧", "学校自查", "2026-11-25"]
    )
    [hazard] = _import_csv(client, world, out.getvalue())
    assert (hazard.title, hazard.description) == ("灭火器,过期", "三楼\n东侧")


def _import_csv(client: Any, world: World, text: str) -> list[Any]:
    """Import `text` as school A's CSV; the stored hazards in id order."""
    from sqlmodel import col, select

    from app.hazards.models import Hazard

    r = client.post(
        "/api/v1/imports/hazards",
        headers=world.h.school_a,
        data={"campaign_id": str(world.campaign_id)},
        files={"file": ("a.csv", text.encode(), "text/csv")},
    )
    assert r.status_code == 201, r.text
    with db.read() as session:
        return list(session.exec(select(Hazard).order_by(col(Hazard.id))).all())


# ------------------------------------------------------------------------------------------
# What the rows become


def test_columns_filled_on_some_rows_only_are_stored_row_by_row(client: Any, world: World) -> None:
    header = ["范围", "类别", "场所类型", "等级", "标题", "描述", "纬度", "经度", "来源"]
    header += ["发现日期", "责任人"]
    rows = [
        ["校园周边", "周边场所", "网吧", "重大隐患", "网吧", "校门东侧网吧", "34.2615", "108.9432"],
        ["校园内", "消防", "", "一般隐患", "灭火器", "灭火器过期", "", ""],
        ["校园周边", "周边场所", "书摊", "一般隐患", "书摊", "无证书摊", "", ""],
    ]
    for row, person in zip(rows, ["王老师", "", ""], strict=True):
        row += ["学校自查", "2026-11-25", person]
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    hazards = _import_csv(client, world, out.getvalue())
    cafe, extinguisher, stall = hazards
    assert (cafe.lat, cafe.lng, cafe.responsible_person) == (34.2615, 108.9432, "王老师")
    assert cafe.distance_m is not None
    assert 100 < cafe.distance_m < 150
    assert cafe.venue_unlawful is True  # an internet café within 200 m of a primary school
    assert (cafe.venue_type, stall.venue_type, extinguisher.venue_type) == (
        "internet_cafe",
        "book_stall",
        None,
    )
    for hazard in (extinguisher, stall):
        assert (hazard.lat, hazard.lng, hazard.distance_m, hazard.venue_unlawful) == (
            None,
            None,
            None,
            None,
        )
        assert hazard.responsible_person is None
    assert [h.code for h in hazards] == sorted(h.code for h in hazards)


def test_a_gb18030_csv_is_read_and_its_control_bytes_checked(client: Any, world: World) -> None:
    """Excel on a Chinese Windows saves "CSV" as GB18030: no byte of a multi-byte character
    is below 0x20, so the control-character check on the raw bytes holds for it too."""
    header = "学校,范围,类别,等级,标题,描述,来源,发现日期\n"
    line = ",校园内,消防,一般隐患,灭火器过期,教学楼三楼,学校自查,2026-11-25\n"

    def post(content: bytes) -> Any:
        return client.post(
            "/api/v1/imports/hazards",
            headers=world.h.school_a,
            data={"campaign_id": str(world.campaign_id)},
            files={"file": ("a.csv", content, "text/csv")},
        )

    encoded = (header + line).encode("gb18030")
    assert min(encoded[len(header.encode("gb18030")) :].rstrip(b"\n")) >= 0x20
    r = post(encoded)
    assert r.status_code == 201, r.text
    r = post((header + line.replace("灭火器", "灭火\x1f器")).encode("gb18030"))
    assert r.status_code == 422
    assert r.json()["code"] == "import.bad_file"
