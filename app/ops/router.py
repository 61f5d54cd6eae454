"""Liveness, readiness and metrics for the load balancer and Prometheus."""

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from pydantic import BaseModel
from starlette.responses import Response

from app.core.config import get_settings
from app.core.responses import json_response
from app.ops import service

router = APIRouter(tags=["ops"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: bool
    migrations: str | None
    expected: str | None


@router.get("/health", summary="Liveness Probe", response_model=Health)
async def health() -> Response:
    """The process is up. Touches no database: a load balancer's liveness probe."""
    return json_response({"status": "ok"})


@router.get(
    "/ready",
    summary="Readiness Probe",
    response_model=Readiness,
    responses={503: {"model": Readiness}},
)
async def ready() -> Response:
    """Ready for traffic: the database answers and its schema is at the newest migration.

    503 otherwise, with `status` `unavailable` (database unreachable) or `migrations_pending`
    (reachable, but `python -m app migrate` has not run or is behind)."""
    report = await run_in_threadpool(service.readiness)
    return json_response(report, status_code=200 if report["status"] == "ok" else 503)


def _collect() -> bytes:
    directory = get_settings().prometheus_multiproc_dir
    if not directory:
        return generate_latest(REGISTRY)
    # Several uvicorn workers: each one only knows its own counts, so sum every worker's
    # files instead of answering with whichever worker the scrape happened to reach.
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


@router.get("/metrics", summary="Prometheus Metrics", response_class=Response)
async def metrics() -> Response:
    """Prometheus metrics: request rate, errors and latency by route template
    (`http_requests_total`, `http_request_duration_seconds`). With several workers set
    `PROMETHEUS_MULTIPROC_DIR` so that the figures cover all of them."""
    return Response(await run_in_threadpool(_collect), media_type=CONTENT_TYPE_LATEST)
