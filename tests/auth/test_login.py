from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, World


def test_office_user_logs_in_and_reads_me(client: TestClient, world: World) -> None:
    r = client.post("/api/v1/auth/token", data={"username": "office", "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["refresh_token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["role"] == "office"
    assert me.json()["org_id"] == world.org_id("office")


def test_unknown_user_and_wrong_password_get_the_same_answer(
    client: TestClient, world: World
) -> None:
    wrong = client.post(
        "/api/v1/auth/token", data={"username": "office", "password": "nope-nope-nope"}
    )
    unknown = client.post(
        "/api/v1/auth/token", data={"username": "ghost", "password": "nope-nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "auth.invalid_credentials"
    assert wrong.json()["detail"] == unknown.json()["detail"]
