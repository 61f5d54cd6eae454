"""Demo plans sit on the demo hazards and go through the same loop as real ones."""

from fastapi.testclient import TestClient
from sqlmodel import col, func, select

from app import demo
from app.core import db
from app.hazards.models import Hazard, HazardStatus
from app.plans.models import Plan, PlanEvent, PlanStatus


def _token(client: TestClient, username: str) -> dict[str, str]:
    r = client.post(
        "/api/v1/auth/token", data={"username": username, "password": demo.DEMO_PASSWORD}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_demo_has_an_approved_plan_for_a_major_hazard_and_a_draft(client: TestClient) -> None:
    demo.seed()
    demo.seed()
    with db.read() as session:
        plans = session.exec(select(Plan).order_by(col(Plan.id))).all()
        assert [p.status for p in plans] == [PlanStatus.approved, PlanStatus.draft]
        assert session.exec(select(func.count()).select_from(PlanEvent)).one() == 4
    approved = plans[0]
    chengjian = _token(client, "chengjian")
    got = client.get(f"/api/v1/plans/{approved.id}", headers=chengjian).json()
    assert got["missing_items"] == []
    assert got["hazards"][0]["grade"] == "major"
    assert "complete" in got["allowed_actions"]
    # The demo plan can be completed, moving its major hazard to rectified.
    r = client.post(f"/api/v1/plans/{approved.id}/complete", headers=chengjian)
    assert r.status_code == 200, r.text
    with db.read() as session:
        hazard = session.get(Hazard, got["hazards"][0]["id"])
        assert hazard is not None
        assert hazard.status == HazardStatus.rectified
    school2 = _token(client, "school2")
    assert client.get(f"/api/v1/plans/{approved.id}", headers=school2).status_code == 404
