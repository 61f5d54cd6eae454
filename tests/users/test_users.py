from fastapi.testclient import TestClient

from tests.conftest import World


def _create(client: TestClient, world: World, **over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "username": "wang.li",
        "full_name": "王丽",
        "org_id": world.org_id("chengjian"),
        "role": "department",
        "capabilities": ["inspector"],
        "password": "a-long-initial-password",
    }
    body.update(over)
    r = client.post("/api/v1/users", json=body, headers=world.h.admin)
    assert r.status_code == 201, r.text
    return r.json()


def test_admin_creates_a_user_who_can_log_in(client: TestClient, world: World) -> None:
    user = _create(client, world)
    assert user["capabilities"] == ["inspector"]
    assert "password" not in user
    assert "password_hash" not in user
    r = client.post(
        "/api/v1/auth/token", data={"username": "wang.li", "password": "a-long-initial-password"}
    )
    assert r.status_code == 200


def test_role_must_fit_the_org_kind(client: TestClient, world: World) -> None:
    r = client.post(
        "/api/v1/users",
        json={
            "username": "bad",
            "full_name": "x",
            "org_id": world.org_id("chengjian"),
            "role": "school",
            "password": "a-long-initial-password",
        },
        headers=world.h.admin,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "user.role_org_mismatch"


def test_cases_capability_only_for_departments(client: TestClient, world: World) -> None:
    r = client.post(
        "/api/v1/users",
        json={
            "username": "bad2",
            "full_name": "x",
            "org_id": world.org_id("school_a"),
            "role": "school",
            "capabilities": ["cases"],
            "password": "a-long-initial-password",
        },
        headers=world.h.admin,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "user.capability_role_mismatch"


def test_user_validation_errors(client: TestClient, world: World) -> None:
    for body in (
        {
            "username": "ab",
            "full_name": "x",
            "org_id": 1,
            "role": "office",
            "password": "long-enough-pw",
        },
        {"username": "good", "full_name": "x", "org_id": 1, "role": "office", "password": "short"},
        {
            "username": "bad name!",
            "full_name": "x",
            "org_id": 1,
            "role": "office",
            "password": "long-enough-pw",
        },
        {
            "username": "good",
            "full_name": "x",
            "org_id": 1,
            "role": "king",
            "password": "long-enough-pw",
        },
    ):
        assert client.post("/api/v1/users", json=body, headers=world.h.admin).status_code == 422, (
            body
        )
    service = {
        "username": "svc",
        "full_name": "x",
        "org_id": world.org_id("office"),
        "role": "service",
        "password": "long-enough-pw",
    }
    r = client.post("/api/v1/users", json=service, headers=world.h.admin)
    assert r.status_code == 422
    assert r.json()["code"] == "user.bad_role"


def test_duplicate_username_is_409(client: TestClient, world: World) -> None:
    r = client.post(
        "/api/v1/users",
        json={
            "username": "office",
            "full_name": "x",
            "org_id": world.org_id("office"),
            "role": "office",
            "password": "long-enough-pw",
        },
        headers=world.h.admin,
    )
    assert r.status_code == 409


def test_only_admin_manages_users(client: TestClient, world: World) -> None:
    assert client.get("/api/v1/users").status_code == 401
    for who in ("office", "school_a", "jiancha"):
        assert client.get("/api/v1/users", headers=world.headers(who)).status_code == 403
        uid = world.users["school_b"].id
        assert (
            client.post(f"/api/v1/users/{uid}/disable", headers=world.headers(who)).status_code
            == 403
        )


def test_changing_role_capabilities_revokes_tokens(client: TestClient, world: World) -> None:
    from tests.conftest import auth

    user = world.users["chengjian"]
    old = auth(user)
    assert client.get("/api/v1/auth/me", headers=old).status_code == 200
    r = client.patch(
        f"/api/v1/users/{user.id}",
        json={"capabilities": ["inspector"]},
        headers={**world.h.admin, "If-Match": '"v1"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["capabilities"] == ["inspector"]
    assert client.get("/api/v1/auth/me", headers=old).status_code == 401


def test_patch_user_needs_if_match(client: TestClient, world: World) -> None:
    uid = world.users["chengjian"].id
    assert (
        client.patch(
            f"/api/v1/users/{uid}", json={"full_name": "李"}, headers=world.h.admin
        ).status_code
        == 428
    )
    r = client.patch(
        f"/api/v1/users/{uid}",
        json={"full_name": "李"},
        headers={**world.h.admin, "If-Match": '"v9"'},
    )
    assert r.status_code == 412


def test_admin_cannot_disable_themselves_and_unknown_user_is_404(
    client: TestClient, world: World
) -> None:
    me = world.users["admin"].id
    assert client.post(f"/api/v1/users/{me}/disable", headers=world.h.admin).status_code == 409
    assert client.get("/api/v1/users/999999", headers=world.h.admin).status_code == 404


def test_reset_password_and_enable(client: TestClient, world: World) -> None:
    uid = world.users["school_b"].id
    r = client.post(
        f"/api/v1/users/{uid}/password",
        json={"new_password": "reset-by-admin-1"},
        headers=world.h.admin,
    )
    assert r.status_code == 200
    assert (
        client.post(
            "/api/v1/auth/token", data={"username": "school_b", "password": "reset-by-admin-1"}
        ).status_code
        == 200
    )
    assert (
        client.post(f"/api/v1/users/{uid}/disable", headers=world.h.admin).json()["is_active"]
        is False
    )
    assert (
        client.post(f"/api/v1/users/{uid}/enable", headers=world.h.admin).json()["is_active"]
        is True
    )


def test_list_users_filters_by_org(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/users", headers=world.h.admin, params={"org_id": world.org_id("edu")})
    assert {u["username"] for u in r.json()["items"]} == {"edu", "inspector"}
