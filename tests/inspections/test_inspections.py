from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.audit.models import AuditLog
from app.campaigns.models import CampaignStatus
from app.core import db
from app.core.time import today
from app.hazards.models import Hazard
from tests.attachments.samples import PNG, add_hazard
from tests.conftest import World, make_campaign
from tests.tasks.helpers import service_headers

API = "/api/v1/inspections"


def body(world: World, school: str = "school_a", **over: Any) -> dict[str, Any]:
    return {
        "campaign_id": world.campaign_id,
        "kind": "inspection_group",
        "school_id": world.org_id(school),
        "inspected_on": today().isoformat(),
        "inspectors": "张明、李华",
        "findings": "教学楼三楼灭火器过期。",
        "result": "issues_found",
        **over,
    }


def record(client: TestClient, world: World, who: str = "inspector", **over: Any) -> dict[str, Any]:
    r = client.post(API, json=body(world, **over), headers=world.headers(who))
    assert r.status_code == 201, r.text
    return r.json()


def link(
    client: TestClient, world: World, inspection_id: int, ids: list[int], who: str = "inspector"
) -> Any:
    return client.post(
        f"{API}/{inspection_id}/hazards", json={"hazard_ids": ids}, headers=world.headers(who)
    )


def test_inspection_group_links_the_hazards_it_registered_both_ways(
    client: TestClient, world: World
) -> None:
    inspection = record(client, world)
    assert inspection["hazard_ids"] == []
    assert inspection["inspector_org_id"] == world.org_id("edu")
    registered = client.post(
        "/api/v1/hazards",
        json={
            "campaign_id": world.campaign_id,
            "school_id": world.org_id("school_a"),
            "scope": "campus",
            "category": "fire",
            "grade": "general",
            "title": "灭火器过期",
            "description": "教学楼三楼灭火器已过期。",
            "source": "inspection_group",
            "found_on": today().isoformat(),
        },
        headers=world.h.inspector,
    )
    assert registered.status_code == 201, registered.text
    hazard_id = registered.json()["id"]
    r = link(client, world, inspection["id"], [hazard_id])
    assert r.status_code == 200, r.text
    assert r.json()["hazard_ids"] == [hazard_id]
    assert r.headers["ETag"] == '"v2"'
    # Both ways: the hazard points at the inspection, the inspection lists the hazard.
    hazard = client.get(f"/api/v1/hazards/{hazard_id}", headers=world.h.school_a).json()
    assert hazard["inspection_id"] == inspection["id"]
    seen_by_school = client.get(f"{API}/{inspection['id']}", headers=world.h.school_a).json()
    assert seen_by_school["hazard_ids"] == [hazard_id]
    # Linking again changes nothing.
    again = link(client, world, inspection["id"], [hazard_id])
    assert again.json()["version"] == 2
    with db.read() as session:
        actions = session.exec(
            select(AuditLog.action).where(col(AuditLog.action).contains("link"))
        ).all()
    assert sorted(actions) == ["hazard.link_inspection", "inspection.link_hazards"]


def test_school_records_a_self_inspection_of_itself_only(client: TestClient, world: World) -> None:
    own = record(client, world, who="school_a", kind="self_inspection", result="passed")
    assert own["inspector_org_id"] == world.org_id("school_a")
    other = client.post(
        API, json=body(world, "school_b", kind="self_inspection"), headers=world.h.school_a
    )
    assert other.status_code == 422
    assert other.json()["code"] == "inspection.unknown_school"
    group = client.post(API, json=body(world, kind="inspection_group"), headers=world.h.school_a)
    assert group.status_code == 403
    assert (
        client.post(
            API, json=body(world, kind="self_inspection"), headers=world.h.inspector
        ).status_code
        == 403
    )


def test_oversight_user_records_a_supervision_check(client: TestClient, world: World) -> None:
    check = record(
        client, world, who="jiancha", kind="oversight", findings="整改措施已落实。", result="passed"
    )
    assert check["kind"] == "oversight"
    assert (
        client.post(API, json=body(world, kind="oversight"), headers=world.h.edu).status_code == 403
    )
    assert (
        client.post(API, json=body(world, kind="oversight"), headers=world.h.office).status_code
        == 403
    )


def test_a_department_inspects_the_schools_it_supervises(client: TestClient, world: World) -> None:
    record(client, world, who="town", school="kg")
    refused = client.post(API, json=body(world, "school_a"), headers=world.h.chengjian)
    assert refused.status_code == 422
    assert record(client, world, who="office", school="kg")["inspector_org_id"] == world.org_id(
        "office"
    )


def test_recording_refusals(client: TestClient, world: World) -> None:
    assert client.post(API, json=body(world)).status_code == 401
    assert client.post(API, json=body(world), headers=world.h.admin).status_code == 403
    tomorrow = (today() + timedelta(days=1)).isoformat()
    future = client.post(API, json=body(world, inspected_on=tomorrow), headers=world.h.inspector)
    assert future.status_code == 422
    assert future.json()["code"] == "inspection.future_date"
    assert (
        client.post(API, json=body(world, result="fine"), headers=world.h.inspector).status_code
        == 422
    )
    assert (
        client.post(
            API, json=body(world, findings="x" * 8001), headers=world.h.inspector
        ).status_code
        == 422
    )
    assert (
        client.post(
            API, json=body(world, school_id=world.org_id("edu")), headers=world.h.inspector
        ).status_code
        == 422
    )
    closed = make_campaign(CampaignStatus.closed)
    r = client.post(API, json=body(world, campaign_id=closed.id), headers=world.h.inspector)
    assert r.status_code == 409


def test_who_sees_which_inspections(client: TestClient, world: World) -> None:
    at_a = record(client, world)
    at_kg = record(client, world, who="town", school="kg")
    self_b = record(client, world, who="school_b", school="school_b", kind="self_inspection")

    def ids(who: str) -> set[int]:
        r = client.get(API, headers=world.headers(who))
        assert r.status_code == 200, r.text
        return {i["id"] for i in r.json()["items"]}

    everything = {at_a["id"], at_kg["id"], self_b["id"]}
    assert ids("office") == everything
    assert ids("jiancha") == everything
    assert ids("inspector") == everything
    assert ids("school_a") == {at_a["id"]}
    assert ids("school_b") == {self_b["id"]}
    assert ids("town") == {at_kg["id"]}
    assert ids("chengjian") == set()
    assert ids("admin") == set()
    # edu made at_a and supervises school_b.
    assert ids("edu") == {at_a["id"], self_b["id"]}
    assert client.get(f"{API}/{at_a['id']}", headers=world.h.school_b).status_code == 404
    assert client.get(f"{API}/{at_kg['id']}", headers=world.h.edu).status_code == 404
    got = client.get(f"{API}/{at_kg['id']}", headers=world.h.kg)
    assert got.status_code == 200
    assert got.headers["ETag"] == '"v1"'


def test_inspection_reads_need_a_token_a_scope_and_valid_filters(
    client: TestClient, world: World
) -> None:
    inspection = record(client, world)
    assert client.get(API).status_code == 401
    assert client.get(f"{API}/{inspection['id']}").status_code == 401
    assert client.get(API, headers=service_headers("tasks:read")).status_code == 403
    assert (
        client.get(f"{API}/{inspection['id']}", headers=service_headers("tasks:read")).status_code
        == 403
    )
    assert (
        client.get(API, headers=service_headers("hazards:read")).json()["items"][0]["id"]
        == inspection["id"]
    )
    assert (
        client.get(API, params={"inspected_from": "yesterday"}, headers=world.h.office).status_code
        == 422
    )
    assert client.get(API, params={"sort": "findings"}, headers=world.h.office).status_code == 422
    assert client.get(f"{API}/0", headers=world.h.office).status_code == 422
    assert client.get(f"{API}/99999", headers=world.h.office).status_code == 404


def test_inspection_list_filters(client: TestClient, world: World) -> None:
    day = today()
    old = record(client, world, inspected_on=(day - timedelta(days=5)).isoformat(), result="passed")
    new = record(client, world, school="school_b", result="serious_issues")
    own = record(client, world, who="school_a", kind="self_inspection")

    def ids(**params: Any) -> list[int]:
        return [
            i["id"] for i in client.get(API, params=params, headers=world.h.office).json()["items"]
        ]

    assert ids(result="serious_issues") == [new["id"]]
    assert ids(kind="self_inspection") == [own["id"]]
    assert set(ids(school_id=world.org_id("school_a"))) == {old["id"], own["id"]}
    assert ids(inspected_to=(day - timedelta(days=1)).isoformat()) == [old["id"]]
    assert set(ids(inspected_from=day.isoformat())) == {new["id"], own["id"]}
    assert ids(sort="inspected_on")[0] == old["id"]
    assert set(ids(campaign_id=world.campaign_id)) == {old["id"], new["id"], own["id"]}
    page = client.get(API, params={"limit": 2}, headers=world.h.office).json()
    rest = client.get(
        API, params={"limit": 2, "cursor": page["next_cursor"]}, headers=world.h.office
    ).json()
    assert len(page["items"]) + len(rest["items"]) == 3
    assert rest["next_cursor"] is None


def test_linking_hazards_refusals(client: TestClient, world: World) -> None:
    inspection = record(client, world)
    at_a = add_hazard(world, "school_a")
    at_b = add_hazard(world, "school_b")
    url = f"{API}/{inspection['id']}/hazards"
    assert client.post(url, json={"hazard_ids": [at_a]}).status_code == 401
    assert client.post(url, json={"hazard_ids": [at_a]}, headers=world.h.admin).status_code == 403
    # The school sees the inspection of itself but did not make it.
    assert link(client, world, inspection["id"], [at_a], who="school_a").status_code == 403
    assert link(client, world, inspection["id"], [at_a], who="school_b").status_code == 404
    assert link(client, world, inspection["id"], []).status_code == 422
    assert link(client, world, inspection["id"], [at_a, at_a]).status_code == 422
    unknown = link(client, world, inspection["id"], [at_a, 987654])
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "inspection.unknown_hazard"
    mismatch = link(client, world, inspection["id"], [at_b])
    assert mismatch.status_code == 422
    assert mismatch.json()["code"] == "inspection.hazard_mismatch"
    assert link(client, world, inspection["id"], [at_a], who="office").status_code == 200
    other = record(client, world)
    taken = link(client, world, other["id"], [at_a])
    assert taken.status_code == 409
    assert taken.json()["code"] == "inspection.hazard_linked_elsewhere"
    stale = client.post(
        url, json={"hazard_ids": [at_a]}, headers={**world.h.inspector, "If-Match": '"v1"'}
    )
    assert stale.status_code == 412
    with db.read() as session:
        assert session.get(Hazard, at_b).inspection_id is None  # type: ignore[union-attr]


def test_inspection_papers_are_attached_by_the_inspecting_org(
    client: TestClient, world: World
) -> None:
    inspection = record(client, world)

    def upload(who: str) -> Any:
        return client.post(
            "/api/v1/attachments",
            data={"parent_type": "inspection", "parent_id": str(inspection["id"])},
            files={"file": ("form.png", PNG, "image/png")},
            headers=world.headers(who),
        )

    assert upload("school_b").status_code == 404
    assert upload("school_a").status_code == 403
    up = upload("inspector")
    assert up.status_code == 201, up.text
    att = up.json()["id"]
    assert client.get(f"/api/v1/attachments/{att}", headers=world.h.school_a).status_code == 200
    assert client.get(f"/api/v1/attachments/{att}", headers=world.h.school_b).status_code == 404
