from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient

from app.campaigns.models import CampaignStatus
from tests.conftest import World, make_campaign, make_hazard
from tests.stats.dataset import TODAY, build

URL = "/api/v1/accountability"
BOARD = "/api/v1/public/exposures"


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


def _body(world: World, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "campaign_id": world.campaign_id,
        "target_org_id": world.org_id("chengjian"),
        "target_person": "王某",
        "kind": "exposure",
        "reason": "挂牌督办的重大隐患逾期未整改,且未申请延期。",
        "decided_on": "2026-12-04",
        "public": True,
        "public_summary": "城建局对校园周边隐患整改不力,逾期未完成,予以通报曝光。",
    }
    body.update(over)
    return body


def _record(client: TestClient, world: World, who: str = "office", **over: Any) -> dict[str, Any]:
    response = client.post(URL, json=_body(world, **over), headers=world.headers(who))
    assert response.status_code == 201, response.text
    return response.json()


def _board(client: TestClient) -> list[dict[str, Any]]:
    response = client.get(BOARD)
    assert response.status_code == 200
    return [i for i in response.json()["items"] if i["source"] == "accountability"]


def test_public_record_appears_on_the_board_with_only_sanitised_fields(
    client: TestClient, world: World, frozen: None
) -> None:
    record = _record(client, world)
    assert record["public"] is True
    assert record["decided_by"] == f"user:{world.users['office'].id}"
    items = _board(client)
    assert items == [
        {
            "source": "accountability",
            "id": record["id"],
            "title": "城建局",
            "summary": "城建局对校园周边隐患整改不力,逾期未完成,予以通报曝光。",
            "category": "exposure",
            "category_label": "曝光",
            "published_on": "2026-12-05",
        }
    ]


def test_private_record_stays_off_the_board(client: TestClient, world: World, frozen: None) -> None:
    _record(client, world, public=False, public_summary=None, kind="notice")
    assert _board(client) == []


def test_withdrawn_record_leaves_the_board(client: TestClient, world: World, frozen: None) -> None:
    record = _record(client, world)
    response = client.post(
        f"{URL}/{record['id']}/withdraw",
        json={"reason": "经复核,该局已按期申请延期。"},
        headers={**world.h.office, "If-Match": f'"v{record["version"]}"'},
    )
    assert response.status_code == 200, response.text
    assert response.json()["withdrawn_at"] is not None
    assert response.headers["ETag"] == '"v2"'
    assert _board(client) == []
    again = client.post(
        f"{URL}/{record['id']}/withdraw", json={"reason": "再次"}, headers=world.h.office
    )
    assert again.status_code == 409


def test_withdraw_with_stale_etag_is_412(client: TestClient, world: World, frozen: None) -> None:
    record = _record(client, world)
    response = client.post(
        f"{URL}/{record['id']}/withdraw",
        json={"reason": "复核"},
        headers={**world.h.office, "If-Match": '"v9"'},
    )
    assert response.status_code == 412


def test_oversight_user_may_record(client: TestClient, world: World, frozen: None) -> None:
    record = _record(client, world, who="jiancha", kind="accountability")
    assert record["kind"] == "accountability"


@pytest.mark.parametrize(
    "summary",
    ["联系人电话13812345678", "身份证号110101200901011234", "手机 138-1234-5678"],
)
def test_public_summary_with_personal_data_is_refused(
    client: TestClient, world: World, frozen: None, summary: str
) -> None:
    response = client.post(URL, json=_body(world, public_summary=summary), headers=world.h.office)
    assert response.status_code == 422
    assert response.json()["code"] == "accountability.public_summary_has_personal_data"


def test_public_record_needs_a_summary(client: TestClient, world: World) -> None:
    response = client.post(URL, json=_body(world, public_summary=None), headers=world.h.office)
    assert response.status_code == 422


def test_bad_input_is_422(client: TestClient, world: World, frozen: None) -> None:
    h = world.h.office
    assert client.post(URL, json=_body(world, kind="fine"), headers=h).status_code == 422
    assert client.post(URL, json=_body(world, reason="x" * 4001), headers=h).status_code == 422
    assert client.post(URL, json=_body(world, extra=1), headers=h).status_code == 422
    assert client.post(URL, json=_body(world, target_org_id=999999), headers=h).status_code == 422
    future = client.post(URL, json=_body(world, decided_on="2026-12-06"), headers=h)
    assert future.status_code == 422


def test_linked_hazard_must_be_in_the_campaign(
    client: TestClient, world: World, frozen: None
) -> None:
    other = make_campaign(name="另一行动")
    elsewhere = make_hazard(other, world.orgs["school_a"])
    here = build(world)[6]
    bad = client.post(URL, json=_body(world, hazard_ids=[elsewhere.id]), headers=world.h.office)
    assert bad.status_code == 422
    good = _record(client, world, hazard_ids=[here.id])
    assert good["hazard_ids"] == [here.id]


def test_department_and_school_may_not_record(client: TestClient, world: World) -> None:
    for who in ("chengjian", "school_a", "police"):
        response = client.post(URL, json=_body(world), headers=world.headers(who))
        assert response.status_code == 403, who


def test_closed_campaign_refuses_records(client: TestClient, world: World, frozen: None) -> None:
    closed = make_campaign(status=CampaignStatus.closed, name="已结束行动")
    response = client.post(URL, json=_body(world, campaign_id=closed.id), headers=world.h.office)
    assert response.status_code == 409


def test_target_org_sees_its_records_without_links(
    client: TestClient, world: World, frozen: None
) -> None:
    hazard = build(world)[6]
    record = _record(client, world, hazard_ids=[hazard.id], public=False, public_summary=None)
    _record(client, world, target_org_id=world.org_id("edu"), public=False, public_summary=None)
    mine = client.get(URL, headers=world.h.chengjian).json()["items"]
    assert [r["id"] for r in mine] == [record["id"]]
    assert mine[0]["hazard_ids"] is None
    one = client.get(f"{URL}/{record['id']}", headers=world.h.chengjian)
    assert one.status_code == 200
    assert one.headers["ETag"] == '"v1"'
    assert client.get(f"{URL}/{record['id']}", headers=world.h.edu).status_code == 404
    assert client.get(f"{URL}/{record['id']}", headers=world.h.school_a).status_code == 404
    office = client.get(f"{URL}/{record['id']}", headers=world.h.office).json()
    assert office["hazard_ids"] == [hazard.id]


def test_list_filters_and_pages(client: TestClient, world: World, frozen: None) -> None:
    ids = [_record(client, world, kind=k)["id"] for k in ("notice", "exposure", "notice")]
    page = client.get(URL, params={"limit": 2}, headers=world.h.office).json()
    assert [r["id"] for r in page["items"]] == [ids[2], ids[1]]
    rest = client.get(
        URL, params={"limit": 2, "cursor": page["next_cursor"]}, headers=world.h.office
    )
    assert [r["id"] for r in rest.json()["items"]] == [ids[0]]
    notices = client.get(URL, params={"kind": "notice"}, headers=world.h.office).json()["items"]
    assert {r["id"] for r in notices} == {ids[0], ids[2]}
    assert client.get(URL, params={"limit": 101}, headers=world.h.office).status_code == 422


def test_department_may_not_withdraw(client: TestClient, world: World, frozen: None) -> None:
    record = _record(client, world)
    response = client.post(
        f"{URL}/{record['id']}/withdraw", json={"reason": "x"}, headers=world.h.chengjian
    )
    assert response.status_code == 403


def test_withdraw_unknown_record_is_404(client: TestClient, world: World) -> None:
    response = client.post(f"{URL}/99999/withdraw", json={"reason": "x"}, headers=world.h.office)
    assert response.status_code == 404
    assert client.post(f"{URL}/1/withdraw", json={}, headers=world.h.office).status_code == 422


def test_every_route_needs_authentication(client: TestClient, world: World) -> None:
    assert client.post(URL, json=_body(world)).status_code == 401
    assert client.get(URL).status_code == 401
    assert client.get(f"{URL}/1").status_code == 401
    assert client.post(f"{URL}/1/withdraw", json={"reason": "x"}).status_code == 401
    assert client.get(f"{URL}/candidates", params={"campaign_id": 1}).status_code == 401


def test_candidates_rank_orgs_by_overdue_items(
    client: TestClient, world: World, frozen: None
) -> None:
    build(world)  # overdue: hazard 3 (school_a fixes it), hazard 7 (城建局)
    make_hazard(
        world.campaign,  # type: ignore[arg-type]
        world.orgs["school_b"],
        responsible=world.orgs["chengjian"],
        status="rejected",
        deadline=date(2026, 12, 1),
    )
    response = client.get(
        f"{URL}/candidates", params={"campaign_id": world.campaign_id}, headers=world.h.jiancha
    )
    assert response.status_code == 200, response.text
    rows = response.json()
    assert [(r["org_name"], r["overdue_hazards"], r["total"]) for r in rows] == [
        ("城建局", 2, 2),
        ("城关第一小学", 1, 1),
    ]
    strict = client.get(
        f"{URL}/candidates",
        params={"campaign_id": world.campaign_id, "min_overdue": 2},
        headers=world.h.office,
    ).json()
    assert [r["org_name"] for r in strict] == ["城建局"]


def test_candidates_gate_and_validation(client: TestClient, world: World) -> None:
    params = {"campaign_id": world.campaign_id}
    assert client.get(f"{URL}/candidates", params=params, headers=world.h.edu).status_code == 403
    assert client.get(f"{URL}/candidates", headers=world.h.office).status_code == 422
    bad = {**params, "min_overdue": 0}
    assert client.get(f"{URL}/candidates", params=bad, headers=world.h.office).status_code == 422
