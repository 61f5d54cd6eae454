"""The register's columns (台账列): one list shared by the export and the import, so a
downloaded register and the import template always agree on the headers."""

from dataclasses import dataclass

from app.core.enums import LabeledEnum
from app.hazards.models import HazardCategory, HazardGrade, HazardScope, HazardSource, VenueType


@dataclass(frozen=True)
class Column:
    header: str
    # HazardCreate field the import fills from this column; None: export only.
    field: str | None = None
    enum: type[LabeledEnum] | None = None
    required: bool = False
    note: str = ""


# Headers of the writable columns, in the template's order. 学校 is required for the office
# and may be left empty by a school (its own school is used).
SCHOOL = Column("学校", "school", note="学校名称或编码;学校用户可留空")
WRITABLE: tuple[Column, ...] = (
    SCHOOL,
    Column("范围", "scope", HazardScope, required=True),
    Column("类别", "category", HazardCategory, required=True),
    Column("场所类型", "venue_type", VenueType, note="校园周边场所必填"),
    Column("等级", "grade", HazardGrade, required=True),
    Column("标题", "title", required=True, note="不超过200字"),
    Column("描述", "description", required=True, note="不超过4000字"),
    Column("位置", "location"),
    Column("纬度", "lat", note="-90~90,与经度同时填写"),
    Column("经度", "lng", note="-180~180"),
    Column("来源", "source", HazardSource, required=True),
    Column("发现日期", "found_on", required=True, note="YYYY-MM-DD,不晚于今天"),
    Column("责任人", "responsible_person"),
    Column("联系电话", "responsible_phone"),
)

# Export order: what an office clerk reads left to right.
EXPORT_HEADERS: tuple[str, ...] = (
    "编号",
    "学校",
    "范围",
    "类别",
    "场所类型",
    "等级",
    "标题",
    "描述",
    "位置",
    "纬度",
    "经度",
    "来源",
    "发现日期",
    "责任单位",
    "责任人",
    "联系电话",
    "整改期限",
    "状态",
    "是否逾期",
    "是否挂牌督办",
    "督办单位",
    "督办期限",
    "登记时间",
    "销号时间",
)
READ_ONLY_HEADERS = frozenset(EXPORT_HEADERS) - {c.header for c in WRITABLE}


def label(value: LabeledEnum | None) -> str | None:
    return None if value is None else value.zh


def yes_no(value: bool) -> str:
    return "是" if value else "否"
