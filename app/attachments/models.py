"""Evidence photos and documents. An attachment always hangs off a parent object, and only
whoever may read the parent may read it."""

from datetime import datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from app.core.db import BigId, UTCDateTime, enum_type
from app.core.enums import LabeledEnum, register
from app.core.time import now


@register("attachment_parent")
class AttachmentParent(LabeledEnum):
    hazard = "hazard", "安全隐患", "Hazard"
    plan = "plan", "整改方案", "Rectification plan"
    task_report = "task_report", "部门书面报告", "Task report"
    case = "case", "案件", "Case"
    inspection = "inspection", "检查", "Inspection"
    campaign = "campaign", "专项行动", "Campaign"
    licence = "licence", "办园许可处置", "Licence action"


class Attachment(SQLModel, table=True):
    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_parent", "parent_type", "parent_id", "id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    parent_type: AttachmentParent = Field(sa_type=enum_type(AttachmentParent))
    parent_id: int = Field(sa_type=BigId)
    filename: str = Field(max_length=200)  # as uploaded; shown, never used as a path
    content_type: str = Field(max_length=100)  # detected from the bytes
    size: int
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=100)  # server-made name
    uploaded_by: str = Field(max_length=40)
    uploader_org_id: int | None = None
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
