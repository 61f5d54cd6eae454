"""create_app(): middleware, error handlers and routers. Nothing else."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import api, docs
from app.core import checkpoints, collector, db, handlers
from app.core.config import get_settings
from app.core.idempotency import IdempotencyMiddleware
from app.core.logging import configure as configure_logging
from app.core.middleware import RequestMiddleware
from app.ops.router import router as ops_router
from app.webhooks.worker import lifespan as webhook_lifespan

DESCRIPTION = """
Backend of a district's campus-safety special rectification campaign (校园安全管理专项整治).

Schools register and fix safety hazards; the office supervises, assigns what schools cannot
fix, verifies and closes; departments carry out tasks; the police work major cases under
listed supervision; the office summarises and holds to account.

* **Auth**: `POST /api/v1/auth/token` (OAuth2 password or client-credentials grant), then
  `Authorization: Bearer <access_token>`.
* **Visibility**: every read is scoped to the caller's org. Another org's object is 404.
* **Errors**: `application/problem+json` with a stable `code`; `Accept-Language: en` for
  English messages (Chinese by default).
* **Lists**: `limit` ≤ 100 and an opaque `cursor` (`next_cursor` of the previous page).
* **Changes**: `PATCH` needs `If-Match` with the `ETag` you read.
* **Retries**: a `POST` with an `Idempotency-Key` header (≤ 200 characters) runs once; a
  replay returns the first response with `Idempotent-Replayed: true`.
* **Other systems**: service accounts (`/clients`), the event feed (`GET /events`) and signed
  webhooks (`/webhooks`, Standard Webhooks).
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    db.configure_threads()  # the thread pool sized to the connection pool (no deadlock)
    # Last: what start-up built is frozen out of the garbage collector's sight.
    async with webhook_lifespan(app):
        with (
            checkpoints.running(get_settings().database_url),
            collector.tuned(get_settings().gc_threshold),
        ):
            yield


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging()
    app = FastAPI(
        title="Campus-safety rectification API · 校园安全专项整治",
        description=DESCRIPTION,
        version="1.0.0",
        # Served by app.docs from vendored assets (no CDN), below.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
        lifespan=lifespan,
        # Metrics and logs are Prometheus and JSON lines (app.core.middleware); FastAPI's
        # OpenTelemetry hooks would otherwise look for a configured provider on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "Idempotency-Key",
                "Accept-Language",
                "X-Request-ID",
            ],
            expose_headers=[
                "ETag",
                "X-Request-ID",
                "Retry-After",
                "Location",
                "Idempotent-Replayed",
            ],
        )
    # Inside RequestMiddleware, so the body-size limit and request id apply first.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(RequestMiddleware)
    handlers.install(app)
    app.include_router(ops_router)
    api.include(app)
    if settings.docs_enabled:
        docs.install(app)
    return app


app = create_app()
