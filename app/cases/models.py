"""Major cases against minors and campuses (案件), their listed supervision (挂牌督办) and
public exposure (公开曝光).

Victims are minors: their names, ID numbers and contacts live in `case_victim`, apart from
the case row, so that no list, export, stat or event can pick them up by accident.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.db import BigId, UTCDateTime, enum_type
from app.core.enums import LabeledEnum, register
from app.core.statemachine import StateMachine
from app.core.time import now


@register("case_type")
class CaseType(LabeledEnum):
    harm_to_minor = "harm_to_minor", "伤害未成年人", "Harm to a minor"
    campus_intrusion = "campus_intrusion", "侵害校园", "Campus intrusion"
    campus_violence = "campus_violence", "校园暴力", "Campus violence"
    traffic = "traffic", "涉校交通", "School-related traffic"
    food_poisoning = "food_poisoning", "食品中毒", "Food poisoning"
    other = "other", "其他", "Other"


@register("suspect_status")
class SuspectStatus(LabeledEnum):
    unidentified = "unidentified", "尚未查明", "Not yet identified"
    at_large = "at_large", "在逃", "At large"
    detained = "detained", "已刑事拘留", "Detained"
    arrested = "arrested", "已逮捕", "Arrested"
    bailed = "bailed", "取保候审", "On bail pending trial"
    prosecuted = "prosecuted", "已移送起诉", "Prosecuted"
    sentenced = "sentenced", "已判决", "Sentenced"


@register("case_status")
class CaseStatus(LabeledEnum):
    filed = "filed", "已立案", "Filed"
    investigating = "investigating", "侦查中", "Investigating"
    solved = "solved", "已侦破", "Solved"
    prosecuted = "prosecuted", "已移送起诉", "Prosecuted"
    judged = "judged", "已判决", "Judged"
    closed = "closed", "已结案", "Closed"


# Listed supervision exists to get a case solved: only these may be listed, and only these
# can miss the deadline to solve (限期侦破).
UNSOLVED_STATUSES = (CaseStatus.filed, CaseStatus.investigating)
SOLVED_OR_LATER = (
    CaseStatus.solved,
    CaseStatus.prosecuted,
    CaseStatus.judged,
    CaseStatus.closed,
)


@register("case_action")
class CaseAction(LabeledEnum):
    file = "file", "立案", "File"
    edit = "edit", "修改", "Edit"
    start_investigation = "start-investigation", "开始侦查", "Start investigation"
    solve = "solve", "破案", "Solve"
    prosecute = "prosecute", "移送起诉", "Prosecute"
    judge = "judge", "判决", "Judgement"
    close = "close", "结案", "Close"
    supervise = "supervise", "挂牌督办", "Put under listed supervision"
    extend = "extend", "延长侦破期限", "Extend the deadline to solve"
    delist = "delist", "摘牌", "Remove listed supervision"
    progress = "progress", "报告进展", "Progress report"
    expose = "expose", "公开曝光", "Expose publicly"
    withdraw_exposure = "withdraw-exposure", "撤回曝光", "Withdraw the exposure"


CASE_MACHINE: StateMachine[CaseStatus] = StateMachine(
    "case",
    {
        "start-investigation": ([CaseStatus.filed], CaseStatus.investigating),
        "solve": ([CaseStatus.investigating], CaseStatus.solved),
        "prosecute": ([CaseStatus.solved], CaseStatus.prosecuted),
        "judge": ([CaseStatus.prosecuted], CaseStatus.judged),
        "close": ([CaseStatus.judged], CaseStatus.closed),
    },
)


@register("supervision_level")
class SupervisionLevel(LabeledEnum):
    district = "district", "区级挂牌督办", "District"
    city = "city", "市级挂牌督办", "City"
    province = "province", "省级挂牌督办", "Province"


class Case(SQLModel, table=True):
    """A case handled by the police sub-bureau (公安分局)."""

    __tablename__ = "case_record"
    __table_args__ = (
        Index("ix_case_record_handling_org_occurred_id", "handling_org_id", "occurred_at", "id"),
        Index("ix_case_record_campaign_status_id", "campaign_id", "status", "id"),
        Index("ix_case_record_school_id_id", "school_id", "id"),
        Index("ix_case_record_occurred_at_id", "occurred_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    case_type: CaseType = Field(sa_type=enum_type(CaseType))
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    location: str = Field(max_length=200)
    school_id: int | None = Field(default=None, foreign_key="org.id")
    summary: str = Field(max_length=4000)
    # What a school concerned and read-only systems may see; checked for personal data.
    sanitized_summary: str | None = Field(default=None, max_length=500)
    handling_org_id: int = Field(foreign_key="org.id")
    victim_minor_count: int = 0
    suspect_count: int = 0
    suspect_status: SuspectStatus = Field(
        default=SuspectStatus.unidentified, sa_type=enum_type(SuspectStatus)
    )
    status: CaseStatus = Field(default=CaseStatus.filed, sa_type=enum_type(CaseStatus))
    judgement_outcome: str | None = Field(default=None, max_length=2000)
    filed_by: str = Field(max_length=40)
    filed_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    investigation_started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    solved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    prosecuted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    judged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    updated_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    version: int = 1


class CaseVictim(SQLModel, table=True):
    """A victim's personal data (受害人信息). Read only by the handling org and oversight;
    every read is audited."""

    __tablename__ = "case_victim"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_record.id", index=True)
    name: str = Field(max_length=50)
    id_number: str | None = Field(default=None, max_length=18)
    contact: str | None = Field(default=None, max_length=30)
    age: int | None = None
    note: str | None = Field(default=None, max_length=500)


class CaseEvent(SQLModel, table=True):
    """One step on a case's timeline. Never holds victims' personal data."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_case_id_id", "case_id", "id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    case_id: int = Field(foreign_key="case_record.id")
    at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    action: CaseAction = Field(sa_type=enum_type(CaseAction))
    actor: str = Field(max_length=40)
    actor_org_id: int | None = None
    from_status: CaseStatus | None = Field(default=None, sa_type=enum_type(CaseStatus))
    to_status: CaseStatus | None = Field(default=None, sa_type=enum_type(CaseStatus))
    comment: str | None = Field(default=None, max_length=4000)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class CaseSupervision(SQLModel, table=True):
    """Listed supervision (挂牌督办) with a deadline to solve (限期侦破).

    A case is listed once: only unsolved cases may be listed and only solved ones delisted.
    `next_report_due` is the date by which the police owe the next progress report; it moves
    on with each report. Whether the supervision is overdue is derived from it and the
    deadline, never stored.
    """

    __tablename__ = "case_supervision"
    __table_args__ = (
        UniqueConstraint("case_id"),
        Index("ix_case_supervision_delisted_deadline", "delisted_at", "solve_deadline"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_record.id")
    level: SupervisionLevel = Field(sa_type=enum_type(SupervisionLevel))
    supervising_org_id: int = Field(foreign_key="org.id")
    notice_no: str = Field(max_length=50)
    solve_deadline: date
    requirements: str | None = Field(default=None, max_length=4000)
    report_interval_days: int = 7
    next_report_due: date
    last_report_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    listed_by: str = Field(max_length=40)
    listed_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    delisted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    delist_reason: str | None = Field(default=None, max_length=2000)
    version: int = 1


class CaseProgressReport(SQLModel, table=True):
    """A progress report by the police on a supervised case (进展报告)."""

    __tablename__ = "case_progress_report"
    __table_args__ = (Index("ix_case_progress_report_case_id_id", "case_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_record.id")
    supervision_id: int = Field(foreign_key="case_supervision.id")
    text: str = Field(max_length=4000)
    at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    reported_by: str = Field(max_length=40)
    reporter_org_id: int | None = None


class CaseExposure(SQLModel, table=True):
    """A typical case published on the public board (公开曝光): a checked, sanitized title
    and summary only. Current while `withdrawn_at` is null; at most one current per case."""

    __tablename__ = "case_exposure"
    __table_args__ = (
        Index("ix_case_exposure_withdrawn_published", "withdrawn_at", "published_at", "id"),
        Index("ix_case_exposure_case_id", "case_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_record.id")
    title: str = Field(max_length=100)
    summary: str = Field(max_length=2000)
    published_by: str = Field(max_length=40)
    published_at: datetime = Field(
        default_factory=now, sa_column=Column(UTCDateTime, nullable=False)
    )
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    withdrawn_by: str | None = Field(default=None, max_length=40)
    withdraw_reason: str | None = Field(default=None, max_length=2000)


class CaseCodeCounter(SQLModel, table=True):
    """The last sequence number used for a year's case codes (`AJ-<year>-<seq>`)."""

    __tablename__ = "case_code_counter"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = 0
