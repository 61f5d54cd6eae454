"""The authorization matrix: every route × every kind of caller → the expected answer.

ONE table (`MATRIX`) lists each route (method + path template) with the status class each
caller gets. `test_every_route_is_in_the_matrix` walks the app's routes and fails for any
route missing from the table, so a new endpoint cannot ship without its row.

Callers (columns):
    anon     no token
    school   a school user (城关第一小学, `school_a`), owner of the objects in the paths
    other    another school's user (`school_b`): the cross-org attempt → 404 on objects
    dept     a department with no link to the objects (城建局, `chengjian`)
    police   the police sub-bureau with the `cases` capability
    oversee  监察 with the `oversight` capability (reads everything)
    office   the district office
    admin    a system administrator (users and orgs; no business data)

Status classes:
    2xx  succeeds
    ok   passes authentication, role gate and visibility: 2xx or a business refusal of the
         request itself (409 state, 412/428 If-Match, 422 rules) — never 401/403/404/5xx
    open no caller check at all (the answer depends on the system, e.g. /ready's 503)
    401 / 403 / 404   refused as such

Path objects belong to school_a (see `objects`), so the `other` column is the cross-org
attempt on every object type.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import get_settings
from app.core.routes import iter_routes
from tests.conftest import PASSWORD, World

CALLERS = ("anon", "school", "other", "dept", "police", "oversee", "office", "admin")
USERS = {
    "school": "school_a",
    "other": "school_b",
    "dept": "chengjian",
    "police": "police",
    "oversee": "jiancha",
    "office": "office",
    "admin": "admin",
}
NOT_IN_MATRIX = {"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}

# fmt: off
MATRIX = """
# method path                                               anon school other dept police oversee office admin
GET    /health                                              2xx  2xx   2xx   2xx  2xx   2xx     2xx    2xx
GET    /ready                                               open open  open  open open  open    open   open
GET    /metrics                                             2xx  2xx   2xx   2xx  2xx   2xx     2xx    2xx
GET    /api/v1/meta/enums                                   2xx  2xx   2xx   2xx  2xx   2xx     2xx    2xx
GET    /api/v1/public/exposures                             2xx  2xx   2xx   2xx  2xx   2xx     2xx    2xx

POST   /api/v1/auth/token                                   2xx  2xx   2xx   2xx  2xx   2xx     2xx    2xx
POST   /api/v1/auth/refresh                                 401  401   401   401  401   401     401    401
POST   /api/v1/auth/logout                                  2xx  2xx   2xx   2xx  2xx   2xx     2xx    2xx
GET    /api/v1/auth/me                                      401  2xx   2xx   2xx  2xx   2xx     2xx    2xx
POST   /api/v1/auth/password                                401  ok    ok    ok   ok    ok      ok     ok

GET    /api/v1/orgs                                         401  2xx   2xx   2xx  2xx   2xx     2xx    2xx
POST   /api/v1/orgs                                         401  403   403   403  403   403     403    ok
GET    /api/v1/orgs/{org_id}                                401  2xx   404   404  404   2xx     2xx    2xx
PATCH  /api/v1/orgs/{org_id}                                401  403   403   403  403   403     403    ok

GET    /api/v1/users                                        401  403   403   403  403   403     403    2xx
POST   /api/v1/users                                        401  403   403   403  403   403     403    ok
GET    /api/v1/users/{user_id}                              401  403   403   403  403   403     403    2xx
PATCH  /api/v1/users/{user_id}                              401  403   403   403  403   403     403    ok
POST   /api/v1/users/{user_id}/disable                      401  403   403   403  403   403     403    ok
POST   /api/v1/users/{user_id}/enable                       401  403   403   403  403   403     403    ok
POST   /api/v1/users/{user_id}/password                     401  403   403   403  403   403     403    ok

GET    /api/v1/campaigns                                    401  2xx   2xx   2xx  2xx   2xx     2xx    2xx
POST   /api/v1/campaigns                                    401  403   403   403  403   403     ok     403
GET    /api/v1/campaigns/{campaign_id}                      401  2xx   2xx   2xx  2xx   2xx     2xx    2xx
PATCH  /api/v1/campaigns/{campaign_id}                      401  403   403   403  403   403     ok     403
POST   /api/v1/campaigns/{campaign_id}/activate             401  403   403   403  403   403     ok     403
POST   /api/v1/campaigns/{campaign_id}/close                401  403   403   403  403   403     ok     403

GET    /api/v1/audit                                        401  403   403   403  403   2xx     403    2xx

POST   /api/v1/clients                                      401  403   403   403  403   403     403    ok
GET    /api/v1/clients                                      401  403   403   403  403   403     403    2xx
GET    /api/v1/clients/{client_pk}                          401  403   403   403  403   403     403    2xx
POST   /api/v1/clients/{client_pk}/rotate                   401  403   403   403  403   403     403    ok
POST   /api/v1/clients/{client_pk}/revoke                   401  403   403   403  403   403     403    ok

GET    /api/v1/events                                       401  2xx   2xx   2xx  2xx   2xx     2xx    403

POST   /api/v1/webhooks                                     401  403   403   403  403   403     403    ok
GET    /api/v1/webhooks                                     401  403   403   403  403   403     403    2xx
GET    /api/v1/webhooks/{webhook_id}                        401  403   403   403  403   403     403    2xx
PATCH  /api/v1/webhooks/{webhook_id}                        401  403   403   403  403   403     403    ok
DELETE /api/v1/webhooks/{webhook_id}                        401  403   403   403  403   403     403    ok
POST   /api/v1/webhooks/{webhook_id}/test                   401  403   403   403  403   403     403    ok
GET    /api/v1/webhooks/{webhook_id}/deliveries             401  403   403   403  403   403     403    2xx

# Hazards: {hazard_id} is a `reported` hazard school_a registered. Admins see no business data
# (404); oversight reads everything and changes nothing (403); the office assigns, verifies,
# voids and supervises; the school starts, escalates and rectifies its own.
GET    /api/v1/hazards                                      401  2xx   2xx   2xx  2xx   2xx     2xx    2xx
POST   /api/v1/hazards                                      401  2xx   403   403  403   403     2xx    403
GET    /api/v1/hazards/{hazard_id}                          401  2xx   404   404  404   2xx     2xx    404
PATCH  /api/v1/hazards/{hazard_id}                          401  2xx   404   404  404   403     2xx    403
GET    /api/v1/hazards/{hazard_id}/events                   401  2xx   404   404  404   2xx     2xx    404
GET    /api/v1/hazards/{hazard_id}/extensions               401  2xx   404   404  404   2xx     2xx    404
POST   /api/v1/hazards/{hazard_id}/start                    401  2xx   404   404  404   403     403    403
POST   /api/v1/hazards/{hazard_id}/escalate                 401  2xx   404   404  404   403     403    403
POST   /api/v1/hazards/{hazard_id}/assign                   401  403   404   404  404   403     ok     403
POST   /api/v1/hazards/{hazard_id}/submit-rectification     401  ok    404   404  404   403     403    403
POST   /api/v1/hazards/{hazard_id}/verify                   401  403   404   404  404   403     ok     403
POST   /api/v1/hazards/{hazard_id}/reject                   401  403   404   404  404   403     ok     403
POST   /api/v1/hazards/{hazard_id}/void                     401  403   404   404  404   403     2xx    403
POST   /api/v1/hazards/{hazard_id}/supervise                401  403   404   404  404   403     ok     403
POST   /api/v1/hazards/{hazard_id}/delist                   401  403   404   404  404   403     ok     403
POST   /api/v1/hazards/{hazard_id}/request-extension        401  ok    404   404  404   403     403    403
POST   /api/v1/hazards/{hazard_id}/grant-extension          401  403   404   404  404   403     ok     403
POST   /api/v1/hazards/{hazard_id}/refuse-extension         401  403   404   404  404   403     ok     403

# Collections of the other domains (no object in the path). `ok` where the body or a required
# filter such as campaign_id is left out on purpose: the gate let the caller through.
GET    /api/v1/accountability                               401  2xx   2xx   2xx  2xx   2xx     2xx    403
POST   /api/v1/accountability                               401  403   403   403  403   ok      ok     403
GET    /api/v1/accountability/candidates                    401  403   403   403  403   ok      ok     403
GET    /api/v1/alerts                                       401  2xx   2xx   2xx  2xx   2xx     2xx    403
GET    /api/v1/attachments                                  401  ok    ok    ok   ok    ok      ok     403
POST   /api/v1/attachments                                  401  ok    ok    ok   ok    ok      ok     403
GET    /api/v1/cases                                        401  403   403   403  2xx   2xx     2xx    403
POST   /api/v1/cases                                        401  403   403   403  ok    403     403    403
GET    /api/v1/cases/stats/by-status                        401  403   403   403  403   2xx     2xx    403
GET    /api/v1/exports/hazards.csv                          401  2xx   2xx   2xx  2xx   2xx     2xx    403
GET    /api/v1/exports/hazards.xlsx                         401  2xx   2xx   2xx  2xx   2xx     2xx    403
GET    /api/v1/exports/summary.xlsx                         401  403   403   403  403   ok      ok     403
POST   /api/v1/imports/hazards                              401  ok    ok    403  403   403     ok     403
GET    /api/v1/imports/hazards/template.xlsx                401  2xx   2xx   403  403   403     2xx    403
GET    /api/v1/inspections                                  401  2xx   2xx   2xx  2xx   2xx     2xx    2xx
POST   /api/v1/inspections                                  401  ok    ok    ok   ok    ok      ok     403
GET    /api/v1/licences                                     401  403   403   2xx  2xx   2xx     2xx    403
POST   /api/v1/licences                                     401  403   403   ok   ok    ok      ok     403
GET    /api/v1/plans                                        401  2xx   2xx   2xx  2xx   2xx     2xx    403
POST   /api/v1/plans                                        401  ok    ok    ok   ok    ok      ok     403
GET    /api/v1/stats/departments                            401  403   403   ok   ok    ok      ok     403
GET    /api/v1/stats/overview                               401  ok    ok    ok   ok    ok      ok     403
GET    /api/v1/stats/progress.png                           401  ok    ok    ok   ok    ok      ok     403
GET    /api/v1/stats/schools                                401  ok    ok    ok   ok    ok      ok     403
GET    /api/v1/stats/timeseries                             401  ok    ok    ok   ok    ok      ok     403
GET    /api/v1/tasks                                        401  2xx   2xx   2xx  2xx   2xx     2xx    2xx
POST   /api/v1/tasks                                        401  403   403   403  403   403     ok     403

# Objects of the other domains, each tied to school_a (the plan covers school_a's hazard, the
# case happened there, the inspection and the accountability notice are about it); the task's
# lead is 教体局 and the licence file is 桃花镇's. Role gates come before visibility, so a
# caller whose role may never take an action gets 403 even on another org's object.
GET    /api/v1/plans/{plan_id}                              401  2xx   404   404  404   2xx     2xx    403
PATCH  /api/v1/plans/{plan_id}                              401  2xx   404   404  404   403     403    403
POST   /api/v1/plans/{plan_id}/submit                       401  ok    404   404  404   403     403    403
POST   /api/v1/plans/{plan_id}/approve                      401  403   403   403  403   403     ok     403
POST   /api/v1/plans/{plan_id}/return                       401  403   403   403  403   403     ok     403
POST   /api/v1/plans/{plan_id}/complete                     401  ok    404   404  404   403     403    403
GET    /api/v1/plans/{plan_id}/events                       401  2xx   404   404  404   2xx     2xx    403
GET    /api/v1/plans/{plan_id}/export.xlsx                  401  2xx   404   404  404   2xx     2xx    403
GET    /api/v1/plans/{plan_id}/progress                     401  2xx   404   404  404   2xx     2xx    403
POST   /api/v1/plans/{plan_id}/progress                     401  ok    404   404  404   403     403    403
POST   /api/v1/plans/{plan_id}/milestones/{milestone_id}/done 401 ok   404   404  404   403     403    403

GET    /api/v1/tasks/{task_id}                              401  404   404   404  404   2xx     2xx    404
PATCH  /api/v1/tasks/{task_id}                              401  403   403   403  403   403     ok     403
POST   /api/v1/tasks/{task_id}/assignments/{assignment_id}/start 401 403 403  404  404   403     403    403
GET    /api/v1/tasks/{task_id}/reports                      401  404   404   404  404   2xx     2xx    404
POST   /api/v1/tasks/{task_id}/reports                      401  403   403   404  404   403     403    403
POST   /api/v1/tasks/{task_id}/reports/{report_id}/accept   401  403   403   403  403   403     ok     403
POST   /api/v1/tasks/{task_id}/reports/{report_id}/return   401  403   403   403  403   403     ok     403

# Cases: the police handle them, oversight and the office supervise; the school where it
# happened reads a sanitized view only; victims are masked for the office (service rule).
GET    /api/v1/cases/{case_id}                              401  2xx   404   404  2xx   2xx     2xx    404
PATCH  /api/v1/cases/{case_id}                              401  403   403   403  ok    403     403    403
GET    /api/v1/cases/{case_id}/events                       401  403   404   404  2xx   2xx     2xx    404
GET    /api/v1/cases/{case_id}/progress                     401  403   404   404  2xx   2xx     2xx    404
POST   /api/v1/cases/{case_id}/progress                     401  403   403   403  ok    403     403    403
GET    /api/v1/cases/{case_id}/victims                      401  403   404   404  2xx   2xx     2xx    404
POST   /api/v1/cases/{case_id}/start-investigation          401  403   403   403  2xx   403     403    403
POST   /api/v1/cases/{case_id}/solve                        401  403   403   403  ok    403     403    403
POST   /api/v1/cases/{case_id}/prosecute                    401  403   403   403  ok    403     403    403
POST   /api/v1/cases/{case_id}/judge                        401  403   403   403  ok    403     403    403
POST   /api/v1/cases/{case_id}/close                        401  403   403   403  ok    403     403    403
POST   /api/v1/cases/{case_id}/supervision                  401  403   403   403  403   ok      ok     403
POST   /api/v1/cases/{case_id}/supervision/extend           401  403   403   403  403   ok      ok     403
POST   /api/v1/cases/{case_id}/supervision/delist           401  403   403   403  403   ok      ok     403
POST   /api/v1/cases/{case_id}/expose                       401  403   403   403  403   403     ok     403
POST   /api/v1/cases/{case_id}/expose/withdraw              401  403   403   403  403   403     ok     403

GET    /api/v1/inspections/{inspection_id}                  401  2xx   404   404  404   2xx     2xx    404
POST   /api/v1/inspections/{inspection_id}/hazards          401  403   404   404  404   403     ok     403
GET    /api/v1/accountability/{record_id}                   401  2xx   404   404  404   2xx     2xx    403
POST   /api/v1/accountability/{record_id}/withdraw          401  403   403   403  403   ok      ok     403
GET    /api/v1/attachments/{attachment_id}                  401  2xx   404   404  404   2xx     2xx    403
GET    /api/v1/attachments/{attachment_id}/content          401  2xx   404   404  404   2xx     2xx    403
GET    /api/v1/licences/{school_id}                         401  403   403   404  404   2xx     2xx    403
GET    /api/v1/licences/{school_id}/history                 401  403   403   404  404   2xx     2xx    403
POST   /api/v1/licences/{school_id}/investigate           401  403   403   404  404   403     ok     403
POST   /api/v1/licences/{school_id}/order-closure         401  403   403   404  404   403     ok     403
POST   /api/v1/licences/{school_id}/close                 401  403   403   404  404   403     ok     403
POST   /api/v1/licences/{school_id}/reinspect             401  403   403   404  404   403     ok     403
"""
# fmt: on


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expected: dict[str, str]


def _parse(table: str) -> dict[tuple[str, str], Row]:
    rows: dict[tuple[str, str], Row] = {}
    for line in table.strip().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        method, path, *classes = line.split()
        assert len(classes) == len(CALLERS), f"{method} {path}: {len(classes)} columns"
        assert all(c in ("2xx", "ok", "open", "401", "403", "404") for c in classes), line
        assert (method, path) not in rows, f"duplicate row {method} {path}"
        rows[(method, path)] = Row(method, path, dict(zip(CALLERS, classes, strict=True)))
    return rows


ROWS = _parse(MATRIX)


def _app_routes(app: Any) -> set[tuple[str, str]]:
    found = set()
    for path, route in iter_routes(app.routes):
        if path in NOT_IN_MATRIX:
            continue
        for method in getattr(route, "methods", None) or ():
            if method not in ("HEAD", "OPTIONS"):
                found.add((method, path))
    return found


def test_every_route_is_in_the_matrix(app: Any) -> None:
    missing = sorted(_app_routes(app) - ROWS.keys())
    assert not missing, "routes without a row in MATRIX (add them):\n" + "\n".join(
        f"{m:6} {p}" for m, p in missing
    )


def test_the_matrix_lists_no_route_that_does_not_exist(app: Any) -> None:
    stale = sorted(ROWS.keys() - _app_routes(app))
    assert not stale, "rows for routes that no longer exist:\n" + "\n".join(
        f"{m:6} {p}" for m, p in stale
    )


# ---------------------------------------------------------------------------------------------
# The objects named in paths, all belonging to school_a (or district-wide for admin objects).


def _created(client: TestClient, world: World, url: str, body: dict[str, Any]) -> int:
    r = client.post(url, json=body, headers=world.h.admin)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.fixture
def objects(client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    ids: dict[str, Any] = {
        "org_id": world.org_id("school_a"),
        "user_id": world.users["school_a"].id,
        "campaign_id": world.campaign_id,
        "client_pk": _created(
            client, world, "/api/v1/clients", {"name": "市综治平台", "scopes": ["hazards:read"]}
        ),
        "webhook_id": _created(
            client,
            world,
            "/api/v1/webhooks",
            {"url": "http://127.0.0.1:9/hook", "event_types": ["hazard.*"]},
        ),
    }
    hazard = client.post(
        "/api/v1/hazards",
        json={
            "campaign_id": world.campaign_id,
            "school_id": world.org_id("school_a"),
            "scope": "campus",
            "category": "fire",
            "grade": "general",
            "title": "教学楼三楼灭火器过期",
            "description": "压力不足,已过检验期。",
            "location": "教学楼三楼",
            "source": "self_inspection",
            "found_on": "2026-11-25",
        },
        headers=world.h.school_a,
    )
    assert hazard.status_code == 201, hazard.text
    ids["hazard_id"] = hazard.json()["id"]
    _more_objects(client, world, ids)
    ids.update(
        campaign=world.campaign_id,
        school_a_org=world.org_id("school_a"),
        chengjian_org=world.org_id("chengjian"),
        office_org=world.org_id("office"),
    )
    return ids


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
    b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01"
    b"\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _more_objects(client: TestClient, world: World, ids: dict[str, Any]) -> None:
    """One object of every other type, each tied to school_a (or, for department tasks, to
    教体局 which supervises school_a), made through the API as its owner would."""
    campaign = world.campaign_id
    school_a = world.org_id("school_a")

    def post(url: str, who: str, **kw: Any) -> dict[str, Any]:
        r = client.post(url, headers=world.headers(who), **kw)
        assert r.status_code == 201, f"{url}: {r.status_code} {r.text}"
        body: dict[str, Any] = r.json()
        return body

    plan = post(
        "/api/v1/plans",
        "school_a",
        json={
            "campaign_id": campaign,
            "title": "灭火器更换方案",
            "hazard_ids": [ids["hazard_id"]],
            "milestones": [{"due_on": "2026-12-01", "title": "采购"}],
        },
    )
    ids["plan_id"] = plan["id"]
    ids["milestone_id"] = plan["milestones"][0]["id"]
    task = post(
        "/api/v1/tasks",
        "office",
        json={
            "campaign_id": campaign,
            "title": "校舍安全排查",
            "key_task_type": "hazard_inspection",
            "lead_org_id": world.org_id("edu"),
            "due_on": "2026-12-10",
        },
    )
    ids["task_id"] = task["id"]
    ids["assignment_id"] = task["assignments"][0]["id"]
    report = post(f"/api/v1/tasks/{task['id']}/reports", "edu", json={"text": "已完成排查。"})
    ids["report_id"] = report["id"]
    case = post(
        "/api/v1/cases",
        "police",
        json={
            "campaign_id": campaign,
            "case_type": "campus_intrusion",
            "school_id": school_a,
            "occurred_at": "2026-11-25T07:40:00+08:00",
            "location": "东门外",
            "summary": "一男子在校门口滋扰学生。",
        },
    )
    ids["case_id"] = case["id"]
    inspection = post(
        "/api/v1/inspections",
        "office",
        json={
            "campaign_id": campaign,
            "kind": "inspection_group",
            "school_id": school_a,
            "inspected_on": "2026-11-26",
            "inspectors": "张明",
            "findings": "灭火器过期。",
            "result": "issues_found",
        },
    )
    ids["inspection_id"] = inspection["id"]
    record = post(
        "/api/v1/accountability",
        "office",
        json={
            "campaign_id": campaign,
            "target_org_id": school_a,
            "kind": "notice",
            "reason": "逾期未整改。",
            "decided_on": "2026-11-26",
        },
    )
    ids["record_id"] = record["id"]
    licence = post(
        "/api/v1/licences",
        "office",
        json={
            "name": "金苹果幼儿园(无证)",
            "discovered_on": "2026-11-26",
            "supervising_org_id": world.org_id("town"),
        },
    )
    ids["school_id"] = licence["school_id"]
    attachment = post(
        "/api/v1/attachments",
        "school_a",
        data={"parent_type": "hazard", "parent_id": str(ids["hazard_id"])},
        files={"file": ("photo.png", PNG, "image/png")},
    )
    ids["attachment_id"] = attachment["id"]


# Bodies where `{}` would not reach the rule under test.
BODIES: dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]] = {
    ("POST", "/api/v1/auth/token"): lambda o: {
        "data": {"username": "office", "password": PASSWORD}
    },
    ("POST", "/api/v1/auth/refresh"): lambda o: {
        "json": {"refresh_token": "not-a-real-token-0123"}
    },
    ("POST", "/api/v1/auth/logout"): lambda o: {"json": {"refresh_token": "not-a-real-token-0123"}},
    ("POST", "/api/v1/hazards"): lambda o: {"json": {
        "campaign_id": o["campaign"], "school_id": o["school_a_org"], "scope": "campus",
        "category": "electrical", "grade": "general", "title": "配电箱未上锁",
        "description": "学生可触及。", "source": "self_inspection", "found_on": "2026-11-25"}},
    ("POST", "/api/v1/hazards/{hazard_id}/escalate"): lambda o: {"json": {"reason": "需城建部门施工。"}},
    ("POST", "/api/v1/hazards/{hazard_id}/assign"): lambda o: {"json": {
        "org_id": o["chengjian_org"], "deadline_working_days": 10}},
    ("POST", "/api/v1/hazards/{hazard_id}/submit-rectification"): lambda o: {"json": {
        "note": "已整改。", "attachment_ids": [1]}},
    ("POST", "/api/v1/hazards/{hazard_id}/reject"): lambda o: {"json": {"comment": "未整改到位。"}},
    ("POST", "/api/v1/hazards/{hazard_id}/void"): lambda o: {"json": {"reason": "重复登记。"}},
    ("POST", "/api/v1/hazards/{hazard_id}/supervise"): lambda o: {"json": {
        "notice_no": "区安督〔2026〕3号", "supervising_org_id": o["office_org"],
        "deadline": "2026-12-15"}},
    ("POST", "/api/v1/hazards/{hazard_id}/request-extension"): lambda o: {"json": {
        "reason": "材料到货延迟。", "requested_deadline": "2026-12-18"}},
    ("POST", "/api/v1/plans/{plan_id}/progress"): lambda o: {"json": {"text": "已完成一半。", "percent": 50}},
    ("POST", "/api/v1/inspections/{inspection_id}/hazards"): lambda o: {"json": {"hazard_ids": [o["hazard_id"]]}},
    ("POST", "/api/v1/tasks/{task_id}/reports"): lambda o: {"json": {"text": "已完成排查。"}},
    ("POST", "/api/v1/accountability/{record_id}/withdraw"): lambda o: {"json": {"reason": "经复核撤销。"}},
    **{
        ("POST", f"/api/v1/licences/{{school_id}}/{step}"): lambda o: {"json": {"acted_on": "2026-11-27"}}
        for step in ("investigate", "order-closure", "close")
    },
    ("POST", "/api/v1/licences/{school_id}/reinspect"): lambda o: {
        "json": {"acted_on": "2026-11-27", "found_operating": False}
    },
    ("POST", "/api/v1/hazards/{hazard_id}/grant-extension"): lambda o: {"json": {"extension_id": 1}},
    ("POST", "/api/v1/hazards/{hazard_id}/refuse-extension"): lambda o: {"json": {
        "extension_id": 1, "comment": "理由不充分。"}},
}  # fmt: skip


def _request(
    client: TestClient, row: Row, caller: str, world: World, objects: dict[str, Any]
) -> Any:
    url = row.path.format(**{k: v for k, v in objects.items() if "{" + k + "}" in row.path})
    headers = {} if caller == "anon" else world.headers(USERS[caller])
    kwargs: dict[str, Any] = {}
    if row.method in ("POST", "PATCH", "PUT"):
        kwargs = BODIES.get((row.method, row.path), lambda o: {"json": {}})(objects)
        headers["If-Match"] = "*"
    if row.method == "DELETE":
        headers["If-Match"] = "*"
    return client.request(row.method, url, headers=headers, **kwargs)


def _matches(expected: str, status: int) -> bool:
    if expected == "2xx":
        return 200 <= status < 300
    if expected == "open":
        return status not in (401, 403, 404) and status != 500
    if expected == "ok":
        return 200 <= status < 300 or status in (409, 412, 422, 428)
    return status == int(expected)


@pytest.mark.parametrize("key", list(ROWS), ids=[f"{m} {p}" for m, p in ROWS])
def test_route_answers_each_caller_as_the_matrix_says(
    client: TestClient, world: World, objects: dict[str, Any], key: tuple[str, str]
) -> None:
    row = ROWS[key]
    wrong = []
    # Writers go last so that earlier callers see the objects as the fixture made them.
    order = sorted(CALLERS, key=lambda c: row.expected[c] in ("2xx", "ok"))
    for caller in order:
        r = _request(client, row, caller, world, objects)
        if not _matches(row.expected[caller], r.status_code):
            wrong.append(
                f"{caller}: expected {row.expected[caller]}, got {r.status_code} {r.text[:150]}"
            )
    assert not wrong, f"{row.method} {row.path}\n" + "\n".join(wrong)
