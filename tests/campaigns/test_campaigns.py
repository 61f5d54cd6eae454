from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import World

BODY: dict[str, Any] = {
    "name": "2027年春季校园安全专项整治",
    "year": 2027,
    "starts_on": "2027-03-01",
    "ends_on": "2027-04-30",
    "phases": [
        {"code": "setup", "starts_on": "2027-03-01", "ends_on": "2027-03-05"},
        {"code": "action", "starts_on": "2027-03-06", "ends_on": "2027-04-10"},
        {"code": "rectification", "starts_on": "2027-04-11", "ends_on": "2027-04-30"},
    ],
    "key_dates": [{"code": "department_reports", "title": "书面报告", "due_on": "2027-04-10"}],
    "members": [{"position": "leader", "person_name": "张三", "title": "副区长"}],
}


def _create(client: TestClient, world: World, **over: Any) -> dict[str, Any]:
    r = client.post("/api/v1/campaigns", json={**BODY, **over}, headers=world.h.office)
    assert r.status_code == 201, r.text
    return r.json()


def test_office_plans_activates_and_closes_a_campaign(client: TestClient, world: World) -> None:
    c = _create(client, world)
    assert c["status"] == "planning"
    assert [p["code"] for p in c["phases"]] == ["setup", "action", "rectification"]
    assert c["members"][0]["person_name"] == "张三"
    url = f"/api/v1/campaigns/{c['id']}"
    assert client.post(f"{url}/activate", headers=world.h.office).json()["status"] == "active"
    closed = client.post(f"{url}/close", headers=world.h.office)
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_at"] is not None
    events = client.get(
        "/api/v1/audit",
        headers=world.h.admin,
        params={"object_type": "campaign", "object_id": c["id"]},
    )
    assert [e["action"] for e in events.json()["items"]] == [
        "campaign.close",
        "campaign.activate",
        "campaign.create",
    ]


def test_closed_campaign_is_read_only(client: TestClient, world: World) -> None:
    c = _create(client, world)
    url = f"/api/v1/campaigns/{c['id']}"
    client.post(f"{url}/activate", headers=world.h.office)
    client.post(f"{url}/close", headers=world.h.office)
    etag = client.get(url, headers=world.h.office).headers["ETag"]
    r = client.patch(url, json={"description": "改"}, headers={**world.h.office, "If-Match": etag})
    assert r.status_code == 409
    assert r.json()["code"] == "campaign.closed"


def test_illegal_transitions_are_409_and_change_nothing(client: TestClient, world: World) -> None:
    c = _create(client, world)
    url = f"/api/v1/campaigns/{c['id']}"
    r = client.post(f"{url}/close", headers=world.h.office)
    assert r.status_code == 409
    assert r.json()["code"] == "campaign.invalid_transition"
    after = client.get(url, headers=world.h.office).json()
    assert after["status"] == "planning"
    assert after["version"] == c["version"]


def test_campaign_validation(client: TestClient, world: World) -> None:
    bad = [
        {"ends_on": "2027-02-01"},
        {"phases": [{"code": "setup", "starts_on": "2027-02-01", "ends_on": "2027-03-05"}]},
        {
            "phases": [
                {"code": "setup", "starts_on": "2027-03-01", "ends_on": "2027-03-10"},
                {"code": "action", "starts_on": "2027-03-05", "ends_on": "2027-03-20"},
            ]
        },
        {"phases": [{"code": "setup", "starts_on": "2027-03-05", "ends_on": "2027-03-01"}]},
        {"year": 1800},
        {"name": ""},
        {"members": [{"position": "emperor", "person_name": "x"}]},
    ]
    for over in bad:
        r = client.post("/api/v1/campaigns", json={**BODY, **over}, headers=world.h.office)
        assert r.status_code == 422, over
    r = client.post(
        "/api/v1/campaigns",
        json={**BODY, "members": [{"position": "member", "person_name": "x", "org_id": 999999}]},
        headers=world.h.office,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "campaign.unknown_org"


def test_only_office_runs_campaigns(client: TestClient, world: World) -> None:
    assert client.post("/api/v1/campaigns", json=BODY).status_code == 401
    for who in ("school_a", "chengjian", "admin", "jiancha"):
        assert (
            client.post("/api/v1/campaigns", json=BODY, headers=world.headers(who)).status_code
            == 403
        )
    url = f"/api/v1/campaigns/{world.campaign_id}"
    assert client.post(f"{url}/close", headers=world.h.school_a).status_code == 403


def test_everyone_reads_campaigns_and_unknown_is_404(client: TestClient, world: World) -> None:
    r = client.get(f"/api/v1/campaigns/{world.campaign_id}", headers=world.h.school_a)
    assert r.status_code == 200
    assert r.json()["current_phase"] in (None, "setup", "action", "rectification")
    assert client.get("/api/v1/campaigns/999999", headers=world.h.school_a).status_code == 404
    listed = client.get("/api/v1/campaigns", headers=world.h.kg, params={"status": "active"})
    assert [c["id"] for c in listed.json()["items"]] == [world.campaign_id]


def test_patch_replaces_lists_and_bumps_etag(client: TestClient, world: World) -> None:
    c = _create(client, world)
    url = f"/api/v1/campaigns/{c['id']}"
    r = client.patch(
        url,
        json={"members": [{"position": "office_director", "person_name": "李四"}]},
        headers={**world.h.office, "If-Match": '"v1"'},
    )
    assert r.status_code == 200, r.text
    assert [m["person_name"] for m in r.json()["members"]] == ["李四"]
    assert r.headers["ETag"] == '"v2"'
    assert client.patch(url, json={"description": "x"}, headers=world.h.office).status_code == 428
