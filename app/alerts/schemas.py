from datetime import date

from pydantic import BaseModel, Field

from app.core.enums import LabeledEnum, register


@register("alert_stage")
class AlertStage(LabeledEnum):
    due_soon = "due_soon", "即将到期", "Due soon"
    due_today = "due_today", "今日到期", "Due today"
    overdue = "overdue", "已逾期", "Overdue"
    escalated = "escalated", "逾期督办", "Overdue, escalated to the office"


@register("alert_kind")
class AlertKind(LabeledEnum):
    hazard = "hazard", "隐患整改期限", "Hazard deadline"
    plan = "plan", "整改方案期限", "Rectification plan deadline"
    task_assignment = "task_assignment", "部门任务书面报告", "Task report due"
    case_supervision = "case_supervision", "挂牌督办限期侦破", "Supervised case: deadline to solve"
    case_report = "case_report", "督办案件进展报告", "Supervised case: progress report due"


class Alert(BaseModel):
    kind: AlertKind
    object_type: str = Field(description="`hazard`, `plan`, `task` or `case`.")
    object_id: int = Field(description="Id of the object to open (the task for an assignment).")
    code: str | None = Field(description="Human-readable code where the object has one.")
    title: str
    org_id: int = Field(description="The org that owes the work.")
    org_name: str
    campaign_id: int
    deadline: date
    working_days: bool = Field(description="The deadline was set in working days.")
    stage: AlertStage
    days_left: int | None = Field(
        description="Until the deadline (working days when `working_days`); null once overdue."
    )
    days_overdue: int | None = Field(
        description="Past the deadline (working days when `working_days`); null until overdue."
    )
