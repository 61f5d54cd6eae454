"""Safe retries: `Idempotency-Key` on POST creates."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, update
from sqlmodel import col, select

from app.campaigns import service as campaign_service
from app.campaigns.models import Campaign
from app.core import db
from app.core.idempotency import IdempotencyRecord
from app.core.time import now
from app.users.models import Role
from tests.conftest import PASSWORD, World, auth, make_user


def _campaign(name: str = "2027年专项整治") -> dict[str, Any]:
    return {"name": name, "year": 2027, "starts_on": "2027-03-01", "ends_on": "2027-04-30"}


def _campaigns() -> int:
    with db.read() as session:
        return int(session.exec(select(func.count()).select_from(Campaign)).one())


def test_replay_returns_the_original_response_and_creates_nothing(
    client: TestClient, world: World
) -> None:
    before = _campaigns()
    headers = {**world.h.office, "Idempotency-Key": "create-2027-campaign"}
    first = client.post("/api/v1/campaigns", json=_campaign(), headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = client.post("/api/v1/campaigns", json=_campaign(), headers=headers)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["ETag"] == first.headers["ETag"]
    assert _campaigns() == before + 1


def test_same_key_with_another_body_is_refused(client: TestClient, world: World) -> None:
    headers = {**world.h.office, "Idempotency-Key": "k-1"}
    assert client.post("/api/v1/campaigns", json=_campaign(), headers=headers).status_code == 201
    other = client.post("/api/v1/campaigns", json=_campaign("另一个"), headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency.key_reused"


def test_same_key_on_another_path_is_refused(client: TestClient, world: World) -> None:
    headers = {**world.h.office, "Idempotency-Key": "k-2"}
    created = client.post("/api/v1/campaigns", json=_campaign(), headers=headers)
    assert created.status_code == 201
    other = client.post(f"/api/v1/campaigns/{created.json()['id']}/activate", headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency.key_reused"


def test_keys_are_scoped_by_caller(client: TestClient, world: World) -> None:
    colleague = make_user(world.orgs["office"], Role.office)
    r1 = client.post(
        "/api/v1/campaigns",
        json=_campaign("甲"),
        headers={**world.h.office, "Idempotency-Key": "same"},
    )
    r2 = client.post(
        "/api/v1/campaigns",
        json=_campaign("乙"),
        headers={**auth(colleague), "Idempotency-Key": "same"},
    )
    assert r1.status_code == r2.status_code == 201
    assert "idempotent-replayed" not in r2.headers
    assert r1.json()["id"] != r2.json()["id"]


def test_concurrent_duplicate_while_first_is_running_gets_409(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    real_create = campaign_service.create

    def slow_create(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(10)
        return real_create(*args, **kwargs)

    monkeypatch.setattr(campaign_service, "create", slow_create)
    headers = {**world.h.office, "Idempotency-Key": "in-flight"}
    results: list[Any] = []
    first = threading.Thread(
        target=lambda: results.append(
            client.post("/api/v1/campaigns", json=_campaign(), headers=headers)
        )
    )
    first.start()
    assert entered.wait(10)
    duplicate = client.post("/api/v1/campaigns", json=_campaign(), headers=headers)
    release.set()
    first.join(10)
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "idempotency.in_progress"
    assert results[0].status_code == 201
    replay = client.post("/api/v1/campaigns", json=_campaign(), headers=headers)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == results[0].json()["id"]
    assert _campaigns() == 2


def test_validation_refusal_is_stored_and_replayed(client: TestClient, world: World) -> None:
    headers = {**world.h.office, "Idempotency-Key": "bad-body"}
    bad = {"name": "", "year": 2027, "starts_on": "2027-03-01", "ends_on": "2027-04-30"}
    first = client.post("/api/v1/campaigns", json=bad, headers=headers)
    assert first.status_code == 422
    again = client.post("/api/v1/campaigns", json=bad, headers=headers)
    assert again.status_code == 422
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["code"] == first.json()["code"]


def test_refusals_that_may_change_are_not_stored(client: TestClient, world: World) -> None:
    headers = {**world.h.school_a, "Idempotency-Key": "forbidden-once"}
    assert client.post("/api/v1/campaigns", json=_campaign(), headers=headers).status_code == 403
    with db.read() as session:
        assert session.exec(select(IdempotencyRecord)).all() == []


def test_expired_record_lets_the_key_run_again(client: TestClient, world: World) -> None:
    headers = {**world.h.office, "Idempotency-Key": "old"}
    assert client.post("/api/v1/campaigns", json=_campaign(), headers=headers).status_code == 201
    with db.write() as session:
        session.execute(update(IdempotencyRecord).values(created_at=now() - timedelta(hours=25)))
    again = client.post("/api/v1/campaigns", json=_campaign("再来"), headers=headers)
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers


def test_overlong_or_empty_key_is_422(client: TestClient, world: World) -> None:
    for key in ("x" * 201, " "):
        r = client.post(
            "/api/v1/campaigns",
            json=_campaign(),
            headers={**world.h.office, "Idempotency-Key": key},
        )
        assert r.status_code == 422
        assert r.json()["code"] == "idempotency.bad_key"
    assert _campaigns() == 1  # only the world's campaign


def test_unauthenticated_request_with_key_is_401_and_not_stored(client: TestClient) -> None:
    r = client.post("/api/v1/campaigns", json=_campaign(), headers={"Idempotency-Key": "anon"})
    assert r.status_code == 401
    with db.read() as session:
        assert session.exec(select(IdempotencyRecord)).all() == []


def test_login_is_not_subject_to_idempotency(client: TestClient, world: World) -> None:
    for _ in range(2):
        r = client.post(
            "/api/v1/auth/token",
            data={"username": "office", "password": PASSWORD},
            headers={"Idempotency-Key": "login"},
        )
        assert r.status_code == 200
        assert "idempotent-replayed" not in r.headers
    with db.read() as session:
        rows = session.exec(select(IdempotencyRecord).where(col(IdempotencyRecord.key) == "login"))
        assert rows.all() == []


def test_secret_bearing_responses_are_never_stored(client: TestClient, world: World) -> None:
    headers = {**world.h.admin, "Idempotency-Key": "new-client"}
    body = {"name": "市综治平台", "scopes": ["events:read"]}
    first = client.post("/api/v1/clients", json=body, headers=headers)
    assert first.status_code == 201
    rotated = client.post(f"/api/v1/clients/{first.json()['id']}/rotate", headers=headers)
    assert rotated.status_code == 200
    assert "idempotent-replayed" not in rotated.headers
    with db.read() as session:
        assert session.exec(select(IdempotencyRecord)).all() == []
