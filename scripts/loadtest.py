"""Bounded load test on loopback: N concurrent clients for T seconds, then a ledger check.

    python scripts/loadtest.py [--clients 50] [--seconds 60] [--workers 2]
                               [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Starts the API (uvicorn, `--workers`) on a free loopback port with a fresh database holding
the demo district. Each client logs nothing in, it reuses one token per role and loops over a
mix of reads (lists and gets), creates (hazards by schools, campaigns by the office) and
transitions (hazard `start`, campaign `activate`). It prints throughput, p50/p99 latency,
errors and 5xx, then reads the database directly and checks that every acknowledged write
(a 2xx create → its id; a 2xx transition → its new status) is there. Exit 1 on any 5xx or
lost write. Only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.serverkit import (
    Server,
    free_port,
    login,
    prepare,
    scratch_database,
    server_env,
)

API = "/api/v1"


@dataclass
class Ledger:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    by_op: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    created: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    transitioned: dict[str, dict[int, str]] = field(default_factory=lambda: defaultdict(dict))
    # Planning campaigns and reported hazards waiting for their transition.
    planning: list[int] = field(default_factory=list)
    reported: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))


class Context:
    def __init__(self, base: str, tokens: dict[str, str], world: dict[str, Any]) -> None:
        self.base, self.tokens, self.world = base, tokens, world
        self.ledger = Ledger()
        self.seq = 0

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


async def call(
    ctx: Context, http: httpx.AsyncClient, op: str, method: str, url: str, who: str, **kw: Any
) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        r = await http.request(method, ctx.base + url, headers=ctx.headers(who), **kw)
    except httpx.HTTPError as exc:
        ctx.ledger.errors.append(f"{op}: {type(exc).__name__}")
        ctx.ledger.statuses[0] += 1
        return None
    ctx.ledger.latencies.append(time.perf_counter() - started)
    ctx.ledger.statuses[r.status_code] += 1
    ctx.ledger.by_op[op] += 1
    if r.status_code >= 400 and r.status_code != 409:
        try:
            code = r.json().get("code")
        except ValueError:
            code = r.text[:80]
        ctx.ledger.errors.append(f"{op}: {r.status_code} {code}")
    return r


async def read(ctx: Context, http: httpx.AsyncClient) -> None:
    who = random.choice(["office", "school1", "school2", "chengjian"])
    url = random.choice(
        [
            f"{API}/orgs?limit=20",
            f"{API}/campaigns",
            f"{API}/orgs/{ctx.world['school1_org']}"
            if who in ("office", "school1")
            else f"{API}/orgs?kind=department",
            f"{API}/hazards?limit=20" if ctx.world["hazards"] else f"{API}/meta/enums",
            f"{API}/auth/me",
        ]
    )
    await call(ctx, http, "read", "GET", url, who)


async def create(ctx: Context, http: httpx.AsyncClient) -> None:
    ctx.seq += 1
    if ctx.world["hazards"] and random.random() < 0.75:
        who = random.choice(["school1", "school2"])
        body = {
            "campaign_id": ctx.world["campaign_id"],
            "school_id": ctx.world[f"{who}_org"],
            "scope": "campus",
            "category": "fire",
            "grade": "general",
            "title": f"灭火器过期 #{ctx.seq}",
            "description": "教学楼三楼灭火器压力不足,已过检验期。",
            "location": "教学楼三楼",
            "source": "self_inspection",
            "found_on": "2026-11-25",
        }
        r = await call(ctx, http, "create hazard", "POST", f"{API}/hazards", who, json=body)
        if r is not None and r.status_code == 201:
            hazard_id = int(r.json()["id"])
            ctx.ledger.created["hazard"].add(hazard_id)
            ctx.ledger.reported[who].append(hazard_id)
        return
    body = {
        "name": f"压力测试专项行动 {ctx.seq}-{random.randrange(10**9)}",
        "year": 2027,
        "starts_on": "2027-03-01",
        "ends_on": "2027-04-30",
    }
    r = await call(ctx, http, "create campaign", "POST", f"{API}/campaigns", "office", json=body)
    if r is not None and r.status_code == 201:
        campaign_id = int(r.json()["id"])
        ctx.ledger.created["campaign"].add(campaign_id)
        ctx.ledger.planning.append(campaign_id)


async def transition(ctx: Context, http: httpx.AsyncClient) -> None:
    schools = [w for w, ids in ctx.ledger.reported.items() if ids]
    if schools and random.random() < 0.75:
        who = random.choice(schools)
        hazard_id = ctx.ledger.reported[who].pop()
        r = await call(
            ctx, http, "start hazard", "POST", f"{API}/hazards/{hazard_id}/start", who, json={}
        )
        if r is not None and r.status_code == 200:
            ctx.ledger.transitioned["hazard"][hazard_id] = r.json()["status"]
        return
    if ctx.ledger.planning:
        campaign_id = ctx.ledger.planning.pop()
        r = await call(
            ctx, http, "activate campaign", "POST", f"{API}/campaigns/{campaign_id}/activate",
            "office",
        )  # fmt: skip
        if r is not None and r.status_code == 200:
            ctx.ledger.transitioned["campaign"][campaign_id] = r.json()["status"]


async def client_loop(ctx: Context, deadline: float) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        while time.monotonic() < deadline:
            roll = random.random()
            if roll < 0.6:
                await read(ctx, http)
            elif roll < 0.85:
                await create(ctx, http)
            else:
                await transition(ctx, http)


def verify(database_url: str, ledger: Ledger) -> list[str]:
    """Read the database directly: every acknowledged write must be there."""
    from sqlalchemy import create_engine, text

    from app.core.db import normalize_url

    problems: list[str] = []
    engine = create_engine(normalize_url(database_url))
    tables = {"hazard": "hazard", "campaign": "campaign"}
    with engine.connect() as conn:
        for kind, ids in ledger.created.items():
            if not ids:
                continue
            present = {row[0] for row in conn.execute(text(f"SELECT id FROM {tables[kind]}"))}
            lost = sorted(ids - present)
            if lost:
                problems.append(f"{len(lost)} acknowledged {kind} creates missing: {lost[:10]}")
        for kind, statuses in ledger.transitioned.items():
            rows = dict(conn.execute(text(f"SELECT id, status FROM {tables[kind]}")).all())
            for object_id, status in statuses.items():
                if rows.get(object_id) != status:
                    problems.append(
                        f"{kind} {object_id}: acknowledged {status}, stored {rows.get(object_id)}"
                    )
    engine.dispose()
    return problems


def world_of(base: str, office_token: str) -> dict[str, Any]:
    h = {"Authorization": f"Bearer {office_token}"}
    orgs = httpx.get(f"{base}{API}/orgs?kind=school&limit=100", headers=h, timeout=30).json()
    by_name = {o["name"]: o["id"] for o in orgs["items"]}
    campaigns = httpx.get(f"{base}{API}/campaigns?status=active", headers=h, timeout=30).json()[
        "items"
    ]
    spec = httpx.get(f"{base}/openapi.json", timeout=30).json()
    return {
        "school1_org": by_name["城关第一小学"],
        "school2_org": by_name["城关第二中学"],
        "campaign_id": next(c["id"] for c in campaigns if c["status"] == "active"),
        "hazards": f"{API}/hazards" in spec["paths"],
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if not (1 <= args.clients <= 500 and 1 <= args.seconds <= 900):
        parser.error("bounded: 1..500 clients, 1..900 seconds")

    with scratch_database(args.database_url) as url:
        env = server_env(url, DOCS_ENABLED="true", DB_POOL_SIZE="20")
        prepare(env)
        server = Server(env, free_port(), workers=args.workers).start()
        try:
            tokens = {
                u: login(server.base, u) for u in ("office", "school1", "school2", "chengjian")
            }
            ctx = Context(server.base, tokens, world_of(server.base, tokens["office"]))
            print(
                f"load: {args.clients} clients × {args.seconds:.0f}s against {server.base} "
                f"({args.workers} workers, {url.split('@')[-1].split('/')[0] or 'sqlite'})",
                flush=True,
            )
            started = time.monotonic()
            deadline = started + args.seconds

            async def run() -> None:
                await asyncio.gather(*(client_loop(ctx, deadline) for _ in range(args.clients)))

            asyncio.run(run())
            elapsed = time.monotonic() - started
        finally:
            server.stop()
        problems = verify(url, ctx.ledger)

    ledger = ctx.ledger
    total = sum(ledger.statuses.values())
    lat = sorted(ledger.latencies) or [0.0]
    server_errors = sum(n for s, n in ledger.statuses.items() if s >= 500 or s == 0)
    print(f"requests     {total} in {elapsed:.1f}s = {total / elapsed:.0f} req/s")
    print(f"latency      p50 {statistics.median(lat) * 1000:.1f} ms · "
          f"p99 {lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000:.1f} ms · "
          f"max {lat[-1] * 1000:.1f} ms")  # fmt: skip
    print("by operation " + ", ".join(f"{op} {n}" for op, n in sorted(ledger.by_op.items())))
    print("statuses     " + ", ".join(f"{s}: {n}" for s, n in sorted(ledger.statuses.items())))
    print(f"errors       {len(ledger.errors)} (409 conflicts from racing transitions not counted)")
    for line in Counter(ledger.errors).most_common(5):
        print(f"             {line[1]} × {line[0]}")
    print(f"5xx          {server_errors}")
    writes = sum(len(v) for v in ledger.created.values())
    moves = sum(len(v) for v in ledger.transitioned.values())
    print(f"acknowledged {writes} creates, {moves} transitions; "
          f"{'all present in the database' if not problems else 'LOST WRITES:'}")  # fmt: skip
    for p in problems:
        print("             " + p)
    return 1 if problems or server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
