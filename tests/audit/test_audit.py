from fastapi.testclient import TestClient

from tests.conftest import World, make_campaign


def test_audit_log_is_for_admins_and_oversight_only(client: TestClient, world: World) -> None:
    assert client.get("/api/v1/audit").status_code == 401
    for who in ("office", "school_a", "chengjian", "police"):
        assert client.get("/api/v1/audit", headers=world.headers(who)).status_code == 403
    assert client.get("/api/v1/audit", headers=world.h.jiancha).status_code == 200
    assert client.get("/api/v1/audit", headers=world.h.admin).status_code == 200


def test_every_write_is_audited_with_request_id(client: TestClient, world: World) -> None:
    r = client.post(
        "/api/v1/orgs",
        json={"name": "审计部门", "kind": "department"},
        headers={**world.h.admin, "X-Request-ID": "req-audit-1"},
    )
    assert r.status_code == 201
    assert r.headers["X-Request-ID"] == "req-audit-1"
    entries = client.get(
        "/api/v1/audit", headers=world.h.admin, params={"action": "org.create"}
    ).json()["items"]
    assert entries[0]["request_id"] == "req-audit-1"
    assert entries[0]["changes"]["name"] == "审计部门"


def test_hazard_writes_on_the_writer_thread_keep_the_request_id(
    client: TestClient, world: World
) -> None:
    """Hazard writes run off the event loop on their own executor (`db.in_writer`), which
    must carry the request's context along."""
    campaign = make_campaign()
    body = {
        "campaign_id": campaign.id,
        "school_id": world.org_id("school_a"),
        "scope": "campus",
        "category": "fire",
        "grade": "general",
        "title": "灭火器过期",
        "description": "教学楼二层灭火器过期",
        "source": "self_inspection",
        "found_on": "2026-11-27",
    }
    r = client.post(
        "/api/v1/hazards", json=body, headers={**world.h.school_a, "X-Request-ID": "req-hazard-7"}
    )
    assert r.status_code == 201, r.text
    entries = client.get(
        "/api/v1/audit", headers=world.h.admin, params={"action": "hazard.register"}
    ).json()["items"]
    assert entries[0]["object_id"] == str(r.json()["id"])
    assert entries[0]["request_id"] == "req-hazard-7"


def test_audit_log_cannot_be_changed_through_the_api(client: TestClient, world: World) -> None:
    for method in ("put", "patch", "delete"):
        r = client.request(method, "/api/v1/audit", headers=world.h.admin)
        assert r.status_code == 405
    assert client.delete("/api/v1/audit/1", headers=world.h.admin).status_code == 404


def test_audit_pages_newest_first(client: TestClient, world: World) -> None:
    for i in range(5):
        client.post(
            "/api/v1/orgs", json={"name": f"部门{i}", "kind": "department"}, headers=world.h.admin
        )
    first = client.get("/api/v1/audit", headers=world.h.admin, params={"limit": 2}).json()
    second = client.get(
        "/api/v1/audit", headers=world.h.admin, params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    ids = [e["id"] for e in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == 4
