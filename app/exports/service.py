"""The register export (台账导出): every hazard the caller may see, for the same filters as
`GET /hazards`, as xlsx or CSV, streamed row by row in bounded memory.

Rows come from one server-side query over plain columns (`yield_per`), never ORM objects: at
100,000 rows an ORM object per row costs more than the whole spreadsheet.
"""

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.auth.principal import Principal, Scope
from app.core import db
from app.core.errors import Forbidden
from app.core.spreadsheet import cell_text
from app.core.time import local_zone, today
from app.exports.register import EXPORT_HEADERS, label, yes_no
from app.exports.xlsx import XlsxStream
from app.hazards.models import OPEN_STATUSES, Hazard
from app.hazards.service import HazardFilter, resolve
from app.hazards.service import _where as hazard_where
from app.orgs.models import Org
from app.users.models import Role

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
SHEET_NAME = "隐患台账"
_BATCH = 2000


def check_exporter(principal: Principal) -> None:
    """Offices, departments and schools export what they see; service accounts need
    `hazards:read`; administrators manage users, not business data."""
    if principal.role == Role.admin:
        raise Forbidden(
            "export.forbidden",
            zh="系统管理员不能导出业务数据。",
            en="Administrators may not export business data.",
        )
    if not principal.has_scope(Scope.hazards_read):
        raise Forbidden(
            "auth.scope_missing",
            zh="访问令牌缺少权限范围 hazards:read。",
            en="The access token lacks the scope hazards:read.",
        )


def _query(principal: Principal, flt: HazardFilter) -> Select[*tuple[Any, ...]]:
    # Aliases for every org join: the department visibility rule has a subquery on `org`
    # that must not correlate with the outer query.
    school = aliased(Org)
    responsible = aliased(Org)
    supervising = aliased(Org)
    return (
        select(
            col(Hazard.code),
            col(school.name),
            col(Hazard.scope),
            col(Hazard.category),
            col(Hazard.venue_type),
            col(Hazard.grade),
            col(Hazard.title),
            col(Hazard.description),
            col(Hazard.location),
            col(Hazard.lat),
            col(Hazard.lng),
            col(Hazard.source),
            col(Hazard.found_on),
            col(responsible.name),
            col(Hazard.responsible_person),
            col(Hazard.responsible_phone),
            col(Hazard.deadline),
            col(Hazard.status),
            col(Hazard.supervised),
            col(supervising.name),
            col(Hazard.supervision_deadline),
            col(Hazard.reported_at),
            col(Hazard.closed_at),
        )
        .join(school, col(school.id) == col(Hazard.school_id))
        .join(responsible, col(responsible.id) == col(Hazard.responsible_org_id))
        .outerjoin(supervising, col(supervising.id) == col(Hazard.supervising_org_id))
        .where(*hazard_where(principal, flt))
        .order_by(col(Hazard.id))
    )


def _text(value: str | None) -> str | None:
    return None if value is None else cell_text(value)


def rows(principal: Principal, flt: HazardFilter) -> Iterator[list[Any]]:
    """One list of cell values per hazard, in `EXPORT_HEADERS` order, labels in Chinese.
    Every free-text cell is neutralised against formula injection."""
    day = today()
    with db.read() as session:
        flt = resolve(session.connection(), flt)
        stmt = _query(principal, flt).execution_options(yield_per=_BATCH)
        for (
            code,
            school,
            scope,
            category,
            venue,
            grade,
            title,
            description,
            location,
            lat,
            lng,
            source,
            found_on,
            responsible,
            person,
            phone,
            deadline,
            status,
            supervised,
            supervising,
            supervision_deadline,
            reported_at,
            closed_at,
        ) in session.execute(stmt):
            overdue = deadline is not None and deadline < day and status in OPEN_STATUSES
            yield [
                code,
                _text(school),
                scope.zh,
                category.zh,
                label(venue),
                grade.zh,
                _text(title),
                _text(description),
                _text(location),
                lat,
                lng,
                source.zh,
                found_on,
                _text(responsible),
                _text(person),
                _text(phone),
                deadline,
                status.zh,
                yes_no(overdue),
                yes_no(supervised),
                _text(supervising),
                supervision_deadline,
                reported_at,
                closed_at,
            ]


def xlsx_chunks(principal: Principal, flt: HazardFilter) -> Iterator[bytes]:
    writer = XlsxStream(EXPORT_HEADERS, tz=local_zone(), sheet_name=SHEET_NAME)
    return writer.stream(rows(principal, flt))


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M:%S")
    return value


def csv_chunks(principal: Principal, flt: HazardFilter) -> Iterator[bytes]:
    """UTF-8 with a BOM, so Excel opens the Chinese text correctly; CRLF line ends (RFC 4180)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(EXPORT_HEADERS)
    for count, row in enumerate(rows(principal, flt), start=1):
        writer.writerow([_csv_value(v) for v in row])
        if count % 1000 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def filename(extension: str) -> str:
    return f"hazards-{today().isoformat()}.{extension}"
