"""The webhook dispatcher and delivery worker.

    outbox (event) --dispatch_once--> webhook_delivery rows --claim_due + deliver--> receiver

`dispatch_once` reads the outbox in commit order from its stored position (the same rule as
the event feed, so no event is skipped) and creates one delivery per event × matching
subscription; a unique (subscription, event) and a locked position row make it safe to run in
several processes. `claim_due` leases due deliveries to one worker: `FOR UPDATE SKIP LOCKED`
on PostgreSQL, and on every database an atomic compare-and-set on `claimed_until`, so two
workers never send the same delivery at the same time.

Runs inside the API process (`WEBHOOK_WORKER_INLINE=true`, the default) or as
`python -m app webhook-worker`.
"""

import asyncio
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from app.core import db
from app.core.config import get_settings
from app.core.time import now
from app.events.models import Event
from app.events.schemas import EventPublic
from app.events.service import after_position, latest_position, position_of
from app.webhooks import signing
from app.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDispatchState,
    WebhookSubscription,
)
from app.webhooks.ssrf import UnsafeURL, check_url

log = logging.getLogger("app.webhooks")

DISPATCHER = "dispatcher"
DUE = (DeliveryStatus.pending, DeliveryStatus.failed)


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def matches(event_types: list[str], event: Event) -> bool:
    """Whether a subscription wants the event. Case events only by their exact type."""
    for wanted in event_types:
        if wanted == event.type:
            return True
        if event.audience == "cases":
            continue
        if wanted == "*" or (wanted.endswith(".*") and event.type.startswith(wanted[:-1])):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# Dispatch: outbox → deliveries


def dispatch_once(batch: int = 500) -> int:
    """Turn the next settled events into deliveries. Returns how many events were read."""
    try:
        with db.write() as session:
            state = session.exec(
                select(WebhookDispatchState)
                .where(col(WebhookDispatchState.name) == DISPATCHER)
                .with_for_update()
            ).first()
            if state is None:
                state = WebhookDispatchState(name=DISPATCHER)
                session.add(state)
                session.flush()
            position = (state.txid, state.event_id) if state.event_id else None
            subscriptions = session.exec(
                select(WebhookSubscription).where(col(WebhookSubscription.is_active))
            ).all()
            if not subscriptions:
                # Nothing to deliver, now or later (a subscription is never sent what came
                # before it): move past what is settled without reading it, and report no
                # work, so the loop waits its poll interval rather than spinning through
                # every event a busy register writes.
                latest = latest_position(session)
                if latest is not None and latest != position:
                    state.txid, state.event_id = latest
                    state.updated_at = now()
                    session.add(state)
                return 0
            events = after_position(session, position, limit=batch)
            if not events:
                return 0
            for event in events:
                assert event.id is not None
                for sub in subscriptions:
                    # A new subscription is not flooded with the history before it existed.
                    if event.at >= sub.created_at and matches(sub.event_types, event):
                        assert sub.id is not None
                        session.add(
                            WebhookDelivery(
                                subscription_id=sub.id,
                                event_id=event.id,
                                message_id=f"msg_{event.id}",
                            )
                        )
            state.txid, state.event_id = position_of(events[-1])
            state.updated_at = now()
            session.add(state)
            return len(events)
    except IntegrityError:
        # Another dispatcher created the state row or the same deliveries first.
        return 0


# ---------------------------------------------------------------------------------------------
# Claiming: one worker per delivery


def try_claim(delivery_id: int, worker: str, until: datetime, at: datetime | None = None) -> bool:
    """Atomic compare-and-set lease on one delivery; True if this worker got it."""
    moment = at or now()
    with db.write() as session:
        return _cas(session, delivery_id, worker, until, moment)


def _cas(session: Any, delivery_id: int, worker: str, until: datetime, moment: datetime) -> bool:
    result = session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == delivery_id,
            or_(
                col(WebhookDelivery.claimed_until).is_(None),
                col(WebhookDelivery.claimed_until) < moment,
            ),
        )
        .values(claimed_by=worker, claimed_until=until)
    )
    return bool(result.rowcount == 1)


def claim_due(worker: str, *, limit: int = 10) -> list[int]:
    """Lease up to `limit` due deliveries of active subscriptions to `worker`."""
    settings = get_settings()
    moment = now()
    until = moment + timedelta(seconds=settings.webhook_timeout_seconds * 2 + 30)
    with db.write() as session:
        stmt = (
            select(WebhookDelivery.id)
            .join(
                WebhookSubscription,
                col(WebhookSubscription.id) == col(WebhookDelivery.subscription_id),
            )
            .where(
                col(WebhookDelivery.status).in_(DUE),
                col(WebhookDelivery.next_attempt_at) <= moment,
                or_(
                    col(WebhookDelivery.claimed_until).is_(None),
                    col(WebhookDelivery.claimed_until) < moment,
                ),
                col(WebhookSubscription.is_active),
            )
            .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True, of=WebhookDelivery)
        candidates = [i for i in session.exec(stmt).all() if i is not None]
        return [i for i in candidates if _cas(session, i, worker, until, moment)]


# ---------------------------------------------------------------------------------------------
# Sending


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post_signed(url: str, secret: str, message_id: str, body: bytes) -> Outcome:
    """POST `body` signed per Standard Webhooks, to the address that passed the SSRF check."""
    settings = get_settings()
    started = time.perf_counter()

    def elapsed() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        target = check_url(url, allow_private=settings.webhook_allow_private)
    except UnsafeURL as exc:
        return Outcome(None, f"refused: {exc.en}"[:500], elapsed())
    original = httpx.URL(url)
    # Connect to the very address that was checked (no second DNS lookup to rebind), while
    # the Host header and TLS name stay those of the URL.
    pinned = original.copy_with(host=str(target.addresses[0]))
    headers = signing.headers(secret, message_id, int(time.time()), body)
    headers["host"] = original.netloc.decode("ascii")
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        with (
            httpx.Client(
                timeout=settings.webhook_timeout_seconds, follow_redirects=False, trust_env=False
            ) as client,
            client.stream(
                "POST", pinned, content=body, headers=headers, extensions=extensions
            ) as response,
        ):
            status = response.status_code  # the body is never read: it may be huge
    except httpx.HTTPError as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:500], elapsed())
    error = None if 200 <= status < 300 else f"HTTP {status}"
    return Outcome(status, error, elapsed())


def message_body(event: Event) -> bytes:
    data = EventPublic.model_validate(event).model_dump(mode="json")
    return orjson.dumps({"type": event.type, "timestamp": data["at"], "data": data})


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with jitter: half the step fixed, half random."""
    settings = get_settings()
    step = min(
        settings.webhook_backoff_max_seconds,
        settings.webhook_backoff_base_seconds * 2 ** max(0, attempts - 1),
    )
    return timedelta(seconds=step / 2 + random.uniform(0, step / 2))  # noqa: S311


def deliver(delivery_id: int, worker: str) -> Outcome | None:
    """Send one claimed delivery and record the attempt. None when the lease was lost."""
    with db.read() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.claimed_by != worker or delivery.status not in DUE:
            return None
        sub = session.get(WebhookSubscription, delivery.subscription_id)
        event = session.get(Event, delivery.event_id)
    if sub is None or event is None:
        return None
    outcome = post_signed(
        sub.url, signing.unseal(sub.secret_encrypted), delivery.message_id, message_body(event)
    )
    record_outcome(delivery_id, worker, outcome)
    return outcome


def record_outcome(delivery_id: int, worker: str, outcome: Outcome) -> None:
    settings = get_settings()
    moment = now()
    with db.write() as session:
        delivery = session.exec(
            select(WebhookDelivery).where(col(WebhookDelivery.id) == delivery_id).with_for_update()
        ).first()
        if delivery is None or delivery.claimed_by != worker:
            return
        sub = session.exec(
            select(WebhookSubscription)
            .where(col(WebhookSubscription.id) == delivery.subscription_id)
            .with_for_update()
        ).one()
        session.add(
            WebhookAttempt(
                delivery_id=delivery_id,
                subscription_id=sub.id or 0,
                at=moment,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
                worker=worker[:80],
            )
        )
        delivery.attempts += 1
        delivery.last_attempt_at = moment
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error
        delivery.claimed_by = None
        delivery.claimed_until = None
        if outcome.ok:
            delivery.status = DeliveryStatus.succeeded
            sub.failure_count = 0
        else:
            if delivery.attempts >= settings.webhook_max_attempts:
                delivery.status = DeliveryStatus.dead
            else:
                delivery.status = DeliveryStatus.failed
                delivery.next_attempt_at = moment + backoff(delivery.attempts)
            sub.failure_count += 1
            if sub.is_active and sub.failure_count >= settings.webhook_disable_after_failures:
                sub.is_active = False
                sub.disabled_at = moment
                log.warning("webhook subscription disabled", extra={"subscription": sub.id})
        session.add(delivery)
        session.add(sub)


# ---------------------------------------------------------------------------------------------
# Loops


def run_once(worker: str, *, claim_limit: int = 10) -> int:
    """One round: dispatch new events, then send what is due. Returns the work done."""
    work = dispatch_once()
    for delivery_id in claim_due(worker, limit=claim_limit):
        deliver(delivery_id, worker)
        work += 1
    return work


def run_forever(stop: threading.Event, worker: str | None = None) -> None:
    """The separate worker process (`python -m app webhook-worker`)."""
    name = worker or worker_name()
    poll = get_settings().webhook_poll_seconds
    log.info("webhook worker started", extra={"worker": name})
    while not stop.is_set():
        try:
            busy = run_once(name)
        except Exception:
            log.exception("webhook worker round failed")
            busy = 0
        if not busy:
            stop.wait(poll)


async def _inline_loop(stop: asyncio.Event) -> None:
    name = worker_name()
    poll = get_settings().webhook_poll_seconds
    while not stop.is_set():
        try:
            busy = await run_in_threadpool(run_once, name)
        except Exception:
            log.exception("inline webhook round failed")
            busy = 0
        if not busy:
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll)


@asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    """FastAPI lifespan: run deliveries in this process when `webhook_worker_inline`."""
    if not get_settings().webhook_worker_inline:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(_inline_loop(stop))
    try:
        yield
    finally:
        stop.set()
        await task
