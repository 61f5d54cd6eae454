"""The district summary report (汇总上报): one workbook the office sends upwards as of a date.

Sheets: 总览 (campaign, as-of date, the overview figures), 学校统计, 部门统计, 逾期隐患,
挂牌督办 (supervised hazards and, for the office and oversight, supervised cases — never
victim data or the case narrative) and 整改进度 (the time series with a native Excel line
chart). Figures count the hazards reported on or before the as-of date, in their current
status; overdue is measured against the as-of date.

Built with openpyxl in memory: the report is bounded (one row per school, per department,
per overdue or supervised item, capped at `MAX_LIST_ROWS`) unlike the register export,
which streams.
"""

import io
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import col
from starlette.responses import Response

from app.auth.dependencies import require
from app.auth.principal import Principal
from app.campaigns.models import Campaign
from app.cases.models import Case, CaseStatus, CaseSupervision, CaseType
from app.core import db
from app.core.errors import Invalid, field_error, problem_responses
from app.core.spreadsheet import cell_text
from app.core.time import now, today
from app.hazards.models import HazardCategory, HazardGrade, HazardScope, HazardStatus
from app.orgs.models import Org
from app.plans.models import PlanStatus
from app.stats import service as stats
from app.stats.service import Window
from app.tasks.models import AssignmentStatus, ReportStatus
from app.users.models import Capability, Role

MAX_LIST_ROWS = 20_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

router = APIRouter(prefix="/exports", tags=["register export and import"])
SummaryReader = Annotated[
    Principal, Depends(require(Role.office, capabilities=(Capability.oversight,)))
]


def safe(value: Any) -> Any:
    return cell_text(value) if isinstance(value, str) else value


def _append(sheet: Worksheet, values: list[Any]) -> None:
    sheet.append([safe(v) for v in values])


def _header(sheet: Worksheet, headings: list[str]) -> None:
    sheet.append(headings)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = f"A{sheet.max_row + 1}"


def _percent(rate: str | None) -> str:
    return "—" if rate is None else f"{float(rate) * 100:.2f}%"


def _overview_sheet(sheet: Worksheet, campaign: Campaign, as_of: date, o: Any) -> None:
    h = o.hazards
    rows: list[list[Any]] = [
        ["专项行动", campaign.name],
        ["统计截止日期", as_of],
        ["生成时间", now().astimezone().strftime("%Y-%m-%d %H:%M")],
        [],
        ["隐患登记(不含作废)", h.registered],
        ["已整改(含待复查)", h.rectified],
        ["已销号", h.closed],
        ["整改率(销号÷登记)", _percent(h.rectification_rate)],
        ["按期销号率", _percent(h.on_time_rate)],
        ["逾期未整改", h.overdue],
        ["挂牌督办隐患", h.supervised],
        ["已作废", h.void],
    ]
    sheet.append(["项目", "数值"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        _append(sheet, row)
    sections: list[tuple[str, dict[str, int], Any]] = [
        ("隐患状态", h.by_status, HazardStatus),
        ("隐患等级", h.by_grade, HazardGrade),
        ("隐患类别", h.by_category, HazardCategory),
        ("隐患范围", h.by_scope, HazardScope),
        ("整改方案", o.plans.by_status, PlanStatus),
    ]
    if o.tasks is not None:
        sections.append(("部门任务", o.tasks.assignments_by_status, AssignmentStatus))
        sections.append(("书面报告", o.tasks.reports_by_status, ReportStatus))
    if o.cases is not None:
        sections.append(("案件", o.cases.by_status, CaseStatus))
    for title, counts, enum in sections:
        sheet.append([])
        sheet.append([title])
        sheet[sheet.max_row][0].font = Font(bold=True)
        for code, n in counts.items():
            _append(sheet, [enum(code).zh, n])
    if o.tasks is not None:
        _append(sheet, ["逾期未报任务", o.tasks.overdue_assignments])
        _append(sheet, ["迟交书面报告", o.tasks.late_reports])
    if o.cases is not None:
        _append(sheet, ["挂牌督办案件", o.cases.supervised])
        _append(sheet, ["已侦破案件", o.cases.solved])
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 40


def build(principal: Principal, campaign_id: int, as_of: date | None) -> tuple[bytes, str]:
    day = as_of or today()
    if day > today():
        raise Invalid(
            "summary.future_as_of",
            zh="统计截止日期不能晚于今天。",
            en="The as-of date cannot be in the future.",
            errors=[field_error("query.as_of", "future", "日期无效", "date in the future")],
        )
    window = Window(end=day)
    book = Workbook()
    with db.read() as session:
        overview = stats.overview_in(session, principal, campaign_id, window, day=day)
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None  # overview_in raised 404 otherwise
        schools, _ = stats.school_rows(
            session,
            principal,
            campaign_id,
            window,
            sort="name",
            cursor=None,
            limit=MAX_LIST_ROWS,
            day=day,
        )
        departments, _ = stats.department_rows(
            session,
            principal,
            campaign_id,
            window,
            sort="name",
            cursor=None,
            limit=MAX_LIST_ROWS,
            day=day,
        )
        overdue = stats.overdue_hazards(session, principal, campaign_id, day, MAX_LIST_ROWS)
        supervised = stats.supervised_hazards(session, principal, campaign_id, day, MAX_LIST_ROWS)
        cases = _supervised_cases(session, campaign_id) if stats.sees_cases(principal) else []
        series = stats.series_in(
            session,
            principal,
            campaign_id,
            "day",
            Window(campaign.starts_on, max(campaign.starts_on, min(day, campaign.ends_on))),
        )

    sheet = book.active
    assert sheet is not None
    sheet.title = "总览"
    _overview_sheet(sheet, campaign, day, overview)

    sheet = book.create_sheet("学校统计")
    _header(sheet, ["学校", "登记隐患", "已整改", "已销号", "逾期", "整改率", "平均销号天数"])
    for s in schools:
        _append(
            sheet,
            [
                s.school_name,
                s.registered,
                s.rectified,
                s.closed,
                s.overdue,
                _percent(s.rectification_rate),
                s.avg_days_to_close,
            ],
        )

    sheet = book.create_sheet("部门统计")
    _header(
        sheet,
        [
            "部门",
            "负责隐患",
            "已整改",
            "已销号",
            "逾期",
            "整改率",
            "平均销号天数",
            "逾期未报任务",
            "迟交书面报告",
        ],
    )
    for d in departments:
        _append(
            sheet,
            [
                d.org_name,
                d.registered,
                d.rectified,
                d.closed,
                d.overdue,
                _percent(d.rectification_rate),
                d.avg_days_to_close,
                d.overdue_assignments,
                d.late_reports,
            ],
        )

    sheet = book.create_sheet("逾期隐患")
    _header(
        sheet, ["隐患编号", "隐患名称", "学校", "责任单位", "等级", "状态", "整改期限", "逾期天数"]
    )
    for line in overdue:
        _append(
            sheet,
            [
                line.code,
                line.title,
                line.school_name,
                line.responsible_name,
                line.grade.zh,
                line.status.zh,
                line.deadline,
                line.days_overdue,
            ],
        )

    sheet = book.create_sheet("挂牌督办")
    _header(sheet, ["类型", "编号", "名称", "学校/承办单位", "督办文号", "督办期限", "状态"])
    for line in supervised:
        _append(
            sheet,
            [
                "隐患",
                line.code,
                line.title,
                line.school_name,
                line.supervision_notice_no,
                line.supervision_deadline,
                line.status.zh,
            ],
        )
    for row in cases:
        _append(sheet, ["案件", *row])

    sheet = book.create_sheet("整改进度")
    _header(sheet, ["日期", "当日登记", "当日销号", "累计登记", "累计销号"])
    for p in series.points:
        sheet.append(
            [p.period, p.registered, p.closed, p.cumulative_registered, p.cumulative_closed]
        )
    if series.points:
        chart = LineChart()
        chart.title = "隐患整改进度"
        chart.y_axis.title = "隐患数"
        chart.x_axis.title = "日期"
        chart.x_axis.number_format = "mm-dd"
        last = len(series.points) + 1
        chart.add_data(
            Reference(sheet, min_col=4, max_col=5, min_row=1, max_row=last), titles_from_data=True
        )
        chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=last))
        chart.width, chart.height = 24, 12
        sheet.add_chart(chart, "G2")

    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), f"{campaign.name}-汇总上报-{day.isoformat()}.xlsx"


def _supervised_cases(session: Any, campaign_id: int) -> list[list[Any]]:
    """Supervised cases without any personal data: code, type, handling org, notice, deadline,
    status."""
    handling = aliased(Org)
    stmt = (
        select(
            col(Case.code),
            col(Case.case_type),
            col(handling.name),
            col(CaseSupervision.notice_no),
            col(CaseSupervision.solve_deadline),
            col(Case.status),
        )
        .join(Case, col(Case.id) == col(CaseSupervision.case_id))
        .join(handling, col(handling.id) == col(Case.handling_org_id))
        .where(col(Case.campaign_id) == campaign_id, col(CaseSupervision.delisted_at).is_(None))
        .order_by(col(CaseSupervision.solve_deadline), col(Case.id))
        .limit(MAX_LIST_ROWS)
    )
    return [
        [code, CaseType(kind).zh, org, notice, deadline, CaseStatus(status).zh]
        for code, kind, org, notice, deadline, status in session.execute(stmt).all()
    ]


@router.get(
    "/summary.xlsx",
    summary="Export District Summary (xlsx)",
    response_class=Response,
    responses={
        200: {"content": {XLSX: {}}, "description": "The workbook."},
        **problem_responses(401, 403, 404, 422),
    },
)
def summary_workbook(
    principal: SummaryReader,
    campaign_id: Annotated[int, Query(ge=1, le=2**31 - 1, description="The campaign (required).")],
    as_of: Annotated[
        date | None, Query(description="Local date, not in the future; today by default.")
    ] = None,
) -> Response:
    """The district summary report (汇总上报) as xlsx (office and oversight users): 总览,
    学校统计, 部门统计, 逾期隐患, 挂牌督办 and 整改进度 with a line chart. Counts the hazards
    reported on or before `as_of` in their current status; overdue is measured against
    `as_of`. Supervised cases carry no personal data. Unknown campaign: 404."""
    content, filename = build(principal, campaign_id, as_of)
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )
