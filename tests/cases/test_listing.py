"""The case list: filters, keyset pages, sorting; and per-status counts for the office."""

from datetime import timedelta

from fastapi.testclient import TestClient

from app.core.time import local_date, now
from tests.cases.helpers import API, advance, file_case, service_headers, weisheng_headers
from tests.conftest import World


def _ids(client: TestClient, world: World, query: str, who: str = "office") -> list[int]:
    r = client.get(f"{API}?{query}", headers=world.headers(who))
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


def test_filters_by_status_type_school_and_campaign(client: TestClient, world: World) -> None:
    intrusion = file_case(client, world)
    violence = file_case(
        client, world, case_type="campus_violence", school_id=world.org_id("school_b")
    )
    traffic = file_case(client, world, case_type="traffic", school_id=None)
    advance(client, world, violence["id"], "investigating")
    assert _ids(client, world, "status=investigating") == [violence["id"]]
    assert _ids(client, world, "case_type=traffic") == [traffic["id"]]
    assert _ids(client, world, f"school_id={world.org_id('school_a')}") == [intrusion["id"]]
    assert len(_ids(client, world, f"campaign_id={world.campaign_id}")) == 3
    assert _ids(client, world, "campaign_id=999") == []
    r = client.get(f"{API}?status=lost", headers=world.h.office)
    assert r.status_code == 422


def test_filters_by_occurrence_dates(client: TestClient, world: World) -> None:
    old_at = now() - timedelta(days=30)
    old = file_case(client, world, occurred_at=old_at.isoformat())
    recent = file_case(client, world)
    day = local_date(old_at)
    assert _ids(client, world, f"occurred_from={day}&occurred_to={day}") == [old["id"]]
    after = (day + timedelta(days=1)).isoformat()
    assert _ids(client, world, f"occurred_from={after}") == [recent["id"]]
    assert client.get(f"{API}?occurred_from=yesterday", headers=world.h.office).status_code == 422


def test_keyset_pages_walk_every_case_once(client: TestClient, world: World) -> None:
    made = [
        file_case(client, world, occurred_at=(now() - timedelta(days=d)).isoformat())["id"]
        for d in (5, 1, 3, 2, 4)
    ]
    seen: list[int] = []
    cursor = None
    while True:
        query = "limit=2&sort=-occurred_at" + (f"&cursor={cursor}" if cursor else "")
        r = client.get(f"{API}?{query}", headers=world.h.police)
        assert r.status_code == 200, r.text
        seen += [c["id"] for c in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    # Newest occurrence first: days ago 1, 2, 3, 4, 5.
    assert seen == [made[1], made[3], made[2], made[4], made[0]]
    oldest_first = _ids(client, world, "sort=occurred_at", who="police")
    assert oldest_first == list(reversed(seen))
    assert _ids(client, world, "sort=-filed_at", who="police") == list(reversed(made))


def test_bad_sort_cursor_and_limit_are_422(client: TestClient, world: World) -> None:
    for query in ("sort=summary", "cursor=%%%", "cursor=bm9wZQ", "limit=101", "limit=0"):
        r = client.get(f"{API}?{query}", headers=world.h.office)
        assert r.status_code == 422, query


def test_stats_count_cases_per_status_for_the_office(client: TestClient, world: World) -> None:
    file_case(client, world)
    second = file_case(client, world)
    third = file_case(client, world)
    advance(client, world, second["id"], "investigating")
    advance(client, world, third["id"], "solved")
    for who in ("office", "jiancha"):
        r = client.get(f"{API}/stats/by-status", headers=world.headers(who))
        assert r.status_code == 200, r.text
        counts = {i["status"]: i["count"] for i in r.json()["items"]}
        assert counts == {
            "filed": 1,
            "investigating": 1,
            "solved": 1,
            "prosecuted": 0,
            "judged": 0,
            "closed": 0,
        }
        assert r.json()["total"] == 3
    r = client.get(f"{API}/stats/by-status?case_type=traffic", headers=world.h.office)
    assert r.json()["total"] == 0


def test_stats_are_for_the_office_and_oversight_only(client: TestClient, world: World) -> None:
    url = f"{API}/stats/by-status"
    assert client.get(url).status_code == 401
    for headers in (
        world.h.police,
        world.h.school_a,
        weisheng_headers(world),
        service_headers("cases:read"),
    ):
        assert client.get(url, headers=headers).status_code == 403
    assert client.get(f"{url}?case_type=arson", headers=world.h.office).status_code == 422
