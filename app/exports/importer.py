"""Bulk import of a hazard register (台账导入) from xlsx or CSV.

All or nothing: every row is validated with `HazardCreate` (the very model of
`POST /hazards`) plus the checks that need the database (the school), and if any row fails
nothing is imported and every failing row is reported. Otherwise the rows go in with one
bulk INSERT in one transaction, codes reserved as one block, a `register` timeline step per
hazard, one audit row and one `hazard.imported` event.
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, BinaryIO

from pydantic import ValidationError
from sqlalchemy import insert
from sqlmodel import Session, col, select

from app.attachments.detect import XLSX, detect
from app.audit import service as audit
from app.auth.principal import Principal
from app.campaigns.service import ensure_writable
from app.core import db
from app.core.config import get_settings
from app.core.enums import LabeledEnum
from app.core.errors import Forbidden, Invalid, PayloadTooLarge, UnsupportedMediaType
from app.core.time import now
from app.events import service as events
from app.exports.register import READ_ONLY_HEADERS, SCHOOL, WRITABLE, Column
from app.exports.xlsx_read import XlsxError, read_rows
from app.hazards import codes
from app.hazards.models import (
    Hazard,
    HazardAction,
    HazardEvent,
    HazardGrade,
    HazardScope,
    HazardStatus,
)
from app.hazards.schemas import HazardCreate
from app.hazards.service import _apply_distance as apply_distance
from app.hazards.visibility import may_register_at
from app.orgs.models import Org, OrgKind
from app.users.models import Role

MAX_ROWS = 200_000
MAX_REPORTED_ERRORS = 1000
_EXCEL_EPOCH = date(1899, 12, 30)
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_SERIAL = re.compile(r"^\d{1,6}(\.0+)?$")
_BY_FIELD = {c.field: c for c in WRITABLE if c.field}
HAZARD_TABLE = Hazard.__table__  # type: ignore[attr-defined]
EVENT_TABLE = HazardEvent.__table__  # type: ignore[attr-defined]


@dataclass
class RowError:
    row: int
    field: str
    column: str
    code: str
    message: str


@dataclass
class ImportRejected(Exception):
    """The file was read but rows failed; nothing was imported."""

    errors: list[RowError]
    total: int
    rows: int = 0

    def __post_init__(self) -> None:
        super().__init__(f"{self.total} errors")


@dataclass
class ImportResult:
    imported: int
    first_code: str | None
    last_code: str | None


# ------------------------------------------------------------------------------------------
# Reading


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        "import.too_large",
        zh=f"导入文件不能超过 {limit // (1024 * 1024)} MB。",
        en=f"An import file may not exceed {limit} bytes.",
    )


def _bad_file(detail_en: str) -> Invalid:
    return Invalid(
        "import.bad_file",
        zh=f"无法读取导入文件:{detail_en}",
        en=f"The import file cannot be read: {detail_en}",
    )


def _decode(raw: bytes) -> str:
    """UTF-8 (with or without a BOM), else GB18030: what Excel saves as "CSV" on a Chinese
    Windows."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise _bad_file("the CSV is neither UTF-8 nor GB18030 text") from exc


def _csv_rows(file: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    text = _decode(file.read())
    if "\x00" in text:
        raise _bad_file("the CSV contains NUL characters")
    csv.field_size_limit(64 * 1024)
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if number > MAX_ROWS + 1:
                raise _too_many()
            yield number, row
    except csv.Error as exc:
        raise _bad_file(str(exc)) from exc


def _too_many() -> Invalid:
    return Invalid(
        "import.too_many_rows",
        zh=f"一次最多导入 {MAX_ROWS} 行。",
        en=f"At most {MAX_ROWS} rows may be imported at once.",
    )


def read_file(file: BinaryIO, filename: str | None) -> Iterator[tuple[int, list[str]]]:
    """Rows of an xlsx (detected from its bytes) or a CSV, as (spreadsheet row number, cells)."""
    limit = get_settings().max_upload_bytes
    file.seek(0, 2)
    if file.tell() > limit:
        raise _too_large(limit)
    file.seek(0)
    if detect(file) is XLSX:
        try:
            yield from read_rows(file, max_rows=MAX_ROWS + 1)
        except XlsxError as exc:
            if "too many rows" in str(exc):
                raise _too_many() from exc
            raise _bad_file(str(exc)) from exc
        return
    head = file.read(4)
    file.seek(0)
    if head.startswith(b"PK\x03\x04") or (filename or "").lower().endswith((".xls", ".xlsx")):
        raise UnsupportedMediaType(
            "import.unsupported_type",
            zh="仅支持 .xlsx 或 .csv 文件(旧版 .xls 请另存为 .xlsx)。",
            en="Only .xlsx and .csv files are accepted (save an old .xls as .xlsx).",
        )
    yield from _csv_rows(file)


# ------------------------------------------------------------------------------------------
# Validation


def _enum_lookup(enum: type[LabeledEnum]) -> dict[str, str]:
    """A cell may hold the Chinese label (as exported), the code, or the English label."""
    table: dict[str, str] = {}
    for member in enum:
        for key in (member.zh, member.value, member.en):
            table[key.strip().lower()] = member.value
    return table


_ENUMS = {c.field: _enum_lookup(c.enum) for c in WRITABLE if c.field and c.enum}


def _as_date(text: str) -> str:
    match = _DATE.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return text
    if _SERIAL.match(text):
        # An Excel date serial, e.g. 46351 for 2026-11-25.
        serial = int(float(text))
        if 1 <= serial <= 2958465:
            return (_EXCEL_EPOCH + timedelta(days=serial)).isoformat()
    return text


@dataclass
class _Schools:
    """The schools the caller may name in the 学校 column, by name and by code."""

    by_key: dict[str, Org]
    own: Org | None

    @classmethod
    def load(cls, session: Session, principal: Principal) -> "_Schools":
        if principal.role == Role.school:
            own = session.get(Org, principal.org_id) if principal.org_id else None
            schools = [own] if own is not None else []
        else:
            own = None
            schools = list(session.exec(select(Org).where(col(Org.kind) == OrgKind.school)).all())
        by_key: dict[str, Org] = {}
        for school in schools:
            by_key[school.name.strip().lower()] = school
            if school.code:
                by_key[school.code.strip().lower()] = school
        return cls(by_key=by_key, own=own)


def _header_map(header: list[str]) -> tuple[dict[int, Column], list[RowError]]:
    by_header = {c.header: c for c in WRITABLE}
    positions: dict[int, Column] = {}
    errors: list[RowError] = []
    for index, raw in enumerate(header):
        name = raw.replace("\ufeff", "").strip().rstrip("*").strip()
        if not name or name in READ_ONLY_HEADERS:
            continue
        column = by_header.get(name)
        if column is None:
            errors.append(RowError(1, name, name, "unknown_column", f"未知的列“{name}”"))
        elif column in positions.values():
            errors.append(RowError(1, column.field or "", name, "duplicate_column", "列重复"))
        else:
            positions[index] = column
    present = set(positions.values())
    for column in WRITABLE:
        if column.required and column not in present:
            errors.append(
                RowError(1, column.field or "", column.header, "missing_column", "缺少必填列")
            )
    return positions, errors


_ZH_MESSAGES = {
    "missing": "必填",
    "string_too_long": "过长",
    "string_too_short": "不能为空",
    "float_parsing": "应为数字",
    "enum": "不在允许的取值中",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "greater_than_equal": "过小",
    "less_than_equal": "过大",
    "string_pattern_mismatch": "格式不正确",
    "value_error": "取值无效",
}


def _row_errors(number: int, exc: ValidationError) -> list[RowError]:
    out = []
    for err in exc.errors(include_url=False):
        loc = err.get("loc", ())
        name = str(loc[0]) if loc else ""
        column = _BY_FIELD.get(name)
        kind = str(err.get("type", "invalid"))
        message = _ZH_MESSAGES.get(kind, "取值无效")
        if kind == "value_error":
            message = f"取值无效:{str(err.get('msg', '')).removeprefix('Value error, ')}"
        out.append(RowError(number, name, column.header if column else "", kind, message))
    return out


def _validate(
    principal: Principal,
    campaign_id: int,
    rows: Iterable[tuple[int, list[str]]],
    schools: _Schools,
) -> tuple[list[tuple[HazardCreate, Org]], list[RowError]]:
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        raise Invalid("import.empty", zh="导入文件为空。", en="The import file is empty.")
    positions, errors = _header_map(first[1])
    if errors:
        return [], errors
    valid: list[tuple[HazardCreate, Org]] = []
    school_pos = next((i for i, c in positions.items() if c is SCHOOL), None)
    for number, cells in iterator:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are skipped, not errors
        # school_id is resolved from the 学校 column below; 1 only satisfies the model.
        values: dict[str, Any] = {"campaign_id": campaign_id, "school_id": 1}
        for index, column in positions.items():
            if column is SCHOOL or index >= len(cells):
                continue
            text = cells[index].strip()
            if not text:
                continue
            name = column.field or ""
            if name in _ENUMS:
                text = _ENUMS[name].get(text.lower(), text)
            elif name == "found_on":
                text = _as_date(text)
            values[name] = text
        school, school_error = _school(principal, schools, cells, school_pos, number)
        if school_error:
            errors.append(school_error)
        try:
            data = HazardCreate.model_validate(values)
        except ValidationError as exc:
            errors.extend(_row_errors(number, exc))
            continue
        if school is not None and school_error is None:
            valid.append((data.model_copy(update={"school_id": school.id}), school))
    return valid, errors


def _school(
    principal: Principal,
    schools: _Schools,
    cells: list[str],
    position: int | None,
    number: int,
) -> tuple[Org | None, RowError | None]:
    text = cells[position].strip() if position is not None and position < len(cells) else ""
    if not text:
        if schools.own is not None:
            return schools.own, None
        return None, RowError(number, "school", SCHOOL.header, "missing", "必填")
    school = schools.by_key.get(text.lower())
    if school is None:
        message = "只能导入本校的隐患" if schools.own is not None else f"学校“{text}”不存在"
        return None, RowError(number, "school", SCHOOL.header, "unknown_school", message)
    if not may_register_at(principal, school):
        return None, RowError(
            number, "school", SCHOOL.header, "forbidden_school", "无权在该学校登记隐患"
        )
    return school, None


# ------------------------------------------------------------------------------------------
# Import


def _ids_by_code(session: Session, reserved: list[str]) -> list[int]:
    by_code: dict[str, int] = {}
    for start in range(0, len(reserved), 1000):
        chunk = reserved[start : start + 1000]
        for hazard_id, code in session.execute(
            select(col(Hazard.id), col(Hazard.code)).where(col(Hazard.code).in_(chunk))
        ):
            by_code[code] = hazard_id
    return [by_code[code] for code in reserved]


def check_importer(principal: Principal) -> None:
    if principal.role not in (Role.school, Role.office) or principal.org_id is None:
        raise Forbidden(
            "import.forbidden",
            zh="只有学校和领导小组办公室可以导入隐患台账。",
            en="Only schools and the office may import a hazard register.",
        )


def import_hazards(
    principal: Principal, *, campaign_id: int, file: BinaryIO, filename: str | None
) -> ImportResult:
    check_importer(principal)
    assert principal.org_id is not None
    with db.read() as session:
        ensure_writable(session, campaign_id, field="body.campaign_id")
        schools = _Schools.load(session, principal)
    valid, errors = _validate(principal, campaign_id, read_file(file, filename), schools)
    if errors:
        raise ImportRejected(errors=errors[:MAX_REPORTED_ERRORS], total=len(errors))
    if not valid:
        raise Invalid(
            "import.no_rows", zh="导入文件没有数据行。", en="The import file has no data rows."
        )
    stamp = now()
    with db.write() as session:
        campaign = ensure_writable(session, campaign_id, field="body.campaign_id")
        reserved = codes.reserve(session, campaign.year, len(valid))
        rows: list[dict[str, Any]] = []
        for (data, school), code in zip(valid, reserved, strict=True):
            row = data.model_dump()
            row.update(
                code=code,
                reported_by=principal.actor,
                reporter_org_id=principal.org_id,
                responsible_org_id=school.id,
                status=HazardStatus.reported,
                reported_at=stamp,
                updated_at=stamp,
                version=1,
                supervised=False,
                distance_m=None,
                venue_unlawful=None,
            )
            if data.scope == HazardScope.surroundings and data.lat is not None:
                probe = Hazard(**row)
                apply_distance(probe, school)
                row.update(distance_m=probe.distance_m, venue_unlawful=probe.venue_unlawful)
            rows.append(row)
        # A plain executemany on the table, then the ids by code: RETURNING in parameter
        # order makes SQLite insert one row per statement (20× slower), and the ORM bulk
        # path spends as long collecting rows as the database spends inserting them.
        session.execute(insert(HAZARD_TABLE), rows)
        ids = _ids_by_code(session, reserved)
        session.execute(
            insert(EVENT_TABLE),
            [
                {
                    "hazard_id": hazard_id,
                    "at": stamp,
                    "action": HazardAction.register,
                    "actor": principal.actor,
                    "actor_org_id": principal.org_id,
                    "from_status": None,
                    "to_status": HazardStatus.reported,
                    "comment": None,
                    "data": {"imported": True},
                }
                for hazard_id in ids
            ],
        )
        majors = sum(1 for data, _ in valid if data.grade == HazardGrade.major)
        school_ids = {school.id for _, school in valid}
        summary = {
            "count": len(ids),
            "campaign_id": campaign_id,
            "first_code": reserved[0],
            "last_code": reserved[-1],
            "major": majors,
            "filename": (filename or "")[:200],
        }
        audit.record(
            session,
            principal,
            action="hazard.import",
            object_type="campaign",
            object_id=campaign_id,
            changes=summary,
        )
        events.emit(
            session,
            principal,
            type="hazard.imported",
            subject_type="campaign",
            subject_id=campaign_id,
            campaign_id=campaign_id,
            school_id=next(iter(school_ids)) if len(school_ids) == 1 else None,
            org_id=principal.org_id,
            payload=summary,
        )
    return ImportResult(imported=len(ids), first_code=reserved[0], last_code=reserved[-1])
