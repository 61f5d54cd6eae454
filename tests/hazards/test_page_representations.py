"""Register pages take each row's stored columns already serialised, at the row's version
(app/core/representations.py), and add the derived fields per caller and per day."""

from datetime import date, datetime, timedelta
from typing import Any

import orjson
import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.core import db
from app.core.representations import Representations
from app.hazards import service
from app.hazards.models import Hazard
from tests.conftest import World
from tests.hazards.helpers import API, act, insert_hazard, plan_for, register
from tests.plans.helpers import plan_body

TABLE = Hazard.__table__  # type: ignore[attr-defined]


def _page(client: TestClient, headers: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    r = client.get(f"{API}?limit=100{query}", headers=headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def _behind_the_services_back(hazard_id: int, **values: Any) -> None:
    """Change stored columns without the service (no new version unless given)."""
    with db.write() as session:
        session.execute(update(TABLE).where(TABLE.c.id == hazard_id).values(**values))


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch) -> Representations:
    fresh = Representations(1000)
    monkeypatch.setattr(service, "_REPRESENTATIONS", fresh)
    return fresh


def test_a_page_is_served_from_the_cache_at_the_rows_version(
    client: TestClient, world: World, cache: Representations
) -> None:
    hazard = insert_hazard(world, title="原标题")
    first = client.get(API, headers=world.h.office)
    assert len(cache) == 1
    # Same id, version and updated_at: the serialisation kept is what the page shows, so a
    # change made behind the service's back without a new version is not seen …
    _behind_the_services_back(hazard, title="改了但没有新版本")
    second = client.get(API, headers=world.h.office)
    assert second.content == first.content
    # … and a new version is read again at once.
    _behind_the_services_back(hazard, title="新版本", version=2)
    (item,) = _page(client, world.h.office)
    assert (item["title"], item["version"]) == ("新版本", 2)


def test_a_new_updated_at_at_the_same_version_is_read_again(
    client: TestClient, world: World, cache: Representations
) -> None:
    """A database restored from a backup, or emptied and refilled, can give another row the
    same id and version: updated_at tells them apart."""
    hazard = insert_hazard(world, title="旧行")
    (seen,) = _page(client, world.h.office)
    later = datetime.fromisoformat(seen["updated_at"]) + timedelta(seconds=1)
    _behind_the_services_back(hazard, title="另一行", updated_at=later)
    with db.read() as session:
        moved = session.get(Hazard, hazard)
        assert moved is not None
        assert moved.version == 1
    (item,) = _page(client, world.h.office)
    assert item["title"] == "另一行"


def test_list_items_equal_the_hazard_itself_byte_for_byte(
    client: TestClient, world: World, cache: Representations
) -> None:
    """Cached or not, an item is what GET /hazards/{id} answers: same fields, same order,
    same values (plan ids and a pending extension included)."""
    ids = [register(client, world)["id"] for _ in range(3)]
    plan_for(world, [ids[0]], "school_a")
    r = act(client, world, "school_a", ids[1], "start", {"deadline_working_days": 5})
    assert r.status_code == 200, r.text
    later = (date.fromisoformat(r.json()["deadline"]) + timedelta(days=10)).isoformat()
    extension = {"reason": "材料未到", "requested_deadline": later}
    r = act(client, world, "school_a", ids[1], "request-extension", extension)
    assert r.status_code in (200, 201), r.text
    for _ in range(2):  # the first page fills the cache, the second is served from it
        r = client.get(API, headers=world.h.school_a)
        items = orjson.loads(r.content)["items"]
        assert len(items) == 3
        for item in items:
            one = client.get(f"{API}/{item['id']}", headers=world.h.school_a)
            assert orjson.dumps(item) == one.content
    by_id = {i["id"]: i for i in items}
    assert by_id[ids[0]]["plan_ids"] != []
    assert "grant-extension" not in by_id[ids[1]]["allowed_actions"]  # the school's view
    assert "request-extension" not in by_id[ids[1]]["allowed_actions"]  # one is pending


def test_plan_ids_and_a_pending_extension_follow_the_rows_version(
    client: TestClient, world: World, cache: Representations
) -> None:
    """A page no longer reads plan ids and the pending flag: they come with the cache entry,
    made at the row's version, and a plan covering the hazard or an extension request moves
    the version."""
    covered, extended, untouched = (register(client, world)["id"] for _ in range(3))
    r = act(client, world, "school_a", extended, "start", {"deadline_working_days": 5})
    assert r.status_code == 200, r.text
    before = {i["id"]: i for i in _page(client, world.h.school_a)}
    assert len(cache) == 3
    plan = client.post(
        "/api/v1/plans",
        json=plan_body(world, [covered]),
        headers=world.h.school_a,
    )
    assert plan.status_code == 201, plan.text
    later = (date.fromisoformat(r.json()["deadline"]) + timedelta(days=10)).isoformat()
    r = act(
        client,
        world,
        "school_a",
        extended,
        "request-extension",
        {"reason": "材料未到", "requested_deadline": later},
    )
    assert r.status_code in (200, 201), r.text
    after = {i["id"]: i for i in _page(client, world.h.school_a)}
    assert after[covered]["plan_ids"] == [plan.json()["id"]]
    assert after[covered]["version"] == before[covered]["version"] + 1
    assert "request-extension" in before[extended]["allowed_actions"]
    assert "request-extension" not in after[extended]["allowed_actions"]
    assert after[untouched] == before[untouched]
    for hazard_id, item in after.items():
        one = client.get(f"{API}/{hazard_id}", headers=world.h.school_a)
        assert orjson.dumps(item) == one.content


def test_derived_fields_are_the_callers_even_from_the_cache(
    client: TestClient, world: World, cache: Representations
) -> None:
    hazard = register(client, world)["id"]
    (office,) = _page(client, world.h.office)
    assert len(cache) == 1
    (school,) = _page(client, world.h.school_a)
    assert "void" in office["allowed_actions"]
    assert "start" not in office["allowed_actions"]
    assert "start" in school["allowed_actions"]
    assert "void" not in school["allowed_actions"]
    assert school["id"] == office["id"] == hazard


def test_overdue_follows_the_day_not_the_cached_row(
    client: TestClient, world: World, cache: Representations
) -> None:
    insert_hazard(world, status="rectifying", deadline=date(2026, 12, 1))
    with time_machine.travel("2026-12-01 12:00 +08:00", tick=False):
        (before,) = _page(client, world.h.office)
    with time_machine.travel("2026-12-02 00:05 +08:00", tick=False):
        (after,) = _page(client, world.h.office)
    assert (before["overdue"], after["overdue"]) == (False, True)
    assert len(cache) == 1


def test_an_action_shows_in_the_next_page(
    client: TestClient, world: World, cache: Representations
) -> None:
    hazard = register(client, world)["id"]
    (before,) = _page(client, world.h.school_a)
    r = act(client, world, "school_a", hazard, "start", {"deadline_working_days": 5})
    assert r.status_code == 200, r.text
    (after,) = _page(client, world.h.school_a)
    assert (before["status"], after["status"]) == ("reported", "rectifying")
    assert after["version"] == before["version"] + 1
    assert after == r.json()


def test_pages_are_right_with_the_cache_off(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    off = Representations(0)
    monkeypatch.setattr(service, "_REPRESENTATIONS", off)
    ids = {insert_hazard(world) for _ in range(3)}
    for _ in range(2):
        assert {i["id"] for i in _page(client, world.h.office)} == ids
    assert len(off) == 0


def test_a_row_no_longer_visible_when_read_whole_is_left_out(world: World) -> None:
    """The page statement and the whole-row read are two statements: a row that another
    transaction moved out of the caller's sight between them is not shown."""
    from app.auth.principal import Principal
    from app.users.models import Role

    mine = insert_hazard(world, "school_a")
    theirs = insert_hazard(world, "school_b")
    school_a = Principal(kind="user", id=99, role=Role.school, org_id=world.org_id("school_a"))
    # Rows as the page statement gives them: id, version, stamp.
    page = [[hid, 1, "stamp"] for hid in (mine, theirs)]
    with db.get_engine().connect() as conn:
        items = service._items(conn, school_a, page)
    assert [orjson.loads(bytes(orjson.dumps(i)))["id"] for i in items] == [mine]


# ------------------------------------------------------------------------------------------
# The cache itself


def test_lookup_hits_only_at_the_same_version_and_stamp() -> None:
    cache = Representations(10)
    cache.store([((1, 3, "t"), b"{}")])
    assert cache.lookup([(1, 3, "t"), (1, 4, "t"), (1, 3, "u"), (2, 3, "t")]) == [
        b"{}",
        None,
        None,
        None,
    ]


def test_the_least_recently_used_row_goes_first_when_full() -> None:
    cache = Representations(2)
    cache.store([((1, 1, "t"), b"1"), ((2, 1, "t"), b"2")])
    cache.lookup([(1, 1, "t")])  # 1 is now more recent than 2
    cache.store([((3, 1, "t"), b"3")])
    assert cache.lookup([(1, 1, "t"), (2, 1, "t"), (3, 1, "t")]) == [b"1", None, b"3"]
    assert len(cache) == 2


def test_a_newer_version_replaces_the_older_one() -> None:
    cache = Representations(10)
    cache.store([((1, 1, "t"), b"old")])
    cache.store([((1, 2, "u"), b"new")])
    assert cache.lookup([(1, 1, "t"), (1, 2, "u")]) == [None, b"new"]
    assert len(cache) == 1


def test_size_zero_keeps_nothing() -> None:
    cache = Representations(0)
    cache.store([((1, 1, "t"), b"{}")])
    assert cache.lookup([(1, 1, "t")]) == [None]
