from fastapi.testclient import TestClient
from sqlmodel import col, func, select

from app.cases.demo import seed_cases
from app.cases.models import Case, CaseExposure, CaseSupervision
from app.core import db
from app.demo import seed_campaign, seed_orgs_and_users


def _seed_twice() -> None:
    for _ in range(2):
        with db.write() as session:
            orgs = seed_orgs_and_users(session)
            campaign = seed_campaign(session, orgs)
            seed_cases(session, orgs, campaign)


def test_demo_cases_are_seeded_once_with_one_supervised_and_one_exposed(
    client: TestClient,
) -> None:
    _seed_twice()
    with db.read() as session:
        assert session.exec(select(func.count()).select_from(Case)).one() == 4
        assert session.exec(select(func.count()).select_from(CaseSupervision)).one() == 1
        assert (
            session.exec(
                select(func.count())
                .select_from(CaseExposure)
                .where(col(CaseExposure.withdrawn_at).is_(None))
            ).one()
            == 1
        )
    (item,) = client.get("/api/v1/public/exposures").json()["items"]
    assert item["category"] == "campus_violence"
    token = client.post(
        "/api/v1/auth/token", data={"username": "police", "password": "demo-password"}
    ).json()["access_token"]
    listed = client.get(
        "/api/v1/cases?supervised=true&overdue=false", headers={"Authorization": f"Bearer {token}"}
    )
    assert len(listed.json()["items"]) == 1
