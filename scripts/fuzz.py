"""Schemathesis against the live OpenAPI schema, once per role, every check, zero failures.

    python scripts/fuzz.py [--database-url postgresql://...] [--max-examples 25] [--max-time 300]

Starts the app on a free loopback port with a fresh database (a temp SQLite file, or a new
database on the given PostgreSQL server) holding the demo district, logs in the demo users
(password `demo-password`) and runs `schemathesis run --checks all` as each of them. Bounded:
`--max-examples` per operation and `--max-time` seconds per role. Exit status 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.serverkit import (
    ROOT,
    Server,
    free_port,
    login,
    prepare,
    scratch_database,
    server_env,
)

# role → demo user
ROLES = {
    "school": "school1",
    "department": "chengjian",
    "office": "office",
    "admin": "admin",
}
CONFIG = ROOT / "scripts" / "schemathesis.toml"


def _cause(line: str) -> str:
    """The last line of a logged traceback and the app frame that raised it."""
    try:
        exc = json.loads(line).get("exc", "")
    except ValueError:
        return line[:200]
    frames = [
        f.strip() for f in exc.splitlines() if f.strip().startswith('File "') and "/app/" in f
    ]
    lines = [
        t for t in exc.strip().splitlines() if t and not t.startswith(("(Background", "[", " "))
    ]
    last = lines[-1] if lines else line[:200]
    where = frames[-1] if frames else ""
    return f"{last[:200]}  @ {where}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("FUZZ_DATABASE_URL"))
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--max-time", type=int, default=300, help="seconds per role")
    parser.add_argument("--roles", default=",".join(ROLES))
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--models-schema",
        action="store_true",
        help="add tables the migrations lack yet (diagnosis only; CI runs the migrations)",
    )
    # One worker: hypothesis' lambda introspection is not thread-safe on Python 3.11.
    parser.add_argument("--workers", default="1")
    args = parser.parse_args()

    schemathesis = Path(sys.executable).with_name("schemathesis")
    failed: list[str] = []
    with scratch_database(args.database_url) as url:
        env = server_env(
            url,
            DOCS_ENABLED="true",
            # The fuzzer tries thousands of wrong logins from one address; throttling them
            # is tested elsewhere and would only turn the token endpoint into 429s here.
            LOGIN_MAX_ATTEMPTS="1000000",
        )
        prepare(env, models_schema=args.models_schema)
        server = Server(env, free_port(), workers=2).start()
        print(f"fuzzing {server.base} on {url.split('@')[-1]}", flush=True)
        try:
            for role in args.roles.split(","):
                token = login(server.base, ROLES[role])
                started = time.monotonic()
                cmd = [
                    str(schemathesis), "--config-file", str(CONFIG), "run",
                    server.base + "/openapi.json",
                    "--checks", "all",
                    "--header", f"Authorization: Bearer {token}",
                    "--max-examples", str(args.max_examples),
                    "--max-time", str(args.max_time),
                    "--workers", args.workers,
                    "--request-timeout", "30",
                    "--generation-database", "none",
                    "--no-color",
                ]  # fmt: skip
                if args.seed is not None:
                    cmd += ["--seed", str(args.seed)]
                print(f"\n===== schemathesis as {role} ({ROLES[role]})", flush=True)
                done = subprocess.run(cmd, cwd=ROOT, check=False, timeout=args.max_time + 300)
                print(f"===== {role}: exit {done.returncode} in {time.monotonic() - started:.0f}s")
                if done.returncode != 0:
                    failed.append(role)
        finally:
            server.stop()
        errors = [
            line
            for line in server.log_path.read_text(errors="replace").splitlines()
            if '"level":"error"' in line
        ]
    if errors:
        print(f"\n{len(errors)} server errors logged; distinct causes:")
        for cause in sorted({_cause(line) for line in errors}):
            print("  ", cause)
        failed.append("server-log")
    print("\nfuzz:", "FAILED " + ", ".join(failed) if failed else "zero failures")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
