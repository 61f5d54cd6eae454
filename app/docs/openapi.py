"""The committed `openapi.json`: what frontends and other systems generate clients from.

Built from an app with default settings so that the file does not depend on the machine
(`make openapi` regenerates it; `tests/integration/test_openapi.py` fails on drift).
"""

import json
from typing import Any


def live_schema() -> dict[str, Any]:
    from app.main import create_app

    schema: dict[str, Any] = create_app().openapi()
    return schema


def schema_json() -> str:
    return json.dumps(live_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
