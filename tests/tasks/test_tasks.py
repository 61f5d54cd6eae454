from fastapi.testclient import TestClient

from app.campaigns.models import CampaignStatus
from tests.conftest import World, make_campaign
from tests.tasks.helpers import (
    API,
    assignment_of,
    create_task,
    event_types,
    in_days,
    service_headers,
)


def test_office_creates_a_task_and_every_org_gets_an_assignment(
    client: TestClient, world: World
) -> None:
    task = create_task(client, world)
    assert task["lead_org_id"] == world.org_id("edu")
    assert task["participant_org_ids"] == [world.org_id("chengjian"), world.org_id("police")]
    roles = {a["org_id"]: (a["role"], a["status"]) for a in task["assignments"]}
    assert roles == {
        world.org_id("edu"): ("lead", "assigned"),
        world.org_id("chengjian"): ("participant", "assigned"),
        world.org_id("police"): ("participant", "assigned"),
    }
    assert event_types(task["id"]) == ["task.created"] * 3


def test_task_lead_must_not_be_repeated_among_participants(
    client: TestClient, world: World
) -> None:
    body = {
        "campaign_id": world.campaign_id,
        "title": "任务",
        "key_task_type": "other",
        "lead_org_id": world.org_id("edu"),
        "participant_org_ids": [world.org_id("edu")],
        "due_on": in_days(5),
    }
    assert client.post(API, json=body, headers=world.h.office).status_code == 422
    body["participant_org_ids"] = [world.org_id("police"), world.org_id("police")]
    assert client.post(API, json=body, headers=world.h.office).status_code == 422


def test_tasks_go_to_departments_only(client: TestClient, world: World) -> None:
    body = {
        "campaign_id": world.campaign_id,
        "title": "任务",
        "key_task_type": "other",
        "lead_org_id": world.org_id("edu"),
        "participant_org_ids": [world.org_id("school_a")],
        "due_on": in_days(5),
    }
    r = client.post(API, json=body, headers=world.h.office)
    assert r.status_code == 422
    assert r.json()["code"] == "task.bad_org"
    body["key_task_type"] = "cleanup"
    assert client.post(API, json=body, headers=world.h.office).status_code == 422


def test_creating_a_task_needs_a_token_and_the_office(client: TestClient, world: World) -> None:
    body = {
        "campaign_id": world.campaign_id,
        "title": "任务",
        "key_task_type": "other",
        "lead_org_id": world.org_id("edu"),
        "due_on": in_days(5),
    }
    assert client.post(API, json=body).status_code == 401
    assert client.post(API, json=body, headers=world.h.edu).status_code == 403
    assert client.post(API, json=body, headers=world.h.jiancha).status_code == 403


def test_no_task_in_a_closed_campaign(client: TestClient, world: World) -> None:
    closed = make_campaign(CampaignStatus.closed)
    body = {
        "campaign_id": closed.id,
        "title": "任务",
        "key_task_type": "other",
        "lead_org_id": world.org_id("edu"),
        "due_on": in_days(5),
    }
    r = client.post(API, json=body, headers=world.h.office)
    assert r.status_code == 409
    assert r.json()["code"] == "campaign.closed"


def test_department_sees_only_the_tasks_it_leads_or_takes_part_in(
    client: TestClient, world: World
) -> None:
    mine = create_task(client, world, lead="edu", participants=("police",))
    other = create_task(client, world, lead="chengjian", participants=())
    listed = client.get(API, headers=world.h.police).json()["items"]
    assert [t["id"] for t in listed] == [mine["id"]]
    r = client.get(f"{API}/{other['id']}", headers=world.h.police)
    assert r.status_code == 404
    assert r.json()["code"] == "task.not_found"
    assert client.get(f"{API}/{mine['id']}", headers=world.h.police).status_code == 200
    office_ids = {t["id"] for t in client.get(API, headers=world.h.office).json()["items"]}
    assert office_ids == {mine["id"], other["id"]}
    oversight_ids = {t["id"] for t in client.get(API, headers=world.h.jiancha).json()["items"]}
    assert oversight_ids == office_ids


def test_schools_see_no_tasks(client: TestClient, world: World) -> None:
    task = create_task(client, world)
    assert client.get(API, headers=world.h.school_a).json()["items"] == []
    assert client.get(f"{API}/{task['id']}", headers=world.h.school_a).status_code == 404


def test_participant_sees_only_its_own_assignment_while_the_lead_sees_all(
    client: TestClient, world: World
) -> None:
    task = create_task(client, world, lead="edu", participants=("chengjian", "police"))
    seen_by_police = client.get(f"{API}/{task['id']}", headers=world.h.police).json()
    assert [a["org_id"] for a in seen_by_police["assignments"]] == [world.org_id("police")]
    seen_by_lead = client.get(f"{API}/{task['id']}", headers=world.h.edu).json()
    assert len(seen_by_lead["assignments"]) == 3


def test_task_list_filters_and_validation(client: TestClient, world: World) -> None:
    a = create_task(client, world, key_task_type="case_crackdown", lead="police", participants=())
    b = create_task(client, world, due_on=in_days(3))
    got = client.get(API, params={"key_task_type": "case_crackdown"}, headers=world.h.office)
    assert [t["id"] for t in got.json()["items"]] == [a["id"]]
    got = client.get(API, params={"org_id": world.org_id("chengjian")}, headers=world.h.office)
    assert [t["id"] for t in got.json()["items"]] == [b["id"]]
    got = client.get(API, params={"sort": "due_on"}, headers=world.h.office)
    assert [t["id"] for t in got.json()["items"]] == [b["id"], a["id"]]
    got = client.get(
        API, params={"campaign_id": world.campaign_id, "limit": 1}, headers=world.h.office
    )
    assert len(got.json()["items"]) == 1
    nxt = client.get(
        API, params={"cursor": got.json()["next_cursor"], "limit": 1}, headers=world.h.office
    )
    assert len(nxt.json()["items"]) == 1
    assert nxt.json()["items"][0]["id"] != got.json()["items"][0]["id"]
    assert client.get(API, params={"sort": "title"}, headers=world.h.office).status_code == 422
    assert client.get(API, params={"status": "done"}, headers=world.h.office).status_code == 422
    assert client.get(API).status_code == 401


def test_systems_read_tasks_only_with_the_tasks_scope(client: TestClient, world: World) -> None:
    task = create_task(client, world)
    assert client.get(API, headers=service_headers("hazards:read")).status_code == 403
    assert (
        client.get(f"{API}/{task['id']}", headers=service_headers("hazards:read")).status_code
        == 403
    )
    ok = client.get(f"{API}/{task['id']}", headers=service_headers("tasks:read"))
    assert ok.status_code == 200
    assert len(ok.json()["assignments"]) == 3


def test_get_task_sends_etag_and_validates_the_id(client: TestClient, world: World) -> None:
    task = create_task(client, world)
    r = client.get(f"{API}/{task['id']}", headers=world.h.office)
    assert r.headers["ETag"] == '"v1"'
    assert client.get(f"{API}/0", headers=world.h.office).status_code == 422
    assert client.get(f"{API}/{task['id']}").status_code == 401
    assert client.get(f"{API}/999999", headers=world.h.office).status_code == 404


def test_office_changes_due_date_and_participants_with_if_match(
    client: TestClient, world: World
) -> None:
    task = create_task(client, world, participants=("chengjian",))
    url = f"{API}/{task['id']}"
    body = {"due_on": in_days(20), "participant_org_ids": [world.org_id("police")]}
    assert client.patch(url, json=body, headers=world.h.office).status_code == 428
    stale = client.patch(url, json=body, headers={**world.h.office, "If-Match": '"v9"'})
    assert stale.status_code == 412
    r = client.patch(url, json=body, headers={**world.h.office, "If-Match": '"v1"'})
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"v2"'
    assert r.json()["due_on"] == in_days(20)
    assert r.json()["participant_org_ids"] == [world.org_id("police")]
    assert client.get(url, headers=world.h.chengjian).status_code == 404


def test_a_participant_that_started_cannot_be_removed(client: TestClient, world: World) -> None:
    task = create_task(client, world, participants=("chengjian",))
    mine = assignment_of(task, world.org_id("chengjian"))
    client.post(f"{API}/{task['id']}/assignments/{mine['id']}/start", headers=world.h.chengjian)
    r = client.patch(
        f"{API}/{task['id']}",
        json={"participant_org_ids": []},
        headers={**world.h.office, "If-Match": '"v1"'},
    )
    assert r.status_code == 409
    assert r.json()["code"] == "task.participant_busy"


def test_patch_task_refusals(client: TestClient, world: World) -> None:
    task = create_task(client, world)
    url = f"{API}/{task['id']}"
    h = {**world.h.office, "If-Match": '"v1"'}
    assert client.patch(url, json={"title": None}, headers=h).status_code == 422
    assert client.patch(url, json={"lead_org_id": 1}, headers=h).status_code == 422
    assert (
        client.patch(
            url, json={"participant_org_ids": [world.org_id("edu")]}, headers=h
        ).status_code
        == 422
    )
    assert client.patch(url, json={"title": "x"}).status_code == 401
    assert (
        client.patch(
            url, json={"title": "x"}, headers={**world.h.edu, "If-Match": '"v1"'}
        ).status_code
        == 403
    )
    assert client.patch(f"{API}/999999", json={"title": "x"}, headers=h).status_code == 404


def test_assigned_org_starts_its_own_assignment(client: TestClient, world: World) -> None:
    task = create_task(client, world)
    mine = assignment_of(task, world.org_id("chengjian"))
    url = f"{API}/{task['id']}/assignments/{mine['id']}/start"
    r = client.post(url, headers=world.h.chengjian)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_progress"
    assert r.json()["started_at"] is not None
    again = client.post(url, headers=world.h.chengjian)
    assert again.status_code == 409
    assert again.json()["code"] == "task_assignment.invalid_transition"
    assert "task.assignment_started" in event_types(task["id"])


def test_start_refusals(client: TestClient, world: World) -> None:
    task = create_task(client, world, lead="edu", participants=("chengjian", "police"))
    theirs = assignment_of(task, world.org_id("chengjian"))
    url = f"{API}/{task['id']}/assignments/{theirs['id']}/start"
    assert client.post(url).status_code == 401
    assert client.post(url, headers=world.h.office).status_code == 403
    # The lead sees the participant's assignment but cannot act for it.
    lead = client.post(url, headers=world.h.edu)
    assert lead.status_code == 403
    assert lead.json()["code"] == "task.not_assigned"
    # Another participant does not even see it.
    assert client.post(url, headers=world.h.police).status_code == 404
    assert client.post(url, headers=world.h.town).status_code == 404
    assert (
        client.post(
            f"{API}/{task['id']}/assignments/0/start", headers=world.h.chengjian
        ).status_code
        == 422
    )
    stale = client.post(url, headers={**world.h.chengjian, "If-Match": '"v7"'})
    assert stale.status_code == 412
