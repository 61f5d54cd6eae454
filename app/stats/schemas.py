"""Response models of the statistics (统计) endpoints.

Rates are decimal strings with exactly four places (`"0.8333"` = 83.33 %), computed from exact
integers and rounded half up, or `null` when the denominator is zero — never a float, so the
figure the office reports upwards is the figure everyone else computes.
"""

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class HazardFigures(BaseModel):
    total: int = Field(description="Every hazard registered, void included.")
    registered: int = Field(description="Registered hazards, excluding void (作废).")
    rectified: int = Field(
        description="Rectification done: awaiting verification (`rectified`) or `closed`."
    )
    closed: int = Field(description="Verified and closed (销号).")
    void: int
    rectification_rate: str | None = Field(
        description="closed ÷ registered as a decimal string with 4 places; null when nothing "
        "is registered."
    )
    closed_with_deadline: int = Field(description="Closed hazards that had a deadline.")
    closed_on_time: int = Field(
        description="Closed on or before the deadline (local date of closing ≤ deadline)."
    )
    on_time_rate: str | None = Field(
        description="closed_on_time ÷ closed_with_deadline, 4 places; null when none."
    )
    overdue: int = Field(
        description="Deadline before today (local date) and still open "
        "(reported, escalated, rectifying or rejected)."
    )
    supervised: int = Field(description="Under listed supervision (挂牌督办), excluding void.")
    by_status: dict[str, int] = Field(description="Every status code, void included.")
    by_grade: dict[str, int] = Field(description="Excluding void.")
    by_category: dict[str, int] = Field(description="Excluding void.")
    by_scope: dict[str, int] = Field(description="Excluding void.")


class PlanFigures(BaseModel):
    total: int
    by_status: dict[str, int]


class TaskFigures(BaseModel):
    assignments_by_status: dict[str, int]
    reports_by_status: dict[str, int]
    overdue_assignments: int = Field(description="Due date passed and no report in.")
    late_reports: int = Field(description="Reports submitted after the task's due date.")


class CaseFigures(BaseModel):
    total: int
    by_status: dict[str, int]
    supervised: int = Field(description="Currently under listed supervision (not delisted).")
    solved: int = Field(description="Solved or later (prosecuted, judged, closed).")


class Overview(BaseModel):
    """One campaign's figures as the caller may see them."""

    campaign_id: int
    from_: date | None = Field(alias="from", description="Reported on or after (local date).")
    to: date | None = Field(description="Reported on or before (local date).")
    as_of: date = Field(description="Today's local date: what `overdue` is measured against.")
    hazards: HazardFigures
    plans: PlanFigures
    tasks: TaskFigures | None = Field(description="Null for schools (they have no tasks).")
    cases: CaseFigures | None = Field(
        description="Only for the office and oversight users; never any victim data."
    )

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class SchoolRow(BaseModel):
    school_id: int
    school_name: str
    registered: int
    rectified: int
    closed: int
    overdue: int
    rectification_rate: str | None
    avg_days_to_close: float | None = Field(
        description="Mean days from reporting to closing over closed hazards, 1 decimal."
    )


class DepartmentRow(BaseModel):
    org_id: int
    org_name: str
    registered: int = Field(description="Hazards this department is responsible for.")
    rectified: int
    closed: int
    overdue: int
    rectification_rate: str | None
    avg_days_to_close: float | None
    overdue_assignments: int = Field(description="Its task assignments past due, no report in.")
    late_reports: int = Field(description="Its written reports submitted after the due date.")


class TimePoint(BaseModel):
    period: date = Field(description="The local day, or the Monday of the week.")
    registered: int
    closed: int
    cumulative_registered: int = Field(description="Registered up to the end of this period.")
    cumulative_closed: int


class TimeSeries(BaseModel):
    campaign_id: int
    interval: str
    points: list[TimePoint]
