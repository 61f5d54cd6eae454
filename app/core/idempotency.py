"""Safe retries of `POST`: the `Idempotency-Key` header (RFC draft "The Idempotency-Key HTTP
Header Field").

A client that did not get an answer (timeout, dropped mobile connection) sends the same POST
again with the same key. The first request with a key runs and its response is stored; a
replay gets the stored status and body with `Idempotent-Replayed: true`, and nothing is
created twice. The same key with another body or path is refused (422
`idempotency.key_reused`); a replay while the first is still running gets 409
`idempotency.in_progress`.

One pure-ASGI middleware covers every POST under /api/v1 except /auth/*, so no route has to
remember it. Keys are scoped by the caller (a hash of the access token's subject), kept for
`IDEMPOTENCY_TTL_HOURS` (24 h). Stored: 2xx responses, and the 4xx refusals that would come
out the same on a retry (400, 404, 405, 410, 413, 415, 422); not stored: 5xx and the refusals
that may change (401, 403, 409, 412, 428, 429 …), so a retry with the same key runs again.
Routes whose response reveals a secret once (creating or rotating a service account,
creating a webhook) ignore the key, so that no secret is ever stored here.

The record is written in its own transaction, not the endpoint's: a crash between the
endpoint's commit and storing the response leaves a pending record that is taken over after
`_STALE_PENDING`, after which a retry would run again.
"""

import hashlib
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import db, security
from app.core.config import get_settings
from app.core.db import BigId, UTCDateTime
from app.core.handlers import problem
from app.core.time import now

MAX_KEY_LENGTH = 200
_PREFIX = "/api/v1/"
_EXEMPT = "/api/v1/auth/"
# Responses that reveal a secret once (a service account's secret, a webhook signing secret)
# are never stored, so those routes ignore the key: a secret must not sit in this table.
_SECRET_BEARING = re.compile(r"^/api/v1/(clients(/\d+/rotate)?|webhooks)/?$")
_STORABLE_4XX = frozenset({400, 404, 405, 410, 413, 415, 422})
_KEPT_HEADERS = (b"content-type", b"location", b"etag", b"content-language")
_STALE_PENDING = timedelta(minutes=5)


class IdempotencyRecord(SQLModel, table=True):
    """One `Idempotency-Key` of one caller, with the response to replay."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("principal", "key"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    principal: str = Field(max_length=64)  # sha256 of the token subject
    key: str = Field(max_length=MAX_KEY_LENGTH)
    method: str = Field(max_length=10)
    path: str = Field(max_length=2000)
    request_hash: str = Field(max_length=64)
    completed: bool = False
    status_code: int | None = None
    response_headers: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    response_body: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))


# ---------------------------------------------------------------------------------------------
# Record keeping (sync; run in the thread pool)


@dataclass(frozen=True)
class _Started:
    record_id: int


@dataclass(frozen=True)
class _Replay:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class _Refused:
    status: int
    code: str
    zh: str
    en: str


_IN_PROGRESS = _Refused(
    409,
    "idempotency.in_progress",
    "使用同一 Idempotency-Key 的请求仍在处理中,请稍后重试。",
    "A request with this Idempotency-Key is still being processed; retry shortly.",
)
_REUSED = _Refused(
    422,
    "idempotency.key_reused",
    "此 Idempotency-Key 已用于另一个请求(路径或内容不同)。",
    "This Idempotency-Key was already used for a different request (path or body).",
)


def _decide(record: IdempotencyRecord, path: str, request_hash: str) -> _Replay | _Refused:
    if record.path != path or record.request_hash != request_hash:
        return _REUSED
    if not record.completed or record.status_code is None:
        return _IN_PROGRESS
    return _Replay(record.status_code, dict(record.response_headers), record.response_body or b"")


def begin(
    principal: str, key: str, method: str, path: str, request_hash: str
) -> _Started | _Replay | _Refused:
    moment = now()
    expired_before = moment - timedelta(hours=get_settings().idempotency_ttl_hours)
    try:
        with db.write() as session:
            if random.random() < 0.01:  # noqa: S311 - keep the table small without a cron job
                session.execute(
                    delete(IdempotencyRecord).where(
                        col(IdempotencyRecord.created_at) < expired_before
                    )
                )
            existing = session.exec(
                select(IdempotencyRecord)
                .where(
                    col(IdempotencyRecord.principal) == principal,
                    col(IdempotencyRecord.key) == key,
                )
                .with_for_update()
            ).first()
            if existing is not None:
                stale = existing.created_at < expired_before or (
                    not existing.completed and existing.created_at < moment - _STALE_PENDING
                )
                if not stale:
                    return _decide(existing, path, request_hash)
                session.delete(existing)
                session.flush()
            record = IdempotencyRecord(
                principal=principal,
                key=key,
                method=method,
                path=path,
                request_hash=request_hash,
                created_at=moment,
            )
            session.add(record)
            session.flush()
            assert record.id is not None
            return _Started(record.id)
    except IntegrityError:
        # A concurrent first request with the same key inserted its row first.
        with db.read() as session:
            existing = session.exec(
                select(IdempotencyRecord).where(
                    col(IdempotencyRecord.principal) == principal,
                    col(IdempotencyRecord.key) == key,
                )
            ).first()
        return _decide(existing, path, request_hash) if existing else _IN_PROGRESS


def complete(record_id: int, status: int, headers: dict[str, str], body: bytes) -> None:
    with db.write() as session:
        record = session.get(IdempotencyRecord, record_id)
        if record is not None:
            record.completed = True
            record.status_code = status
            record.response_headers = headers
            record.response_body = body
            session.add(record)


def abandon(record_id: int) -> None:
    """Forget the key: the response is not one to replay, so a retry runs again."""
    with db.write() as session:
        session.execute(delete(IdempotencyRecord).where(col(IdempotencyRecord.id) == record_id))


def storable(status: int) -> bool:
    return 200 <= status < 300 or status in _STORABLE_4XX


# ---------------------------------------------------------------------------------------------
# The middleware


def _subject(headers: dict[bytes, bytes]) -> str | None:
    raw = headers.get(b"authorization", b"").decode("latin-1")
    scheme, _, token = raw.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        return security.decode_access_token(token.strip()).subject
    except security.TokenError:
        return None


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not path.startswith(_PREFIX)
            or path.startswith(_EXEMPT)
            or _SECRET_BEARING.match(path)
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        raw_key = headers.get(b"idempotency-key")
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1").strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            await self._refuse(
                scope,
                receive,
                send,
                _Refused(
                    422,
                    "idempotency.bad_key",
                    f"Idempotency-Key 不能为空且不超过 {MAX_KEY_LENGTH} 个字符。",
                    f"The Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.",
                ),
            )
            return
        subject = _subject(headers)
        if subject is None:  # the route itself answers 401
            await self.app(scope, receive, send)
            return

        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        query: bytes = scope.get("query_string", b"")
        fingerprint = hashlib.sha256(
            b"\0".join([scope["method"].encode(), path.encode(), query, body])
        ).hexdigest()
        principal = hashlib.sha256(subject.encode()).hexdigest()
        full_path = path + ("?" + query.decode("latin-1") if query else "")

        decision = await run_in_threadpool(
            begin, principal, key, scope["method"], full_path[:2000], fingerprint
        )
        if isinstance(decision, _Refused):
            await self._refuse(scope, receive, send, decision)
            return
        if isinstance(decision, _Replay):
            await self._replay(send, decision)
            return

        replayed_body = False

        async def replay_receive() -> Message:
            nonlocal replayed_body
            if not replayed_body:
                replayed_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status = 500
        kept: dict[str, str] = {}
        out: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() in _KEPT_HEADERS:
                        kept[name.decode("latin-1").lower()] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                out.append(message.get("body", b""))
            await send(message)

        stored = False
        try:
            await self.app(scope, replay_receive, capture)
            if storable(status):
                await run_in_threadpool(complete, decision.record_id, status, kept, b"".join(out))
                stored = True
        finally:
            if not stored:
                await run_in_threadpool(abandon, decision.record_id)

    @staticmethod
    async def _replay(send: Send, replay: _Replay) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in replay.headers.items()]
        headers.append((b"idempotent-replayed", b"true"))
        headers.append((b"content-length", str(len(replay.body)).encode()))
        await send({"type": "http.response.start", "status": replay.status, "headers": headers})
        await send({"type": "http.response.body", "body": replay.body})

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, refusal: _Refused) -> None:
        request = Request(scope)
        lang = "en" if request.headers.get("accept-language", "").lower().startswith("en") else "zh"
        response = problem(
            request, refusal.status, refusal.code, refusal.en if lang == "en" else refusal.zh
        )
        await response(scope, receive, send)
