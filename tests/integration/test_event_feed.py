"""The event feed: in commit order, resumable, filtered to what the caller may see."""

import random
import threading
import time

from fastapi.testclient import TestClient

from app.auth.principal import Principal, Scope
from app.core import db
from app.events import service as events
from app.users.models import Capability, Role
from tests.conftest import World
from tests.integration.conftest import bearer, client_token, create_client, emit_event


def _ids(client: TestClient, headers: dict[str, str], **params: str) -> list[int]:
    r = client.get("/api/v1/events", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return [e["id"] for e in r.json()["items"]]


def _settled(client: TestClient, headers: dict[str, str], want: int) -> list[int]:
    """On PostgreSQL an unrelated transaction elsewhere on the server briefly holds events
    back; wait for them rather than flake."""
    deadline = time.monotonic() + 10
    while True:
        ids = _ids(client, headers)
        if len(ids) >= want or time.monotonic() > deadline:
            return ids
        time.sleep(0.05)


def test_school_sees_only_its_own_school_events(client: TestClient, world: World) -> None:
    mine = emit_event(school_id=world.org_id("school_a"))
    emit_event(school_id=world.org_id("school_b"))
    campaign = emit_event("campaign.status_changed", subject_type="campaign")
    assert _settled(client, world.h.school_a, 2) == [mine, campaign]


def test_department_sees_addressed_and_supervised_school_events(
    client: TestClient, world: World
) -> None:
    supervised = emit_event(school_id=world.org_id("school_a"))  # supervised by edu
    addressed = emit_event(org_id=world.org_id("edu"))
    emit_event(school_id=world.org_id("kg"))  # supervised by town
    emit_event(org_id=world.org_id("chengjian"))
    assert _settled(client, world.h.edu, 2) == [supervised, addressed]


def test_case_events_only_for_police_office_and_oversight(client: TestClient, world: World) -> None:
    case = emit_event("case.supervised", org_id=world.org_id("police"), audience="cases")
    hazard = emit_event(school_id=world.org_id("school_a"))
    assert case in _settled(client, world.h.police, 1)
    assert _settled(client, world.h.office, 2) == [case, hazard]
    assert _settled(client, world.h.jiancha, 2) == [case, hazard]
    assert case not in _settled(client, world.h.edu, 1)
    assert case not in _settled(client, world.h.inspector, 1)
    assert _ids(client, world.h.school_a) == [hazard]


def test_service_account_needs_cases_scope_for_case_events(
    client: TestClient, world: World
) -> None:
    case = emit_event("case.supervised", org_id=world.org_id("police"), audience="cases")
    hazard = emit_event(school_id=world.org_id("school_a"))
    plain = create_client(client, world, ["events:read"])
    token = client_token(client, plain["client_id"], plain["client_secret"])
    assert _settled(client, bearer(token), 1) == [hazard]
    both = create_client(client, world, ["events:read", "cases:read"])
    token = client_token(client, both["client_id"], both["client_secret"])
    assert _settled(client, bearer(token), 2) == [case, hazard]


def test_types_filter_exact_and_family(client: TestClient, world: World) -> None:
    a = emit_event("hazard.registered", school_id=world.org_id("school_a"))
    b = emit_event("plan.approved", school_id=world.org_id("school_a"))
    c = emit_event("hazard.status_changed", school_id=world.org_id("school_a"))
    _settled(client, world.h.office, 3)
    assert _ids(client, world.h.office, types="plan.approved") == [b]
    assert _ids(client, world.h.office, types="hazard.*") == [a, c]
    assert _ids(client, world.h.office, types="hazard.registered,plan.approved") == [a, b]


def test_feed_resumes_from_cursor_and_keeps_it_when_nothing_is_new(
    client: TestClient, world: World
) -> None:
    first = [emit_event(school_id=world.org_id("school_a")) for _ in range(3)]
    _settled(client, world.h.office, 3)
    page = client.get("/api/v1/events", headers=world.h.office, params={"limit": 2}).json()
    assert [e["id"] for e in page["items"]] == first[:2]
    assert page["has_more"] is True
    page2 = client.get(
        "/api/v1/events", headers=world.h.office, params={"after": page["next_cursor"]}
    ).json()
    assert [e["id"] for e in page2["items"]] == first[2:]
    assert page2["has_more"] is False
    idle = client.get(
        "/api/v1/events", headers=world.h.office, params={"after": page2["next_cursor"]}
    ).json()
    assert idle["items"] == []
    assert idle["next_cursor"] == page2["next_cursor"]


def test_feed_refuses_admins_and_anonymous(client: TestClient, world: World) -> None:
    assert client.get("/api/v1/events").status_code == 401
    r = client.get("/api/v1/events", headers=world.h.admin)
    assert r.status_code == 403
    assert r.json()["code"] == "events.forbidden"


def test_feed_validates_its_query(client: TestClient, world: World) -> None:
    for params in (
        {"after": "not-a-cursor"},
        {"limit": "0"},
        {"limit": "101"},
        {"types": "hazard.status_changed;drop"},
        {"types": ",".join(f"t{i}.x" for i in range(31))},
    ):
        r = client.get("/api/v1/events", headers=world.h.office, params=params)
        assert r.status_code == 422, params


def test_visibility_rule_denies_unknown_kinds() -> None:
    admin = Principal(kind="user", id=1, role=Role.admin, org_id=1)
    school_without_org = Principal(kind="user", id=2, role=Role.school, org_id=None)
    police = Principal(
        kind="user",
        id=3,
        role=Role.department,
        org_id=5,
        capabilities=frozenset({Capability.cases}),
    )
    service = Principal(
        kind="client", id=4, role=Role.service, org_id=None, scopes=frozenset({Scope.events_read})
    )
    assert str(events.visible_events(admin)) == "false"
    assert str(events.visible_events(school_without_org)) == "false"
    assert "audience" in str(events.visible_events(police))
    assert "audience" in str(events.visible_events(service))


def test_poller_sees_every_event_exactly_once_under_concurrent_writers(world: World) -> None:
    """Writers hold their transactions open for random times, so ids commit out of order;
    a poller resuming from its cursor must still see each event once."""
    office = Principal(kind="user", id=1, role=Role.office, org_id=world.org_id("office"))
    writers, per_writer = 4, 15
    written: list[int] = []
    lock = threading.Lock()
    done = threading.Event()

    def write(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(per_writer):
            with db.write() as session:
                event_id = events.emit(
                    session,
                    office,
                    type="hazard.status_changed",
                    subject_type="hazard",
                    subject_id=seed,
                )
                time.sleep(rng.uniform(0, 0.02))  # commit later than a neighbour's insert
            with lock:
                assert event_id is not None
                written.append(event_id)

    seen: list[int] = []
    cursor: str | None = None

    def poll_once() -> None:
        nonlocal cursor
        rows, cursor, _ = events.feed(office, after=cursor, types=(), limit=7)
        seen.extend(e.id for e in rows if e.id is not None)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        poll_once()
        time.sleep(0.003)
    done.set()
    deadline = time.monotonic() + 15
    while len(seen) < len(written) and time.monotonic() < deadline:
        poll_once()
    poll_once()
    assert len(written) == writers * per_writer
    assert len(seen) == len(set(seen)), "an event was served twice"
    assert sorted(seen) == sorted(written), "an event was skipped"
