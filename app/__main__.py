"""Command line: `python -m app <command>`.

python -m app migrate                 alembic upgrade head
python -m app seed-demo               load the demo district (idempotent)
python -m app create-admin --username root --full-name 管理员   (password from prompt or ADMIN_PASSWORD)
python -m app wait-for-db             wait until the database answers (container prestart)
python -m app rebuild-counts          recompute the statistics counters from the hazard table
python -m app emit-overdue-events     emit hazard.overdue once per missed deadline (cron, daily)
python -m app openapi                 print the OpenAPI schema (`make openapi` → openapi.json)
python -m app webhook-worker [--once] deliver webhooks (when WEBHOOK_WORKER_INLINE=false)
"""

import argparse
import getpass
import os
import sys
import time
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]


def migrate() -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    command.upgrade(config, "head")


def wait_for_db(seconds: float = 60) -> None:
    from app.core import db

    deadline = time.monotonic() + seconds
    while True:
        try:
            with db.read() as session:
                session.execute(text("SELECT 1"))
            return
        except Exception as exc:
            if time.monotonic() > deadline:
                raise SystemExit(f"database not reachable: {type(exc).__name__}") from exc
            time.sleep(1)


def run_webhook_worker(*, once: bool) -> None:
    import signal
    import threading

    from app.core.logging import configure
    from app.webhooks import worker

    configure()
    if once:
        worker.run_once(worker.worker_name())
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker.run_forever(stop)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate")
    sub.add_parser("seed-demo")
    sub.add_parser("rebuild-counts")
    sub.add_parser("emit-overdue-events")
    sub.add_parser("openapi")
    hooks = sub.add_parser("webhook-worker")
    hooks.add_argument("--once", action="store_true", help="one round, then exit")
    wait = sub.add_parser("wait-for-db")
    wait.add_argument("--seconds", type=float, default=60)
    admin = sub.add_parser("create-admin")
    admin.add_argument("--username", required=True)
    admin.add_argument("--full-name", default="系统管理员")
    admin.add_argument("--org-name", default="区校园安全管理工作整治领导小组办公室")
    args = parser.parse_args(argv)

    if args.command == "migrate":
        migrate()
    elif args.command == "seed-demo":
        from app import demo

        demo.seed()
        print("demo data loaded")
    elif args.command == "openapi":
        from app.docs.openapi import schema_json

        sys.stdout.write(schema_json())
    elif args.command == "webhook-worker":
        run_webhook_worker(once=args.once)
    elif args.command == "rebuild-counts":
        from app.core import db
        from app.hazards import counts

        with db.write() as session:
            rows = counts.rebuild(session)
        print(f"hazard counters rebuilt ({rows} rows)")
    elif args.command == "emit-overdue-events":
        from app.alerts.service import emit_overdue_events

        print(f"{emit_overdue_events()} hazard.overdue events emitted")
    elif args.command == "wait-for-db":
        wait_for_db(args.seconds)
    elif args.command == "create-admin":
        from app.core.errors import AppError
        from app.users import service

        password = os.environ.get("ADMIN_PASSWORD") or getpass.getpass("password: ")
        if len(password) < 10:
            raise SystemExit("the password needs at least 10 characters")
        try:
            user = service.create_first_admin(
                username=args.username,
                password=password,
                full_name=args.full_name,
                org_name=args.org_name,
            )
        except AppError as exc:
            raise SystemExit(exc.en) from exc
        print(f"admin user {user.username} created (id {user.id})")


if __name__ == "__main__":
    main(sys.argv[1:])
