"""The hazard register (安全隐患登记册) and its closed loop."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, ColumnElement, Index, text
from sqlmodel import Field, SQLModel, col

from app.core.db import BigId, UTCDateTime, enum_type
from app.core.enums import LabeledEnum, register
from app.core.statemachine import StateMachine
from app.core.time import now


@register("hazard_status")
class HazardStatus(LabeledEnum):
    reported = "reported", "已登记", "Reported"
    escalated = "escalated", "已上报办公室", "Escalated"
    rectifying = "rectifying", "整改中", "Rectifying"
    rectified = "rectified", "已整改待复查", "Rectified, awaiting verification"
    rejected = "rejected", "复查不合格", "Rejected on verification"
    closed = "closed", "已销号", "Closed"
    void = "void", "已作废", "Void"


# Statuses in which a hazard is still someone's open work (deadline applies, may be overdue).
OPEN_STATUSES = (
    HazardStatus.reported,
    HazardStatus.escalated,
    HazardStatus.rectifying,
    HazardStatus.rejected,
)


@register("hazard_scope")
class HazardScope(LabeledEnum):
    campus = "campus", "校园内", "On campus"
    surroundings = "surroundings", "校园周边", "Surroundings"


@register("hazard_category")
class HazardCategory(LabeledEnum):
    building = "building", "校舍设施", "Buildings & facilities"
    fire = "fire", "消防", "Fire safety"
    electrical = "electrical", "用电", "Electrical"
    traffic = "traffic", "交通", "Traffic"
    food_hygiene = "food_hygiene", "食品卫生", "Food hygiene"
    public_order = "public_order", "治安", "Public order"
    surroundings_venue = "surroundings_venue", "周边场所", "Surroundings venue"
    equipment = "equipment", "设施设备", "Equipment"
    management = "management", "安全管理制度", "Safety management"
    other = "other", "其他", "Other"


@register("venue_type")
class VenueType(LabeledEnum):
    internet_cafe = "internet_cafe", "网吧", "Internet café"
    book_stall = "book_stall", "书摊", "Book stall"
    kiosk = "kiosk", "小卖部", "Kiosk"
    dance_hall = "dance_hall", "歌舞厅", "Dance hall"
    game_hall = "game_hall", "游戏厅", "Game hall"
    video_hall = "video_hall", "录像厅", "Video hall"
    food_stall = "food_stall", "流动饮食摊点", "Mobile food stall"
    road_facility = "road_facility", "道路交通设施", "Road / traffic facility"


@register("hazard_grade")
class HazardGrade(LabeledEnum):
    general = "general", "一般隐患", "General"
    major = "major", "重大隐患", "Major"


@register("hazard_source")
class HazardSource(LabeledEnum):
    self_inspection = "self_inspection", "学校自查", "Self-inspection"
    inspection_group = "inspection_group", "检查组检查", "Inspection group"
    department = "department", "部门检查", "Department"
    public_report = "public_report", "群众举报", "Public report"


@register("hazard_action")
class HazardAction(LabeledEnum):
    register = "register", "登记", "Register"
    start = "start", "开始整改", "Start rectification"
    escalate = "escalate", "上报办公室", "Escalate to the office"
    assign = "assign", "责成部门整改", "Assign to a department"
    submit_rectification = "submit-rectification", "提交整改结果", "Submit rectification"
    verify = "verify", "复查合格销号", "Verify and close"
    reject = "reject", "复查不合格", "Reject"
    void = "void", "作废", "Void"
    supervise = "supervise", "挂牌督办", "Put under listed supervision"
    delist = "delist", "摘牌", "Remove listed supervision"
    request_extension = "request-extension", "申请延期", "Request a deadline extension"
    grant_extension = "grant-extension", "批准延期", "Grant the extension"
    refuse_extension = "refuse-extension", "驳回延期", "Refuse the extension"
    plan_completed = "plan-completed", "整改方案完成", "Rectification plan completed"
    edit = "edit", "修改", "Edit"


# The closed loop. Who may take each action is decided in the service; this table only says
# which statuses an action leads from and to.
HAZARD_MACHINE: StateMachine[HazardStatus] = StateMachine(
    "hazard",
    {
        "start": ([HazardStatus.reported], HazardStatus.rectifying),
        "escalate": ([HazardStatus.reported, HazardStatus.rectifying], HazardStatus.escalated),
        "assign": ([HazardStatus.escalated], HazardStatus.rectifying),
        "submit-rectification": (
            [HazardStatus.rectifying, HazardStatus.rejected],
            HazardStatus.rectified,
        ),
        "plan-completed": (
            [HazardStatus.rectifying, HazardStatus.rejected],
            HazardStatus.rectified,
        ),
        "verify": ([HazardStatus.rectified], HazardStatus.closed),
        "reject": ([HazardStatus.rectified], HazardStatus.rejected),
        "void": (
            [
                HazardStatus.reported,
                HazardStatus.escalated,
                HazardStatus.rectifying,
                HazardStatus.rejected,
            ],
            HazardStatus.void,
        ),
    },
)


# A partial index's condition. Both databases use such an index for a query whose WHERE
# implies it: `deadline < :day` and `deadline IS NOT NULL` do.
_HAS_DEADLINE: dict[str, Any] = {
    "sqlite_where": text("deadline IS NOT NULL"),
    "postgresql_where": text("deadline IS NOT NULL"),
}


# A hazard handed to a department: its responsible org is no longer its school. A query
# reading a department's hazards says so in its WHERE (`handed_over`), as the partial
# indexes below need on both databases.
HANDED_OVER_SQL = "responsible_org_id <> school_id"
_HANDED_OVER: dict[str, Any] = {
    "sqlite_where": text(HANDED_OVER_SQL),
    "postgresql_where": text(HANDED_OVER_SQL),
}


def handed_over() -> ColumnElement[bool]:
    """`HANDED_OVER_SQL` as a clause: what a query for a department's hazards adds to its
    WHERE so that the partial indexes on `responsible_org_id` may serve it. It holds for every
    hazard whose responsible org is a department (never a school)."""
    return col(Hazard.responsible_org_id) != col(Hazard.school_id)


class Hazard(SQLModel, table=True):
    __tablename__ = "hazard"
    # Composite indexes follow the list queries: each role's scope column, then the filter,
    # then the keyset sort key.
    __table_args__ = (
        Index("ix_hazard_campaign_id_id", "campaign_id", "id"),
        Index("ix_hazard_campaign_status_id", "campaign_id", "status", "id"),
        # A school's hazards by status and id (its register), also holding what the
        # per-school statistics read (app/stats), so one index serves both (issue 10: an
        # import enters each index of the table; ~0.1 s of 100,000 rows apiece).
        Index(
            "ix_hazard_school_status_id",
            "school_id",
            "status",
            "id",
            "campaign_id",
            "deadline",
            "reported_at",
            "closed_at",
        ),
        # Hazards handed to a department (`assign`) only: a department's register, by status
        # or not, and its statistics. Until then a hazard's responsible org is its school,
        # found through the school's index, so a registration or an import writes none of
        # the three.
        Index(
            "ix_hazard_responsible_status_id", "responsible_org_id", "status", "id", **_HANDED_OVER
        ),
        Index("ix_hazard_responsible_id", "responsible_org_id", "id", **_HANDED_OVER),
        # The register's default view (newest first, often by status) reads id, status,
        # version and updated_at (app/core/representations.py) from the index alone: a page
        # of `rectifying` hazards walks ~320 entries for its 51 rows, and looking each row up
        # cost 142 against 81 µs (SQLite, 1M hazards; an import's insert is unchanged).
        Index(
            "ix_hazard_campaign_found_on_id",
            "campaign_id",
            "found_on",
            "id",
            "status",
            "version",
            "updated_at",
        ),
        # Hazards with a deadline only: a deadline is what these two serve (overdue and
        # due-soon scans), and a hazard gets one when its rectification starts, so a
        # registration or an import writes neither (~0.1 s of a 100,000-row import each).
        Index("ix_hazard_status_deadline", "status", "deadline", **_HAS_DEADLINE),
        # Statistics (app/stats): each index covers one aggregate query shape so that it
        # reads the index only, never the rows.
        # The overview's GROUP BY status, grade, category, scope, supervised with its
        # on-time and date-range columns.
        Index(
            "ix_hazard_stats_overview",
            "campaign_id",
            "status",
            "grade",
            "category",
            "scope",
            "supervised",
            "deadline",
            "closed_at",
            "reported_at",
        ),
        # Overdue (open status, deadline passed) counts and lists, per school / department.
        Index(
            "ix_hazard_stats_overdue",
            "campaign_id",
            "status",
            "deadline",
            "school_id",
            "responsible_org_id",
            **_HAS_DEADLINE,
        ),
        # The per-department table: GROUP BY in index order (per school: the school's index).
        Index(
            "ix_hazard_stats_responsible",
            "campaign_id",
            "responsible_org_id",
            "status",
            "deadline",
            "reported_at",
            "closed_at",
            # Its condition's column: with it the table reads the index alone (SQLite).
            "school_id",
            **_HANDED_OVER,
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    code: str = Field(max_length=20, unique=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    school_id: int = Field(foreign_key="org.id")
    scope: HazardScope = Field(sa_type=enum_type(HazardScope))
    category: HazardCategory = Field(sa_type=enum_type(HazardCategory))
    venue_type: VenueType | None = Field(default=None, sa_type=enum_type(VenueType))
    grade: HazardGrade = Field(sa_type=enum_type(HazardGrade))
    title: str = Field(max_length=200)
    description: str = Field(max_length=4000)
    location: str | None = Field(default=None, max_length=200)
    lat: float | None = None
    lng: float | None = None
    # For surroundings venues with coordinates: metres to the school, and whether the venue
    # is inside the distance the law forbids (e.g. an internet café within 200 m).
    distance_m: float | None = None
    venue_unlawful: bool | None = None
    source: HazardSource = Field(sa_type=enum_type(HazardSource))
    found_on: date
    reported_by: str = Field(max_length=40)  # actor, e.g. "user:12"
    reporter_org_id: int = Field(foreign_key="org.id")
    responsible_org_id: int = Field(foreign_key="org.id")
    responsible_person: str | None = Field(default=None, max_length=50)
    responsible_phone: str | None = Field(default=None, max_length=30)
    deadline: date | None = None
    deadline_working_days: int | None = None
    status: HazardStatus = Field(default=HazardStatus.reported, sa_type=enum_type(HazardStatus))
    escalation_reason: str | None = Field(default=None, max_length=2000)
    rectification_note: str | None = Field(default=None, max_length=4000)
    void_reason: str | None = Field(default=None, max_length=2000)
    duplicate_of_id: int | None = Field(default=None, foreign_key="hazard.id", sa_type=BigId)
    inspection_id: int | None = Field(default=None, foreign_key="inspection.id")
    # Listed supervision (挂牌督办) by the office.
    supervised: bool = False
    supervision_notice_no: str | None = Field(default=None, max_length=50)
    supervising_org_id: int | None = Field(default=None, foreign_key="org.id")
    supervision_deadline: date | None = None
    supervised_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    delisted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # Status timestamps, one per stage.
    reported_at: datetime = Field(
        default_factory=now, sa_column=Column(UTCDateTime, nullable=False)
    )
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    escalated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    assigned_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    rectified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    voided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    updated_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    version: int = 1


class HazardEvent(SQLModel, table=True):
    """One step on a hazard's timeline: who, when, from, to, comment, attachments."""

    __tablename__ = "hazard_event"
    __table_args__ = (Index("ix_hazard_event_hazard_id_id", "hazard_id", "id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    hazard_id: int = Field(foreign_key="hazard.id", sa_type=BigId)
    at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    action: HazardAction = Field(sa_type=enum_type(HazardAction))
    actor: str = Field(max_length=40)
    actor_org_id: int | None = None
    from_status: HazardStatus | None = Field(default=None, sa_type=enum_type(HazardStatus))
    to_status: HazardStatus | None = Field(default=None, sa_type=enum_type(HazardStatus))
    comment: str | None = Field(default=None, max_length=4000)
    # Action details: assigned org, deadlines, notice numbers, attachment ids …
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


@register("extension_status")
class ExtensionStatus(LabeledEnum):
    pending = "pending", "待审批", "Pending"
    granted = "granted", "已批准", "Granted"
    refused = "refused", "已驳回", "Refused"


class HazardExtension(SQLModel, table=True):
    """A responsible org's request to move a hazard's deadline; the office decides."""

    __tablename__ = "hazard_extension"

    id: int | None = Field(default=None, primary_key=True)
    hazard_id: int = Field(foreign_key="hazard.id", sa_type=BigId, index=True)
    requested_by: str = Field(max_length=40)
    requested_org_id: int = Field(foreign_key="org.id")
    reason: str = Field(max_length=2000)
    requested_deadline: date
    status: ExtensionStatus = Field(
        default=ExtensionStatus.pending, sa_type=enum_type(ExtensionStatus)
    )
    decided_by: str | None = Field(default=None, max_length=40)
    decision_comment: str | None = Field(default=None, max_length=2000)
    granted_deadline: date | None = None
    requested_at: datetime = Field(
        default_factory=now, sa_column=Column(UTCDateTime, nullable=False)
    )
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class HazardCodeCounter(SQLModel, table=True):
    """The last sequence number used for a year's hazard codes (`YH-<year>-<seq>`)."""

    __tablename__ = "hazard_code_counter"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = 0


# Keeps the statistics counters (hazard_count) in step with every flush of a Hazard.
from app.hazards import counts as _counts  # noqa: E402, F401
