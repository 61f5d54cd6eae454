"""Crash test: kill -9 the server in the middle of a stream of writes, restart, and prove
that nothing acknowledged was lost and the database is consistent.

    python scripts/crashtest.py [--cycles 3] [--database-url postgresql://...]

For each cycle: start uvicorn (2 workers, its own process group) on a fresh database with the
demo district, stream creates from 16 concurrent clients (hazards by two schools, campaigns
by the office), SIGKILL the whole process group at a random moment while requests are in
flight, restart on the same database, and check:

* every write acknowledged before the kill (a 201 with its id) is in the database, and its
  audit row too (same transaction);
* the database is consistent: SQLite `PRAGMA integrity_check` and `PRAGMA foreign_key_check`;
  on PostgreSQL a query per foreign key for orphaned rows;
* the restarted server answers /ready (schema at head) and serves reads and writes again.

Runs on SQLite (a temp file) and, with --database-url, on a fresh PostgreSQL database.
Exit 1 on any lost write or inconsistency. Only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
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


async def stream_writes(
    base: str, tokens: dict[str, str], world: dict[str, Any], acked: dict[str, set[int]],
    stop: asyncio.Event,
) -> int:  # fmt: skip
    """Write until the server dies; return how many requests were cut off in flight."""
    cut = 0
    seq = 0

    async def writer(n: int) -> None:
        nonlocal cut, seq
        async with httpx.AsyncClient(timeout=30) as http:
            while not stop.is_set():
                seq += 1
                if n % 4 == 0:
                    kind, who, url = "campaign", "office", f"{API}/campaigns"
                    body: dict[str, Any] = {
                        "name": f"崩溃测试 {n}-{seq}-{random.randrange(10**9)}",
                        "year": 2027, "starts_on": "2027-03-01", "ends_on": "2027-04-30",
                    }  # fmt: skip
                else:
                    who = "school1" if n % 2 else "school2"
                    kind, url = "hazard", f"{API}/hazards"
                    body = {
                        "campaign_id": world["campaign_id"], "school_id": world[f"{who}_org"],
                        "scope": "campus", "category": "electrical", "grade": "general",
                        "title": f"配电箱未上锁 {seq}", "description": "配电箱未上锁,学生可触及。",
                        "location": "操场东侧", "source": "self_inspection",
                        "found_on": "2026-11-25",
                    }  # fmt: skip
                try:
                    r = await http.post(
                        base + url, json=body, headers={"Authorization": f"Bearer {tokens[who]}"}
                    )
                except httpx.HTTPError:
                    cut += 1
                    await asyncio.sleep(0.05)
                    continue
                if r.status_code == 201:
                    acked[kind].add(int(r.json()["id"]))
                elif r.status_code >= 500:
                    raise AssertionError(f"{r.status_code} before the crash: {r.text[:300]}")

    await asyncio.gather(*(writer(n) for n in range(16)))
    return cut


def check_database(url: str, acked: dict[str, set[int]]) -> list[str]:
    from sqlalchemy import create_engine, text
    from sqlmodel import SQLModel

    import app.models  # noqa: F401  (every table's metadata)
    from app.core.db import normalize_url

    problems: list[str] = []
    engine = create_engine(normalize_url(url))
    with engine.connect() as conn:
        for kind, ids in acked.items():
            present = {r[0] for r in conn.execute(text(f"SELECT id FROM {kind}"))}
            audited = {
                int(r[0])
                for r in conn.execute(
                    text("SELECT object_id FROM audit_log WHERE object_type = :t"), {"t": kind}
                )
                if r[0] and r[0].isdigit()
            }
            if lost := sorted(ids - present):
                problems.append(f"{len(lost)} acknowledged {kind}s lost: {lost[:10]}")
            if unaudited := sorted((ids & present) - audited):
                problems.append(f"{len(unaudited)} {kind}s without their audit row")
        if engine.dialect.name == "sqlite":
            integrity = conn.execute(text("PRAGMA integrity_check")).scalar()
            if integrity != "ok":
                problems.append(f"PRAGMA integrity_check: {integrity}")
            orphans = conn.execute(text("PRAGMA foreign_key_check")).all()
            if orphans:
                problems.append(f"PRAGMA foreign_key_check: {orphans[:5]}")
        else:
            for table in SQLModel.metadata.sorted_tables:
                for fk in table.foreign_keys:
                    col, ref = fk.parent, fk.column
                    orphaned = conn.execute(
                        text(
                            f'SELECT count(*) FROM "{table.name}" c '
                            f'LEFT JOIN "{ref.table.name}" p ON c."{col.name}" = p."{ref.name}" '
                            f'WHERE c."{col.name}" IS NOT NULL AND p."{ref.name}" IS NULL'
                        )
                    ).scalar()
                    if orphaned:
                        problems.append(f"{orphaned} orphaned rows in {table.name}.{col.name}")
            broken = conn.execute(
                text("SELECT count(*) FROM pg_index WHERE NOT indisvalid")
            ).scalar()
            if broken:
                problems.append(f"{broken} invalid indexes")
    engine.dispose()
    return problems


def world_of(base: str, token: str) -> dict[str, Any]:
    h = {"Authorization": f"Bearer {token}"}
    orgs = httpx.get(f"{base}{API}/orgs?kind=school&limit=100", headers=h, timeout=30).json()
    by_name = {o["name"]: o["id"] for o in orgs["items"]}
    campaigns = httpx.get(f"{base}{API}/campaigns?status=active", headers=h, timeout=30).json()[
        "items"
    ]
    return {
        "school1_org": by_name["城关第一小学"],
        "school2_org": by_name["城关第二中学"],
        "campaign_id": next(c["id"] for c in campaigns if c["status"] == "active"),
    }


def run(database_url: str | None, cycles: int) -> bool:
    label = "PostgreSQL" if database_url else "SQLite"
    ok = True
    with scratch_database(database_url) as url:
        env = server_env(url)
        prepare(env)
        acked: dict[str, set[int]] = {"hazard": set(), "campaign": set()}
        port = free_port()
        for cycle in range(1, cycles + 1):
            server = Server(env, port, workers=2).start()
            tokens = {u: login(server.base, u) for u in ("office", "school1", "school2")}
            world = world_of(server.base, tokens["office"])
            before = sum(len(v) for v in acked.values())

            async def crash_during_writes(
                server: Server = server,
                tokens: dict[str, str] = tokens,
                world: dict[str, Any] = world,
            ) -> int:
                stop = asyncio.Event()
                task = asyncio.create_task(stream_writes(server.base, tokens, world, acked, stop))
                await asyncio.sleep(random.uniform(2.0, 5.0))
                server.kill_hard()
                killed_at = time.monotonic()
                await asyncio.sleep(0.5)
                stop.set()
                cut = await task
                assert time.monotonic() - killed_at < 60
                return cut

            cut = asyncio.run(crash_during_writes())
            now = sum(len(v) for v in acked.values())
            # Restart on the same database: it must come back ready and working.
            server = Server(env, port, workers=2).start()
            ready = httpx.get(server.base + "/ready", timeout=30)
            probe = httpx.get(
                server.base + f"{API}/hazards?limit=1",
                headers={"Authorization": f"Bearer {login(server.base, 'office')}"},
                timeout=30,
            )
            server.stop()
            problems = check_database(url, acked)
            if ready.status_code != 200:
                problems.append(f"/ready after restart: {ready.status_code} {ready.text}")
            if probe.status_code != 200:
                problems.append(f"read after restart: {probe.status_code}")
            status = "OK" if not problems else "FAILED"
            print(
                f"{label} cycle {cycle}: {now - before} writes acknowledged, then kill -9 "
                f"({cut} requests cut off); after restart all {now} acknowledged writes present, "
                f"database consistent: {status}",
                flush=True,
            )
            for p in problems:
                print("    " + p)
            ok = ok and not problems
    return ok


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=3, choices=range(1, 21))
    parser.add_argument("--database-url", default=None, help="PostgreSQL server to test on")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    ok = True
    if not args.skip_sqlite:
        ok = run(None, args.cycles) and ok
    if args.database_url:
        ok = run(args.database_url, args.cycles) and ok
    print("crashtest:", "zero lost writes, consistent" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
