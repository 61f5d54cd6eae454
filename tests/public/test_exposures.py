"""Public exposure (公开曝光) of typical cases and the unauthenticated board."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app.public import service as board
from app.public.board import BoardCursor, BoardEntry, ExposureSource
from tests.cases.helpers import (
    API,
    VICTIM,
    advance,
    audit_rows,
    case_events,
    file_case,
    weisheng_headers,
)
from tests.conftest import World

BOARD = "/api/v1/public/exposures"
TITLE = "某小学门口持械滋扰学生案"
SUMMARY = "2026年11月,一男子在某小学门口持械滋扰学生,公安机关迅速侦破,嫌疑人已被依法逮捕。"


def _solved_case(client: TestClient, world: World) -> dict[str, object]:
    case = file_case(client, world)
    return advance(client, world, int(case["id"]), "solved")


def _expose(
    client: TestClient, world: World, case_id: object, title: str = TITLE, summary: str = SUMMARY
) -> object:
    return client.post(
        f"{API}/{case_id}/expose", json={"title": title, "summary": summary}, headers=world.h.office
    )


def test_office_exposes_a_solved_case_and_the_board_shows_only_the_sanitized_text(
    client: TestClient, world: World
) -> None:
    case = _solved_case(client, world)
    r = _expose(client, world, case["id"])
    assert r.status_code == 201, r.text
    assert r.json()["exposed"] is True
    board_r = client.get(BOARD)
    assert board_r.status_code == 200
    (item,) = board_r.json()["items"]
    assert set(item) == {
        "source",
        "id",
        "title",
        "summary",
        "category",
        "category_label",
        "published_on",
    }
    assert item["source"] == "case"
    assert item["title"] == TITLE
    assert item["summary"] == SUMMARY
    assert item["category"] == "campus_intrusion"
    assert item["category_label"] == "侵害校园"
    for secret in (*VICTIM.values(), case["code"], "城关第一小学", "东门外"):
        if isinstance(secret, str):
            assert secret not in board_r.text
        else:  # a number (the age) would match inside any date: compare values instead
            assert secret not in item.values()
    (event,) = [e for e in case_events(int(case["id"])) if e.type == "case.exposed"]
    assert event.audience == "cases"
    assert VICTIM["name"] not in str(event.payload)
    assert len(audit_rows("case.expose", int(case["id"]))) == 1


def test_board_labels_follow_accept_language(client: TestClient, world: World) -> None:
    case = _solved_case(client, world)
    _expose(client, world, case["id"])
    (item,) = client.get(BOARD, headers={"Accept-Language": "en"}).json()["items"]
    assert item["category_label"] == "Campus intrusion"


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        (TITLE, "受害学生张小明左臂受伤。"),
        ("张小明被滋扰案", SUMMARY),
        (TITLE, "受害人身份证号110101201501011234。"),
        (TITLE, "家长电话13800001111。"),
        (TITLE, "家长电话 138-0000-1111。"),
        (TITLE, "家长电话１３８００００１１１１。"),  # full-width digits
        (TITLE, "嫌疑人身份证号 61010119800101123X。"),  # anyone's ID number
        (TITLE, "旧式身份证号610101800101123。"),  # 15 digits
        (TITLE, "举报人手机 15912345678。"),  # anyone's mobile
    ],
)
def test_exposure_with_personal_data_is_refused(
    client: TestClient, world: World, title: str, summary: str
) -> None:
    case = _solved_case(client, world)
    r = _expose(client, world, case["id"], title, summary)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "case.exposure_has_personal_data"
    assert VICTIM["name"] not in r.text
    assert {e["field"] for e in body["errors"]} <= {"body.title", "body.summary"}
    assert client.get(BOARD).json()["items"] == []
    after = client.get(f"{API}/{case['id']}", headers=world.h.office).json()
    assert after["exposed"] is False
    assert after["version"] == case["version"]


def test_ordinary_numbers_are_not_mistaken_for_personal_data(
    client: TestClient, world: World
) -> None:
    case = _solved_case(client, world)
    text = "2026年11月25日7时40分,3名学生受到惊吓,案件于48小时内告破,涉案金额12000元。"
    assert _expose(client, world, case["id"], summary=text).status_code == 201


def test_an_unsolved_case_cannot_be_exposed(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    r = _expose(client, world, case["id"])
    assert r.status_code == 409
    assert r.json()["code"] == "case.not_solved"


def test_a_case_is_exposed_once_at_a_time(client: TestClient, world: World) -> None:
    case = _solved_case(client, world)
    _expose(client, world, case["id"])
    r = _expose(client, world, case["id"])
    assert r.status_code == 409
    assert r.json()["code"] == "case.already_exposed"


def test_only_the_office_exposes(client: TestClient, world: World) -> None:
    case = _solved_case(client, world)
    url = f"{API}/{case['id']}/expose"
    body = {"title": TITLE, "summary": SUMMARY}
    for headers in (world.h.police, world.h.jiancha, world.h.school_a, weisheng_headers(world)):
        assert client.post(url, json=body, headers=headers).status_code == 403
    assert client.post(url, json=body).status_code == 401
    assert client.post(f"{API}/999999/expose", json=body, headers=world.h.office).status_code == 404
    for bad in ({"title": "", "summary": SUMMARY}, {"title": "x" * 101, "summary": SUMMARY}, {}):
        assert client.post(url, json=bad, headers=world.h.office).status_code == 422


def test_withdrawn_exposures_leave_the_board(client: TestClient, world: World) -> None:
    case = _solved_case(client, world)
    _expose(client, world, case["id"])
    url = f"{API}/{case['id']}/expose/withdraw"
    r = client.post(url, json={"reason": "已完成警示教育"}, headers=world.h.office)
    assert r.status_code == 200, r.text
    assert r.json()["exposed"] is False
    assert client.get(BOARD).json()["items"] == []
    assert client.post(url, json={}, headers=world.h.office).status_code == 409
    # Withdrawn, it may be exposed again.
    assert _expose(client, world, case["id"]).status_code == 201
    assert len(client.get(BOARD).json()["items"]) == 1


def test_withdraw_gates(client: TestClient, world: World) -> None:
    case = _solved_case(client, world)
    _expose(client, world, case["id"])
    url = f"{API}/{case['id']}/expose/withdraw"
    assert client.post(url, json={}, headers=world.h.police).status_code == 403
    assert client.post(url, json={}).status_code == 401
    assert client.post(url, json={"reason": "x" * 2001}, headers=world.h.office).status_code == 422
    r = client.post(f"{API}/999999/expose/withdraw", json={}, headers=world.h.office)
    assert r.status_code == 404


def test_board_pages_newest_first(client: TestClient, world: World) -> None:
    ids = []
    for n in range(5):
        case = _solved_case(client, world)
        r = _expose(client, world, case["id"], title=f"典型案例{n}")
        assert r.status_code == 201
        ids.append(n)
    titles: list[str] = []
    cursor = None
    while True:
        r = client.get(BOARD, params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        titles += [i["title"] for i in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert titles == [f"典型案例{n}" for n in reversed(ids)]


def test_board_refuses_bad_cursors_and_limits(client: TestClient) -> None:
    for params in ({"cursor": "garbage"}, {"cursor": "WzEsMl0"}, {"limit": 0}, {"limit": 101}):
        assert client.get(BOARD, params=params).status_code == 422, params


# ---------------------------------------------------------------------------------------------
# The board is a union: a second source merges in order, across pages.


@pytest.fixture
def second_source() -> Iterator[list[BoardEntry]]:
    entries: list[BoardEntry] = []

    def fetch(after: BoardCursor | None, limit: int, lang: str) -> list[BoardEntry]:
        def key(e: BoardEntry) -> tuple[datetime, str, int]:
            return (e.published_at, e.source.value, e.id)

        rows = sorted(entries, key=key, reverse=True)
        if after is not None:
            rows = [e for e in rows if key(e) < (after.published_at, after.source, after.id)]
        return rows[:limit]

    # Stand in for whatever the accountability source is, and put it back afterwards.
    previous = board.SOURCES.get(ExposureSource.accountability)
    board.SOURCES[ExposureSource.accountability] = fetch
    yield entries
    if previous is None:
        del board.SOURCES[ExposureSource.accountability]
    else:
        board.SOURCES[ExposureSource.accountability] = previous


def test_board_merges_another_source_in_date_order(
    client: TestClient, world: World, second_source: list[BoardEntry]
) -> None:
    case = _solved_case(client, world)
    _expose(client, world, case["id"])
    base = datetime.now(UTC)
    for n, hours in enumerate((-48, 48, -1)):
        second_source.append(
            BoardEntry(
                source=ExposureSource.accountability,
                id=n + 1,
                published_at=base + timedelta(hours=hours),
                title=f"问责{n + 1}",
                summary="某单位整改不力被通报。",
                category="notice",
                category_label="通报",
            )
        )
    seen: list[tuple[str, str]] = []
    cursor = None
    while True:
        r = client.get(BOARD, params={"limit": 1, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        seen += [(i["source"], i["title"]) for i in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [
        ("accountability", "问责2"),
        ("case", TITLE),
        ("accountability", "问责3"),
        ("accountability", "问责1"),
    ]
