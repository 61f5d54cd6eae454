"""The demo register: every status present, timelines written, and seeding is idempotent."""

from fastapi.testclient import TestClient
from sqlmodel import col, func, select

from app import demo
from app.core import db
from app.hazards.models import Hazard, HazardEvent, HazardStatus


def test_demo_register_has_every_status_and_seeds_once(client: TestClient) -> None:
    demo.seed()
    with db.read() as session:
        statuses = set(session.exec(select(Hazard.status)).all())
        count = session.exec(select(func.count()).select_from(Hazard)).one()
        events = session.exec(select(func.count()).select_from(HazardEvent)).one()
        unlawful = session.exec(select(Hazard).where(col(Hazard.venue_unlawful))).all()
        supervised = session.exec(select(Hazard).where(col(Hazard.supervised))).all()
    assert statuses == set(HazardStatus)
    assert count == 15
    assert events > count
    assert [h.venue_type for h in unlawful] == ["internet_cafe"]
    assert len(supervised) == 1
    demo.seed()
    with db.read() as session:
        assert session.exec(select(func.count()).select_from(Hazard)).one() == 15
    # The school's demo user sees its own hazards through the API.
    token = client.post(
        "/api/v1/auth/token", data={"username": "school1", "password": demo.DEMO_PASSWORD}
    ).json()["access_token"]
    r = client.get("/api/v1/hazards", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert len(r.json()["items"]) == 5
