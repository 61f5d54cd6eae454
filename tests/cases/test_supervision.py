"""Listed supervision (挂牌督办): listing, extending, delisting, progress reports, and the
derived overdue flag."""

from datetime import timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient

from app.core.time import now, today
from tests.cases.helpers import (
    API,
    act,
    advance,
    audit_rows,
    case_events,
    file_case,
    other_police_headers,
    service_headers,
    supervise,
    supervision_body,
    weisheng_headers,
)
from tests.conftest import World


def _url(case_id: int, tail: str) -> str:
    return f"{API}/{case_id}/{tail}"


def test_office_lists_an_unsolved_case(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    body = supervise(client, world, case["id"])
    sup = body["supervision"]
    assert body["supervised"] is True
    assert sup["active"] is True
    assert sup["supervising_org_id"] == world.org_id("office")
    assert sup["notice_no"] == "区综治督〔2026〕3号"
    assert sup["next_report_due"] == (today() + timedelta(days=7)).isoformat()
    assert sup["overdue"] is False
    (event,) = [e for e in case_events(case["id"]) if e.type == "case.supervised"]
    assert event.audience == "cases"
    assert event.payload["level"] == "district"
    assert len(audit_rows("case.supervise", case["id"])) == 1


def test_oversight_may_list_with_its_own_org(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    body = supervise(client, world, case["id"], who="jiancha", level="city")
    assert body["supervision"]["supervising_org_id"] == world.org_id("jiancha")
    assert body["supervision"]["level"] == "city"


def test_only_office_or_oversight_may_list(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    url = _url(case["id"], "supervision")
    for headers in (
        world.h.police,
        world.h.school_a,
        world.h.edu,
        weisheng_headers(world),
        service_headers("cases:read"),
    ):
        assert client.post(url, json=supervision_body(), headers=headers).status_code == 403
    assert client.post(url, json=supervision_body()).status_code == 401
    r = client.post(_url(999_999, "supervision"), json=supervision_body(), headers=world.h.office)
    assert r.status_code == 404


@pytest.mark.parametrize(
    "override",
    [
        {"level": "county"},
        {"notice_no": ""},
        {"report_interval_days": 0},
        {"report_interval_days": 91},
        {"supervising_org_id": 0},
        {"solve_deadline": "not-a-date"},
    ],
)
def test_listing_validates_input(
    client: TestClient, world: World, override: dict[str, object]
) -> None:
    case = file_case(client, world)
    r = client.post(
        _url(case["id"], "supervision"), json=supervision_body(**override), headers=world.h.office
    )
    assert r.status_code == 422, r.text


def test_listing_refuses_a_past_deadline_and_a_school_as_supervisor(
    client: TestClient, world: World
) -> None:
    case = file_case(client, world)
    url = _url(case["id"], "supervision")
    past = (today() - timedelta(days=1)).isoformat()
    r = client.post(url, json=supervision_body(solve_deadline=past), headers=world.h.office)
    assert r.json()["code"] == "case.deadline_in_past"
    r = client.post(
        url,
        json=supervision_body(supervising_org_id=world.org_id("school_a")),
        headers=world.h.office,
    )
    assert r.json()["code"] == "case.bad_supervising_org"


def test_a_solved_case_cannot_be_listed(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    advance(client, world, case["id"], "solved")
    r = client.post(
        _url(case["id"], "supervision"), json=supervision_body(), headers=world.h.office
    )
    assert r.status_code == 409
    assert r.json()["code"] == "case.not_unsolved"


def test_a_case_is_listed_once(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    supervise(client, world, case["id"])
    r = client.post(
        _url(case["id"], "supervision"), json=supervision_body(), headers=world.h.office
    )
    assert r.status_code == 409
    assert r.json()["code"] == "case.already_supervised"


# ---------------------------------------------------------------------------------------------
# Extension


def test_extension_moves_the_deadline_and_keeps_the_reason(
    client: TestClient, world: World
) -> None:
    case = file_case(client, world)
    listed = supervise(client, world, case["id"])
    later = (today() + timedelta(days=40)).isoformat()
    r = client.post(
        _url(case["id"], "supervision/extend"),
        json={"solve_deadline": later, "reason": "嫌疑人外逃,需异地协查"},
        headers=world.h.jiancha,
    )
    assert r.status_code == 200, r.text
    assert r.json()["supervision"]["solve_deadline"] == later
    assert r.json()["solve_deadline"] == later
    timeline = client.get(_url(case["id"], "events"), headers=world.h.office).json()["items"]
    extension = timeline[-1]
    assert extension["action"] == "extend"
    assert extension["comment"] == "嫌疑人外逃,需异地协查"
    assert extension["data"] == {"from": listed["supervision"]["solve_deadline"], "to": later}


def test_extension_must_be_later_and_needs_a_reason(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    listed = supervise(client, world, case["id"])
    url = _url(case["id"], "supervision/extend")
    current = listed["supervision"]["solve_deadline"]
    r = client.post(url, json={"solve_deadline": current, "reason": "x"}, headers=world.h.office)
    assert r.status_code == 422
    assert r.json()["code"] == "case.deadline_not_later"
    later = (today() + timedelta(days=40)).isoformat()
    assert (
        client.post(url, json={"solve_deadline": later}, headers=world.h.office).status_code == 422
    )
    assert (
        client.post(
            url, json={"solve_deadline": later, "reason": "x"}, headers=world.h.police
        ).status_code
        == 403
    )
    assert client.post(url, json={"solve_deadline": later, "reason": "x"}).status_code == 401


def test_extension_of_an_unsupervised_or_solved_case_is_refused(
    client: TestClient, world: World
) -> None:
    plain = file_case(client, world)
    later = (today() + timedelta(days=40)).isoformat()
    body = {"solve_deadline": later, "reason": "x"}
    r = client.post(_url(plain["id"], "supervision/extend"), json=body, headers=world.h.office)
    assert r.status_code == 409
    assert r.json()["code"] == "case.not_supervised"
    listed = file_case(client, world)
    supervise(client, world, listed["id"])
    advance(client, world, listed["id"], "solved")
    r = client.post(_url(listed["id"], "supervision/extend"), json=body, headers=world.h.office)
    assert r.status_code == 409
    r = client.post(_url(999_999, "supervision/extend"), json=body, headers=world.h.office)
    assert r.status_code == 404


# ---------------------------------------------------------------------------------------------
# Delisting


def test_delisting_only_after_the_case_is_solved(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    supervise(client, world, case["id"])
    url = _url(case["id"], "supervision/delist")
    r = client.post(url, json={"reason": "早了"}, headers=world.h.office)
    assert r.status_code == 409
    assert r.json()["code"] == "case.not_solved"
    advance(client, world, case["id"], "solved")
    r = client.post(url, json={"reason": "案件已侦破"}, headers=world.h.office)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["supervised"] is False
    assert body["supervision"]["active"] is False
    assert body["supervision"]["delist_reason"] == "案件已侦破"
    assert [e.type for e in case_events(case["id"])][-1] == "case.delisted"
    # Delisting twice: nothing left to delist.
    assert client.post(url, json={}, headers=world.h.office).status_code == 409


def test_delisting_gates(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    supervise(client, world, case["id"])
    advance(client, world, case["id"], "solved")
    url = _url(case["id"], "supervision/delist")
    assert client.post(url, json={}, headers=world.h.police).status_code == 403
    assert client.post(url, json={}, headers=world.h.school_a).status_code == 403
    assert client.post(url, json={}).status_code == 401
    assert client.post(url, json={"reason": "x" * 2001}, headers=world.h.office).status_code == 422
    r = client.post(_url(999_999, "supervision/delist"), json={}, headers=world.h.office)
    assert r.status_code == 404


# ---------------------------------------------------------------------------------------------
# Progress reports and overdue


def test_police_report_progress_on_a_supervised_case(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    supervise(client, world, case["id"], report_interval_days=5)
    r = client.post(
        _url(case["id"], "progress"), json={"text": "已锁定嫌疑人"}, headers=world.h.police
    )
    assert r.status_code == 201, r.text
    assert r.json()["text"] == "已锁定嫌疑人"
    listed = client.get(_url(case["id"], "progress"), headers=world.h.office)
    assert [p["text"] for p in listed.json()["items"]] == ["已锁定嫌疑人"]
    detail = client.get(f"{API}/{case['id']}", headers=world.h.office).json()
    assert detail["supervision"]["last_report_at"] is not None
    assert detail["supervision"]["next_report_due"] == (today() + timedelta(days=5)).isoformat()


def test_progress_needs_supervision_and_the_handling_police(
    client: TestClient, world: World
) -> None:
    case = file_case(client, world)
    url = _url(case["id"], "progress")
    r = client.post(url, json={"text": "进展"}, headers=world.h.police)
    assert r.status_code == 409
    assert r.json()["code"] == "case.not_supervised"
    supervise(client, world, case["id"])
    assert client.post(url, json={"text": "进展"}, headers=world.h.office).status_code == 403
    assert client.post(url, json={"text": "进展"}, headers=world.h.jiancha).status_code == 403
    assert client.post(url, json={"text": "进展"}).status_code == 401
    assert client.post(url, json={"text": ""}, headers=world.h.police).status_code == 422
    r = client.post(url, json={"text": "进展"}, headers=other_police_headers(world))
    assert r.status_code == 404


def test_progress_list_gates(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    supervise(client, world, case["id"])
    url = _url(case["id"], "progress")
    assert client.get(url).status_code == 401
    assert client.get(url, headers=world.h.school_a).status_code == 403
    assert client.get(url, headers=weisheng_headers(world)).status_code == 404
    assert client.get(f"{url}?limit=101", headers=world.h.police).status_code == 422


def _overdue_ids(client: TestClient, headers: dict[str, str], flag: bool) -> list[int]:
    r = client.get(f"{API}?overdue={str(flag).lower()}", headers=headers)
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


def test_a_missed_progress_report_makes_supervision_overdue(
    client: TestClient, world: World
) -> None:
    case = file_case(client, world)
    quiet = file_case(client, world)
    supervise(client, world, case["id"], report_interval_days=7)
    with time_machine.travel(now() + timedelta(days=8)):
        office = world.h.office
        detail = client.get(f"{API}/{case['id']}", headers=office).json()
        assert detail["overdue"] is True
        assert detail["supervision"]["overdue_reasons"] == ["progress_report_missed"]
        assert _overdue_ids(client, office, True) == [case["id"]]
        assert _overdue_ids(client, office, False) == [quiet["id"]]
        r = client.post(_url(case["id"], "progress"), json={"text": "进展"}, headers=world.h.police)
        assert r.status_code == 201
        assert _overdue_ids(client, office, True) == []


def test_passing_the_deadline_unsolved_is_overdue_until_solved(
    client: TestClient, world: World
) -> None:
    case = file_case(client, world)
    deadline = today() + timedelta(days=3)
    supervise(
        client, world, case["id"], solve_deadline=deadline.isoformat(), report_interval_days=30
    )
    with time_machine.travel(now() + timedelta(days=3)):
        assert _overdue_ids(client, world.h.office, True) == []
    with time_machine.travel(now() + timedelta(days=5)):
        detail = client.get(f"{API}/{case['id']}", headers=world.h.office).json()
        assert detail["supervision"]["overdue_reasons"] == ["solve_deadline_passed"]
        assert _overdue_ids(client, world.h.office, True) == [case["id"]]
        advance(client, world, case["id"], "solved")
        assert _overdue_ids(client, world.h.office, True) == []


def test_supervised_filter(client: TestClient, world: World) -> None:
    listed = file_case(client, world)
    plain = file_case(client, world)
    supervise(client, world, listed["id"])
    r = client.get(f"{API}?supervised=true", headers=world.h.police)
    assert [c["id"] for c in r.json()["items"]] == [listed["id"]]
    r = client.get(f"{API}?supervised=false", headers=world.h.police)
    assert [c["id"] for c in r.json()["items"]] == [plain["id"]]
    assert client.get(f"{API}?supervised=maybe", headers=world.h.police).status_code == 422


def test_the_office_transition_of_a_listed_case_is_still_refused(
    client: TestClient, world: World
) -> None:
    """Supervising a case gives the office no right to move it: that stays with the police."""
    case = file_case(client, world)
    supervise(client, world, case["id"])
    assert act(client, world.h.office, case["id"], "start-investigation").status_code == 403
