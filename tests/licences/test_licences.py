from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.core import db
from app.core.time import today
from app.events.models import Event
from app.orgs.models import LicenseStatus, Org, OrgKind, Ownership, SchoolType
from tests.attachments.samples import PNG
from tests.conftest import World, make_org

API = "/api/v1/licences"


def discover(client: TestClient, world: World, who: str = "town", **over: Any) -> Any:
    body = {
        "name": "金苹果幼儿园",
        "address": "桃花镇西街 8 号",
        "student_count": 35,
        "discovered_on": today().isoformat(),
        "note": "群众举报,现场核实无办园许可证。",
        **over,
    }
    return client.post(API, json=body, headers=world.headers(who))


def step(
    client: TestClient, world: World, school_id: int, action: str, who: str = "town", **over: Any
) -> Any:
    body = {"acted_on": today().isoformat(), **over}
    return client.post(f"{API}/{school_id}/{action}", json=body, headers=world.headers(who))


def unlicensed(world: World, status: LicenseStatus, supervisor: str = "town") -> int:
    org = make_org(
        school_type=SchoolType.kindergarten,
        ownership=Ownership.private,
        license_status=status,
        supervising_org_id=world.org_id(supervisor),
    )
    assert org.id is not None
    return org.id


def test_a_kindergarten_is_closed_step_by_step_and_caught_reopening(
    client: TestClient, world: World
) -> None:
    found = discover(client, world)
    assert found.status_code == 201, found.text
    school_id = found.json()["school_id"]
    assert found.json()["status"] == "discovered"
    assert found.json()["supervising_org_id"] == world.org_id("town")
    with db.read() as session:
        org = session.get(Org, school_id)
        assert org is not None
        assert (org.kind, org.school_type, org.ownership) == (
            OrgKind.school,
            SchoolType.kindergarten,
            Ownership.private,
        )

    assert (
        step(client, world, school_id, "investigate", note="举办者无资质").json()["status"]
        == "investigated"
    )
    assert (
        step(client, world, school_id, "order-closure", note="下达停办通知书").json()["status"]
        == "ordered_closed"
    )
    paper = client.post(
        "/api/v1/attachments",
        data={"parent_type": "licence", "parent_id": str(school_id)},
        files={"file": ("notice.png", PNG, "image/png")},
        headers=world.h.town,
    )
    assert paper.status_code == 201, paper.text
    closed = step(client, world, school_id, "close", attachment_ids=[paper.json()["id"]])
    assert closed.json()["status"] == "closed"
    assert closed.json()["last_action"]["attachment_ids"] == [paper.json()["id"]]

    still = step(client, world, school_id, "reinspect", found_operating=False)
    assert still.json()["status"] == "closed"
    assert "still closed" in still.json()["last_action"]["note"]
    assert still.json()["reopened"] is False

    caught = step(
        client, world, school_id, "reinspect", found_operating=True, note="发现在原址复办"
    )
    assert caught.status_code == 200, caught.text
    assert caught.json()["status"] == "discovered"
    assert caught.json()["reopened"] is True
    assert caught.json()["cycle"] == 2
    assert caught.json()["last_action"]["action"] == "reopen"

    # The office finds it among the reopened ones and sees the whole history.
    flagged = client.get(API, params={"reopened": True}, headers=world.h.office).json()["items"]
    assert [f["school_id"] for f in flagged] == [school_id]
    history = client.get(f"{API}/{school_id}/history", headers=world.h.office).json()["items"]
    assert [(a["action"], a["cycle"]) for a in history] == [
        ("discover", 1),
        ("investigate", 1),
        ("order-closure", 1),
        ("close", 1),
        ("reinspect", 1),
        ("reopen", 2),
    ]
    with db.read() as session:
        types = session.exec(
            select(Event.type).where(
                col(Event.subject_id) == school_id, col(Event.subject_type) == "org"
            )
        ).all()
    assert types.count("licence.reopened") == 1
    assert types.count("licence.status_changed") == 5
    # The new cycle runs the same steps again.
    assert step(client, world, school_id, "investigate").json()["status"] == "investigated"


def test_the_office_drives_a_step_and_names_the_supervisor_of_a_new_find(
    client: TestClient, world: World
) -> None:
    no_supervisor = discover(client, world, who="office")
    assert no_supervisor.status_code == 422
    assert no_supervisor.json()["code"] == "licence.bad_supervisor"
    school = discover(client, world, who="office", supervising_org_id=world.org_id("town"))
    assert school.status_code == 201, school.text
    assert (
        step(client, world, school.json()["school_id"], "investigate", who="office").status_code
        == 200
    )
    # The supervising town sees it as its own.
    assert (
        client.get(f"{API}/{school.json()['school_id']}", headers=world.h.town).status_code == 200
    )


def test_discovery_refusals(client: TestClient, world: World) -> None:
    assert (
        client.post(API, json={"name": "x", "discovered_on": today().isoformat()}).status_code
        == 401
    )
    assert discover(client, world, who="school_a").status_code == 403
    assert discover(client, world, who="admin").status_code == 403
    not_mine = discover(client, world, supervising_org_id=world.org_id("edu"))
    assert not_mine.status_code == 422
    assert (
        discover(client, world, discovered_on=(today() + timedelta(days=1)).isoformat()).status_code
        == 422
    )
    assert discover(client, world, lat=34.2).status_code == 422
    assert discover(client, world, name="").status_code == 422
    assert discover(client, world).status_code == 201
    dup = discover(client, world)
    assert dup.status_code == 409
    assert dup.json()["code"] == "licence.duplicate_name"


def test_step_refusals(client: TestClient, world: World) -> None:
    school_id = unlicensed(world, LicenseStatus.discovered)
    assert (
        client.post(
            f"{API}/{school_id}/investigate", json={"acted_on": today().isoformat()}
        ).status_code
        == 401
    )
    assert step(client, world, school_id, "investigate", who="school_a").status_code == 403
    # Another department does not see the file; oversight sees it but does not drive it.
    assert step(client, world, school_id, "investigate", who="chengjian").status_code == 404
    oversight = step(client, world, school_id, "investigate", who="jiancha")
    assert oversight.status_code == 403
    assert oversight.json()["code"] == "licence.forbidden"
    out_of_order = step(client, world, school_id, "close")
    assert out_of_order.status_code == 409
    assert out_of_order.json()["code"] == "licence.invalid_transition"
    assert step(client, world, school_id, "reinspect").status_code == 422
    assert step(client, world, school_id, "investigate", found_operating=True).status_code == 422
    assert step(client, world, school_id, "demolish").status_code == 404  # no such step route
    assert step(client, world, school_id, "investigate", attachment_ids=[424242]).status_code == 422
    stale = client.post(
        f"{API}/{school_id}/investigate",
        json={"acted_on": today().isoformat()},
        headers={**world.h.town, "If-Match": '"v5"'},
    )
    assert stale.status_code == 412
    # A licensed kindergarten has no crackdown file.
    assert step(client, world, world.org_id("kg"), "investigate").status_code == 404
    # Nothing changed on refusal.
    assert client.get(f"{API}/{school_id}", headers=world.h.town).json()["status"] == "discovered"
    ok = client.post(
        f"{API}/{school_id}/investigate",
        json={"acted_on": today().isoformat()},
        headers={**world.h.town, "If-Match": '"v1"'},
    )
    assert ok.status_code == 200
    assert ok.headers["ETag"] == '"v2"'


def test_who_sees_the_unlicensed_kindergartens(client: TestClient, world: World) -> None:
    towns = unlicensed(world, LicenseStatus.discovered)
    closed = unlicensed(world, LicenseStatus.closed)
    edus = unlicensed(world, LicenseStatus.ordered_closed, supervisor="edu")

    def ids(who: str, **params: Any) -> list[int]:
        r = client.get(API, params=params, headers=world.headers(who))
        assert r.status_code == 200, r.text
        return [i["school_id"] for i in r.json()["items"]]

    assert ids("office") == [towns, closed, edus]
    assert ids("jiancha") == [towns, closed, edus]
    assert ids("town") == [towns, closed]
    assert ids("chengjian") == []
    assert ids("office", status="closed") == [closed]
    assert ids("office", supervising_org_id=world.org_id("edu")) == [edus]
    assert ids("office", reopened=False) == [towns, closed, edus]
    first = client.get(API, params={"limit": 2}, headers=world.h.office).json()
    assert len(first["items"]) == 2
    rest = client.get(
        API, params={"limit": 2, "cursor": first["next_cursor"]}, headers=world.h.office
    ).json()
    assert [i["school_id"] for i in rest["items"]] == [edus]
    assert client.get(API).status_code == 401
    assert client.get(API, headers=world.h.school_a).status_code == 403
    assert client.get(API, params={"status": "gone"}, headers=world.h.office).status_code == 422
    assert client.get(f"{API}/{edus}", headers=world.h.town).status_code == 404
    assert client.get(f"{API}/0", headers=world.h.town).status_code == 422


def test_action_history_refusals(client: TestClient, world: World) -> None:
    school_id = unlicensed(world, LicenseStatus.discovered)
    url = f"{API}/{school_id}/history"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=world.h.kg).status_code == 403
    assert client.get(url, headers=world.h.chengjian).status_code == 404
    assert client.get(url, params={"limit": 0}, headers=world.h.town).status_code == 422
    assert client.get(url, headers=world.h.town).json()["items"] == []
    step(client, world, school_id, "investigate")
    assert [a["action"] for a in client.get(url, headers=world.h.town).json()["items"]] == [
        "investigate"
    ]


def test_one_licence_file_needs_a_token_and_a_staff_role(client: TestClient, world: World) -> None:
    school_id = unlicensed(world, LicenseStatus.investigated)
    url = f"{API}/{school_id}"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=world.h.school_a).status_code == 403
    assert client.get(url, headers=world.h.admin).status_code == 403
    got = client.get(url, headers=world.h.office)
    assert got.status_code == 200
    assert got.json()["status"] == "investigated"
    assert got.json()["last_action"] is None
    assert got.headers["ETag"] == '"v1"'
