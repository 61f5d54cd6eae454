"""The calendar's edges as a reporting window: the last days a window can have are
answered, the first and last days of the calendar are a 422 naming the parameter, never a 500.

0001-01-01 begins before year 1 in UTC (Asia/Shanghai is UTC+8) and 9999-12-31 has no next
day; both overflowed on the way to the database (found by Schemathesis on PostgreSQL)."""

import pytest
from fastapi.testclient import TestClient

from tests.conftest import World, make_campaign

ROUTES = (
    "/api/v1/stats/overview",
    "/api/v1/stats/schools",
    "/api/v1/stats/departments",
    "/api/v1/stats/timeseries",
    "/api/v1/stats/progress.png",
    "/api/v1/hazards",
)
WIDEST = {"from": "0001-01-02", "to": "9999-12-30"}
BEYOND = (
    {"from": "0001-01-01"},
    {"to": "0001-01-01"},
    {"from": "9999-12-31"},
    {"to": "9999-12-31"},
)


def _params(route: str, window: dict[str, str]) -> dict[str, str]:
    if route.endswith("/hazards"):  # the register names its window after the timestamp
        return {f"reported_{k}": v for k, v in window.items()}
    return window


@pytest.mark.parametrize("route", ROUTES)
def test_calendar_edges_are_answered_or_refused_never_a_server_error(
    client: TestClient, world: World, route: str
) -> None:
    campaign = str(make_campaign().id)
    widest = client.get(
        route, params={"campaign_id": campaign, **_params(route, WIDEST)}, headers=world.h.office
    )
    if route.endswith(("/timeseries", "/progress.png")):  # at most 400 days a series
        assert widest.status_code == 422, widest.text
        assert widest.json()["code"] == "stats.range_too_long", widest.text
    else:
        assert widest.status_code == 200, widest.text
    for edge in BEYOND:
        params = _params(route, edge)
        r = client.get(route, params={"campaign_id": campaign, **params}, headers=world.h.office)
        assert r.status_code == 422, (edge, r.text)
        assert f"query.{next(iter(params))}" in r.text, r.text


def test_audit_times_beyond_utcs_calendar_are_refused(client: TestClient, world: World) -> None:
    for name in ("since", "until"):
        for value in ("0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00"):
            r = client.get("/api/v1/audit", params={name: value}, headers=world.h.admin)
            assert r.status_code == 422, (name, value, r.text)
            assert f"query.{name}" in r.text, r.text
        r = client.get(
            "/api/v1/audit", params={name: "2026-11-28T08:00:00+08:00"}, headers=world.h.admin
        )
        assert r.status_code == 200, r.text
