"""Filing a case and moving it along filed → investigating → solved → prosecuted → judged →
closed; every refusal leaves the case unchanged."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from app.campaigns.models import CampaignStatus
from app.core.time import now, today
from tests.cases.helpers import (
    API,
    VICTIM,
    act,
    advance,
    audit_rows,
    case_body,
    case_events,
    file_case,
    other_police_headers,
    weisheng_headers,
)
from tests.conftest import World, make_campaign


def test_police_file_a_case_with_a_code_and_their_org_as_handler(
    client: TestClient, world: World
) -> None:
    first = file_case(client, world)
    second = file_case(client, world)
    assert first["code"] == f"AJ-{today().year}-000001"
    assert second["code"] == f"AJ-{today().year}-000002"
    assert first["status"] == "filed"
    assert first["handling_org_id"] == world.org_id("police")
    assert first["actions"] == ["start-investigation"]
    # Write responses never echo the victims unmasked.
    assert first["victims"]["masked"] is True
    assert first["victims"]["items"][0]["name"] == "张*"


def test_filing_writes_timeline_audit_and_an_event_without_personal_data(
    client: TestClient, world: World
) -> None:
    case = file_case(client, world)
    timeline = client.get(f"{API}/{case['id']}/events", headers=world.h.police).json()["items"]
    assert [(e["action"], e["to_status"]) for e in timeline] == [("file", "filed")]
    (row,) = audit_rows("case.create", case["id"])
    assert row.changes["victims"] == 1
    assert "张小明" not in str(row.changes)
    (event,) = case_events(case["id"])
    assert event.type == "case.filed"
    assert event.audience == "cases"
    assert event.org_id == world.org_id("police")
    assert event.school_id == world.org_id("school_a")
    for secret in (VICTIM["name"], VICTIM["id_number"], VICTIM["contact"], "滋扰"):
        assert secret not in str(event.payload)


def test_full_lifecycle_to_closed(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    closed = advance(client, world, case["id"], "closed")
    assert closed["status"] == "closed"
    assert closed["judgement_outcome"] == "判处有期徒刑二年"
    for stamp in ("investigation_started_at", "solved_at", "prosecuted_at", "judged_at"):
        assert closed[stamp] is not None
    assert closed["closed_at"] is not None
    assert closed["actions"] == []
    timeline = client.get(f"{API}/{case['id']}/events", headers=world.h.police).json()["items"]
    assert [(e["from_status"], e["to_status"]) for e in timeline[1:]] == [
        ("filed", "investigating"),
        ("investigating", "solved"),
        ("solved", "prosecuted"),
        ("prosecuted", "judged"),
        ("judged", "closed"),
    ]
    changed = [e for e in case_events(case["id"]) if e.type == "case.status_changed"]
    assert [(e.payload["from"], e.payload["to"]) for e in changed][-1] == ("judged", "closed")
    assert len(audit_rows("case.judge", case["id"])) == 1


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("filed", "solve"),
        ("filed", "close"),
        ("investigating", "prosecute"),
        ("solved", "start-investigation"),
        ("closed", "solve"),
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(
    client: TestClient, world: World, status: str, action: str
) -> None:
    case = file_case(client, world)
    if status != "filed":
        case = advance(client, world, case["id"], status)
    r = act(client, world.h.police, case["id"], action)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "case.invalid_transition"
    after = client.get(f"{API}/{case['id']}", headers=world.h.police).json()
    assert after["status"] == status
    assert after["version"] == case["version"]


def test_judgement_needs_an_outcome(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    advance(client, world, case["id"], "prosecuted")
    r = act(client, world.h.police, case["id"], "judge", {})
    assert r.status_code == 422
    r = act(client, world.h.police, case["id"], "judge", {"judgement_outcome": ""})
    assert r.status_code == 422


def test_only_the_handling_police_move_a_case(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    for headers in (world.h.office, world.h.jiancha, world.h.school_a, weisheng_headers(world)):
        assert act(client, headers, case["id"], "start-investigation").status_code == 403
    # Police of another sub-bureau do not even see it.
    r = act(client, other_police_headers(world), case["id"], "start-investigation")
    assert r.status_code == 404
    assert act(client, {}, case["id"], "start-investigation").status_code == 401
    assert act(client, world.h.police, 999_999, "start-investigation").status_code == 404


def test_transition_with_a_stale_if_match_is_refused(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    r = client.post(
        f"{API}/{case['id']}/start-investigation",
        json={},
        headers={**world.h.police, "If-Match": '"v99"'},
    )
    assert r.status_code == 412
    r = client.post(
        f"{API}/{case['id']}/start-investigation",
        json={"comment": "成立专案组"},
        headers={**world.h.police, "If-Match": f'"v{case["version"]}"'},
    )
    assert r.status_code == 200
    assert r.headers["ETag"] == f'"v{case["version"] + 1}"'


def test_only_police_may_file_cases(client: TestClient, world: World) -> None:
    body = case_body(world)
    for who in ("office", "jiancha", "school_a", "edu"):
        assert client.post(API, json=body, headers=world.headers(who)).status_code == 403
    assert client.post(API, json=body, headers=weisheng_headers(world)).status_code == 403
    assert client.post(API, json=body).status_code == 401


@pytest.mark.parametrize(
    "override",
    [
        {"case_type": "arson"},
        {"location": ""},
        {"victim_minor_count": -1},
        {"summary": "x" * 4001},
        {"school_id": 2**40},
        {"victims": [{**VICTIM, "id_number": "12345"}]},
        {"victims": [VICTIM] * 101},
        {"occurred_at": (now() + timedelta(days=3)).isoformat()},
        {"occurred_at": "0001-01-01T00:00:00+08:00"},
        {"extra": "field"},
    ],
)
def test_filing_validates_input(
    client: TestClient, world: World, override: dict[str, object]
) -> None:
    r = client.post(API, json=case_body(world, **override), headers=world.h.police)
    assert r.status_code == 422, r.text


def test_filing_refuses_a_school_that_is_not_a_school(client: TestClient, world: World) -> None:
    r = client.post(
        API, json=case_body(world, school_id=world.org_id("edu")), headers=world.h.police
    )
    assert r.status_code == 422
    assert r.json()["code"] == "case.unknown_school"


def test_school_facing_summary_must_not_name_the_victim(client: TestClient, world: World) -> None:
    r = client.post(
        API,
        json=case_body(world, sanitized_summary="张小明在校门口被滋扰。"),
        headers=world.h.police,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "case.sanitized_summary_has_personal_data"
    assert "张小明" not in r.text


def test_no_cases_are_filed_in_a_closed_campaign(client: TestClient, world: World) -> None:
    closed = make_campaign(status=CampaignStatus.closed)
    r = client.post(API, json=case_body(world, campaign_id=closed.id), headers=world.h.police)
    assert r.status_code == 409
    assert r.json()["code"] == "campaign.closed"


def test_a_local_time_without_offset_is_accepted(client: TestClient, world: World) -> None:
    naive = (now() - timedelta(days=1)).replace(tzinfo=None).isoformat()
    r = client.post(API, json=case_body(world, occurred_at=naive), headers=world.h.police)
    assert r.status_code == 201, r.text


# ---------------------------------------------------------------------------------------------
# PATCH


def test_police_update_a_case_with_if_match(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    r = client.patch(
        f"{API}/{case['id']}",
        json={"suspect_count": 2, "suspect_status": "detained", "victims": []},
        headers={**world.h.police, "If-Match": f'"v{case["version"]}"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["suspect_status"] == "detained"
    assert r.json()["victims"]["items"] == []
    (row,) = audit_rows("case.update", case["id"])
    assert row.changes["victims"] == [1, 0]


def test_update_needs_if_match_and_refuses_stale(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    url = f"{API}/{case['id']}"
    assert client.patch(url, json={"suspect_count": 2}, headers=world.h.police).status_code == 428
    r = client.patch(
        url, json={"suspect_count": 2}, headers={**world.h.police, "If-Match": '"v42"'}
    )
    assert r.status_code == 412


def test_update_validates_and_guards(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    url = f"{API}/{case['id']}"
    match = {"If-Match": f'"v{case["version"]}"'}
    r = client.patch(url, json={"summary": None}, headers={**world.h.police, **match})
    assert r.status_code == 422
    r = client.patch(
        url,
        json={"sanitized_summary": "联系电话 138 0000 1111"},
        headers={**world.h.police, **match},
    )
    assert r.status_code == 422
    assert client.patch(url, json={}, headers={**world.h.office, **match}).status_code == 403
    assert client.patch(url, json={}, headers=match).status_code == 401
    r = client.patch(url, json={}, headers={**other_police_headers(world), **match})
    assert r.status_code == 404


def test_a_closed_case_cannot_be_edited(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    closed = advance(client, world, case["id"], "closed")
    r = client.patch(
        f"{API}/{case['id']}",
        json={"location": "别处"},
        headers={**world.h.police, "If-Match": f'"v{closed["version"]}"'},
    )
    assert r.status_code == 409
    assert r.json()["code"] == "case.closed"
