import io
from typing import Any

import openpyxl
import pytest

from app.exports import xlsx_read
from app.exports.xlsx_read import XlsxError, read_rows


def workbook(rows: list[list[Any]], write_only: bool = False) -> bytes:
    book = openpyxl.Workbook(write_only=write_only)
    sheet = book.create_sheet() if write_only else book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ROWS: list[list[Any]] = [
    ["学校", "标题", "纬度", "发现日期"],
    ["城关第一小学", "灭火器过期", 34.25, "2026-11-25"],
    ["城关第二中学", 'A&B <围墙> "开裂"', None, 46351],
    [None, None, None, None],
    ["城关第一小学", "=1+1", 12, "  前后空格  "],
]
EXPECTED = [
    (1, ["学校", "标题", "纬度", "发现日期"]),
    (2, ["城关第一小学", "灭火器过期", "34.25", "2026-11-25"]),
    (3, ["城关第二中学", 'A&B <围墙> "开裂"', "", "46351"]),
    (5, ["城关第一小学", "", "12", "  前后空格  "]),
]


def read(content: bytes) -> list[tuple[int, list[str]]]:
    return [(n, cells) for n, cells in read_rows(io.BytesIO(content), max_rows=100) if any(cells)]


@pytest.mark.parametrize("write_only", [False, True])
@pytest.mark.parametrize("special", [False, True])
def test_plain_and_callback_readers_agree(
    monkeypatch: pytest.MonkeyPatch, write_only: bool, special: bool
) -> None:
    # Special cells: an entity (&amp;) and a formula (<f>).
    rows = ROWS if special else ROWS[:2]
    expected = EXPECTED if special else EXPECTED[:2]
    content = workbook(rows, write_only=write_only)
    plain = xlsx_read._SheetReader._fast_cells
    took: list[bool] = []

    def spy(self: Any, piece: bytes) -> Any:
        cells = plain(self, piece)
        took.append(cells is not None)
        return cells

    monkeypatch.setattr(xlsx_read._SheetReader, "_fast_cells", spy)
    fast = read(content)
    # A special cell sends its run of rows to the callbacks; plain rows do not.
    assert took == [not special]
    monkeypatch.setattr(xlsx_read._SheetReader, "_fast_cells", lambda _self, _piece: None)
    slow = read(content)
    assert fast == slow
    # The formula cell has no cached value (openpyxl writes none): read as empty.
    assert fast == expected


def test_many_rows_are_read_in_order() -> None:
    rows = [["学校", "标题"]] + [[f"学校{i:05d}", f"隐患{i}"] for i in range(20_000)]
    got = list(read_rows(io.BytesIO(workbook(rows, write_only=True)), max_rows=30_000))
    assert [n for n, _ in got] == list(range(1, 20_002))
    assert got[-1][1] == ["学校19999", "隐患19999"]


def test_sparse_and_wide_cells_keep_their_columns() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"], sheet["C1"], sheet["AB1"] = "a", "c", "ab"
    out = io.BytesIO()
    book.save(out)
    [(number, cells)] = list(read_rows(io.BytesIO(out.getvalue()), max_rows=10))
    assert number == 1
    assert (cells[0], cells[1], cells[2], cells[27], len(cells)) == ("a", "", "c", "ab", 28)


def test_limits_hold_on_the_plain_path() -> None:
    rows = [["x"] * 3 for _ in range(50)]
    with pytest.raises(XlsxError, match="too many rows"):
        list(read_rows(io.BytesIO(workbook(rows, write_only=True)), max_rows=10))
    with pytest.raises(XlsxError, match="too many columns"):
        list(read_rows(io.BytesIO(workbook(rows, write_only=True)), max_rows=100, max_columns=2))
