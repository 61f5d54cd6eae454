import hashlib
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.attachments.models import Attachment
from app.audit.models import AuditLog
from app.campaigns.models import Campaign, CampaignStatus
from app.core import db
from app.core.config import get_settings
from tests.attachments.samples import DOCX, JPEG, PDF, PLAIN_ZIP, PNG, WEBP, XLSX, add_hazard
from tests.conftest import World

URL = "/api/v1/attachments"


def upload(
    client: TestClient,
    headers: dict[str, str],
    parent_id: int,
    content: bytes = PNG,
    *,
    name: str = "photo.png",
    content_type: str = "image/png",
    parent_type: str = "hazard",
) -> Any:
    return client.post(
        URL,
        headers=headers,
        data={"parent_type": parent_type, "parent_id": str(parent_id)},
        files={"file": (name, content, content_type)},
    )


@pytest.mark.parametrize(
    ("content", "name", "declared", "detected"),
    [
        (JPEG, "现场.jpg", "image/jpeg", "image/jpeg"),
        (PNG, "photo.png", "image/png", "image/png"),
        (WEBP, "photo.webp", "image/webp", "image/webp"),
        (PDF, "整改报告.pdf", "application/pdf", "application/pdf"),
        (
            DOCX,
            "方案.docx",
            "application/octet-stream",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            XLSX,
            "清单.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ],
)
def test_school_uploads_evidence_of_each_type_to_its_hazard(
    client: TestClient, world: World, content: bytes, name: str, declared: str, detected: str
) -> None:
    hazard = add_hazard(world)
    r = upload(client, world.h.school_a, hazard, content, name=name, content_type=declared)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["content_type"] == detected
    assert body["filename"] == name
    assert body["size"] == len(content)
    assert body["parent_type"] == "hazard"
    assert body["parent_id"] == hazard
    with db.read() as session:
        stored = session.get(Attachment, body["id"])
        assert stored is not None
        # Stored under a server-made name, never the uploaded one.
        assert name not in stored.storage_key
        path = get_settings().storage_dir / stored.storage_key
        assert path.read_bytes() == content
        audit = session.exec(
            select(AuditLog).where(col(AuditLog.action) == "attachment.upload")
        ).one()
        assert audit.object_id == str(body["id"])
    assert body["sha256"] == hashlib.sha256(content).hexdigest()


def test_png_named_pdf_is_refused_as_mislabelled(client: TestClient, world: World) -> None:
    hazard = add_hazard(world)
    r = upload(
        client, world.h.school_a, hazard, PNG, name="report.pdf", content_type="application/pdf"
    )
    assert r.status_code == 415
    assert r.json()["code"] == "attachment.unsupported_type"
    # The name alone lying is enough, even with a generic content type.
    r = upload(
        client,
        world.h.school_a,
        hazard,
        PNG,
        name="report.pdf",
        content_type="application/octet-stream",
    )
    assert r.status_code == 415
    with db.read() as session:
        assert session.exec(select(Attachment)).first() is None


@pytest.mark.parametrize(
    ("content", "name", "declared"),
    [
        (
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 64,
            "setup.exe",
            "application/octet-stream",
        ),
        (b"just some text, not a photo\n", "note.txt", "text/plain"),
        (b"<html><script>alert(1)</script></html>", "photo.png", "image/png"),
        (PLAIN_ZIP, "archive.docx", "application/octet-stream"),
    ],
)
def test_unknown_or_executable_files_are_refused(
    client: TestClient, world: World, content: bytes, name: str, declared: str
) -> None:
    hazard = add_hazard(world)
    r = upload(client, world.h.school_a, hazard, content, name=name, content_type=declared)
    assert r.status_code == 415, r.text


def test_oversize_upload_is_refused_and_nothing_is_stored(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    hazard = add_hazard(world)
    monkeypatch.setattr(get_settings(), "max_upload_bytes", 1000)
    r = upload(client, world.h.school_a, hazard, PNG + b"\0" * 2000)
    assert r.status_code == 413
    with db.read() as session:
        assert session.exec(select(Attachment)).first() is None
    stored = [p for p in get_settings().storage_dir.rglob("*") if p.is_file()]
    assert not any(p.stat().st_size > 1000 for p in stored)


def test_upload_beyond_the_request_limit_is_refused_by_the_middleware(
    client: TestClient, world: World
) -> None:
    hazard = add_hazard(world)
    big = PNG + b"\0" * (get_settings().max_upload_bytes + 128 * 1024)
    r = upload(client, world.h.school_a, hazard, big)
    assert r.status_code == 413


def test_school_cannot_attach_to_or_read_another_schools_hazard(
    client: TestClient, world: World
) -> None:
    other = add_hazard(world, school="school_b")
    r = upload(client, world.h.school_a, other)
    assert r.status_code == 404
    own = upload(client, world.h.school_b, other)
    assert own.status_code == 201
    attachment_id = own.json()["id"]
    assert client.get(f"{URL}/{attachment_id}", headers=world.h.school_a).status_code == 404
    assert client.get(f"{URL}/{attachment_id}/content", headers=world.h.school_a).status_code == 404
    listed = client.get(
        URL, params={"parent_type": "hazard", "parent_id": other}, headers=world.h.school_a
    )
    assert listed.status_code == 404


def test_department_that_sees_a_hazard_but_is_not_responsible_gets_403(
    client: TestClient, world: World
) -> None:
    # 教体局 supervises school_a, so it sees the hazard, but the school is responsible.
    hazard = add_hazard(world)
    r = upload(client, world.h.edu, hazard)
    assert r.status_code == 403
    assert r.json()["code"] == "attachment.not_attachable"
    # The responsible department may.
    assigned = add_hazard(world, responsible_org_id=world.org_id("chengjian"))
    assert upload(client, world.h.chengjian, assigned).status_code == 201


def test_admin_may_not_upload_or_read(client: TestClient, world: World) -> None:
    hazard = add_hazard(world)
    assert upload(client, world.h.admin, hazard).status_code == 403
    r = client.get(
        URL, params={"parent_type": "hazard", "parent_id": hazard}, headers=world.h.admin
    )
    assert r.status_code == 403


def test_every_endpoint_needs_a_token(client: TestClient, world: World) -> None:
    hazard = add_hazard(world)
    assert upload(client, {}, hazard).status_code == 401
    assert client.get(URL, params={"parent_type": "hazard", "parent_id": 1}).status_code == 401
    assert client.get(f"{URL}/1").status_code == 401
    assert client.get(f"{URL}/1/content").status_code == 401


def test_malformed_requests_are_422(client: TestClient, world: World) -> None:
    hazard = add_hazard(world)
    no_file = client.post(
        URL, headers=world.h.school_a, data={"parent_type": "hazard", "parent_id": str(hazard)}
    )
    assert no_file.status_code == 422
    bad_type = upload(client, world.h.school_a, hazard, parent_type="spaceship")
    assert bad_type.status_code == 422
    bad_id = upload(client, world.h.school_a, 0)
    assert bad_id.status_code == 422
    assert (
        client.get(URL, params={"parent_type": "hazard"}, headers=world.h.school_a).status_code
        == 422
    )
    assert client.get(f"{URL}/0", headers=world.h.school_a).status_code == 422
    assert client.get(f"{URL}/abc/content", headers=world.h.school_a).status_code == 422


def test_download_is_served_as_an_attachment_with_nosniff(client: TestClient, world: World) -> None:
    hazard = add_hazard(world)
    created = upload(
        client,
        world.h.school_a,
        hazard,
        PDF,
        name="整改 报告.pdf",
        content_type="application/pdf",
    )
    attachment_id = created.json()["id"]
    r = client.get(f"{URL}/{attachment_id}/content", headers=world.h.office)
    assert r.status_code == 200
    assert r.content == PDF
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["x-content-type-options"] == "nosniff"
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('整改 报告.pdf', safe='')}" in disposition
    meta = client.get(f"{URL}/{attachment_id}", headers=world.h.edu)
    assert meta.status_code == 200
    assert meta.json()["content_url"] == f"/api/v1/attachments/{attachment_id}/content"


def test_list_shows_a_parents_attachments_in_upload_order(client: TestClient, world: World) -> None:
    hazard = add_hazard(world)
    other = add_hazard(world)
    first = upload(client, world.h.school_a, hazard).json()["id"]
    second = upload(
        client, world.h.school_a, hazard, JPEG, name="b.jpg", content_type="image/jpeg"
    ).json()["id"]
    upload(client, world.h.school_a, other)
    r = client.get(
        URL,
        params={"parent_type": "hazard", "parent_id": hazard, "limit": 1},
        headers=world.h.school_a,
    )
    assert r.status_code == 200
    assert [a["id"] for a in r.json()["items"]] == [first]
    nxt = client.get(
        URL,
        params={"parent_type": "hazard", "parent_id": hazard, "cursor": r.json()["next_cursor"]},
        headers=world.h.school_a,
    )
    assert [a["id"] for a in nxt.json()["items"]] == [second]


def test_only_the_office_attaches_the_plan_document_to_a_campaign(
    client: TestClient, world: World
) -> None:
    r = upload(
        client,
        world.h.school_a,
        world.campaign_id,
        DOCX,
        name="方案.docx",
        content_type="",
        parent_type="campaign",
    )
    assert r.status_code == 403
    r = upload(
        client,
        world.h.office,
        world.campaign_id,
        DOCX,
        name="方案.docx",
        content_type="",
        parent_type="campaign",
    )
    assert r.status_code == 201
    # Every user may read it.
    listed = client.get(
        URL, params={"parent_type": "campaign", "parent_id": world.campaign_id}, headers=world.h.kg
    )
    assert [a["id"] for a in listed.json()["items"]] == [r.json()["id"]]
    assert upload(client, world.h.office, 999_999, parent_type="campaign").status_code == 404


def test_nothing_is_attached_to_a_closed_campaigns_hazard(client: TestClient, world: World) -> None:
    hazard = add_hazard(world)
    with db.write() as session:
        campaign = session.get(Campaign, world.campaign_id)
        assert campaign is not None
        campaign.status = CampaignStatus.closed
        session.add(campaign)
    r = upload(client, world.h.school_a, hazard)
    assert r.status_code == 409
    assert r.json()["code"] == "campaign.closed"
