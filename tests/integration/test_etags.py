"""Lost updates: every PATCH needs the ETag it read (428 without, 412 when stale)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import World


def _targets(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (f"/api/v1/orgs/{world.org_id('school_a')}", "admin", {"address": "城关镇学府路 2 号"}),
        (f"/api/v1/users/{world.users['school_a'].id}", "admin", {"full_name": "李老师"}),
        (f"/api/v1/campaigns/{world.campaign_id}", "office", {"description": "全区统一部署"}),
    ]


@pytest.mark.parametrize("index", [0, 1, 2], ids=["org", "user", "campaign"])
def test_patch_needs_the_current_etag(client: TestClient, world: World, index: int) -> None:
    path, who, change = _targets(world)[index]
    headers = world.headers(who)
    read = client.get(path, headers=headers)
    assert read.status_code == 200, read.text
    tag = read.headers["ETag"]
    assert tag == f'"v{read.json()["version"]}"'

    missing = client.patch(path, json=change, headers=headers)
    assert missing.status_code == 428
    assert missing.json()["code"] == "precondition.if_match_required"

    stale = client.patch(path, json=change, headers={**headers, "If-Match": '"v999"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition.stale"

    ok = client.patch(path, json=change, headers={**headers, "If-Match": tag})
    assert ok.status_code == 200, ok.text
    assert ok.headers["ETag"] != tag
    assert ok.headers["ETag"] == client.get(path, headers=headers).headers["ETag"]

    # The first writer won; a second writer holding the old ETag loses instead of overwriting.
    lost = client.patch(path, json=change, headers={**headers, "If-Match": tag})
    assert lost.status_code == 412


def test_weak_and_listed_etags_are_accepted(client: TestClient, world: World) -> None:
    path, who, change = _targets(world)[2]
    headers = world.headers(who)
    tag = client.get(path, headers=headers).headers["ETag"]
    r = client.patch(path, json=change, headers={**headers, "If-Match": f'"v0", W/{tag}'})
    assert r.status_code == 200, r.text


def test_every_patch_route_declares_if_match_412_and_428(app: Any) -> None:
    """Static check over the whole API, so routes added later are held to the same rule."""
    missing = []
    for path, item in app.openapi()["paths"].items():
        op = item.get("patch")
        if op is None:
            continue
        params = {p["name"].lower() for p in op.get("parameters", []) if p["in"] == "header"}
        responses = set(op.get("responses", {}))
        if "if-match" not in params or not {"412", "428"} <= responses:
            missing.append(path)
    assert missing == [], f"PATCH routes without If-Match / 412 / 428: {missing}"
