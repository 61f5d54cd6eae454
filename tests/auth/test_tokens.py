"""Access and refresh tokens: rotation, reuse detection, and every way a token can be bad."""

import base64
from datetime import UTC, datetime, timedelta

import orjson
import time_machine
from fastapi.testclient import TestClient
from jose import jwt

from app.core import security
from app.core.config import get_settings
from tests.conftest import PASSWORD, World, token_for


def _login(client: TestClient, username: str = "office") -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()


def _me(client: TestClient, token: str) -> int:
    return client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_refresh_rotates_and_the_new_pair_works(client: TestClient, world: World) -> None:
    first = _login(client)
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert _me(client, second["access_token"]) == 200
    third = client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert third.status_code == 200


def test_reused_refresh_token_revokes_the_whole_family(client: TestClient, world: World) -> None:
    first = _login(client)
    second = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    ).json()
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    assert replay.json()["code"] == "auth.refresh_reused"
    # The legitimate holder's newer token died with the family.
    after = client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401


def test_logout_revokes_the_refresh_token(client: TestClient, world: World) -> None:
    pair = _login(client)
    assert (
        client.post(
            "/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}
        ).status_code
        == 204
    )
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert r.status_code == 401


def test_unknown_refresh_token_is_refused(client: TestClient, world: World) -> None:
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 43})
    assert r.status_code == 401
    assert r.json()["code"] == "auth.refresh_invalid"


def test_expired_refresh_token_is_refused(client: TestClient, world: World) -> None:
    pair = _login(client)
    with time_machine.travel(
        datetime.now(UTC) + timedelta(days=get_settings().refresh_token_days + 1)
    ):
        r = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert r.status_code == 401


def test_expired_access_token_is_401(client: TestClient, world: World) -> None:
    token = token_for(world.users["office"])
    with time_machine.travel(
        datetime.now(UTC) + timedelta(minutes=get_settings().access_token_minutes + 1)
    ):
        r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert r.json()["code"] in ("auth.token_expired", "auth.unauthenticated")


def _forge(
    claims_update: dict[str, object],
    *,
    key: str | None = None,
    headers: dict[str, object] | None = None,
) -> str:
    settings = get_settings()
    now = int(datetime.now(UTC).timestamp())
    claims: dict[str, object] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": "user:1",
        "iat": now,
        "exp": now + 600,
        "typ": "access",
        "role": "office",
        "org": 1,
        "cap": [],
        "scp": [],
        "ver": 0,
    }
    claims.update(claims_update)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key or settings.secret_key, algorithm="HS256", headers=headers)


def test_tampered_wrong_audience_and_unsigned_tokens_are_401(
    client: TestClient, world: World
) -> None:
    office_id = world.users["office"].id
    good = _forge({"sub": f"user:{office_id}", "org": world.org_id("office")})
    assert _me(client, good) == 200

    header, payload, signature = good.split(".")
    raw = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw["role"] = "admin"
    tampered_payload = base64.urlsafe_b64encode(orjson.dumps(raw)).rstrip(b"=").decode()
    bad_tokens = {
        "tampered": f"{header}.{tampered_payload}.{signature}",
        "wrong key": _forge(
            {"sub": f"user:{office_id}"}, key="another-secret-key-that-is-long-enough-xx"
        ),
        "wrong audience": _forge({"sub": f"user:{office_id}", "aud": "someone-else"}),
        "wrong issuer": _forge({"sub": f"user:{office_id}", "iss": "evil"}),
        "no exp": _forge({"sub": f"user:{office_id}", "exp": None}),
        "no iat": _forge({"sub": f"user:{office_id}", "iat": None}),
        "crit header": _forge({"sub": f"user:{office_id}"}, headers={"crit": ["exp"]}),
        "refresh typ": _forge({"sub": f"user:{office_id}", "typ": "refresh"}),
        "garbage": "not-a-jwt",
    }
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    bad_tokens["alg none"] = f"{none_header}.{payload}."
    for name, token in bad_tokens.items():
        assert _me(client, token) == 401, name


def test_changed_password_invalidates_earlier_tokens(client: TestClient, world: World) -> None:
    pair = _login(client, "school_a")
    r = client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a-brand-new-password"},
        headers={"Authorization": f"Bearer {pair['access_token']}"},
    )
    assert r.status_code == 204
    assert _me(client, pair["access_token"]) == 401
    assert (
        client.post(
            "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
        ).status_code
        == 401
    )
    relogin = client.post(
        "/api/v1/auth/token", data={"username": "school_a", "password": "a-brand-new-password"}
    )
    assert relogin.status_code == 200


def test_disabled_user_tokens_stop_working(client: TestClient, world: World) -> None:
    pair = _login(client, "school_a")
    admin = {"Authorization": f"Bearer {token_for(world.users['admin'])}"}
    user_id = world.users["school_a"].id
    assert client.post(f"/api/v1/users/{user_id}/disable", headers=admin).status_code == 200
    assert _me(client, pair["access_token"]) == 401
    login = client.post("/api/v1/auth/token", data={"username": "school_a", "password": PASSWORD})
    assert login.status_code == 401


def test_wrong_current_password_is_422(client: TestClient, world: World) -> None:
    r = client.post(
        "/api/v1/auth/password",
        json={"current_password": "not-my-password", "new_password": "a-brand-new-password"},
        headers={"Authorization": f"Bearer {token_for(world.users['school_a'])}"},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "auth.wrong_password"


def test_login_is_throttled_per_account(client: TestClient, world: World) -> None:
    for _ in range(get_settings().login_max_attempts):
        assert (
            client.post(
                "/api/v1/auth/token", data={"username": "office", "password": "wrong-wrong"}
            ).status_code
            == 401
        )
    r = client.post("/api/v1/auth/token", data={"username": "office", "password": PASSWORD})
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0


def test_token_form_needs_username_and_password(client: TestClient, world: World) -> None:
    r = client.post("/api/v1/auth/token", data={"username": "office"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body.password"
    r = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "magic", "username": "office", "password": PASSWORD},
    )
    assert r.status_code == 422


def test_access_token_carries_role_org_and_capabilities(world: World) -> None:
    claims = security.decode_access_token(token_for(world.users["police"]))
    assert claims.role == "department"
    assert claims.org_id == world.org_id("police")
    assert claims.capabilities == ("cases",)


def test_me_without_token_is_401_in_english_when_asked(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/auth/me", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == "The access token is missing, invalid or expired."
    zh = client.get("/api/v1/auth/me")
    assert zh.json()["detail"] == "访问令牌缺失、无效或已过期。"
