"""Registering hazards (登记): who may, what is checked, codes, the distance rule."""

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.auth.principal import Principal
from app.campaigns.models import CampaignStatus
from app.core import db
from app.core.errors import AppError
from app.core.time import today
from app.events.models import Event
from app.hazards import service
from app.hazards.models import Hazard
from app.hazards.schemas import HazardCreate
from app.hazards.service import haversine_m
from app.orgs.models import OrgKind, SchoolType
from app.users.models import Role
from tests.conftest import World, make_campaign, make_org
from tests.hazards.helpers import API, hazard_body, register


def _count() -> int:
    with db.read() as session:
        return len(session.exec(select(Hazard.id)).all())


def test_school_registers_a_hazard_at_itself(client: TestClient, world: World) -> None:
    r = client.post(API, json=hazard_body(world), headers=world.h.school_a)
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["ETag"] == '"v1"'
    assert body["status"] == "reported"
    assert body["code"] == "YH-2026-000001"
    assert body["school_id"] == body["responsible_org_id"] == world.org_id("school_a")
    assert body["reporter_org_id"] == world.org_id("school_a")
    assert body["reported_by"] == f"user:{world.users['school_a'].id}"
    assert body["overdue"] is False
    assert body["plan_ids"] == []
    assert set(body["allowed_actions"]) == {"start", "escalate", "edit"}
    with db.read() as session:
        types = session.exec(select(Event.type).where(col(Event.subject_id) == body["id"])).all()
    assert list(types) == ["hazard.registered"]


def test_unauthenticated_register_is_401(client: TestClient, world: World) -> None:
    assert client.post(API, json=hazard_body(world)).status_code == 401


def test_school_cannot_register_at_another_school(client: TestClient, world: World) -> None:
    r = client.post(API, json=hazard_body(world, "school_b"), headers=world.h.school_a)
    assert r.status_code == 403
    assert r.json()["code"] == "hazard.forbidden_school"
    assert _count() == 0


@pytest.mark.parametrize(
    ("who", "school", "allowed"),
    [
        ("edu", "school_a", True),  # 教体局 supervises the public schools
        ("edu", "kg", False),  # … but not the private kindergarten
        ("town", "kg", True),
        ("chengjian", "school_a", False),
        ("inspector", "kg", True),
        ("office", "school_b", True),
    ],
)
def test_who_may_register_where(
    client: TestClient, world: World, who: str, school: str, allowed: bool
) -> None:
    r = client.post(API, json=hazard_body(world, school), headers=world.headers(who))
    assert r.status_code == (201 if allowed else 403), r.text
    if allowed:
        assert r.json()["reporter_org_id"] == world.users[who].org_id
        assert r.json()["responsible_org_id"] == world.org_id(school)


@pytest.mark.parametrize("who", ["admin", "service_account"])
def test_admins_and_systems_cannot_register(client: TestClient, world: World, who: str) -> None:
    headers = world.h.admin
    if who != "admin":
        from tests.hazards.helpers import service_headers

        headers = service_headers(["hazards:read"])
    r = client.post(API, json=hazard_body(world), headers=headers)
    assert r.status_code == 403


def test_major_hazard_is_reported_to_the_office_at_once(client: TestClient, world: World) -> None:
    body = register(client, world, grade="major")
    with db.read() as session:
        types = session.exec(
            select(Event.type).where(col(Event.subject_id) == body["id"]).order_by(col(Event.id))
        ).all()
    assert list(types) == ["hazard.registered", "hazard.major_reported"]


def test_registering_in_a_closed_campaign_is_refused(client: TestClient, world: World) -> None:
    closed = make_campaign(CampaignStatus.closed)
    r = client.post(API, json=hazard_body(world, campaign_id=closed.id), headers=world.h.school_a)
    assert r.status_code == 409
    assert r.json()["code"] == "campaign.closed"


def test_unknown_school_or_campaign_is_422(client: TestClient, world: World) -> None:
    r = client.post(
        API, json=hazard_body(world, school_id=world.org_id("edu")), headers=world.h.office
    )
    assert r.status_code == 422
    assert r.json()["code"] == "hazard.unknown_school"
    r = client.post(API, json=hazard_body(world, campaign_id=99999), headers=world.h.office)
    assert r.status_code == 422
    assert r.json()["code"] == "campaign.unknown"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "volcano"}, "body.category"),
        ({"grade": "catastrophic"}, "body.grade"),
        ({"found_on": (today() + timedelta(days=1)).isoformat()}, "body.found_on"),
        ({"lat": 34.26}, "body"),
        ({"lng": 108.9}, "body"),
        ({"lat": 91, "lng": 108.9}, "body.lat"),
        ({"title": "x" * 201}, "body.title"),
        ({"title": ""}, "body.title"),
        ({"description": "d" * 4001}, "body.description"),
        ({"location": "l" * 201}, "body.location"),
        ({"responsible_phone": "call me maybe"}, "body.responsible_phone"),
        ({"title": "栏杆\x00松动"}, "body"),
        ({"venue_type": "internet_cafe"}, "body"),  # on campus
        ({"scope": "surroundings", "category": "surroundings_venue"}, "body"),  # no venue type
        ({"category": "surroundings_venue", "venue_type": "kiosk"}, "body"),  # venue on campus
        ({"school_id": 2**40}, "body.school_id"),
        ({"unexpected": 1}, "body.unexpected"),
    ],
)
def test_invalid_registrations_are_422(
    client: TestClient, world: World, overrides: dict[str, Any], field: str
) -> None:
    r = client.post(API, json=hazard_body(world, **overrides), headers=world.h.school_a)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "validation_failed"
    assert any(e["field"].startswith(field) for e in r.json()["errors"]), r.json()
    assert _count() == 0


def test_nul_bytes_in_raw_json_do_not_500(client: TestClient, world: World) -> None:
    body = hazard_body(world, title="PLACEHOLDER")
    raw = json.dumps(body).replace("PLACEHOLDER", "a\\u0000b")
    r = client.post(
        API, content=raw, headers={**world.h.school_a, "Content-Type": "application/json"}
    )
    assert r.status_code in (400, 422), r.text
    assert _count() == 0


def test_surroundings_venue_may_omit_venue_type_only_outside_venue_category(
    client: TestClient, world: World
) -> None:
    r = client.post(
        API,
        json=hazard_body(world, scope="surroundings", category="traffic"),
        headers=world.h.school_a,
    )
    assert r.status_code == 201, r.text
    assert r.json()["venue_type"] is None
    assert r.json()["distance_m"] is None


# ------------------------------------------------------------------------------------------
# Distance rule (互联网上网服务营业场所管理条例 art. 9)


def _venue(world: World, venue: str, lat: float, lng: float, **kw: Any) -> dict[str, Any]:
    return register(
        client=kw.pop("client"),
        world=world,
        scope="surroundings",
        category="surroundings_venue",
        venue_type=venue,
        lat=lat,
        lng=lng,
        **kw,
    )


def test_internet_cafe_within_200_m_of_a_primary_school_is_unlawful(
    client: TestClient, world: World
) -> None:
    school = world.orgs["school_a"]
    assert school.lat is not None
    assert school.lng is not None
    # ~120 m north of the school.
    near = _venue(world, "internet_cafe", school.lat + 0.00108, school.lng, client=client)
    assert near["distance_m"] == pytest.approx(120, abs=2)
    assert near["venue_unlawful"] is True
    # ~300 m north: lawful.
    far = _venue(world, "internet_cafe", school.lat + 0.0027, school.lng, client=client)
    assert far["distance_m"] == pytest.approx(300, abs=3)
    assert far["venue_unlawful"] is False


def test_book_stall_has_a_distance_but_no_legal_limit(client: TestClient, world: World) -> None:
    school = world.orgs["school_a"]
    assert school.lat is not None
    assert school.lng is not None
    stall = _venue(world, "book_stall", school.lat + 0.0005, school.lng, client=client)
    assert stall["distance_m"] == pytest.approx(55.6, abs=1)
    assert stall["venue_unlawful"] is None


def test_no_distance_when_the_school_has_no_coordinates(client: TestClient, world: World) -> None:
    hazard = register(
        client,
        world,
        school="school_b",
        who="school_b",
        scope="surroundings",
        category="surroundings_venue",
        venue_type="internet_cafe",
        lat=34.26,
        lng=108.94,
    )
    assert hazard["distance_m"] is None
    assert hazard["venue_unlawful"] is None


def test_game_hall_limit_is_a_provincial_setting(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.config import get_settings

    monkeypatch.setitem(get_settings().venue_limits_m, "game_hall", 100)
    school = world.orgs["school_a"]
    assert school.lat is not None
    assert school.lng is not None
    hall = _venue(world, "game_hall", school.lat + 0.00135, school.lng, client=client)
    assert hall["distance_m"] == pytest.approx(150, abs=2)
    assert hall["venue_unlawful"] is False


def test_kindergartens_are_outside_the_internet_cafe_rule(client: TestClient, world: World) -> None:
    kg = make_org(
        "另一所幼儿园",
        OrgKind.school,
        school_type=SchoolType.kindergarten,
        lat=34.30,
        lng=108.99,
    )
    body = hazard_body(
        world,
        school_id=kg.id,
        scope="surroundings",
        category="surroundings_venue",
        venue_type="internet_cafe",
        lat=34.3005,
        lng=108.99,
    )
    r = client.post(API, json=body, headers=world.h.office)
    assert r.status_code == 201, r.text
    assert r.json()["distance_m"] == pytest.approx(55.6, abs=1)
    assert r.json()["venue_unlawful"] is None


def test_haversine_matches_a_known_distance() -> None:
    # One degree of latitude is about 111.2 km.
    assert haversine_m(34.0, 108.0, 35.0, 108.0) == pytest.approx(111_195, rel=1e-3)


# ------------------------------------------------------------------------------------------
# Codes under concurrency


def test_concurrent_registrations_get_distinct_codes(world: World) -> None:
    user = world.users["school_a"]
    assert user.id is not None
    principal = Principal(kind="user", id=user.id, role=Role.school, org_id=user.org_id)
    data = HazardCreate.model_validate(hazard_body(world))
    codes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            for _ in range(5):
                code = service.register(principal, data)["code"]
                with lock:
                    codes.append(code)
        except (AppError, Exception) as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(codes) == 40
    assert len(set(codes)) == 40
    assert sorted(codes) == [f"YH-2026-{i:06d}" for i in range(1, 41)]
