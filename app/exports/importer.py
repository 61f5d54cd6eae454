"""Bulk import of a hazard register (台账导入) from xlsx or CSV.

All or nothing: every row is validated with `HazardCreate`'s fields and rules (the model of
`POST /hazards`) plus the checks that need the database (the school), and if any row fails
nothing is imported and every failing row is reported. Otherwise the rows go in with one
executemany in one transaction, codes reserved as one block, the `register` timeline steps
in one INSERT … SELECT, the overview's counters, one audit row and one `hazard.imported`
event: a bounded number of statements whatever the number of rows.

The file is handled column by column: a CSV without quotes is split at once into columns,
each field's check runs once over the distinct cells of its column (`_column_adapters`), and
the model's rules once per distinct combination of the cells they read. Only the rows that
fail are checked again one by one (`_check_row`, HazardCreate's fields as a TypedDict) to
word their errors; tests hold both ways to the same decisions and values. Reading and
validating 100,000 rows costs a quarter of what it did row by row (measured), which leaves the
insert itself (an entry per row in each of the hazard table's indexes) as most of the time.
"""

import csv
import io
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate, groupby, pairwise, repeat
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
from app.hazards.service import venue_distance
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
# The bytes that are not such a character. In UTF-8 and GB18030 alike a byte below 0x20 is
# always that ASCII character (no multi-byte sequence holds one), so the raw bytes are
# checked: deleting every other byte is one C pass, 5 times faster than the pattern.
_NOT_CONTROL = bytes(b for b in range(256) if not _CONTROL.match(chr(b)))
# The longest field a CSV cell may hold (the csv module's limit, set for the import).
_FIELD_LIMIT = 64 * 1024
_SPLIT_ROWS = 8192  # rows of a CSV split at once (`_split_table`)
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


def _too_many() -> Invalid:
    return Invalid(
        "import.too_many_rows",
        zh=f"一次最多导入 {MAX_ROWS} 行。",
        en=f"At most {MAX_ROWS} rows may be imported at once.",
    )


@dataclass(slots=True)
class Table:
    """A file's data rows, column by column: `columns[i]` holds the cells under
    `header[i]` ('' where a row is shorter), `numbers` each row's spreadsheet row number.
    Blank rows are left out (they are skipped, not errors); cells beyond the header are
    not kept."""

    header: list[str]
    numbers: Sequence[int]
    columns: Sequence[Sequence[str]]

    def row(self, i: int) -> list[str]:
        return [column[i] for column in self.columns]


def _empty() -> Invalid:
    return Invalid("import.empty", zh="导入文件为空。", en="The import file is empty.")


def _table(rows: Iterable[tuple[int, list[str]]]) -> Table:
    """A Table of (row number, cells) rows, the first being the header."""
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        raise _empty()
    header = first[1]
    width = len(header)
    kept = [(n, c) for n, c in iterator if any(c) and "".join(c).strip()]
    numbers = [n for n, _ in kept]
    cells = (c if len(c) == width else (c + [""] * width)[:width] for _, c in kept)
    columns: list[Sequence[str]] = list(zip(*cells, strict=True)) if kept else []
    del kept
    return Table(header, numbers, columns or [() for _ in range(width)])


# What str.strip() removes, and the delimiter: a CSV line made of these only is blank.
_BLANK = "".join(ch for ch in map(chr, range(0x110000)) if ch.isspace()) + ","


def _split_table(text: str) -> Table | None:
    """The Table of a CSV holding no quote character, or None if the csv module must read
    it.

    Without a quote no field can hold a comma or a line break, so the csv module's records
    are the lines (ended by \\r\\n, \\r or \\n) and its fields their comma-separated parts.
    When every line has the header's number of fields, a block of lines is joined, split at
    its commas, and each column sliced out of it: no list per row (the csv module took
    0.45 s for 100,000 rows of 14 Chinese text cells and this 0.1-0.2 s, measured; a list
    per row also feeds the cyclic garbage collector).

    A block, not the whole body, and one string per distinct cell of a column: a string
    for every cell of 100,000 rows was ~100 MB that each import took from the operating
    system and gave back (25,000-50,000 page faults, up to 0.15 s of system time in the
    server after the bench's load). A block's strings reuse the memory the previous
    block's freed, and a column of a few distinct values keeps a few strings: 12,000
    faults. The lookups make the split itself slower (0.155 → 0.20 s in-process) and the
    validation, whose sets and dicts of cells then meet one object per distinct cell,
    faster (0.23-0.27 → 0.16-0.19 s in-process); an import over HTTP after the bench's
    transitions took 1.74-1.81 s against 1.88-2.01 s (measured)."""
    if '"' in text:
        return None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()  # the line break ending the last record
    if len(lines) > MAX_ROWS + 1:
        raise _too_many()
    if not lines or max(map(len, lines)) > _FIELD_LIMIT:
        return None  # empty, or a line longer than a field may be: the csv module says so
    header = lines[0].split(",") if lines[0] else []
    width = len(header)
    data = lines[1:]
    del lines
    numbers: Sequence[int] = range(2, len(data) + 2)
    if "" in map(str.strip, data, repeat(_BLANK)):
        keep = [i for i, line in enumerate(data) if line.strip(_BLANK)]
        numbers = [i + 2 for i in keep]
        data = [data[i] for i in keep]
    if not width or not data:
        return Table(header, numbers, [[] for _ in range(width)])
    if set(map(str.count, data, repeat(","))) != {width - 1}:
        return None  # rows wider or narrower than the header
    columns: list[list[str]] = [[] for _ in range(width)]
    distinct: list[dict[str, str]] = [{} for _ in range(width)]  # each column's cells
    for start in range(0, len(data), _SPLIT_ROWS):
        flat = ",".join(data[start : start + _SPLIT_ROWS]).split(",")
        for index, (column, seen) in enumerate(zip(columns, distinct, strict=True)):
            cells = flat[index::width]
            column += map(seen.setdefault, cells, cells)
    return Table(header, numbers, columns)


def _csv_table(file: BinaryIO) -> Table:
    raw = file.read()
    if raw.translate(None, _NOT_CONTROL):
        # Refused for the whole file, once, rather than per cell: no row needs the check.
        raise _bad_file("the CSV contains control characters (NUL …)")
    text = _decode(raw)
    table = _split_table(text)
    return table if table is not None else _table(_csv_rows(text))


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    csv.field_size_limit(_FIELD_LIMIT)
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if number > MAX_ROWS + 1:
                raise _too_many()
            yield number, row
    except csv.Error as exc:
        raise _bad_file(str(exc)) from exc


def _xlsx_rows(file: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    try:
        yield from read_rows(file, max_rows=MAX_ROWS + 1)
    except XlsxError as exc:
        if "too many rows" in str(exc):
            raise _too_many() from exc
        raise _bad_file(str(exc)) from exc


def read_table(file: BinaryIO, filename: str | None) -> Table:
    """The data rows of an xlsx (detected from its bytes) or a CSV."""
    limit = get_settings().max_import_bytes
    file.seek(0, 2)
    if file.tell() > limit:
        raise _too_large(limit)
    file.seek(0)
    if detect(file) is XLSX:
        return _table(_xlsx_rows(file))
    head = file.read(4)
    file.seek(0)
    if head.startswith(b"PK\x03\x04") or (filename or "").lower().endswith((".xls", ".xlsx")):
        raise UnsupportedMediaType(
            "import.unsupported_type",
            zh="仅支持 .xlsx 或 .csv 文件(旧版 .xls 请另存为 .xlsx)。",
            en="Only .xlsx and .csv files are accepted (save an old .xls as .xlsx).",
        )
    return _csv_table(file)


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
# The values `_model_rules` reads, in the order `_rows_breaking_rules` groups them by.
_RULE_FIELDS = ("found_on", "scope", "category", "venue_type", "lat", "lng")


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


_Resolved = tuple[Org | None, tuple[str, str] | None]


@dataclass
class _Schools:
    """The schools the caller may name in the 学校 column, by name and by code.

    Only (id, name, code) of every school is read up front: loading 20,000 schools as ORM
    objects cost 0.3–0.5 s (measured); the few a file names are loaded whole afterwards."""

    ids: dict[str, int]  # lower-cased name or code → school id
    own: Org | None
    orgs: dict[int, Org] = field(default_factory=dict)
    # Cell text (stripped) → (school, (error code, message)): a register names few schools
    # many times, so each distinct text is resolved once.
    seen: dict[str, _Resolved] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, principal: Principal) -> "_Schools":
        if principal.role == Role.school:
            own = session.get(Org, principal.org_id) if principal.org_id else None
            schools = [] if own is None else [(own.id, own.name, own.code)]
        else:
            own = None
            # Every org, the schools kept here: nearly every org is a school, and through the
            # index on kind SQLite looked each of 20,000 rows up by id (45 ms against 11 ms
            # for the plain scan); Core rows, not the ORM's (0.13 s in all before, measured).
            every = select(col(Org.id), col(Org.name), col(Org.code), col(Org.kind))
            schools = [
                (school_id, name, code)
                for school_id, name, code, kind in session.connection().execute(every)
                if kind == OrgKind.school
            ]
        ids: dict[str, int] = {}
        for school_id, name, code in schools:
            assert school_id is not None
            ids[name.strip().lower()] = school_id
            if code:
                ids[code.strip().lower()] = school_id
        orgs = {own.id: own} if own is not None and own.id is not None else {}
        return cls(ids=ids, own=own, orgs=orgs)

    def resolve(self, principal: Principal, texts: Iterable[str]) -> None:
        """Resolve each new cell text into `seen`: one query for the schools they name."""
        new = [text for text in set(texts) if text not in self.seen]
        wanted = {self.ids[t.lower()] for t in new if t and t.lower() in self.ids}
        missing = sorted(wanted - self.orgs.keys())
        if missing:
            with db.read() as session:
                for start in range(0, len(missing), 500):
                    chunk = missing[start : start + 500]
                    for org in session.exec(select(Org).where(col(Org.id).in_(chunk))).all():
                        assert org.id is not None
                        self.orgs[org.id] = org
        for text in new:
            self.seen[text] = self._resolve_one(principal, text)

    def _resolve_one(self, principal: Principal, text: str) -> _Resolved:
        if not text:
            if self.own is not None:
                return self.own, None
            return None, ("missing", "必填")
        school_id = self.ids.get(text.lower())
        school = None if school_id is None else self.orgs.get(school_id)
        if school is None:
            message = "只能导入本校的隐患" if self.own is not None else f"学校“{text}”不存在"
            return None, ("unknown_school", message)
        if not may_register_at(principal, school):
            return None, ("forbidden_school", "无权在该学校登记隐患")
        return school, None


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


def _config() -> ConfigDict:
    return ConfigDict(
        extra=HazardCreate.model_config.get("extra", "forbid"),
        str_strip_whitespace=HazardCreate.model_config.get("str_strip_whitespace", True),
    )


def _row_adapter() -> TypeAdapter[dict[str, Any]]:
    """HazardCreate's fields, constraints and field-level validators as a TypedDict: the
    row-by-row check that words the errors of a rejected row (see `_column_adapters` for
    the check every row passes).

    The fields are read from HazardCreate itself, so a new constraint there applies here
    too; the model's own validators are mirrored in `_model_rules` (a test fails when
    HazardCreate gains a validator that this module does not know).
    """
    fields: dict[str, Any] = {}
    for name, info in HazardCreate.model_fields.items():
        annotation = info.rebuild_annotation()
        fields[name] = annotation if info.is_required() else NotRequired[annotation]
    row = TypedDict("HazardRow", fields)  # type: ignore[misc]
    adapter: TypeAdapter[dict[str, Any]] = TypeAdapter(with_config(_config())(row))  # type: ignore[arg-type]
    return adapter


@dataclass(frozen=True, slots=True)
class _FieldCheck:
    required: bool
    many: TypeAdapter[list[Any]]


def _column_adapters() -> dict[str, _FieldCheck]:
    """Each HazardCreate field (its annotation with every constraint and field-level
    validator, and the model's string config) as a validator of a list of values.

    A column is validated in one call over its distinct cells: a register repeats its coded
    columns, dates and schools on every row, and one call per column replaces 100,000 calls
    per row (0.6 s of validation for 100,000 rows became ~0.1 s, measured). A row passes
    exactly when each of its cells passes its field's check, as in the TypedDict; the test
    suite checks both ways agree on rows built to break each rule."""
    config = _config()
    config.pop("extra", None)  # a list has no keys to forbid; only the strings' rules apply
    checks: dict[str, _FieldCheck] = {}
    for name, info in HazardCreate.model_fields.items():
        many: Any = list[info.rebuild_annotation()]  # type: ignore[misc]
        checks[name] = _FieldCheck(info.is_required(), TypeAdapter(many, config=config))
    return checks


_ROW = _row_adapter()
_COLUMNS = _column_adapters()
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
class _Rows:
    """The valid rows of a file, column by column in file order: for each name of
    `_FROM_ROW`, the rows' cells and each distinct cell's validated value.

    Values are looked up per distinct cell, not built per row: hashing an enum member runs
    Python code (`Enum.__hash__`), so a set or Counter of 100,000 of them costs ~0.1 s where
    one of their cells costs a few ms."""

    count: int
    cells: dict[str, Sequence[str]]
    columns: dict[str, "_Column"]
    schools: dict[int, Org]  # by id, the schools the rows name

    def values(self, name: str) -> list[Any]:
        return list(map(self.columns[name].value_of.__getitem__, self.cells[name]))


@dataclass(slots=True)
class _Layout:
    """Where each field sits in the file's rows (the header read)."""

    school: int | None
    # (index, field name, enum lookup or None, is the date column), the school left out.
    columns: list[tuple[int, str, dict[str, str] | None, bool]]


def _layout(positions: dict[int, Column]) -> _Layout:
    return _Layout(
        school=next((i for i, c in positions.items() if c is SCHOOL), None),
        columns=[
            (index, c.field or "", _ENUMS.get(c.field or ""), c.field == "found_on")
            for index, c in positions.items()
            if c is not SCHOOL
        ],
    )


def _validated(
    adapter: TypeAdapter[list[Any]], values: list[str]
) -> tuple[dict[str, Any], set[str]]:
    """{value: validated value} of the values that pass, and the set of those that fail."""
    failed: set[str] = set()
    while values:
        try:
            out = adapter.validate_python(values)
        except ValidationError as exc:
            bad = {err["loc"][0] for err in exc.errors(include_url=False) if err["loc"]}
            if not bad:  # pragma: no cover - a list of values fails item by item
                raise
            failed.update(values[i] for i in bad if isinstance(i, int))
            values = [v for i, v in enumerate(values) if i not in bad]
            continue
        return dict(zip(values, out, strict=True)), failed
    return {}, failed


@dataclass(slots=True)
class _Column:
    """A field's column: each distinct cell's validated value (None for an empty cell) and
    the cells that fail the field."""

    value_of: dict[str, Any]
    bad: set[str]


def _column(
    cells: Sequence[str], name: str, lookup: dict[str, str] | None, is_date: bool
) -> _Column:
    check = _COLUMNS[name]
    texts = {cell: cell.strip() for cell in set(cells)}
    if lookup is not None:
        texts = {cell: lookup.get(text.lower(), text) for cell, text in texts.items()}
    elif is_date:
        texts = {cell: _as_date(text) if text else text for cell, text in texts.items()}
    distinct = set(texts.values())
    distinct.discard("")
    good, failed = _validated(check.many, list(distinct))
    # "" (an empty cell) is never a key of `good`: it maps to None.
    value_of = dict(zip(texts, map(good.get, texts.values()), strict=True))
    if check.required:
        failed.add("")
    bad = {cell for cell, text in texts.items() if text in failed} if failed else set()
    return _Column(value_of, bad)


def _rows_breaking_rules(
    cells: dict[str, Sequence[str]], columns: dict[str, _Column], latest: date
) -> set[int]:
    """Rows failing `_model_rules`, checked once per distinct combination of the cells it
    reads (cells, not values: a tuple of strings hashes in C, one of enum members in
    Python)."""
    by_field = [cells[name] for name in _RULE_FIELDS]
    broken = set()
    for combo in set(zip(*by_field, strict=True)):
        row = {
            name: columns[name].value_of[cell]
            for name, cell in zip(_RULE_FIELDS, combo, strict=True)
        }
        if row["found_on"] is None or row["scope"] is None or row["category"] is None:
            continue  # a required value failed its field: the row is refused already
        if _model_rules(row, latest) is not None:
            broken.add(combo)
    if not broken:
        return set()
    return {i for i, combo in enumerate(zip(*by_field, strict=True)) if combo in broken}


def _validate(
    principal: Principal, campaign_id: int, table: Table, schools: _Schools
) -> tuple[_Rows, list[RowError]]:
    """Every row checked column by column; the rows that fail are checked again one by one
    (`_check_row`) to word their errors as a POST would."""
    positions, errors = _header_map(table.header)
    if errors:
        return _Rows(0, {}, {}, {}), errors
    layout = _layout(positions)
    by_index = table.columns
    count = len(table.numbers)
    empty = ("",) * count

    latest = today()
    failing: set[int] = set()
    cells: dict[str, Sequence[str]] = {}
    columns: dict[str, _Column] = {}
    for index, name, lookup, is_date in layout.columns:
        cells[name] = by_index[index]
        columns[name] = _column(by_index[index], name, lookup, is_date)
    for name in _FROM_ROW:
        if name not in columns and name not in ("campaign_id", "school_id"):
            # A column the file lacks: every cell of it is empty (a required one is
            # reported by _header_map).
            cells[name] = empty
            columns[name] = _Column({"": None}, set())
    for name, column in columns.items():
        if column.bad:
            failing.update(i for i, cell in enumerate(cells[name]) if cell in column.bad)
    campaign = _column((str(campaign_id),), "campaign_id", None, False)
    if campaign.bad:  # pragma: no cover - the form field has the same bounds
        failing.update(range(count))
    # Every row names the form's campaign: one empty "cell" standing for it.
    cells["campaign_id"] = empty
    columns["campaign_id"] = _Column({"": campaign.value_of[str(campaign_id)]}, set())

    school_cells = by_index[layout.school] if layout.school is not None else empty
    stripped = {cell: cell.strip() for cell in set(school_cells)}
    schools.resolve(principal, stripped.values())
    named: dict[int, Org] = {}
    id_of: dict[str, int | None] = {}
    for cell, text in stripped.items():
        school, problem = schools.seen[text]
        if school is None or school.id is None or problem is not None:
            id_of[cell] = None
        else:
            id_of[cell] = named.setdefault(school.id, school).id
    cells["school_id"] = school_cells
    columns["school_id"] = _Column(id_of, {cell for cell, i in id_of.items() if i is None})
    if columns["school_id"].bad:
        failing.update(i for i, cell in enumerate(school_cells) if id_of[cell] is None)

    failing |= _rows_breaking_rules(cells, columns, latest)
    if failing:
        for i in sorted(failing):
            number = table.numbers[i]
            found = _check_row(
                principal, campaign_id, layout, schools, number, table.row(i), latest
            )
            # A row the column checks refuse is refused, even if it were worded nowhere.
            errors.extend(found or [RowError(number, "", "", "value_error", "取值无效")])
        return _Rows(0, {}, {}, {}), errors
    return _Rows(count, cells, columns, named), []


def _row_values(campaign_id: int, layout: _Layout, cells: list[str]) -> dict[str, Any]:
    """One row as the dict `_ROW` validates: the text of each filled cell, coded columns
    and dates read as the column path reads them."""
    # school_id is resolved from the 学校 column; 1 only satisfies the schema.
    values: dict[str, Any] = {"campaign_id": campaign_id, "school_id": 1}
    width = len(cells)
    for index, name, lookup, is_date in layout.columns:
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
    return values


def _check_row(
    principal: Principal,
    campaign_id: int,
    layout: _Layout,
    schools: _Schools,
    number: int,
    cells: list[str],
    latest: date,
) -> list[RowError]:
    """The errors of one row, checked on its own with the TypedDict of HazardCreate."""
    errors: list[RowError] = []
    values = _row_values(campaign_id, layout, cells)
    width = len(cells)
    position = layout.school
    text = cells[position].strip() if position is not None and position < width else ""
    schools.resolve(principal, (text,))
    school, problem = schools.seen[text]
    if problem is not None or school is None:
        code, message = problem or ("missing", "必填")
        errors.append(RowError(number, "school", SCHOOL.header, code, message))
    try:
        data = _ROW.validate_python(values)
    except ValidationError as exc:
        errors.extend(_row_errors(number, exc))
        return errors
    failed = _model_rules(data, latest)
    if failed is not None:
        name, message = failed
        column = _BY_FIELD.get(name)
        errors.append(
            RowError(
                number,
                name,
                column.header if column else "",
                "value_error",
                f"取值无效:{message}",
            )
        )
    return errors


# ------------------------------------------------------------------------------------------
# Import


_SQLITE_IMPORT_CACHE_KIB = 128 * 1024


def _processor(connection: Connection, name: str) -> Any:
    """What SQLAlchemy does to a value of column `name` before the DBAPI takes it (enum
    codes, dates and timestamps as the dialect stores them), or None."""
    dialect = connection.dialect
    return HAZARD_TABLE.c[name].type.dialect_impl(dialect).bind_processor(dialect)


def _processed(connection: Connection, name: str, values: list[Any]) -> list[Any]:
    """Column values as the DBAPI takes them, converted once per distinct value: what
    SQLAlchemy does per row and per parameter in an executemany."""
    process = _processor(connection, name)
    if process is None:
        return values
    memo = {value: None if value is None else process(value) for value in set(values)}
    return list(map(memo.__getitem__, values))


def _processed_column(connection: Connection, rows: _Rows, name: str) -> list[Any]:
    """A column of `rows` as the DBAPI takes it, converted once per distinct cell."""
    process = _processor(connection, name)
    value_of = rows.columns[name].value_of
    if process is not None:
        value_of = {c: None if v is None else process(v) for c, v in value_of.items()}
    return list(map(value_of.__getitem__, rows.cells[name]))


def _located_venues(rows: _Rows) -> list[int]:
    """Rows in the surroundings with coordinates: those whose distance to the school is
    computed."""
    scope, lat = rows.columns["scope"].value_of, rows.columns["lat"].value_of
    near = {cell for cell, value in scope.items() if value == HazardScope.surroundings}
    located = {cell for cell, value in lat.items() if value is not None}
    if not near or not located:
        return []
    pairs = zip(rows.cells["scope"], rows.cells["lat"], strict=True)
    return [i for i, (s, la) in enumerate(pairs) if s in near and la in located]


def _sql_literal(value: Any) -> str | None:
    """A DBAPI value as an SQL literal: NULL, a finite number, or a string quoted with its
    quotes doubled (SQL's only escape); None for anything else."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, str) and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


def _required(name: str) -> bool:
    return not HAZARD_TABLE.c[name].nullable or HAZARD_TABLE.c[name].server_default is not None


def _insert_hazards(
    connection: Connection,
    principal: Principal,
    rows: _Rows,
    reserved: list[str],
    stamp: Any,
) -> None:
    """One executemany (SQLite) or COPY (PostgreSQL) of pre-processed tuples. Core
    `insert(table)` with dicts spends as long processing each parameter as the database
    spends inserting; the ORM longer still. RETURNING is not used: on SQLite it makes
    SQLAlchemy insert one row per statement."""
    count = rows.count
    dialect = connection.dialect
    # A column no row fills is left out of the statement: it defaults to NULL, and the
    # sqlite3 module binds each None through its adapter lookup (~1 µs; the 7 empty
    # columns of the benchmark's register were 16 % of the insert, counted with callgrind).
    unfilled = {
        name
        for name in _FROM_ROW
        if all(v is None for v in rows.columns[name].value_of.values()) and not _required(name)
    }
    # Columns whose value every row shares (the campaign, the stamps, often the source or
    # the date of a batch) are written into the SQLite statement once, not bound per row:
    # the stamps and the reporter alone were ~7 % of the insert (measured).
    shared: dict[str, Any] = {}
    columns: dict[str, list[Any]] = {}
    for name in _FROM_ROW:
        if name in unfilled:
            continue
        value_of = rows.columns[name].value_of
        if len(value_of) == 1:
            shared[name] = _processed(connection, name, list(value_of.values()))[0]
        else:
            columns[name] = _processed_column(connection, rows, name)
    located = _located_venues(rows)
    if located:
        distance: list[Any] = [None] * count
        unlawful: list[Any] = [None] * count
        for i in located:
            value = {n: rows.columns[n].value_of[rows.cells[n][i]] for n in _RULE_FIELDS}
            school = rows.schools[rows.columns["school_id"].value_of[rows.cells["school_id"][i]]]
            distance[i], unlawful[i] = venue_distance(value, school)
        columns["distance_m"] = _processed(connection, "distance_m", distance)
        columns["venue_unlawful"] = _processed(connection, "venue_unlawful", unlawful)
    columns["code"] = reserved
    if "school_id" in shared:
        shared["responsible_org_id"] = shared["school_id"]
    else:
        columns["responsible_org_id"] = columns["school_id"]
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
        shared[name] = _processed(connection, name, [value])[0]
    literals: dict[str, str] = {}
    if dialect.name == "sqlite":
        rendered = {name: _sql_literal(value) for name, value in shared.items()}
        literals = {name: text for name, text in rendered.items() if text is not None}
    # COPY takes every value per row; so does SQLite a value without a literal form.
    columns.update({name: [v] * count for name, v in shared.items() if name not in literals})
    names = [*columns, *literals]
    quote = dialect.identifier_preparer.quote
    if dialect.paramstyle == "qmark":
        marks = ["?" for _ in columns]
    elif dialect.paramstyle in ("format", "pyformat"):
        marks = ["%s" for _ in columns]
    else:  # pragma: no cover - SQLite and psycopg are the supported drivers
        raise RuntimeError(f"unsupported paramstyle {dialect.paramstyle}")
    # Identifiers of our own table, quoted by the dialect; every value is a parameter or a
    # literal of a number or a quoted string (`_sql_literal`).
    into = f"{quote(HAZARD_TABLE.name)} ({', '.join(quote(n) for n in names)})"
    sql = f"INSERT INTO {into} VALUES ({', '.join([*marks, *literals.values()])})"  # noqa: S608
    # Rows are made one at a time as the driver takes them, on the driver's cursor (same
    # connection, same transaction): a list of 100,000 row tuples, which SQLAlchemy's
    # executemany needs, cost 20 MB, ~0.1 s to build and most of the import's garbage
    # collector runs (measured).
    params = zip(*columns.values(), strict=True)
    driver = connection.connection.driver_connection
    assert driver is not None
    if dialect.name == "postgresql":
        # COPY: one round trip streaming the rows, where an executemany of 100,000 INSERTs
        # kept the server busy for 10 s (measured).
        with driver.cursor() as cursor, cursor.copy(f"COPY {into} FROM STDIN") as copy:
            for values in params:
                copy.write_row(values)
        return
    cursor = driver.cursor()
    try:
        cursor.executemany(sql, params)
    finally:
        cursor.close()


@contextmanager
def _import_cache(connection: Connection) -> Iterator[None]:
    """A large SQLite page cache for the import's transaction, the default again after.

    Indexes led by the school or the finding date take rows in random order; with SQLite's
    default 2 MB page cache every insert into them missed (2.8 s against 1.9 s for 100,000
    rows when four indexes were led by the school, measured).
    The whole transaction keeps it: shrinking the cache between the hazards and their
    timeline spilled the hazards' dirty pages there and then (the timeline's INSERT took
    1.2 s with the small cache, ~0.1 s with the large one, 1M hazards)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{_SQLITE_IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous or -2000)}")


def _insert_timeline(
    connection: Connection, principal: Principal, reserved: list[str], stamp: Any
) -> None:
    """The `register` step of every imported hazard in one INSERT … SELECT by code: ids
    cannot be predicted, but the codes are ours. Codes of one width sort like their
    numbers; a block crossing a width (999999 → 1000000) takes two statements."""
    # The block's codes grouped by width (in C: a loop over 100,000 codes took 60 ms).
    bounds = accumulate(len(list(group)) for _, group in groupby(map(len, reserved)))
    ends = [0, *bounds]
    code = HAZARD_TABLE.c.code
    for first, last in ((reserved[a], reserved[b - 1]) for a, b in pairwise(ends)):
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


def _count(session: Session, campaign_id: int, rows: _Rows) -> None:
    """The overview's counters, in the same transaction (`counts` docstring): the rows are
    grouped by the counted dimensions first, so `apply` sees one row per group."""
    names = ("grade", "category", "scope")
    groups = Counter(zip(*(rows.cells[name] for name in names), strict=True))
    deltas: Counter[counts.Key] = Counter()
    for group, n in groups.items():
        values = {
            name: rows.columns[name].value_of[cell] for name, cell in zip(names, group, strict=True)
        }
        deltas[counts.key_of({"campaign_id": campaign_id, **values})] += n
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
    rows, errors = _validate(principal, campaign_id, read_table(file, filename), schools)
    if errors:
        raise ImportRejected(errors=errors[:MAX_REPORTED_ERRORS], total=len(errors))
    if not rows.count:
        raise Invalid(
            "import.no_rows", zh="导入文件没有数据行。", en="The import file has no data rows."
        )
    stamp = now()
    with db.write() as session:
        campaign = ensure_writable(session, campaign_id, field="body.campaign_id")
        reserved = codes.reserve(session, campaign.year, rows.count)
        connection = session.connection()
        with _import_cache(connection):
            _insert_hazards(connection, principal, rows, reserved, stamp)
            _insert_timeline(connection, principal, reserved, stamp)
            _count(session, campaign_id, rows)
        grade = rows.columns["grade"].value_of
        majors = sum(
            n
            for cell, n in Counter(rows.cells["grade"]).items()
            if grade[cell] == HazardGrade.major
        )
        school_ids = set(rows.schools)
        summary = {
            "count": rows.count,
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
    return ImportResult(imported=rows.count, first_code=reserved[0], last_code=reserved[-1])
