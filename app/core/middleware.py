"""One pure-ASGI middleware for what every request needs: request id, body-size limit,
security headers, access log and Prometheus metrics.

Pure ASGI rather than `BaseHTTPMiddleware`: the latter costs a task and a stream per request
on the hot path.
"""

import functools
import logging
import random
import re
import time
from typing import Any

import orjson
from fastapi import Depends
from prometheus_client import Counter, Histogram
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import get_settings
from app.core.context import request_id_var
from app.core.errors import PROBLEM_JSON, Invalid, field_error
from app.core.routes import TemplateIndex

log = logging.getLogger("app.access")
_templates = TemplateIndex()

REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# Any token is a valid HTTP method: labels take the known ones, so a scanner cannot grow
# the number of series without bound.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@functools.cache
def _series(method: str, template: str, status: int) -> tuple[Any, Any]:
    """The request counter and latency histogram of one (method, route, status), looked up
    once: `labels()` validates and hashes its arguments on every call. Bounded by the
    routes, `_METHODS` and the status codes the app answers with."""
    return REQUESTS.labels(method, template, str(status)), LATENCY.labels(method, template)


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Control characters other than tab, line feed and carriage return: PostgreSQL cannot store
# NUL in text, and none of them may appear in an xlsx/docx export (XML 1.0), so such input
# stops here with a 422 rather than coming back later as a 500. In JSON they arrive as an
# escape (`\u0013`) preceded by an even number of backslashes (`\\u0013` is plain text).
_JSON_CONTROL = re.compile(rb"(?<!\\)(?:\\\\)*\\u00(?:0[0-8bcef]|1[0-9a-f])", re.IGNORECASE)
_URL_CONTROL = re.compile(rb"%(?:0[0-8bcef]|1[0-9a-f])|[\x00-\x08\x0b\x0c\x0e-\x1f]", re.IGNORECASE)
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_DOC_PATHS = ("/docs", "/redoc", "/static/")
_IMPORT_PATHS = ("/api/v1/imports/",)
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


def _new_request_id() -> str:
    """16 hex digits. A trace id, not a secret: `random` (re-seeded in each forked worker)
    rather than `uuid4`, whose `os.urandom` call releases the GIL, and on a loaded event loop
    thread winning it back from the database threads cost more than the rest of a request
    (measured ~230 µs per call under load)."""
    return f"{random.getrandbits(64):016x}"


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


_MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")


def _too_deep(body: bytes) -> bool:
    """JSON nested deeper than any schema of ours: the parser would recurse until Python's
    stack gives out (a 400 or 500), so refuse it as a 422 first. Cheap for normal bodies."""
    if body.count(b"[") + body.count(b"{") <= _MAX_JSON_DEPTH:
        return False
    depth = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub(b"", body)):
        depth += 1 if bracket in (b"[", b"{") else -1
        if depth > _MAX_JSON_DEPTH:
            return True
    return False


def _invalid_body(request_id: str, where: str, code: str) -> list[Message]:
    detail = {
        "control_character": (
            "Text must not contain control characters such as NUL. "
            "文本不得包含控制字符(如空字符 NUL)。"
        ),
        "too_deep": f"JSON nested deeper than {_MAX_JSON_DEPTH} levels. JSON 嵌套层级过深。",
    }[code]
    body = orjson.dumps(
        {
            "type": "about:blank",
            "title": "Unprocessable Content",
            "status": 422,
            "code": "validation_failed",
            "detail": detail,
            "request_id": request_id,
            "errors": [{"field": where, "code": code, "message": detail}],
        }
    )
    return [
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
                *_API_HEADERS,
            ],
        },
        {"type": "http.response.body", "body": body},
    ]


def _nul_in_body(content_type: bytes, body: bytes) -> bool:
    if b"\x00" in body:
        return True
    if content_type.startswith(b"application/x-www-form-urlencoded"):
        return _URL_CONTROL.search(body) is not None
    return _JSON_CONTROL.search(body) is not None


async def reject_control_characters_in_form(request: Request) -> None:
    """Dependency of every route that reads a multipart form: its text fields must not hold
    NUL or other control characters. The middleware cannot look for them in the raw body,
    since an uploaded file may hold any byte. Starlette caches the parsed form, so this costs
    no second parse."""
    if not request.headers.get("content-type", "").startswith("multipart/"):
        return
    form = await request.form()
    for name, value in form.multi_items():
        if CONTROL_CHARACTERS.search(name) or (
            not isinstance(value, UploadFile) and CONTROL_CHARACTERS.search(value)
        ):
            raise Invalid(
                "validation_failed",
                zh="文本不得包含控制字符(如空字符 NUL)。",
                en="Text must not contain control characters such as NUL.",
                errors=[
                    field_error(
                        f"body.{name}", "control_character", "含控制字符", "control character"
                    )
                ],
            )


FormChecked = Depends(reject_control_characters_in_form)


class RequestMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        settings = get_settings()
        self.json_limit = settings.max_json_bytes
        # An upload is the file plus multipart framing and a few form fields.
        self.upload_limit = settings.max_upload_bytes + 64 * 1024
        # A whole register imported from a spreadsheet is larger than any single attachment.
        self.import_limit = settings.max_import_bytes + 64 * 1024

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else _new_request_id()
        token = request_id_var.set(request_id)
        path: str = scope["path"]
        is_docs = path.startswith(_DOC_PATHS)
        extra_headers = _DOC_HEADERS if is_docs else _API_HEADERS
        content_type = headers.get(b"content-type", b"")
        if not content_type.startswith(b"multipart/"):
            limit = self.json_limit
        elif path.startswith(_IMPORT_PATHS):
            limit = self.import_limit
        else:
            limit = self.upload_limit
        status = 500

        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            for message in _too_large(request_id, limit):
                await send(message)
            self._observe(scope, 413, started, request_id)
            request_id_var.reset(token)
            return

        nul_in = None
        if CONTROL_CHARACTERS.search(path):
            nul_in = "path"
        elif _URL_CONTROL.search(scope.get("query_string", b"")):
            nul_in = "query"
        if nul_in is not None:
            for message in _invalid_body(request_id, nul_in, "control_character"):
                await send(message)
            self._observe(scope, 422, started, request_id)
            request_id_var.reset(token)
            return

        received = 0
        if not content_type.startswith(b"multipart/") and scope["method"] != "GET":
            # JSON and form bodies are small (bounded by the limit): read them whole to look
            # for NUL once, here, for every route; then replay them to the app.
            chunks: list[bytes] = []
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                received += len(chunks[-1])
                if received > limit:
                    for message in _too_large(request_id, limit):
                        await send(message)
                    self._observe(scope, 413, started, request_id)
                    request_id_var.reset(token)
                    return
                if not message.get("more_body", False):
                    break
            whole = b"".join(chunks)
            problem = (
                "control_character"
                if _nul_in_body(content_type, whole)
                else "too_deep"
                if (not content_type or b"json" in content_type) and _too_deep(whole)
                else None
            )
            if problem is not None:
                for message in _invalid_body(request_id, "body", problem):
                    await send(message)
                self._observe(scope, 422, started, request_id)
                request_id_var.reset(token)
                return
            replayed = False
            outer_receive = receive

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": whole, "more_body": False}
                return await outer_receive()

            receive = replay
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
        template = _templates.template(scope.get("app"), route) or "unmatched"
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        requests, latency = _series(method, template, status)
        requests.inc()
        latency.observe(elapsed)
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
