"""Bulk import of a hazard register (台账导入) from xlsx or CSV.

All or nothing: every row is validated with `HazardCreate`'s fields and rules (the model of
`POST /hazards`, applied to dicts: see `_row_adapter`) plus the checks that need the database
(the school), and if any row fails nothing is imported and every failing row is reported.
Otherwise the rows go in with one executemany in one transaction, codes reserved as one
block, the `register` timeline steps in one INSERT … SELECT, the overview's counters, one
audit row and one `hazard.imported` event: a bounded number of statements whatever the
number of rows.
"""

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, BinaryIO, NotRequired

from pydantic import ConfigDict, TypeAdapter, ValidationError, with_config
from sqlalchemy import JSON, Connection, func, insert, literal, null
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from typing_extensions import TypedDict

from app.attachments.detect import XLSX, detect
from app.audit import service as audit
from app.auth.principal import Principal
from app.campaigns.service import ensure_writable
from app.core import db
from app.core.config import get_settings
from app.core.db import UTCDateTime
from app.core.enums import LabeledEnum
from app.core.errors import Forbidden, Invalid, PayloadTooLarge, UnsupportedMediaType
from app.core.time import now, today
from app.events import service as events
from app.exports.register import READ_ONLY_HEADERS, SCHOOL, WRITABLE, Column
from app.exports.xlsx_read import XlsxError, read_rows
from app.hazards import codes, counts
from app.hazards.models import (
    Hazard,
    HazardAction,
    HazardEvent,
    HazardGrade,
    HazardScope,
    HazardStatus,
)
from app.hazards.schemas import HazardCreate, _check_coordinates, _check_venue, _not_future
from app.hazards.service import _apply_distance as apply_distance
from app.hazards.visibility import may_register_at
from app.orgs.models import Org, OrgKind
from app.users.models import Role

MAX_ROWS = 200_000
MAX_REPORTED_ERRORS = 1000
_EXCEL_EPOCH = date(1899, 12, 30)
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
# NUL (PostgreSQL cannot store it) and the control characters an xlsx export cannot hold;
# tab, line feed and carriage return are text. An xlsx cannot hold them either.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
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
    if _CONTROL.search(text):
        # Refused for the whole file, once, rather than per cell: no row needs the check.
        raise _bad_file("the CSV contains control characters (NUL …)")
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
    limit = get_settings().max_import_bytes
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

# Columns the import fills; every other column of `hazard` is NULL for a new hazard.
_FROM_ROW = (
    "campaign_id",
    "school_id",
    "scope",
    "category",
    "venue_type",
    "grade",
    "title",
    "description",
    "location",
    "lat",
    "lng",
    "source",
    "found_on",
    "responsible_person",
    "responsible_phone",
)
_AT = {name: i for i, name in enumerate(_FROM_ROW)}
_SCOPE, _GRADE, _CATEGORY, _LAT = _AT["scope"], _AT["grade"], _AT["category"], _AT["lat"]


@lru_cache(maxsize=4096)
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
    # Cell text → (school, (error code, message)): a register names few schools many times.
    seen: dict[str, tuple[Org | None, tuple[str, str] | None]] = field(default_factory=dict)
    # Cell text → school id: reading `Org.id` through the ORM costs more than a dict.
    ids: dict[str, int] = field(default_factory=dict)

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


def _row_adapter() -> TypeAdapter[dict[str, Any]]:
    """HazardCreate's fields, constraints and field-level validators as a TypedDict.

    Validating 100,000 rows as model instances costs about twice as much as validating them
    as dicts (measured: 0.8 s against 0.33 s), and the import needs dicts anyway. The fields
    are read from HazardCreate itself, so a new constraint there applies here too; the
    model's own validators are mirrored in `_model_rules` (a test fails when HazardCreate
    gains a validator that this module does not know).
    """
    fields: dict[str, Any] = {}
    for name, info in HazardCreate.model_fields.items():
        annotation = info.rebuild_annotation()
        fields[name] = annotation if info.is_required() else NotRequired[annotation]
    row = TypedDict("HazardRow", fields)  # type: ignore[misc]
    config = ConfigDict(
        extra=HazardCreate.model_config.get("extra", "forbid"),
        str_strip_whitespace=HazardCreate.model_config.get("str_strip_whitespace", True),
    )
    adapter: TypeAdapter[dict[str, Any]] = TypeAdapter(with_config(config)(row))  # type: ignore[arg-type]
    return adapter


_ROW = _row_adapter()
# HazardCreate validators that `_model_rules` mirrors, or that cannot fire on an import row:
# no NUL or other control character reaches a row (a CSV holding one is refused whole; XML
# cannot hold one, expat refuses it), and cells are always text, so no number can be taken
# for a date.
MIRRORED_VALIDATORS = frozenset(
    {"_found_not_future", "_consistent", "_no_nul_characters", "_no_numbers_as_dates"}
)


def _model_rules(values: dict[str, Any], latest: date) -> tuple[str, str] | None:
    """HazardCreate's validators on a validated row: (field, message) of the first failure."""
    found = values["found_on"]
    if found > latest:
        try:
            _not_future(found)
        except ValueError as exc:
            return "found_on", str(exc)
    try:
        _check_venue(values["scope"], values["category"], values.get("venue_type"))
        _check_coordinates(values.get("lat"), values.get("lng"))
    except ValueError as exc:
        return "", str(exc)
    return None


@dataclass(slots=True)
class _Valid:
    values: tuple[Any, ...]  # in _FROM_ROW order
    school: Org


def _validate(
    principal: Principal,
    campaign_id: int,
    rows: Iterable[tuple[int, list[str]]],
    schools: _Schools,
) -> tuple[list[_Valid], list[RowError]]:
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        raise Invalid("import.empty", zh="导入文件为空。", en="The import file is empty.")
    positions, errors = _header_map(first[1])
    if errors:
        return [], errors
    valid: list[_Valid] = []
    school_pos = next((i for i, c in positions.items() if c is SCHOOL), None)
    # (index, field name, enum lookup or None, is the date column), the school left out.
    columns = [
        (index, c.field or "", _ENUMS.get(c.field or ""), c.field == "found_on")
        for index, c in positions.items()
        if c is not SCHOOL
    ]
    latest = today()
    validate = _ROW.validate_python
    for number, cells in iterator:
        if not any(cells) or not "".join(cells).strip():
            continue  # blank lines are skipped, not errors
        # school_id is resolved from the 学校 column below; 1 only satisfies the schema.
        values: dict[str, Any] = {"campaign_id": campaign_id, "school_id": 1}
        width = len(cells)
        for index, name, lookup, is_date in columns:
            if index >= width:
                continue
            text = cells[index].strip()
            if not text:
                continue
            if lookup is not None:
                text = lookup.get(text.lower(), text)
            elif is_date:
                text = _as_date(text)
            values[name] = text
        school, school_id, school_error = _school(principal, schools, cells, school_pos, number)
        if school_error:
            errors.append(school_error)
        try:
            data = validate(values)
        except ValidationError as exc:
            errors.extend(_row_errors(number, exc))
            continue
        failed = _model_rules(data, latest)
        if failed is not None:
            field, message = failed
            column = _BY_FIELD.get(field)
            errors.append(
                RowError(
                    number,
                    field,
                    column.header if column else "",
                    "value_error",
                    f"取值无效:{message}",
                )
            )
            continue
        if school is not None and school_error is None:
            data["school_id"] = school_id
            valid.append(_Valid(tuple(map(data.get, _FROM_ROW)), school))
    return valid, errors


def _school(
    principal: Principal,
    schools: _Schools,
    cells: list[str],
    position: int | None,
    number: int,
) -> tuple[Org | None, int, RowError | None]:
    text = cells[position].strip() if position is not None and position < len(cells) else ""
    try:
        school, problem = schools.seen[text]
    except KeyError:
        school, problem = schools.seen.setdefault(text, _resolve(principal, schools, text))
    if problem is None and school is not None:
        return school, schools.ids[text], None
    code, message = problem or ("missing", "必填")
    return None, 0, RowError(number, "school", SCHOOL.header, code, message)


def _resolve(
    principal: Principal, schools: _Schools, text: str
) -> tuple[Org | None, tuple[str, str] | None]:
    """The school a 学校 cell names, or (error code, message); once per distinct cell."""
    if not text:
        if schools.own is not None and schools.own.id is not None:
            schools.ids[text] = schools.own.id
            return schools.own, None
        return None, ("missing", "必填")
    school = schools.by_key.get(text.lower())
    if school is None:
        message = "只能导入本校的隐患" if schools.own is not None else f"学校“{text}”不存在"
        return None, ("unknown_school", message)
    if not may_register_at(principal, school):
        return None, ("forbidden_school", "无权在该学校登记隐患")
    assert school.id is not None
    schools.ids[text] = school.id
    return school, None


# ------------------------------------------------------------------------------------------
# Import


_SQLITE_IMPORT_CACHE_KIB = 128 * 1024


class _Probe:
    """The attributes `_apply_distance` reads and sets, without building an ORM Hazard per
    row (2.4 s for 5,000 surroundings rows, measured)."""

    def __init__(self, values: tuple[Any, ...]) -> None:
        self.scope = values[_AT["scope"]]
        self.venue_type = values[_AT["venue_type"]]
        self.lat = values[_AT["lat"]]
        self.lng = values[_AT["lng"]]
        self.distance_m: float | None = None
        self.venue_unlawful: bool | None = None


def _processed(connection: Connection, name: str, values: list[Any]) -> list[Any]:
    """Column values as the DBAPI takes them (enum codes, dates and timestamps as the
    dialect stores them), converted once per distinct value: what SQLAlchemy does per row
    and per parameter in an executemany."""
    dialect = connection.dialect
    process = HAZARD_TABLE.c[name].type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return values
    memo = {value: None if value is None else process(value) for value in set(values)}
    return list(map(memo.__getitem__, values))


def _insert_hazards(
    connection: Connection,
    principal: Principal,
    valid: list[_Valid],
    reserved: list[str],
    stamp: Any,
) -> None:
    """One executemany of pre-processed tuples. Core `insert(table)` with dicts spends as
    long processing each parameter as the database spends inserting; the ORM longer still.
    RETURNING is not used: on SQLite it makes SQLAlchemy insert one row per statement."""
    count = len(valid)
    dialect = connection.dialect
    # Rows to columns: each column is converted once per distinct value.
    by_column = zip(*(v.values for v in valid), strict=True)
    columns: dict[str, list[Any]] = {
        name: _processed(connection, name, list(values))
        for name, values in zip(_FROM_ROW, by_column, strict=True)
    }
    distance: list[Any] = [None] * count
    unlawful: list[Any] = [None] * count
    for i, item in enumerate(valid):
        if item.values[_SCOPE] == HazardScope.surroundings and item.values[_LAT] is not None:
            probe = _Probe(item.values)
            apply_distance(probe, item.school)  # type: ignore[arg-type]
            distance[i], unlawful[i] = probe.distance_m, probe.venue_unlawful
    columns["distance_m"] = _processed(connection, "distance_m", distance)
    columns["venue_unlawful"] = _processed(connection, "venue_unlawful", unlawful)
    columns["code"] = reserved
    columns["responsible_org_id"] = [v.school.id for v in valid]
    constants = {
        "reported_by": principal.actor,
        "reporter_org_id": principal.org_id,
        "status": HazardStatus.reported,
        "supervised": False,
        "reported_at": stamp,
        "updated_at": stamp,
        "version": 1,
    }
    for name, value in constants.items():
        columns[name] = _processed(connection, name, [value]) * count
    names = list(columns)
    quote = dialect.identifier_preparer.quote
    if dialect.paramstyle == "qmark":
        marks = ", ".join("?" for _ in names)
    elif dialect.paramstyle in ("format", "pyformat"):
        marks = ", ".join("%s" for _ in names)
    else:  # pragma: no cover - SQLite and psycopg are the supported drivers
        raise RuntimeError(f"unsupported paramstyle {dialect.paramstyle}")
    # Identifiers of our own table, quoted by the dialect; every value is a parameter.
    into = f"{quote(HAZARD_TABLE.name)} ({', '.join(quote(n) for n in names)})"
    sql = f"INSERT INTO {into} VALUES ({marks})"  # noqa: S608
    params = zip(*(columns[n] for n in names), strict=True)
    if dialect.name == "postgresql":
        # COPY: one round trip streaming the rows, where an executemany of 100,000 INSERTs
        # kept the server busy for 10 s (measured). Same connection, same transaction.
        driver = connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(f"COPY {into} FROM STDIN") as copy:
            for values in params:
                copy.write_row(values)
        return
    # The school-keyed indexes take rows in random order; with SQLite's default 2 MB page
    # cache every insert into them misses (2.8 s against 1.9 s for 100,000 rows, measured).
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{_SQLITE_IMPORT_CACHE_KIB}")
    try:
        connection.exec_driver_sql(sql, list(params))
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous or -2000)}")


def _insert_timeline(
    connection: Connection, principal: Principal, reserved: list[str], stamp: Any
) -> None:
    """The `register` step of every imported hazard in one INSERT … SELECT by code: ids
    cannot be predicted, but the codes are ours. Codes of one width sort like their
    numbers; a block crossing a width (999999 → 1000000) takes two statements."""
    by_width: dict[int, tuple[str, str]] = {}
    for reserved_code in reserved:
        first, _ = by_width.get(len(reserved_code), (reserved_code, reserved_code))
        by_width[len(reserved_code)] = (first, reserved_code)
    code = HAZARD_TABLE.c.code
    for first, last in by_width.values():
        source = sa_select(
            HAZARD_TABLE.c.id,
            literal(stamp, UTCDateTime),
            literal(HazardAction.register.value),
            literal(principal.actor),
            literal(principal.org_id),
            null(),
            literal(HazardStatus.reported.value),
            null(),
            literal({"imported": True}, JSON),
        ).where(code.between(first, last), func.length(code) == len(first))
        connection.execute(
            insert(EVENT_TABLE).from_select(
                [
                    "hazard_id",
                    "at",
                    "action",
                    "actor",
                    "actor_org_id",
                    "from_status",
                    "to_status",
                    "comment",
                    "data",
                ],
                source,
            )
        )


def _count(session: Session, campaign_id: int, valid: list[_Valid]) -> None:
    """The overview's counters, in the same transaction (`counts` docstring): the rows are
    grouped by the counted dimensions first, so `add_bulk` sees one row per group."""
    groups: Counter[tuple[Any, Any, Any]] = Counter(
        (v.values[_GRADE], v.values[_CATEGORY], v.values[_SCOPE]) for v in valid
    )
    deltas: Counter[counts.Key] = Counter()
    for (grade, category, scope), n in groups.items():
        key = counts.key_of(
            {"campaign_id": campaign_id, "grade": grade, "category": category, "scope": scope}
        )
        deltas[key] += n
    counts.apply(session, deltas)


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
        connection = session.connection()
        _insert_hazards(connection, principal, valid, reserved, stamp)
        _insert_timeline(connection, principal, reserved, stamp)
        _count(session, campaign_id, valid)
        majors = sum(1 for v in valid if v.values[_GRADE] == HazardGrade.major)
        school_ids = {v.school.id for v in valid}
        summary = {
            "count": len(valid),
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
    return ImportResult(imported=len(valid), first_code=reserved[0], last_code=reserved[-1])
