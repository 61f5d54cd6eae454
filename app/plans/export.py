"""A plan as a printable workbook (整改方案表) the office can file, with Chinese labels."""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

from app.core.spreadsheet import without_illegal_xml
from app.core.time import local_zone
from app.plans.models import PlanProgress
from app.plans.schemas import PlanPublic

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD = PatternFill("solid", fgColor="E8EEF7")
_WRAP = Alignment(wrap_text=True, vertical="top")
_COLS = 5


def _shown(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return without_illegal_xml(value)
    return value


class _Sheet:
    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.row = 1

    def put(self, column: int, value: Any, *, bold: bool = False, head: bool = False) -> None:
        cell = self.ws.cell(row=self.row, column=column, value=_shown(value))
        if isinstance(cell.value, str):
            # Text typed by users is data, never a formula ("=HYPERLINK(...)").
            cell.data_type = "s"
        if isinstance(value, Decimal):
            cell.number_format = "#,##0.00"
        cell.border = _BORDER
        cell.alignment = _WRAP
        if bold or head:
            cell.font = Font(bold=True)
        if head:
            cell.fill = _HEAD

    def title(self, text: str) -> None:
        self.ws.merge_cells(start_row=self.row, start_column=1, end_row=self.row, end_column=_COLS)
        cell = self.ws.cell(row=self.row, column=1, value=text)
        cell.data_type = "s"
        cell.font = Font(bold=True, size=14)
        cell.alignment = Alignment(horizontal="center")
        self.row += 2

    def section(self, text: str) -> None:
        self.ws.merge_cells(start_row=self.row, start_column=1, end_row=self.row, end_column=_COLS)
        cell = self.ws.cell(row=self.row, column=1, value=text)
        cell.font = Font(bold=True, size=12)
        self.row += 1

    def field(self, label: str, value: Any) -> None:
        """A label in the first column, the value across the rest."""
        self.put(1, label, head=True)
        self.ws.merge_cells(start_row=self.row, start_column=2, end_row=self.row, end_column=_COLS)
        self.put(2, value)
        self.row += 1

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        for i, header in enumerate(headers, start=1):
            self.put(i, header, head=True)
        self.row += 1
        if not rows:
            self.put(1, "(无)")
            self.row += 1
        for values in rows:
            for i, value in enumerate(values, start=1):
                self.put(i, value)
            self.row += 1
        self.row += 1


def plan_workbook(
    plan: PlanPublic, reports: Sequence[PlanProgress], owner_name: str, campaign_name: str
) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "整改方案"
    for letter, width in zip("ABCDE", (22, 40, 14, 16, 16), strict=True):
        ws.column_dimensions[letter].width = width
    s = _Sheet(ws)
    s.title(f"安全隐患整改方案:{plan.title}")
    s.field("专项行动", campaign_name)
    s.field("方案所属单位", owner_name)
    s.field("方案编号", plan.id)
    s.field("状态", plan.status.zh + ("(已逾期)" if plan.overdue else ""))
    s.row += 1

    s.section("一、目标和任务")
    s.field("目标和任务", plan.goal_and_tasks)
    s.section("二、方法和措施")
    s.field("方法和措施", plan.methods_and_measures)
    s.section("三、经费和物资")
    s.field("经费金额(元)", plan.funds_amount)
    s.field("经费来源", plan.funds_source)
    s.field("物资", plan.materials)
    s.section("四、负责治理的机构和人员")
    s.field("负责机构", plan.responsible_body)
    s.field("负责人", plan.responsible_person)
    s.field("联系电话", plan.responsible_phone)
    s.section("五、时限和要求")
    s.field("完成时限", plan.deadline)
    s.field("要求", plan.requirements)
    s.section("六、安全措施和应急预案")
    s.field("整改期间安全措施", plan.safety_measures)
    s.field("应急预案", plan.contingency_plan)
    s.row += 1

    s.section("覆盖的安全隐患")
    s.table(
        ["隐患编号", "隐患名称", "等级", "状态", "整改期限"],
        [(h.code, h.title, h.grade.zh, h.status.zh, h.deadline) for h in plan.hazards],
    )
    s.section("整改时间表")
    s.table(
        ["序号", "节点", "计划完成日期", "实际完成日期", "是否逾期"],
        [
            (i, m.title, m.due_on, m.done_on, "是" if m.overdue else "否")
            for i, m in enumerate(plan.milestones, start=1)
        ],
    )
    s.section("整改进度")
    s.table(
        ["报告时间", "进度内容", "完成比例(%)", "报告人", "附件数"],
        [(r.at, r.text, r.percent, r.actor, len(r.attachment_ids)) for r in reports],
    )
    s.section("审批")
    s.field("提交时间", plan.submitted_at)
    s.field("批准时间", plan.approved_at)
    s.field("退回时间", plan.returned_at)
    s.field("审批意见", plan.review_comment)
    s.field("完成时间", plan.completed_at)

    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.print_title_rows = "1:1"
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
