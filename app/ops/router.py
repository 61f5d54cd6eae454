"""Liveness, readiness and metrics for the load balancer and Prometheus."""

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.responses import Response

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


@router.get("/health", response_model=Health)
async def health() -> Response:
    """The process is up. Touches no database: a load balancer's liveness probe."""
    return json_response({"status": "ok"})


@router.get("/ready", response_model=Readiness, responses={503: {"model": Readiness}})
async def ready() -> Response:
    """Ready for traffic: the database answers and its schema is at the newest migration.
    503 otherwise."""
    report = await run_in_threadpool(service.readiness)
    return json_response(report, status_code=200 if report["status"] == "ok" else 503)


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    """Prometheus metrics: request rate, errors and latency by route template."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
