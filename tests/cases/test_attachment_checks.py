"""The checks the attachments package uses for evidence hanging off a case."""

from fastapi.testclient import TestClient

from app.auth.principal import Principal
from app.cases.visibility import case_attachable, case_attachments_readable, case_campaign
from app.core import db
from app.users.models import Capability, Role
from tests.cases.helpers import file_case
from tests.conftest import World


def _user(world: World, who: str) -> Principal:
    user = world.users[who]
    assert user.id is not None
    return Principal(
        kind="user",
        id=user.id,
        role=user.role,
        org_id=user.org_id,
        capabilities=frozenset(Capability(c) for c in user.capabilities),
    )


def test_case_evidence_is_read_at_full_depth_only(client: TestClient, world: World) -> None:
    case_id = file_case(client, world)["id"]
    service = Principal(
        kind="client", id=1, role=Role.service, org_id=None, scopes=frozenset({"cases:read"})
    )
    with db.read() as session:
        readable = {
            who: case_attachments_readable(session, _user(world, who), case_id)
            for who in ("police", "office", "jiancha", "school_a", "school_b", "edu")
        }
        assert case_attachments_readable(session, service, case_id) is False
        attachable = {
            who: case_attachable(session, _user(world, who), case_id)
            for who in ("police", "office", "jiancha", "school_a")
        }
        assert case_campaign(session, case_id) == world.campaign_id
    assert readable == {
        "police": True,
        "office": True,
        "jiancha": True,
        "school_a": False,
        "school_b": False,
        "edu": False,
    }
    assert attachable == {"police": True, "office": True, "jiancha": False, "school_a": False}


def test_police_upload_case_evidence_that_schools_cannot_read(
    client: TestClient, world: World
) -> None:
    from tests.attachments.samples import PNG

    case_id = file_case(client, world)["id"]
    r = client.post(
        "/api/v1/attachments",
        data={"parent_type": "case", "parent_id": str(case_id)},
        files={"file": ("scene.png", PNG, "image/png")},
        headers=world.h.police,
    )
    assert r.status_code == 201, r.text
    attachment_id = r.json()["id"]
    url = f"/api/v1/attachments/{attachment_id}/content"
    assert client.get(url, headers=world.h.police).status_code == 200
    assert client.get(url, headers=world.h.jiancha).status_code == 200
    for who in ("school_a", "chengjian", "edu"):
        assert client.get(url, headers=world.headers(who)).status_code == 404, who
    upload_by_school = client.post(
        "/api/v1/attachments",
        data={"parent_type": "case", "parent_id": str(case_id)},
        files={"file": ("x.png", PNG, "image/png")},
        headers=world.h.school_a,
    )
    assert upload_by_school.status_code == 404
