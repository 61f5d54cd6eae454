"""Webhooks: signed per Standard Webhooks, retried with backoff, SSRF-guarded, claimed once."""

import base64
import hashlib
import hmac
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import col, select

from app.core import db
from app.core.config import Settings, get_settings
from app.core.time import now
from app.webhooks import ssrf, worker
from app.webhooks.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookDispatchState,
    WebhookSubscription,
)
from tests.conftest import World
from tests.integration.conftest import emit_event
from tests.integration.receiver import Receiver, receiver


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    s = get_settings()
    monkeypatch.setattr(s, "webhook_allow_private", True)
    monkeypatch.setattr(s, "webhook_timeout_seconds", 5.0)
    return s


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


def subscribe(
    client: TestClient, world: World, url: str, types: list[str] | None = None
) -> dict[str, Any]:
    r = client.post(
        "/api/v1/webhooks",
        json={"url": url, "event_types": types or ["hazard.*"]},
        headers=world.h.admin,
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def work_until(done: Callable[[], bool], seconds: float = 10) -> None:
    """Run worker rounds until `done()`; on PostgreSQL an unrelated transaction on the server
    may hold fresh events back for a moment."""
    deadline = time.monotonic() + seconds
    while not done():
        worker.run_once("test-worker")
        if time.monotonic() > deadline:
            return
        time.sleep(0.02)


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        part.startswith("v1,") and hmac.compare_digest(part[3:], expected)
        for part in headers["webhook-signature"].split()
    )


def _deliveries(sub_id: int) -> list[WebhookDelivery]:
    with db.read() as session:
        return list(
            session.exec(
                select(WebhookDelivery).where(col(WebhookDelivery.subscription_id) == sub_id)
            ).all()
        )


def test_receiver_gets_a_correctly_signed_delivery(
    client: TestClient, world: World, settings: Settings, hook: Receiver
) -> None:
    sub = subscribe(client, world, hook.url)
    assert sub["secret"].startswith("whsec_")
    event_id = emit_event("hazard.registered", school_id=world.org_id("school_a"))
    emit_event("plan.approved", school_id=world.org_id("school_a"))  # not subscribed

    work_until(lambda: len(hook.requests) >= 1)
    time.sleep(0.1)
    worker.run_once("test-worker")
    assert len(hook.requests) == 1
    got = hook.requests[0]
    assert got.path == "/hooks/campus"
    assert got.headers["webhook-id"] == f"msg_{event_id}"
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 60
    assert verify(sub["secret"], got.headers, got.body)
    assert not verify("whsec_" + base64.b64encode(b"x" * 24).decode(), got.headers, got.body)
    payload = orjson.loads(got.body)
    assert payload["type"] == "hazard.registered"
    assert payload["data"]["id"] == event_id

    log = client.get(f"/api/v1/webhooks/{sub['id']}/deliveries", headers=world.h.admin)
    assert log.status_code == 200
    [delivery] = log.json()["items"]
    assert delivery["status"] == "succeeded"
    assert [a["status_code"] for a in delivery["attempt_log"]] == [200]


def test_failing_receiver_is_retried_with_backoff(
    client: TestClient, world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "webhook_backoff_base_seconds", 60.0)
    with receiver(statuses=[503, 200]) as hook:
        sub = subscribe(client, world, hook.url)
        emit_event(school_id=world.org_id("school_a"))
        work_until(lambda: len(hook.requests) >= 1)
        [delivery] = _deliveries(sub["id"])
        assert delivery.status == DeliveryStatus.failed
        assert delivery.attempts == 1
        assert delivery.last_status_code == 503
        assert delivery.last_attempt_at is not None
        wait = delivery.next_attempt_at - delivery.last_attempt_at
        assert timedelta(seconds=30) <= wait <= timedelta(seconds=60)

        worker.run_once("test-worker")  # not due yet: nothing is sent
        assert len(hook.requests) == 1

        with db.write() as session:
            session.execute(
                update(WebhookDelivery)
                .where(col(WebhookDelivery.id) == delivery.id)
                .values(next_attempt_at=now() - timedelta(seconds=1))
            )
        worker.run_once("test-worker")
        assert len(hook.requests) == 2
        assert hook.requests[0].headers["webhook-id"] == hook.requests[1].headers["webhook-id"]
        [delivery] = _deliveries(sub["id"])
        assert delivery.status == DeliveryStatus.succeeded
        assert delivery.attempts == 2
    log = client.get(f"/api/v1/webhooks/{sub['id']}/deliveries", headers=world.h.admin).json()
    assert [a["status_code"] for a in log["items"][0]["attempt_log"]] == [503, 200]


def test_backoff_grows_exponentially_with_jitter_and_is_capped(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "webhook_backoff_base_seconds", 10.0)
    monkeypatch.setattr(settings, "webhook_backoff_max_seconds", 300.0)
    for attempts, step in ((1, 10), (2, 20), (3, 40), (6, 300), (20, 300)):
        waits = {worker.backoff(attempts).total_seconds() for _ in range(20)}
        assert all(step / 2 <= w <= step for w in waits), (attempts, waits)
        assert len(waits) > 1  # jittered


def test_subscription_is_disabled_after_consecutive_failures_and_re_enabled_by_patch(
    client: TestClient, world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "webhook_disable_after_failures", 2)
    monkeypatch.setattr(settings, "webhook_backoff_base_seconds", 0.0)
    with receiver(statuses=[500]) as hook:
        sub = subscribe(client, world, hook.url)
        emit_event(school_id=world.org_id("school_a"))
        work_until(lambda: len(hook.requests) >= 2)
        worker.run_once("test-worker")
        assert len(hook.requests) == 2  # disabled: no third attempt
    shown = client.get(f"/api/v1/webhooks/{sub['id']}", headers=world.h.admin)
    assert shown.json()["is_active"] is False
    assert shown.json()["disabled_at"] is not None
    assert shown.json()["failure_count"] == 2
    r = client.patch(
        f"/api/v1/webhooks/{sub['id']}",
        json={"is_active": True},
        headers={**world.h.admin, "If-Match": shown.headers["ETag"]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["failure_count"] == 0
    assert r.json()["disabled_at"] is None


def test_delivery_is_given_up_after_max_attempts(
    client: TestClient, world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "webhook_max_attempts", 2)
    monkeypatch.setattr(settings, "webhook_backoff_base_seconds", 0.0)
    with receiver(statuses=[500]) as hook:
        sub = subscribe(client, world, hook.url)
        emit_event(school_id=world.org_id("school_a"))
        work_until(lambda: len(hook.requests) >= 2)
        worker.run_once("test-worker")
        assert len(hook.requests) == 2
    [delivery] = _deliveries(sub["id"])
    assert delivery.status == DeliveryStatus.dead


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[fd00:ec2::254]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://localhost:8080/hook",
        "http://224.0.0.1/hook",
        "http://0.0.0.0/hook",
        "http://100.64.0.1/hook",
        "ftp://example.com/hook",
        "http://user:pw@example.com/hook",
    ],
)
def test_ssrf_targets_are_refused(client: TestClient, world: World, url: str) -> None:
    assert get_settings().webhook_allow_private is False
    r = client.post(
        "/api/v1/webhooks", json={"url": url, "event_types": ["*"]}, headers=world.h.admin
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "webhook.url_forbidden"


def test_public_address_is_accepted(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        ssrf.socket,
        "getaddrinfo",
        lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443))],
    )
    r = client.post(
        "/api/v1/webhooks",
        json={"url": "https://hooks.example.gov.cn/x", "event_types": ["*"]},
        headers=world.h.admin,
    )
    assert r.status_code == 201, r.text


def test_dns_rebinding_is_refused_at_delivery_time(
    client: TestClient, world: World, hook: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = int(hook.url.split(":")[2].split("/")[0])
    answers = {"ip": "93.184.216.34"}
    monkeypatch.setattr(
        ssrf.socket,
        "getaddrinfo",
        lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers["ip"], port))],
    )
    sub = subscribe(client, world, f"http://rebind.example.gov.cn:{port}/hooks/campus")
    answers["ip"] = "127.0.0.1"  # the name now points home
    emit_event(school_id=world.org_id("school_a"))
    work_until(lambda: any(d.attempts for d in _deliveries(sub["id"])))
    assert hook.requests == []
    [delivery] = _deliveries(sub["id"])
    assert delivery.status == DeliveryStatus.failed
    assert delivery.last_error is not None
    assert delivery.last_error.startswith("refused")


def test_private_target_allowed_at_subscription_is_refused_once_config_forbids_it(
    client: TestClient, world: World, hook: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    sub = subscribe(client, world, hook.url)
    monkeypatch.setattr(get_settings(), "webhook_allow_private", False)
    emit_event(school_id=world.org_id("school_a"))
    work_until(lambda: any(d.attempts for d in _deliveries(sub["id"])))
    assert hook.requests == []


def test_two_claimers_never_claim_the_same_delivery(
    client: TestClient, world: World, settings: Settings, hook: Receiver
) -> None:
    sub = subscribe(client, world, hook.url)
    for _ in range(30):
        emit_event(school_id=world.org_id("school_a"))
    deadline = time.monotonic() + 10
    while len(_deliveries(sub["id"])) < 30 and time.monotonic() < deadline:
        worker.dispatch_once()
    assert len(_deliveries(sub["id"])) == 30

    claims: dict[str, list[int]] = {}
    barrier = threading.Barrier(2)

    def claim(name: str) -> None:
        barrier.wait()
        got: list[int] = []
        for _ in range(5):
            got += worker.claim_due(name, limit=10)
        claims[name] = got

    threads = [threading.Thread(target=claim, args=(n,)) for n in ("A", "B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    a, b = set(claims["A"]), set(claims["B"])
    assert not a & b, "a delivery was claimed twice"
    assert len(a | b) == 30
    assert hook.requests == []


def test_compare_and_set_lease_admits_one_holder_until_it_expires(
    client: TestClient, world: World, settings: Settings, hook: Receiver
) -> None:
    sub = subscribe(client, world, hook.url)
    emit_event(school_id=world.org_id("school_a"))
    deadline = time.monotonic() + 10
    while not _deliveries(sub["id"]) and time.monotonic() < deadline:
        worker.dispatch_once()
    [delivery] = _deliveries(sub["id"])
    assert delivery.id is not None
    until = now() + timedelta(seconds=60)
    assert worker.try_claim(delivery.id, "A", until) is True
    assert worker.try_claim(delivery.id, "B", until) is False
    assert worker.deliver(delivery.id, "B") is None  # B does not hold the lease
    later = now() + timedelta(seconds=61)
    assert worker.try_claim(delivery.id, "B", later + timedelta(seconds=60), at=later) is True


def test_case_events_are_sent_only_when_subscribed_by_exact_type(
    client: TestClient, world: World, settings: Settings, hook: Receiver
) -> None:
    wildcard = subscribe(client, world, hook.url, ["*", "case.*"])
    exact = subscribe(client, world, hook.url, ["case.supervised"])
    emit_event("case.supervised", org_id=world.org_id("police"), audience="cases")
    work_until(lambda: len(hook.requests) >= 1)
    assert len(_deliveries(exact["id"])) == 1
    assert _deliveries(wildcard["id"]) == []


def test_new_subscription_is_not_flooded_with_history(
    client: TestClient, world: World, settings: Settings, hook: Receiver
) -> None:
    emit_event(school_id=world.org_id("school_a"))
    time.sleep(0.01)
    sub = subscribe(client, world, hook.url)
    fresh = emit_event(school_id=world.org_id("school_a"))
    work_until(lambda: len(hook.requests) >= 1)
    assert [d.event_id for d in _deliveries(sub["id"])] == [fresh]


def test_with_no_subscription_the_dispatcher_moves_past_events_and_reports_no_work(
    client: TestClient, world: World, settings: Settings, hook: Receiver
) -> None:
    """Nothing subscribed: the dispatcher reads no event, moves to the newest settled one
    and returns 0 (the loop then waits its poll interval instead of spinning)."""
    emitted = [emit_event(school_id=world.org_id("school_a")) for _ in range(3)]

    def position() -> int | None:
        with db.read() as session:
            state = session.exec(select(WebhookDispatchState)).first()
            return None if state is None else state.event_id

    deadline = time.monotonic() + 10  # on PostgreSQL another transaction may hold them back
    while position() != emitted[-1] and time.monotonic() < deadline:
        assert worker.dispatch_once() == 0
        time.sleep(0.02)
    assert position() == emitted[-1]
    assert worker.dispatch_once() == 0
    time.sleep(0.01)
    sub = subscribe(client, world, hook.url)
    fresh = emit_event(school_id=world.org_id("school_a"))
    work_until(lambda: len(hook.requests) >= 1)
    assert [d.event_id for d in _deliveries(sub["id"])] == [fresh]


def test_test_ping_is_signed_and_recorded(
    client: TestClient, world: World, settings: Settings, hook: Receiver
) -> None:
    sub = subscribe(client, world, hook.url)
    r = client.post(f"/api/v1/webhooks/{sub['id']}/test", headers=world.h.admin)
    assert r.status_code == 200, r.text
    assert r.json()["status_code"] == 200
    [got] = hook.requests
    assert verify(sub["secret"], got.headers, got.body)
    assert orjson.loads(got.body)["type"] == "webhook.test"


def test_admin_manages_subscriptions_with_etags(
    client: TestClient, world: World, settings: Settings, hook: Receiver
) -> None:
    sub = subscribe(client, world, hook.url)
    listed = client.get("/api/v1/webhooks", headers=world.h.admin).json()["items"]
    assert [s["id"] for s in listed] == [sub["id"]]
    assert "secret" not in listed[0]
    path = f"/api/v1/webhooks/{sub['id']}"
    shown = client.get(path, headers=world.h.admin)
    assert shown.headers["ETag"] == '"v1"'
    body = {"event_types": ["plan.*"]}
    assert client.patch(path, json=body, headers=world.h.admin).status_code == 428
    stale = client.patch(path, json=body, headers={**world.h.admin, "If-Match": '"v0"'})
    assert stale.status_code == 412
    ok = client.patch(path, json=body, headers={**world.h.admin, "If-Match": '"v1"'})
    assert ok.status_code == 200
    assert ok.headers["ETag"] == '"v2"'
    assert ok.json()["event_types"] == ["plan.*"]
    bad = client.patch(
        path, json={"url": "http://10.1.2.3/"}, headers={**world.h.admin, "If-Match": '"v2"'}
    )
    assert bad.status_code == 200  # private addresses allowed by the `settings` fixture
    assert client.delete(path, headers=world.h.admin).status_code == 204
    assert client.get(path, headers=world.h.admin).status_code == 404
    with db.read() as session:
        assert session.get(WebhookSubscription, sub["id"]) is None


def test_only_admins_manage_webhooks(client: TestClient, world: World) -> None:
    body = {"url": "https://hooks.example.gov.cn/x", "event_types": ["*"]}
    assert client.post("/api/v1/webhooks", json=body).status_code == 401
    assert client.post("/api/v1/webhooks", json=body, headers=world.h.office).status_code == 403
    assert client.get("/api/v1/webhooks", headers=world.h.school_a).status_code == 403


def test_webhook_input_is_validated(client: TestClient, world: World) -> None:
    for body in (
        {"url": "https://hooks.example.gov.cn/x", "event_types": []},
        {"url": "https://hooks.example.gov.cn/x", "event_types": ["Hazard Changed"]},
        {"url": "https://hooks.example.gov.cn/x", "event_types": ["*"], "secret": "mine"},
        {"url": "x" * 2001, "event_types": ["*"]},
    ):
        r = client.post("/api/v1/webhooks", json=body, headers=world.h.admin)
        assert r.status_code == 422, body


def test_unknown_subscription_is_404(client: TestClient, world: World) -> None:
    for method, path in (
        ("GET", "/api/v1/webhooks/999"),
        ("DELETE", "/api/v1/webhooks/999"),
        ("POST", "/api/v1/webhooks/999/test"),
        ("GET", "/api/v1/webhooks/999/deliveries"),
    ):
        assert client.request(method, path, headers=world.h.admin).status_code == 404, path


def test_inline_worker_delivers_from_the_api_process(
    world: World, settings: Settings, hook: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.main import create_app

    monkeypatch.setattr(settings, "webhook_worker_inline", True)
    monkeypatch.setattr(settings, "webhook_poll_seconds", 0.05)
    with TestClient(create_app()) as api:
        subscribe(api, world, hook.url)
        emit_event(school_id=world.org_id("school_a"))
        # On PostgreSQL the feed hands out an event only once every older transaction in
        # the cluster has ended; the other test worker's can hold it back for seconds.
        deadline = time.monotonic() + 60
        while not hook.requests and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(hook.requests) == 1


def test_worker_command_runs_a_round(
    client: TestClient, world: World, settings: Settings, hook: Receiver
) -> None:
    from app.__main__ import main

    subscribe(client, world, hook.url)
    emit_event(school_id=world.org_id("school_a"))
    deadline = time.monotonic() + 10
    while not hook.requests and time.monotonic() < deadline:
        main(["webhook-worker", "--once"])
    assert len(hook.requests) == 1
