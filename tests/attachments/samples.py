"""Tiny files of each type, built from their magic numbers, and a hazard helper."""

import io
import zipfile
from datetime import date
from typing import Any

from app.core import db
from app.hazards.models import (
    Hazard,
    HazardCategory,
    HazardGrade,
    HazardScope,
    HazardSource,
)
from tests.conftest import World

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06" + b"\0" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\0" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + b"\0" * 64
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def ooxml(main_part: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(main_part, "<x/>")
    return buf.getvalue()


DOCX = ooxml("word/document.xml")
XLSX = ooxml("xl/workbook.xml")
PLAIN_ZIP = ooxml("content.xml")

_seq = iter(range(1, 10**6))


def add_hazard(world: World, school: str = "school_a", **fields: Any) -> int:
    """A hazard in the world's campaign, inserted directly (the register has its own tests)."""
    school_id = world.org_id(school)
    values: dict[str, Any] = {
        "code": f"YH-2026-{next(_seq):06d}",
        "campaign_id": world.campaign_id,
        "school_id": school_id,
        "scope": HazardScope.campus,
        "category": HazardCategory.fire,
        "grade": HazardGrade.general,
        "title": "灭火器过期",
        "description": "教学楼三楼灭火器已过期。",
        "source": HazardSource.self_inspection,
        "found_on": date(2026, 11, 25),
        "reported_by": "user:1",
        "reporter_org_id": school_id,
        "responsible_org_id": school_id,
    }
    values.update(fields)
    with db.write() as session:
        hazard = Hazard(**values)
        session.add(hazard)
        session.flush()
        assert hazard.id is not None
        return hazard.id
