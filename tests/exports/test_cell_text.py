"""Every spreadsheet export writes text through one function: no formulas, no XML-illegal
characters — even for rows stored before control characters were refused at the door."""

import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from app.core.spreadsheet import cell_text
from app.orgs.models import OrgKind
from tests.conftest import World, make_hazard, make_org


def test_cell_text_escapes_formulas_and_drops_control_characters() -> None:
    assert cell_text('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert cell_text("@SUM(A1)") == "'@SUM(A1)"
    assert cell_text("灭火器\x13过期") == "灭火器过期"
    assert cell_text("\x00=1+1") == "'=1+1"
    assert cell_text("普通文本") == "普通文本"


def test_summary_workbook_survives_a_stored_control_character(
    client: TestClient, world: World
) -> None:
    assert world.campaign is not None
    school = make_org("旧数据\x13学校", OrgKind.school, supervising_org_id=world.org_id("edu"))
    make_hazard(world.campaign, school, title="=cmd|' /C calc'!A0")
    r = client.get(
        "/api/v1/exports/summary.xlsx",
        params={"campaign_id": world.campaign_id},
        headers=world.h.office,
    )
    assert r.status_code == 200, r.text
    book = load_workbook(io.BytesIO(r.content))
    texts = [
        c
        for ws in book.worksheets
        for row in ws.iter_rows(values_only=True)
        for c in row
        if isinstance(c, str)
    ]
    assert "旧数据学校" in texts
    assert not any(t.startswith("=") for t in texts)
