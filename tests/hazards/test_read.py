"""Reading the register: visibility per role, filters, sorting, keyset pages, overdue."""

from datetime import date
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient

from tests.conftest import World
from tests.hazards.helpers import API, insert_hazard, plan_for, register, service_headers


def _ids(client: TestClient, headers: dict[str, str], query: str = "") -> list[int]:
    r = client.get(f"{API}?limit=100{query}", headers=headers)
    assert r.status_code == 200, r.text
    return [h["id"] for h in r.json()["items"]]


@pytest.fixture
def district(world: World) -> dict[str, int]:
    """One hazard at each school, one assigned to 城建局, one under 城建局's listed supervision."""
    return {
        "a": insert_hazard(world, "school_a"),
        "b": insert_hazard(world, "school_b"),
        "kg": insert_hazard(world, "kg"),
        "a_to_chengjian": insert_hazard(
            world, "school_a", responsible_org_id=world.org_id("chengjian"), status="rectifying"
        ),
        "b_supervised_by_chengjian": insert_hazard(
            world,
            "school_b",
            grade="major",
            supervised=True,
            supervising_org_id=world.org_id("chengjian"),
        ),
        "kg_by_edu": insert_hazard(world, "kg", reporter_org_id=world.org_id("edu")),
    }


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("school_a", {"a", "a_to_chengjian"}),
        ("school_b", {"b", "b_supervised_by_chengjian"}),
        ("kg", {"kg", "kg_by_edu"}),
        ("chengjian", {"a_to_chengjian", "b_supervised_by_chengjian"}),
        # 教体局 supervises the public schools and registered one at the kindergarten.
        ("edu", {"a", "b", "a_to_chengjian", "b_supervised_by_chengjian", "kg_by_edu"}),
        ("town", {"kg", "kg_by_edu"}),
        ("police", set()),
        ("admin", set()),
        ("office", "all"),
        ("jiancha", "all"),
        ("inspector", "all"),
    ],
)
def test_each_role_sees_exactly_its_hazards(
    client: TestClient, world: World, district: dict[str, int], who: str, expected: Any
) -> None:
    wanted = set(district.values()) if expected == "all" else {district[k] for k in expected}
    assert set(_ids(client, world.headers(who))) == wanted


def test_service_account_needs_the_hazards_read_scope(
    client: TestClient, world: World, district: dict[str, int]
) -> None:
    assert set(_ids(client, service_headers(["hazards:read"]))) == set(district.values())
    r = client.get(API, headers=service_headers(["plans:read"]))
    assert r.status_code == 403
    assert r.json()["code"] == "auth.scope_missing"
    r = client.get(f"{API}/{district['a']}", headers=service_headers(["stats:read"]))
    assert r.status_code == 403


def test_list_and_get_need_a_token(client: TestClient, world: World) -> None:
    assert client.get(API).status_code == 401
    assert client.get(f"{API}/1").status_code == 401
    assert client.get(f"{API}/1/events").status_code == 401
    assert client.get(f"{API}/1/extensions").status_code == 401


def test_school_cannot_see_other_schools_hazard(
    client: TestClient, world: World, district: dict[str, int]
) -> None:
    for path in ("", "/events", "/extensions"):
        r = client.get(f"{API}/{district['b']}{path}", headers=world.h.school_a)
        assert r.status_code == 404, path
        assert r.json()["code"] == "hazard.not_found"
    assert client.get(f"{API}/{district['b']}", headers=world.h.school_b).status_code == 200


def test_get_returns_the_hazard_with_etag_plans_and_actions(
    client: TestClient, world: World
) -> None:
    hazard = register(client, world, grade="major")
    plan_id = plan_for(world, [hazard["id"]], "school_a")
    r = client.get(f"{API}/{hazard['id']}", headers=world.h.school_a)
    assert r.status_code == 200
    assert r.headers["ETag"] == '"v2"'  # registered, then covered by a plan
    body = r.json()
    assert body["plan_ids"] == [plan_id]
    assert body["code"] == hazard["code"]
    assert set(body["allowed_actions"]) == {"start", "escalate", "edit"}
    office = client.get(f"{API}/{hazard['id']}", headers=world.h.office).json()
    assert set(office["allowed_actions"]) == {"void", "supervise", "edit"}
    listed = client.get(API, headers=world.h.school_a).json()["items"][0]
    assert listed == body  # same shape in list and get


def test_bad_ids_and_queries_are_422(client: TestClient, world: World) -> None:
    for query in (
        "status=burning",
        "limit=101",
        "limit=0",
        "sort=title",
        "sort=-password",
        "q=" + "x" * 101,
        "q=%00",
        "school_id=-1",
        "found_from=yesterday",
        "cursor=not-a-cursor",
        "overdue=perhaps",
    ):
        r = client.get(f"{API}?{query}", headers=world.h.office)
        assert r.status_code == 422, query
    assert client.get(f"{API}/0", headers=world.h.office).status_code == 422
    assert client.get(f"{API}/{2**63}", headers=world.h.office).status_code == 422


def test_filters(client: TestClient, world: World) -> None:
    ids = {
        "fire": insert_hazard(world, category="fire", found_on=date(2026, 11, 22)),
        "major": insert_hazard(world, grade="major", found_on=date(2026, 11, 23)),
        "road": insert_hazard(
            world,
            scope="surroundings",
            category="traffic",
            title="校门前无减速带",
            location="学府路",
            found_on=date(2026, 11, 24),
        ),
        "closed": insert_hazard(world, "school_b", status="closed"),
        "assigned": insert_hazard(
            world, responsible_org_id=world.org_id("chengjian"), status="rectifying"
        ),
        "supervised": insert_hazard(world, "school_b", grade="major", supervised=True),
    }
    h = world.h.office

    def got(query: str) -> set[int]:
        return set(_ids(client, h, "&" + query))

    assert got("category=fire") == {ids["fire"]}
    assert got("grade=major") == {ids["major"], ids["supervised"]}
    assert got("scope=surroundings") == {ids["road"]}
    assert got("status=closed&status=rectifying") == {ids["closed"], ids["assigned"]}
    assert got(f"school_id={world.org_id('school_b')}") == {ids["closed"], ids["supervised"]}
    assert got(f"responsible_org_id={world.org_id('chengjian')}") == {ids["assigned"]}
    # A school answers for its hazards until one is handed to a department (a different
    # index serves each: app/hazards/models.py).
    school_a = world.org_id("school_a")
    own = {ids["fire"], ids["major"], ids["road"]}
    assert got(f"responsible_org_id={school_a}") == own
    assert got(f"responsible_org_id={school_a}&status=rectifying") == set()
    assert got(f"responsible_org_id={world.org_id('school_b')}") == {
        ids["closed"],
        ids["supervised"],
    }
    assert got("responsible_org_id=99999") == set()
    assert got("supervised=true") == {ids["supervised"]}
    assert got("found_from=2026-11-23&found_to=2026-11-24") == {ids["major"], ids["road"]}
    assert got("q=减速带") == {ids["road"]}
    assert got("q=学府") == {ids["road"]}
    assert got("q=%25") == set()  # a literal %, not a wildcard
    assert got(f"campaign_id={world.campaign_id}") == set(ids.values())
    assert got("campaign_id=99999") == set()
    r = client.get(f"{API}?with_total=true&limit=2&grade=major", headers=h)
    assert r.json()["total"] == 2
    assert client.get(f"{API}?limit=2", headers=h).json()["total"] is None


def test_reported_date_filter_uses_local_days(client: TestClient, world: World) -> None:
    with time_machine.travel("2026-11-24 23:30 +08:00", tick=False):
        late = register(client, world)
    with time_machine.travel("2026-11-25 00:30 +08:00", tick=False):
        early = register(client, world)
    h = world.h.office
    assert _ids(client, h, "&reported_from=2026-11-25") == [early["id"]]
    assert _ids(client, h, "&reported_to=2026-11-24") == [late["id"]]
    assert set(_ids(client, h, "&reported_from=2026-11-24&reported_to=2026-11-25")) == {
        late["id"],
        early["id"],
    }


@pytest.mark.parametrize(
    "sort",
    [
        "id",
        "-id",
        "found_on",
        "-found_on",
        "deadline",
        "-deadline",
        "reported_at",
        "-reported_at",
        "code",
        "-code",
    ],
)
def test_keyset_pages_have_no_duplicates_or_gaps(
    client: TestClient, world: World, sort: str
) -> None:
    made = []
    for i in range(23):
        made.append(
            insert_hazard(
                world,
                found_on=date(2026, 11, 1 + i % 4),  # many ties
                deadline=None if i % 3 == 0 else date(2026, 12, 1 + i % 5),
                code=f"YH-1999-{(i * 7) % 23:06d}",
            )
        )
    seen: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        query = f"{API}?limit=5&sort={sort}" + (f"&cursor={cursor}" if cursor else "")
        r = client.get(query, headers=world.h.office)
        assert r.status_code == 200, r.text
        seen.extend(r.json()["items"])
        cursor = r.json()["next_cursor"]
        pages += 1
        if not cursor:
            break
    assert pages == 5
    assert sorted(h["id"] for h in seen) == sorted(made)
    key = sort.lstrip("-")

    def sort_key(h: dict[str, Any]) -> Any:
        value = h[key] if h[key] is not None else "9999-12-31"
        return (value, h["id"])

    assert seen == sorted(seen, key=sort_key, reverse=sort.startswith("-"))


def test_overdue_is_derived_from_the_deadline_and_today(client: TestClient, world: World) -> None:
    due = insert_hazard(world, status="rectifying", deadline=date(2026, 12, 1))
    done = insert_hazard(world, status="rectified", deadline=date(2026, 12, 1))
    no_deadline = insert_hazard(world, status="rectifying")
    # Tokens are minted inside each trip: a token from the real "now" would have expired.
    with time_machine.travel("2026-12-01 12:00 +08:00", tick=False):
        h = world.h.office
        assert _ids(client, h, "&overdue=true") == []
        assert client.get(f"{API}/{due}", headers=h).json()["overdue"] is False
    with time_machine.travel("2026-12-02 00:05 +08:00", tick=False):
        h = world.h.office
        assert _ids(client, h, "&overdue=true") == [due]
        assert set(_ids(client, h, "&overdue=false")) == {done, no_deadline}
        assert client.get(f"{API}/{due}", headers=h).json()["overdue"] is True
        assert client.get(f"{API}/{done}", headers=h).json()["overdue"] is False
