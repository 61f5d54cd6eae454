"""Who sees which case, how much of it, and who ever sees a child's name."""

from fastapi.testclient import TestClient

from tests.cases.helpers import (
    API,
    VICTIM,
    act,
    advance,
    audit_rows,
    file_case,
    office_oversight_headers,
    other_police_headers,
    service_headers,
    supervise,
    weisheng_headers,
)
from tests.conftest import World

SECRETS = (VICTIM["name"], VICTIM["id_number"], VICTIM["contact"])


def _no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


# ---------------------------------------------------------------------------------------------
# Lists


def test_school_cannot_list_cases(client: TestClient, world: World) -> None:
    file_case(client, world)
    r = client.get(API, headers=world.h.school_a)
    assert r.status_code == 403
    assert r.json()["code"] == "case.list_forbidden"


def test_health_bureau_cannot_list_cases(client: TestClient, world: World) -> None:
    file_case(client, world)
    r = client.get(API, headers=weisheng_headers(world))
    assert r.status_code == 403
    _no_secrets(r.text)


def test_list_needs_authentication_and_the_admin_is_refused(
    client: TestClient, world: World
) -> None:
    assert client.get(API).status_code == 401
    assert client.get(API, headers=world.h.admin).status_code == 403


def test_police_list_only_their_orgs_cases(client: TestClient, world: World) -> None:
    mine = file_case(client, world)
    other_police_headers(world)
    theirs = file_case(client, world, who="police2")
    ids = [c["id"] for c in client.get(API, headers=world.h.police).json()["items"]]
    assert ids == [mine["id"]]
    ids = [c["id"] for c in client.get(API, headers=world.h.police2).json()["items"]]
    assert ids == [theirs["id"]]
    office_ids = {c["id"] for c in client.get(API, headers=world.h.office).json()["items"]}
    assert office_ids == {mine["id"], theirs["id"]}
    oversight_ids = {c["id"] for c in client.get(API, headers=world.h.jiancha).json()["items"]}
    assert oversight_ids == office_ids


def test_list_rows_never_carry_victims_or_the_narrative(client: TestClient, world: World) -> None:
    file_case(client, world)
    for who in ("police", "office", "jiancha"):
        r = client.get(API, headers=world.headers(who))
        assert r.status_code == 200
        (row,) = r.json()["items"]
        assert "victims" not in row
        assert "summary" not in row
        _no_secrets(r.text)
    assert audit_rows("case.victims_read") == []


def test_service_account_with_cases_read_gets_sanitized_rows(
    client: TestClient, world: World
) -> None:
    case = file_case(client, world)
    headers = service_headers("cases:read")
    r = client.get(API, headers=headers)
    assert r.status_code == 200, r.text
    (row,) = r.json()["items"]
    assert row["view"] == "sanitized"
    assert row["sanitized_summary"] == "校门口发生一起滋扰学生事件,公安机关已立案侦查。"
    assert "location" not in row
    _no_secrets(r.text)
    one = client.get(f"{API}/{case['id']}", headers=headers)
    assert one.json()["view"] == "sanitized"
    assert client.get(f"{API}/{case['id']}/victims", headers=headers).status_code == 403


def test_service_account_without_the_scope_is_refused(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    headers = service_headers("hazards:read")
    assert client.get(API, headers=headers).status_code == 403
    assert client.get(f"{API}/{case['id']}", headers=headers).status_code == 403


# ---------------------------------------------------------------------------------------------
# One case


def test_school_sees_a_sanitized_view_of_a_case_concerning_it(
    client: TestClient, world: World
) -> None:
    case = file_case(client, world)
    r = client.get(f"{API}/{case['id']}", headers=world.h.school_a)
    assert r.status_code == 200
    body = r.json()
    assert body["view"] == "sanitized"
    assert set(body) == {
        "view",
        "id",
        "code",
        "case_type",
        "status",
        "occurred_on",
        "school_id",
        "sanitized_summary",
        "version",
    }
    _no_secrets(r.text)
    assert "持械" not in r.text  # the police's narrative stays with the police


def test_school_gets_no_details_of_a_case_concerning_it(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    for tail in ("victims", "events", "progress"):
        r = client.get(f"{API}/{case['id']}/{tail}", headers=world.h.school_a)
        assert r.status_code == 403, tail
        _no_secrets(r.text)


def test_school_cannot_see_another_schools_case(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    for tail in ("", "/victims", "/events"):
        r = client.get(f"{API}/{case['id']}{tail}", headers=world.h.school_b)
        assert r.status_code == 404, tail


def test_health_bureau_sees_no_case_at_all(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    headers = weisheng_headers(world)
    for tail in ("", "/victims", "/events", "/progress"):
        r = client.get(f"{API}/{case['id']}{tail}", headers=headers)
        assert r.status_code == 404, tail
        _no_secrets(r.text)


def test_other_departments_and_admins_get_404(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    for who in ("edu", "chengjian", "inspector", "admin"):
        assert client.get(f"{API}/{case['id']}", headers=world.headers(who)).status_code == 404
    assert client.get(f"{API}/{case['id']}", headers=other_police_headers(world)).status_code == 404


def test_get_needs_authentication_and_a_valid_id(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    assert client.get(f"{API}/{case['id']}").status_code == 401
    assert client.get(f"{API}/0", headers=world.h.police).status_code == 422
    assert client.get(f"{API}/{2**40}", headers=world.h.police).status_code == 422
    assert client.get(f"{API}/999999", headers=world.h.police).status_code == 404


def test_office_reads_the_case_with_victims_masked(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    r = client.get(f"{API}/{case['id']}", headers=world.h.office)
    assert r.status_code == 200
    body = r.json()
    assert body["view"] == "full"
    assert body["summary"].startswith("一男子持械")
    victims = body["victims"]
    assert victims["masked"] is True
    (victim,) = victims["items"]
    assert victim["name"] == "张*"
    assert victim["id_number"] == "1101**********1234"
    assert victim["contact"] == "138****1111"
    assert victim["note"] is None
    assert audit_rows("case.victims_read") == []


def test_handling_police_and_oversight_read_victims_and_each_read_is_audited(
    client: TestClient, world: World
) -> None:
    case = file_case(client, world)
    for who in ("police", "jiancha"):
        r = client.get(f"{API}/{case['id']}", headers=world.headers(who))
        assert r.status_code == 200
        (victim,) = r.json()["victims"]["items"]
        assert victim["name"] == VICTIM["name"]
        assert victim["id_number"] == VICTIM["id_number"]
        assert victim["contact"] == VICTIM["contact"]
    rows = audit_rows("case.victims_read", case["id"])
    assert [(row.actor, row.changes["via"]) for row in rows] == [
        (f"user:{world.users['police'].id}", "detail"),
        (f"user:{world.users['jiancha'].id}", "detail"),
    ]


def test_every_read_of_the_victims_list_is_audited(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    url = f"{API}/{case['id']}/victims"
    for _ in range(3):
        r = client.get(url, headers=world.h.police)
        assert r.status_code == 200
        assert r.json()["masked"] is False
        assert r.json()["items"][0]["name"] == VICTIM["name"]
    rows = audit_rows("case.victims_read", case["id"])
    assert len(rows) == 3
    assert all(row.changes["via"] == "victims" for row in rows)
    assert all(VICTIM["name"] not in str(row.changes) for row in rows)


def test_office_with_oversight_reads_victims_unmasked(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    r = client.get(f"{API}/{case['id']}/victims", headers=office_oversight_headers(world))
    assert r.json()["masked"] is False
    assert len(audit_rows("case.victims_read", case["id"])) == 1


def test_office_gets_the_victims_list_masked_and_unaudited(
    client: TestClient, world: World
) -> None:
    case = file_case(client, world)
    r = client.get(f"{API}/{case['id']}/victims", headers=world.h.office)
    assert r.status_code == 200
    assert r.json()["masked"] is True
    _no_secrets(r.text)
    assert audit_rows("case.victims_read") == []


def test_victims_endpoint_needs_authentication(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    assert client.get(f"{API}/{case['id']}/victims").status_code == 401
    assert client.get(f"{API}/abc/victims", headers=world.h.police).status_code == 422


def test_timeline_for_full_readers_only(client: TestClient, world: World) -> None:
    case = file_case(client, world)
    for who in ("police", "office", "jiancha"):
        r = client.get(f"{API}/{case['id']}/events", headers=world.headers(who))
        assert r.status_code == 200
        assert r.json()["items"][0]["action"] == "file"
    assert client.get(f"{API}/{case['id']}/events").status_code == 401
    r = client.get(f"{API}/{case['id']}/events?limit=0", headers=world.h.police)
    assert r.status_code == 422


def test_the_office_reads_the_polices_free_text_with_victims_redacted(
    client: TestClient, world: World
) -> None:
    case = file_case(client, world)
    act(
        client,
        world.h.police,
        case["id"],
        "start-investigation",
        {"comment": "约谈张小明家长,电话13800001111"},
    )
    supervise(client, world, case["id"])
    r = client.post(
        f"{API}/{case['id']}/progress",
        json={"text": "已再次询问张小明(身份证110101201501011234)"},
        headers=world.h.police,
    )
    assert r.status_code == 201
    detail = client.get(f"{API}/{case['id']}", headers=world.h.office)
    assert "致张*左臂轻微伤" in detail.json()["summary"]
    timeline = client.get(f"{API}/{case['id']}/events", headers=world.h.office)
    assert "约谈张*家长,电话138****1111" in timeline.text
    progress = client.get(f"{API}/{case['id']}/progress", headers=world.h.office)
    assert "张*(身份证1101**********1234)" in progress.text
    for r in (detail, timeline, progress):
        _no_secrets(r.text)
    # The handling police read their own words as written.
    own = client.get(f"{API}/{case['id']}/progress", headers=world.h.police)
    assert VICTIM["id_number"] in own.text


def test_a_judgement_naming_the_victim_is_redacted_for_the_office(
    client: TestClient, world: World
) -> None:
    case = file_case(client, world)
    advance(client, world, case["id"], "prosecuted")
    r = act(
        client, world.h.police, case["id"], "judge", {"judgement_outcome": "被告人赔偿张小明医疗费"}
    )
    assert r.status_code == 200
    detail = client.get(f"{API}/{case['id']}", headers=world.h.office)
    assert detail.json()["judgement_outcome"] == "被告人赔偿张*医疗费"
    timeline = client.get(f"{API}/{case['id']}/events", headers=world.h.office)
    assert timeline.json()["items"][-1]["data"]["judgement_outcome"] == "被告人赔偿张*医疗费"
    for r in (detail, timeline):
        _no_secrets(r.text)
