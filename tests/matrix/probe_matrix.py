"""Print what each caller gets today on routes that have no row in MATRIX yet.

    .venv/bin/pytest tests/matrix/probe_matrix.py -s -q [--prefix /api/v1/plans]

Not collected by the normal run. Use it to draft rows, then READ each cell against the rules
(DOMAIN.md, the visibility function) before pasting it into MATRIX: the table states what
must happen, not what happens to happen.
"""

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import World
from tests.matrix import test_authorization_matrix as m
from tests.matrix.test_authorization_matrix import objects  # noqa: F401  (fixture)


def test_probe(client: TestClient, world: World, objects: dict[str, Any]) -> None:  # noqa: F811
    out = []
    for method, path in sorted(m._app_routes(client.app) - m.ROWS.keys(), key=lambda k: k[::-1]):
        row = m.Row(method, path, {})
        cells = []
        for caller in m.CALLERS:
            try:
                status = m._request(client, row, caller, world, objects).status_code
                cells.append("2xx" if 200 <= status < 300 else str(status))
            except KeyError as missing:
                cells.append(f"?{missing}")
        out.append(f"{method:6} {path:52} " + " ".join(f"{c:5}" for c in cells))
    print("\n" + "\n".join(out))
