"""Webhook subscriptions (admins only): create, change, delete, test, and the delivery log."""

from collections.abc import Sequence

import orjson
from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.auth.principal import Principal
from app.core import db
from app.core.config import get_settings
from app.core.errors import NotFound
from app.core.etag import check_if_match
from app.core.pagination import SortDir, keyset, split_page
from app.core.time import now
from app.webhooks import signing, worker
from app.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from app.webhooks.schemas import (
    AttemptPublic,
    DeliveryPublic,
    SubscriptionCreate,
    SubscriptionPublic,
    SubscriptionUpdate,
    SubscriptionWithSecret,
)
from app.webhooks.ssrf import check_url


def _not_found() -> NotFound:
    return NotFound("webhook.not_found", zh="推送订阅不存在。", en="No such webhook subscription.")


def _vet(url: str) -> None:
    check_url(url, allow_private=get_settings().webhook_allow_private)


def create(principal: Principal, data: SubscriptionCreate) -> SubscriptionWithSecret:
    _vet(data.url)
    secret = signing.new_secret()
    with db.write() as session:
        sub = WebhookSubscription(
            url=data.url,
            description=data.description,
            event_types=data.event_types,
            secret_encrypted=signing.seal(secret),
            created_by=principal.user_id,
        )
        session.add(sub)
        session.flush()
        audit.record(
            session,
            principal,
            action="webhook.created",
            object_type="webhook_subscription",
            object_id=sub.id,
            changes={"url": data.url, "event_types": data.event_types},
        )
    public = SubscriptionPublic.model_validate(sub)
    return SubscriptionWithSecret(**public.model_dump(), secret=secret)


def list_subscriptions(
    *, active: bool | None, cursor: str | None, limit: int
) -> tuple[Sequence[WebhookSubscription], str | None]:
    stmt = select(WebhookSubscription)
    if active is not None:
        stmt = stmt.where(col(WebhookSubscription.is_active) == active)
    stmt = keyset(
        stmt,
        key=col(WebhookSubscription.id),
        id_col=col(WebhookSubscription.id),
        direction=SortDir.asc,
        cursor=cursor,
        limit=limit,
    )
    with db.read() as session:
        rows = session.exec(stmt).all()
    return split_page(rows, limit, lambda s: (s.id, s.id))


def get(sub_id: int) -> WebhookSubscription:
    with db.read() as session:
        sub = session.get(WebhookSubscription, sub_id)
    if sub is None:
        raise _not_found()
    return sub


def _locked(session: Session, sub_id: int) -> WebhookSubscription:
    sub = session.exec(
        select(WebhookSubscription).where(col(WebhookSubscription.id) == sub_id).with_for_update()
    ).first()
    if sub is None:
        raise _not_found()
    return sub


def update(
    principal: Principal, sub_id: int, data: SubscriptionUpdate, if_match: str | None
) -> WebhookSubscription:
    changes = data.model_dump(exclude_unset=True)
    if "url" in changes:
        _vet(changes["url"])
    with db.write() as session:
        sub = _locked(session, sub_id)
        check_if_match(if_match, sub.version)
        before = {k: getattr(sub, k) for k in changes}
        for key, value in changes.items():
            setattr(sub, key, value)
        if changes.get("is_active"):
            sub.failure_count = 0
            sub.disabled_at = None
        sub.version += 1
        sub.updated_at = now()
        session.add(sub)
        audit.record(
            session,
            principal,
            action="webhook.updated",
            object_type="webhook_subscription",
            object_id=sub.id,
            changes=audit.diff(before, changes),
        )
    return sub


def remove(principal: Principal, sub_id: int, if_match: str | None) -> None:
    """Delete the subscription with its delivery log; nothing more is sent to it."""
    with db.write() as session:
        sub = _locked(session, sub_id)
        check_if_match(if_match, sub.version, required=False)
        session.execute(delete(WebhookAttempt).where(col(WebhookAttempt.subscription_id) == sub_id))
        session.execute(
            delete(WebhookDelivery).where(col(WebhookDelivery.subscription_id) == sub_id)
        )
        session.delete(sub)
        audit.record(
            session,
            principal,
            action="webhook.deleted",
            object_type="webhook_subscription",
            object_id=sub_id,
            changes={"url": sub.url},
        )


def send_test(principal: Principal, sub_id: int) -> WebhookAttempt:
    """Send a signed `webhook.test` message now and record the attempt."""
    sub = get(sub_id)
    moment = now()
    body = orjson.dumps(
        {
            "type": "webhook.test",
            "timestamp": moment.isoformat(),
            "data": {"subscription_id": sub.id, "requested_by": principal.actor},
        }
    )
    message_id = f"msg_test_{sub.id}_{int(moment.timestamp() * 1000)}"
    outcome = worker.post_signed(sub.url, signing.unseal(sub.secret_encrypted), message_id, body)
    with db.write() as session:
        attempt = WebhookAttempt(
            subscription_id=sub_id,
            at=moment,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
            worker=f"test:{principal.actor}",
        )
        session.add(attempt)
        audit.record(
            session,
            principal,
            action="webhook.tested",
            object_type="webhook_subscription",
            object_id=sub_id,
            changes={"status_code": outcome.status_code},
        )
    return attempt


def list_deliveries(
    sub_id: int, *, status: DeliveryStatus | None, cursor: str | None, limit: int
) -> tuple[list[DeliveryPublic], str | None]:
    """Deliveries of one subscription, newest first, each with its attempts."""
    get(sub_id)
    stmt = select(WebhookDelivery).where(col(WebhookDelivery.subscription_id) == sub_id)
    if status is not None:
        stmt = stmt.where(col(WebhookDelivery.status) == status)
    stmt = keyset(
        stmt,
        key=col(WebhookDelivery.id),
        id_col=col(WebhookDelivery.id),
        direction=SortDir.desc,
        cursor=cursor,
        limit=limit,
    )
    with db.read() as session:
        rows, next_cursor = split_page(session.exec(stmt).all(), limit, lambda d: (d.id, d.id))
        ids = [d.id for d in rows]
        attempts = session.exec(
            select(WebhookAttempt)
            .where(col(WebhookAttempt.delivery_id).in_(ids))
            .order_by(col(WebhookAttempt.id))
        ).all()
    by_delivery: dict[int, list[AttemptPublic]] = {}
    for a in attempts:
        assert a.delivery_id is not None
        by_delivery.setdefault(a.delivery_id, []).append(AttemptPublic.model_validate(a))
    out = []
    for d in rows:
        item = DeliveryPublic.model_validate(d)
        item.attempt_log = by_delivery.get(d.id or 0, [])
        out.append(item)
    return out, next_cursor
