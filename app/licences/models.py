"""The licence lifecycle of unlicensed kindergartens (无证幼儿园查处取缔).

The status itself is the school's `Org.license_status`; the record here carries the cycle
(a closed kindergarten caught operating again starts a new cycle, flagged `reopened`) and
each step's date, note and attachments.
"""

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, enum_type
from app.core.enums import LabeledEnum, register
from app.core.statemachine import StateMachine
from app.core.time import now
from app.orgs.models import LicenseStatus

# The statuses of a kindergarten without a licence, i.e. on the crackdown list.
UNLICENSED = (
    LicenseStatus.discovered,
    LicenseStatus.investigated,
    LicenseStatus.ordered_closed,
    LicenseStatus.closed,
)


@register("licence_action")
class LicenceActionKind(LabeledEnum):
    discover = "discover", "发现无证幼儿园", "Discovered"
    investigate = "investigate", "调查核实", "Investigated"
    order_closure = "order-closure", "责令停办", "Ordered closed"
    close = "close", "取缔", "Closed"
    reinspect = "reinspect", "复查:仍关停", "Re-inspected: still closed"
    reopen = "reopen", "复查:发现复办", "Re-inspected: operating again"


LICENCE_MACHINE: StateMachine[LicenseStatus] = StateMachine(
    "licence",
    {
        "investigate": ([LicenseStatus.discovered], LicenseStatus.investigated),
        "order-closure": ([LicenseStatus.investigated], LicenseStatus.ordered_closed),
        "close": ([LicenseStatus.ordered_closed], LicenseStatus.closed),
        "reinspect": ([LicenseStatus.closed], LicenseStatus.closed),
        "reopen": ([LicenseStatus.closed], LicenseStatus.discovered),
    },
)


class LicenceRecord(SQLModel, table=True):
    """One unlicensed kindergarten's crackdown file. Made with the first recorded step."""

    __tablename__ = "licence_record"

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="org.id", unique=True)
    cycle: int = 1
    # The current cycle began with the kindergarten caught operating again after closure.
    reopened: bool = False
    reopened_count: int = 0
    reopened_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    version: int = 1


class LicenceAction(SQLModel, table=True):
    """One step of the crackdown: what was done, on which date, by whom, with which papers."""

    __tablename__ = "licence_action"
    __table_args__ = (Index("ix_licence_action_school_id_id", "school_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="org.id")
    cycle: int
    action: LicenceActionKind = Field(sa_type=enum_type(LicenceActionKind))
    from_status: LicenseStatus | None = Field(default=None, sa_type=enum_type(LicenseStatus))
    to_status: LicenseStatus = Field(sa_type=enum_type(LicenseStatus))
    acted_on: date
    note: str | None = Field(default=None, max_length=2000)
    attachment_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    actor: str = Field(max_length=40)
    actor_org_id: int | None = None
    at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
