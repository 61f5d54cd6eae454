"""Demo data, the CLI, labels and the error contract."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, func, select

from app import demo
from app.__main__ import main as cli
from app.core import db
from app.orgs.models import Org
from app.users.models import User


def test_demo_data_is_idempotent_and_has_every_demo_user(client: TestClient) -> None:
    demo.seed()
    with db.read() as session:
        orgs = session.exec(select(func.count()).select_from(Org)).one()
        users = session.exec(select(func.count()).select_from(User)).one()
    demo.seed()
    with db.read() as session:
        assert session.exec(select(func.count()).select_from(Org)).one() == orgs
        assert session.exec(select(func.count()).select_from(User)).one() == users
        names = set(session.exec(select(User.username)).all())
    assert {
        "admin",
        "office",
        "police",
        "jiancha",
        "inspector",
        "chengjian",
        "zhengfawei",
        "school1",
        "school2",
        "kg1",
    } <= names
    r = client.post(
        "/api/v1/auth/token", data={"username": "office", "password": demo.DEMO_PASSWORD}
    )
    assert r.status_code == 200


def test_demo_district_has_every_school_type_and_unlicensed_kindergartens() -> None:
    demo.seed()
    with db.read() as session:
        schools = session.exec(select(Org).where(col(Org.kind) == "school")).all()
    assert len(schools) >= 12
    assert {"kindergarten", "primary", "middle", "nine_year", "high"} <= {
        s.school_type for s in schools
    }
    assert any(s.license_status in ("discovered", "ordered_closed") for s in schools)
    assert any(s.ownership == "private" for s in schools)


def test_cli_creates_the_first_admin(monkeypatch: pytest.MonkeyPatch, client: TestClient) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", "first-admin-password")
    cli(["create-admin", "--username", "root"])
    r = client.post(
        "/api/v1/auth/token", data={"username": "root", "password": "first-admin-password"}
    )
    assert r.status_code == 200
    me = client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
    )
    assert me.json()["role"] == "admin"
    with pytest.raises(SystemExit):
        cli(["create-admin", "--username", "root"])


def test_meta_enums_have_both_languages(client: TestClient) -> None:
    r = client.get("/api/v1/meta/enums")
    assert r.status_code == 200
    body = r.json()
    assert {"code": "major", "zh": "重大隐患", "en": "Major"} in body["hazard_grade"]
    for labels in body.values():
        for label in labels:
            assert label["zh"]
            assert label["en"]


def test_unknown_route_is_problem_json(client: TestClient) -> None:
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "not_found"


def test_malformed_json_is_422_not_500(client: TestClient) -> None:
    r = client.post(
        "/api/v1/auth/refresh",
        content=b'{"refresh_token": ',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "json_invalid"


def test_unexpected_errors_hide_the_stack_trace(app: object) -> None:
    from fastapi import FastAPI

    assert isinstance(app, FastAPI)

    @app.get("/boom-for-test")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom-for-test")
    app.router.routes[:] = [
        rt for rt in app.router.routes if getattr(rt, "path", "") != "/boom-for-test"
    ]
    assert r.status_code == 500
    assert r.json()["code"] == "internal_error"
    assert "secret internals" not in r.text
