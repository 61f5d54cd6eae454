from fastapi.testclient import TestClient

from tests.conftest import World


def _names(client: TestClient, headers: dict[str, str], **params: object) -> set[str]:
    r = client.get("/api/v1/orgs", headers=headers, params={"limit": 100, **params})
    assert r.status_code == 200, r.text
    return {o["name"] for o in r.json()["items"]}


def test_school_sees_departments_and_itself_but_no_other_school(
    client: TestClient, world: World
) -> None:
    names = _names(client, world.h.school_a)
    assert "城关第一小学" in names
    assert "城建局" in names
    assert "城关第二中学" not in names
    assert "阳光民办幼儿园" not in names


def test_department_sees_the_schools_it_supervises(client: TestClient, world: World) -> None:
    names = _names(client, world.h.town)
    assert "阳光民办幼儿园" in names
    assert "城关第一小学" not in names


def test_office_sees_every_org(client: TestClient, world: World) -> None:
    assert len(_names(client, world.h.office)) == len(world.orgs)


def test_school_gets_404_for_another_school(client: TestClient, world: World) -> None:
    other = world.org_id("school_b")
    r = client.get(f"/api/v1/orgs/{other}", headers=world.h.school_a)
    assert r.status_code == 404
    assert r.json()["code"] == "org.not_found"
    own = client.get(f"/api/v1/orgs/{world.org_id('school_a')}", headers=world.h.school_a)
    assert own.status_code == 200
    assert own.headers["ETag"] == '"v1"'


def test_orgs_page_with_a_cursor_without_gaps(client: TestClient, world: World) -> None:
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        body = client.get("/api/v1/orgs", headers=world.h.office, params=params).json()
        seen += [o["id"] for o in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == len(world.orgs)


def test_filter_by_kind_and_name(client: TestClient, world: World) -> None:
    assert _names(client, world.h.office, kind="office") == {"区办公室"}
    assert _names(client, world.h.office, q="城关") == {"城关第一小学", "城关第二中学"}


def test_admin_creates_a_school_and_it_is_audited(client: TestClient, world: World) -> None:
    body = {
        "name": "新建小学",
        "kind": "school",
        "school_type": "primary",
        "ownership": "public",
        "supervising_org_id": world.org_id("edu"),
    }
    r = client.post("/api/v1/orgs", json=body, headers=world.h.admin)
    assert r.status_code == 201, r.text
    org_id = r.json()["id"]
    audit = client.get(
        "/api/v1/audit", headers=world.h.admin, params={"object_type": "org", "object_id": org_id}
    )
    assert [e["action"] for e in audit.json()["items"]] == ["org.create"]
    assert audit.json()["items"][0]["actor"] == f"user:{world.users['admin'].id}"


def test_org_create_validation(client: TestClient, world: World) -> None:
    cases = [
        {"name": "无类型学校", "kind": "school"},
        {"name": "x", "kind": "planet"},
        {"name": "", "kind": "department"},
        {"name": "部门", "kind": "department", "school_type": "primary"},
        {
            "name": "坐标",
            "kind": "school",
            "school_type": "primary",
            "ownership": "public",
            "lat": 34.1,
        },
        {"name": "多余", "kind": "department", "unexpected": 1},
    ]
    for body in cases:
        r = client.post("/api/v1/orgs", json=body, headers=world.h.admin)
        assert r.status_code == 422, body
        assert r.json()["code"] == "validation_failed"
    bad_supervisor = {
        "name": "学校X",
        "kind": "school",
        "school_type": "primary",
        "ownership": "public",
        "supervising_org_id": world.org_id("school_b"),
    }
    r = client.post("/api/v1/orgs", json=bad_supervisor, headers=world.h.admin)
    assert r.status_code == 422
    assert r.json()["code"] == "org.bad_supervisor"


def test_duplicate_org_name_is_409(client: TestClient, world: World) -> None:
    r = client.post(
        "/api/v1/orgs", json={"name": "城建局", "kind": "department"}, headers=world.h.admin
    )
    assert r.status_code == 409


def test_only_admin_manages_orgs(client: TestClient, world: World) -> None:
    body = {"name": "新部门", "kind": "department"}
    assert client.post("/api/v1/orgs", json=body).status_code == 401
    for who in ("office", "school_a", "police"):
        assert client.post("/api/v1/orgs", json=body, headers=world.headers(who)).status_code == 403
    org_id = world.org_id("chengjian")
    r = client.patch(
        f"/api/v1/orgs/{org_id}",
        json={"contact_person": "李"},
        headers={**world.h.office, "If-Match": '"v1"'},
    )
    assert r.status_code == 403


def test_patch_needs_if_match_and_refuses_stale(client: TestClient, world: World) -> None:
    org_id = world.org_id("chengjian")
    url = f"/api/v1/orgs/{org_id}"
    assert (
        client.patch(url, json={"contact_person": "李"}, headers=world.h.admin).status_code == 428
    )
    ok = client.patch(
        url, json={"contact_person": "李"}, headers={**world.h.admin, "If-Match": '"v1"'}
    )
    assert ok.status_code == 200
    assert ok.headers["ETag"] == '"v2"'
    stale = client.patch(
        url, json={"contact_person": "王"}, headers={**world.h.admin, "If-Match": '"v1"'}
    )
    assert stale.status_code == 412
    assert client.get(url, headers=world.h.admin).json()["contact_person"] == "李"


def test_patch_refuses_null_name(client: TestClient, world: World) -> None:
    url = f"/api/v1/orgs/{world.org_id('chengjian')}"
    r = client.patch(url, json={"name": None}, headers={**world.h.admin, "If-Match": '"v1"'})
    assert r.status_code == 422


def test_unknown_org_is_404_and_bad_id_is_422(client: TestClient, world: World) -> None:
    assert client.get("/api/v1/orgs/999999", headers=world.h.office).status_code == 404
    assert client.get("/api/v1/orgs/abc", headers=world.h.office).status_code == 422
    assert client.get(f"/api/v1/orgs/{2**70}", headers=world.h.office).status_code == 422
