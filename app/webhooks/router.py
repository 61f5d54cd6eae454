"""Webhook subscriptions (事件推送), managed by admins."""

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from app.auth.dependencies import AdminUser
from app.core.errors import problem_responses
from app.core.etag import etag
from app.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from app.webhooks import service
from app.webhooks.models import DeliveryStatus
from app.webhooks.schemas import (
    AttemptPublic,
    DeliveryPublic,
    SubscriptionCreate,
    SubscriptionPublic,
    SubscriptionUpdate,
    SubscriptionWithSecret,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

WebhookId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Subscription id.")]
IfMatch = Annotated[
    str | None, Header(max_length=200, description="The subscription's current ETag.")
]

_SIGNING = """
Every POST carries the Standard Webhooks headers `webhook-id` (the same on every retry:
de-duplicate on it), `webhook-timestamp` (Unix seconds) and `webhook-signature`
(`v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{raw body}">`, keyed with the
base64-decoded part of the `whsec_…` secret). The body is
`{"type": "...", "timestamp": "...", "data": <the event as in GET /api/v1/events>}`.
Answer 2xx within the timeout; anything else (redirects are not followed) is retried with
exponential backoff and jitter,
and too many consecutive failures disable the subscription (re-enable it with PATCH).
"""


def _one(sub: object, response: Response) -> SubscriptionPublic:
    out = SubscriptionPublic.model_validate(sub)
    response.headers["ETag"] = etag(out.version)
    return out


@router.post(
    "",
    response_model=SubscriptionWithSecret,
    status_code=201,
    summary="Subscribe a URL to events",
    responses=problem_responses(401, 403, 422),
    description="Create a webhook subscription (admin only). The signing `secret` is shown "
    "**only in this response**. URLs must be http(s) and may not point at loopback, private, "
    "link-local, multicast, reserved or cloud-metadata addresses (422 "
    "`webhook.url_forbidden`), unless the server allows it (`WEBHOOK_ALLOW_PRIVATE`)." + _SIGNING,
)
def create_webhook(
    principal: AdminUser, body: SubscriptionCreate, response: Response
) -> SubscriptionWithSecret:
    out = service.create(principal, body)
    response.headers["ETag"] = etag(out.version)
    return out


@router.get(
    "",
    response_model=Page[SubscriptionPublic],
    summary="List webhook subscriptions",
    responses=problem_responses(401, 403, 422),
)
def list_webhooks(
    principal: AdminUser,
    active: Annotated[bool | None, Query(description="Only active or only disabled.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[SubscriptionPublic]:
    """Webhook subscriptions, oldest first (admin only). Secrets are never listed."""
    rows, next_cursor = service.list_subscriptions(active=active, cursor=cursor, limit=limit)
    return Page(items=[SubscriptionPublic.model_validate(s) for s in rows], next_cursor=next_cursor)


@router.get(
    "/{webhook_id}",
    response_model=SubscriptionPublic,
    summary="Get a webhook subscription",
    responses=problem_responses(401, 403, 404, 422),
)
def get_webhook(
    principal: AdminUser, webhook_id: WebhookId, response: Response
) -> SubscriptionPublic:
    """One subscription with its failure count and, if it was disabled, when."""
    return _one(service.get(webhook_id), response)


@router.patch(
    "/{webhook_id}",
    response_model=SubscriptionPublic,
    summary="Change a webhook subscription",
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
def update_webhook(
    principal: AdminUser,
    webhook_id: WebhookId,
    body: SubscriptionUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> SubscriptionPublic:
    """Change URL, event types or description, or re-enable a disabled subscription
    (`is_active: true`, which clears the failure count). Needs `If-Match`."""
    return _one(service.update(principal, webhook_id, body, if_match), response)


@router.delete(
    "/{webhook_id}",
    status_code=204,
    summary="Delete a webhook subscription",
    responses=problem_responses(401, 403, 404, 412, 422),
)
def delete_webhook(
    principal: AdminUser, webhook_id: WebhookId, if_match: IfMatch = None
) -> Response:
    """Delete the subscription and its delivery log. Nothing more is sent to it."""
    service.remove(principal, webhook_id, if_match)
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/test",
    response_model=AttemptPublic,
    summary="Send a test message",
    responses=problem_responses(401, 403, 404, 422),
)
def test_webhook(principal: AdminUser, webhook_id: WebhookId) -> AttemptPublic:
    """Send a signed `webhook.test` message now, and return the attempt: the receiver's
    status code, or the error (refused address, timeout, connection refused). The attempt
    is not retried."""
    return AttemptPublic.model_validate(service.send_test(principal, webhook_id))


@router.get(
    "/{webhook_id}/deliveries",
    response_model=Page[DeliveryPublic],
    summary="List deliveries and their attempts",
    responses=problem_responses(401, 403, 404, 422),
)
def list_webhook_deliveries(
    principal: AdminUser,
    webhook_id: WebhookId,
    status: Annotated[DeliveryStatus | None, Query(description="Only this status.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[DeliveryPublic]:
    """The subscription's deliveries, newest first: status (`pending`, `succeeded`, `failed`
    = will retry at `next_attempt_at`, `dead` = given up), and every attempt with the
    receiver's status code, error and duration."""
    items, next_cursor = service.list_deliveries(
        webhook_id, status=status, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)
