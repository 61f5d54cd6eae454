"""One pure-ASGI middleware for what every request needs: request id, body-size limit,
security headers, access log and Prometheus metrics.

Pure ASGI rather than `BaseHTTPMiddleware`: the latter costs a task and a stream per request
on the hot path.
"""

import logging
import re
import time
import uuid
from typing import Any

import orjson
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import get_settings
from app.core.context import request_id_var
from app.core.errors import PROBLEM_JSON

log = logging.getLogger("app.access")

REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_DOC_PATHS = ("/docs", "/redoc", "/static/")
_API_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
]
_DOC_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        b"script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; frame-ancestors 'none'",
    ),
]


class _TooLarge(HTTPException):
    """Raised from `receive` when a chunked body passes the limit. An HTTPException, so that
    FastAPI's body parsing lets it through to the problem+json handler as a 413."""

    def __init__(self) -> None:
        super().__init__(413)


def _too_large(request_id: str, limit: int) -> list[Message]:
    body = orjson.dumps(
        {
            "type": "about:blank",
            "title": "Payload Too Large",
            "status": 413,
            "code": "payload_too_large",
            "detail": f"The request body exceeds {limit} bytes. 请求体超过 {limit} 字节。",
            "request_id": request_id,
        }
    )
    return [
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
                (b"connection", b"close"),
            ],
        },
        {"type": "http.response.body", "body": body},
    ]


class RequestMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        settings = get_settings()
        self.json_limit = settings.max_json_bytes
        # An upload is the file plus multipart framing and a few form fields.
        self.upload_limit = settings.max_upload_bytes + 64 * 1024

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex[:16]
        token = request_id_var.set(request_id)
        path: str = scope["path"]
        is_docs = path.startswith(_DOC_PATHS)
        extra_headers = _DOC_HEADERS if is_docs else _API_HEADERS
        content_type = headers.get(b"content-type", b"")
        limit = self.upload_limit if content_type.startswith(b"multipart/") else self.json_limit
        status = 500

        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            for message in _too_large(request_id, limit):
                await send(message)
            self._observe(scope, 413, started, request_id)
            request_id_var.reset(token)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                    *extra_headers,
                ]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_wrapper)
        except _TooLarge:
            status = 413
            if not response_started:
                for message in _too_large(request_id, limit):
                    await send(message)
        finally:
            self._observe(scope, status, started, request_id)
            request_id_var.reset(token)

    @staticmethod
    def _observe(scope: Scope, status: int, started: float, request_id: str) -> None:
        elapsed = time.perf_counter() - started
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope["method"]
        REQUESTS.labels(method, template, str(status)).inc()
        LATENCY.labels(method, template).observe(elapsed)
        state = scope.get("state") or {}
        principal = state.get("principal")
        log.info(
            "request",
            extra={
                "method": method,
                "route": template,
                "status": status,
                "ms": round(elapsed * 1000, 2),
                "actor": principal.actor if principal is not None else None,
            },
        )
