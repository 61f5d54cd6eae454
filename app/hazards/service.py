"""The hazard register and its closed loop: register, start, escalate, assign, rectify,
verify/reject, void; listed supervision; deadline extensions; the timeline.

Every read starts from `visible_hazards(principal)`. Every action locks the row, checks the
caller's role (403) and then the status machine (409) before anything changes, and writes the
timeline event, the audit row and the domain event in the same transaction.

The two hot reads (get and list) select plain columns and build dicts once; the router hands
them to orjson without a second validation pass (issue 10).
"""

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from operator import itemgetter
from typing import Any

from orjson import Fragment
from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    and_,
    bindparam,
    exists,
    func,
    insert,
    not_,
    or_,
    tuple_,
    type_coerce,
)
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, select

from app.attachments.models import AttachmentParent
from app.attachments.service import require_attachments
from app.audit import service as audit
from app.auth.principal import Principal
from app.campaigns.service import ensure_writable
from app.core import db
from app.core.config import get_settings
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, field_error
from app.core.etag import check_if_match
from app.core.memo import Memo
from app.core.pagination import SortDir, cursor_position, keyset, parse_sort, split_page
from app.core.representations import Representations
from app.core.responses import dumps
from app.core.time import add_working_days, local_zone, now, today
from app.events import service as events
from app.hazards import codes, counts
from app.hazards.models import (
    HAZARD_MACHINE,
    OPEN_STATUSES,
    ExtensionStatus,
    Hazard,
    HazardAction,
    HazardEvent,
    HazardExtension,
    HazardGrade,
    HazardScope,
    HazardStatus,
    handed_over,
)
from app.hazards.schemas import (
    AssignInput,
    DelistInput,
    EscalateInput,
    ExtensionGrantInput,
    ExtensionRefuseInput,
    ExtensionRequestInput,
    HazardCreate,
    HazardPublic,
    HazardUpdate,
    RejectInput,
    StartInput,
    SubmitRectificationInput,
    SuperviseInput,
    VerifyInput,
    VoidInput,
)
from app.hazards.visibility import SchoolFacts, may_register_at, visible_hazards
from app.orgs.models import Org, OrgKind, SchoolType
from app.plans.models import Plan, PlanHazard, PlanStatus
from app.users.models import Capability, Role

# The stored columns a response carries, in HazardPublic's order; the rest is derived.
DERIVED = frozenset({"overdue", "plan_ids", "allowed_actions"})
COLUMN_NAMES: tuple[str, ...] = tuple(n for n in HazardPublic.model_fields if n not in DERIVED)
_TABLE = Hazard.__table__  # type: ignore[attr-defined]
COLUMNS = tuple(_TABLE.c[n] for n in COLUMN_NAMES)

EDITABLE_STATUSES = frozenset(
    {HazardStatus.reported, HazardStatus.rectifying, HazardStatus.escalated}
)
SORT_KEYS = ("id", "found_on", "deadline", "reported_at", "code")
# A hazard without a deadline sorts after every dated one (keyset needs a non-null key).
NO_DEADLINE = date(9999, 12, 31)
MAX_Q = 100
# Per-caller memos (built statements, allowed actions) start over at this size.
_MEMO_SIZE = 4096


# ------------------------------------------------------------------------------------------
# Errors


def _not_found() -> NotFound:
    return NotFound(
        "hazard.not_found",
        zh="隐患不存在或您无权查看。",
        en="No such hazard, or you may not see it.",
    )


def _forbidden(action: str) -> Forbidden:
    return Forbidden(
        "hazard.forbidden_action",
        zh=f"您无权对该隐患执行“{_action_zh(action)}”。",
        en=f"You may not perform '{action}' on this hazard.",
    )


def _action_zh(action: str) -> str:
    try:
        return HazardAction(action).zh
    except ValueError:
        return action


def _invalid(code: str, field: str, zh: str, en: str) -> Invalid:
    return Invalid(f"hazard.{code}", zh=zh, en=en, errors=[field_error(field, code, zh, en)])


# ------------------------------------------------------------------------------------------
# Who may do what


def _is_school(principal: Principal, h: Mapping[str, Any]) -> bool:
    return principal.role == Role.school and principal.org_id == h["school_id"]


def _is_responsible(principal: Principal, h: Mapping[str, Any]) -> bool:
    return (
        principal.kind == "user"
        and principal.role in (Role.school, Role.department)
        and principal.org_id == h["responsible_org_id"]
    )


def _is_verifier(principal: Principal) -> bool:
    return principal.role == Role.office or (
        principal.kind == "user" and principal.can(Capability.inspector)
    )


def _may_edit(principal: Principal, h: Mapping[str, Any]) -> bool:
    return (
        principal.is_office
        or _is_school(principal, h)
        or (
            principal.kind == "user"
            and principal.role == Role.department
            and principal.org_id == h["reporter_org_id"]
        )
    )


ROLE_RULES: dict[str, Callable[[Principal, Mapping[str, Any]], bool]] = {
    "start": _is_responsible,
    # The school escalates what it cannot fix itself, while the work is still its own.
    "escalate": lambda p, h: _is_school(p, h) and h["responsible_org_id"] == h["school_id"],
    "assign": lambda p, h: p.is_office,
    "submit-rectification": _is_responsible,
    "verify": lambda p, h: _is_verifier(p),
    "reject": lambda p, h: _is_verifier(p),
    "void": lambda p, h: p.is_office,
    "supervise": lambda p, h: p.is_office,
    "delist": lambda p, h: p.is_office,
    "request-extension": _is_responsible,
    "grant-extension": lambda p, h: p.is_office,
    "refuse-extension": lambda p, h: p.is_office,
    "edit": _may_edit,
}


def _state_allows(action: str, h: Mapping[str, Any], pending_extension: bool) -> bool:
    status = h["status"]
    if action in HAZARD_MACHINE.moves:
        return status in HAZARD_MACHINE.moves[action].sources
    if action == "edit":
        return status in EDITABLE_STATUSES
    if action == "supervise":
        return (
            h["grade"] == HazardGrade.major
            and not h["supervised"]
            and status not in (HazardStatus.closed, HazardStatus.void)
        )
    if action == "delist":
        return bool(h["supervised"]) and status == HazardStatus.closed
    if action == "request-extension":
        return status in OPEN_STATUSES and h["deadline"] is not None and not pending_extension
    if action in ("grant-extension", "refuse-extension"):
        return pending_extension and status in OPEN_STATUSES
    return False


def allowed_actions(
    principal: Principal, h: Mapping[str, Any], *, pending_extension: bool
) -> list[str]:
    """The actions `principal` may take on the hazard right now, for the UI's buttons."""
    return [
        action
        for action, may in ROLE_RULES.items()
        if _state_allows(action, h, pending_extension) and may(principal, h)
    ]


def _check_role(principal: Principal, action: str, h: Mapping[str, Any]) -> None:
    if not ROLE_RULES[action](principal, h):
        raise _forbidden(action)


def _facts(hazard: "Hazard | Mapping[str, Any]") -> dict[str, Any]:
    """The stored columns of a hazard, from an ORM object or a row dict."""
    if isinstance(hazard, Hazard):
        return {n: getattr(hazard, n) for n in COLUMN_NAMES}
    return dict(hazard)


def is_overdue(deadline: date | None, status: HazardStatus, day: date | None = None) -> bool:
    return deadline is not None and deadline < (day or today()) and status in OPEN_STATUSES


# ------------------------------------------------------------------------------------------
# Output


class _id_list(FunctionElement[str]):
    """The ids of a correlated subquery as one comma-separated string (NULL when none):
    plan ids come back with the hazard row instead of in a second round trip."""

    type = String()
    inherit_cache = True
    name = "id_list"


@compiles(_id_list)
def _id_list_sqlite(element: _id_list, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)})"


@compiles(_id_list, "postgresql")
def _id_list_pg(element: _id_list, compiler: Any, **kw: Any) -> str:
    return f"string_agg(CAST({compiler.process(element.clauses, **kw)} AS TEXT), ',')"


_PLAN_TABLE = PlanHazard.__table__  # type: ignore[attr-defined]
_EXTENSION_TABLE = HazardExtension.__table__  # type: ignore[attr-defined]
_EVENT_TABLE = HazardEvent.__table__  # type: ignore[attr-defined]


def _derived_columns(hazard_id: Any) -> tuple[Any, Any]:
    """Plan ids and "has a pending extension" of the hazard whose id is `hazard_id`, as
    correlated subqueries (each one probe of an index on hazard_id)."""
    plans = (
        select(_id_list(_PLAN_TABLE.c.plan_id))
        .where(_PLAN_TABLE.c.hazard_id == hazard_id)
        .scalar_subquery()
        .label("plan_ids")
    )
    pending = (
        exists()
        .where(
            _EXTENSION_TABLE.c.hazard_id == hazard_id,
            _EXTENSION_TABLE.c.status == ExtensionStatus.pending,
        )
        .label("pending_extension")
    )
    return plans, pending


_N = len(COLUMN_NAMES)

# The stored columns allowed_actions and overdue depend on (ROLE_RULES and _state_allows
# read no others), in the order _Shaper takes them.
FACTS = (
    "status",
    "grade",
    "supervised",
    "deadline",
    "school_id",
    "responsible_org_id",
    "reporter_org_id",
)
_facts_of = itemgetter(*FACTS)


# allowed_actions depends on the principal and on these facts of a row only (the rules in
# ROLE_RULES and _state_allows compare the row's orgs with the caller's org and with each
# other, and read status, grade, supervision and whether there is a deadline). A page
# repeats few combinations, so each is worked out once per principal (with, for a register
# page, the JSON of the derived fields they give).
_ACTIONS_MEMO: Memo[Principal, dict[tuple[Any, ...], Any]] = Memo(_MEMO_SIZE)
_OPEN = frozenset(OPEN_STATUSES)


class _Shaper:
    """Adds the derived fields to stored columns, for one caller on one day."""

    __slots__ = ("day", "memo", "org", "principal")

    def __init__(self, principal: Principal, day: date | None = None) -> None:
        self.principal = principal
        self.org = principal.org_id
        self.day = day or today()
        self.memo = _ACTIONS_MEMO.get(principal, dict)

    def _derived(
        self, facts: Sequence[Any], pending: bool
    ) -> tuple[tuple[Any, ...], bool, tuple[str, ...]]:
        """(memo key, overdue, allowed actions) of a row whose FACTS are `facts`."""
        org = self.org
        status, grade, supervised, deadline, school, responsible, reporter = facts
        key = (
            status,
            grade,
            supervised,
            deadline is None,
            pending,
            school == org,
            responsible == org,
            reporter == org,
            responsible == school,
        )
        actions = self.memo.get(key)
        if actions is None:
            h = dict(zip(FACTS, facts, strict=True))
            actions = tuple(allowed_actions(self.principal, h, pending_extension=pending))
            self.memo[key] = actions
        overdue = deadline is not None and deadline < self.day and status in _OPEN
        return key, overdue, actions

    def __call__(self, h: dict[str, Any], plan_ids: list[int], pending: bool) -> dict[str, Any]:
        """Add the derived fields to `h` (in place)."""
        _, overdue, actions = self._derived(_facts_of(h), pending)
        h["overdue"] = overdue
        h["plan_ids"] = plan_ids
        h["allowed_actions"] = list(actions)
        return h

    def row(self, row: Sequence[Any]) -> dict[str, Any]:
        """A result row of COLUMNS + _derived_columns as the response dict."""
        h = dict(zip(COLUMN_NAMES, row, strict=False))  # stops before the derived columns
        return self(h, _plan_ids(row[_N]), bool(row[_N + 1]))

    def item(
        self, stored: bytes, facts: Sequence[Any], raw_plans: str | None, pending: Any
    ) -> Fragment:
        """The response item: `stored` (the stored columns' JSON object without its closing
        brace) with the derived fields appended, as `row` would give it once serialised."""
        key, overdue, actions = self._derived(facts, bool(pending))
        # Rows in no plan (most) share their derived fields' JSON with every row of the same
        # facts: kept beside the actions (a 2-tuple key; the actions' keys have 9 items).
        tail = self.memo.get((key, overdue)) if raw_plans is None else None
        if tail is None:
            derived = {
                "overdue": overdue,
                "plan_ids": _plan_ids(raw_plans),
                "allowed_actions": list(actions),
            }
            tail = b"," + dumps(derived)[1:]
            if raw_plans is None:
                self.memo[(key, overdue)] = tail
        return Fragment(stored + tail)


def _plan_ids(raw: str | None) -> list[int]:
    return sorted(int(i) for i in raw.split(",")) if raw else []


# ------------------------------------------------------------------------------------------
# Distance rule for surroundings venues


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (WGS-84 mean radius)."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))


def venue_distance(h: Mapping[str, Any], school: SchoolFacts) -> tuple[float | None, bool | None]:
    """(distance_m, venue_unlawful): metres from a surroundings venue to its school, and
    whether the law forbids the venue there.

    The internet-café rule names 中学、小学, so kindergartens are not covered by it; the
    provincial distances for dance and game halls are taken as given in settings.
    """
    venue_type, lat, lng = h.get("venue_type"), h.get("lat"), h.get("lng")
    if (
        h["scope"] != HazardScope.surroundings
        or venue_type is None
        or lat is None
        or lng is None
        or school.lat is None
        or school.lng is None
    ):
        return None, None
    distance = haversine_m(lat, lng, school.lat, school.lng)
    limit = get_settings().venue_limits_m.get(str(venue_type))
    if limit is None or school.school_type == SchoolType.kindergarten:
        return round(distance, 1), None
    return round(distance, 1), distance <= limit


# ------------------------------------------------------------------------------------------
# Register


@dataclass(frozen=True, slots=True)
class _School:
    id: int
    supervising_org_id: int | None
    lat: float | None
    lng: float | None
    school_type: SchoolType | None


_ORG_TABLE = Org.__table__  # type: ignore[attr-defined]
_SCHOOL = db.Prepared(
    sa_select(
        _ORG_TABLE.c.id,
        _ORG_TABLE.c.supervising_org_id,
        _ORG_TABLE.c.lat,
        _ORG_TABLE.c.lng,
        _ORG_TABLE.c.school_type,
    ).where(_ORG_TABLE.c.id == bindparam("school_id"), _ORG_TABLE.c.kind == OrgKind.school)
)


def _school(session: Session, school_id: int) -> _School:
    """The school's facts the register and edit paths need: five columns, not an ORM load
    (loading the Org was about an eighth of the CPU of registering a hazard, profiled)."""
    row = _SCHOOL.first(session.connection(), {"school_id": school_id})
    if row is None:
        raise _invalid(
            "unknown_school",
            "body.school_id",
            "学校不存在。",
            "No such school.",
        )
    return _School(*row)


def register(principal: Principal, data: HazardCreate) -> dict[str, Any]:
    """Register a hazard (登记) and report it upwards; a major one goes to the office at once."""
    with db.write() as session:
        h = _register_row(session, principal, data)
    # A new hazard is covered by no plan and has no extension request.
    return _Shaper(principal)(h, [], False)


def register_in(session: Session, principal: Principal, data: HazardCreate) -> Hazard:
    """`register` inside the caller's transaction, as an ORM object (the demo seeder)."""
    h = _register_row(session, principal, data)
    hazard = session.get(Hazard, h["id"])
    assert hazard is not None
    return hazard


_HAZARD_INSERT = db.Prepared(insert(_TABLE).returning(*COLUMNS))


def _register_row(session: Session, principal: Principal, data: HazardCreate) -> dict[str, Any]:
    """Insert the hazard, its timeline step, audit row, events and counters with Core
    statements; the stored row comes back from RETURNING, so nothing is read again."""
    campaign = ensure_writable(session, data.campaign_id)
    school = _school(session, data.school_id)
    if not may_register_at(principal, school):
        raise Forbidden(
            "hazard.forbidden_school",
            zh="您无权在该学校登记隐患。",
            en="You may not register hazards at this school.",
        )
    if principal.org_id is None:
        raise _forbidden("register")
    [code] = codes.reserve(session, campaign.year, 1)
    fields = data.model_dump()
    distance_m, venue_unlawful = venue_distance(fields, school)
    stamp = now()
    values = {
        **fields,
        "code": code,
        "reported_by": principal.actor,
        "reporter_org_id": principal.org_id,
        "responsible_org_id": data.school_id,
        "status": HazardStatus.reported,
        "supervised": False,
        "distance_m": distance_m,
        "venue_unlawful": venue_unlawful,
        "reported_at": stamp,
        "updated_at": stamp,
        "version": 1,
    }
    row = _HAZARD_INSERT.first(session.connection(), values)
    assert row is not None
    h = dict(zip(COLUMN_NAMES, row, strict=True))
    # The counters' flush listener sees ORM objects only.
    counts.add_bulk(session, [h])
    _timeline(session, principal, h, "register", None, HazardStatus.reported, at=stamp)
    audit.record(
        session,
        principal,
        action="hazard.register",
        object_type="hazard",
        object_id=h["id"],
        changes={"code": code, **data.model_dump(exclude_none=True)},
    )
    payload = {"code": code, "grade": h["grade"], "title": h["title"]}
    _emit(session, principal, h, "hazard.registered", payload)
    if h["grade"] == HazardGrade.major:
        _emit(session, principal, h, "hazard.major_reported", payload)
    return h


# ------------------------------------------------------------------------------------------
# Read


@dataclass(frozen=True)
class HazardFilter:
    campaign_id: int | None = None
    school_id: int | None = None
    status: tuple[HazardStatus, ...] = ()
    category: Any = None
    grade: Any = None
    scope: Any = None
    responsible_org_id: int | None = None
    # Whether `responsible_org_id` names a school: set by `resolve` (None until then). A
    # school's own hazards and a department's are found through different indexes.
    responsible_is_school: bool | None = None
    overdue: bool | None = None
    supervised: bool | None = None
    found_from: date | None = None
    found_to: date | None = None
    reported_from: date | None = None
    reported_to: date | None = None
    q: str | None = None


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=local_zone())


# Equality filters: HazardFilter field = column name.
_EQUAL_FILTERS = (
    "campaign_id",
    "school_id",
    "category",
    "grade",
    "scope",
    "supervised",
)


def resolve(conn: Connection, flt: HazardFilter) -> HazardFilter:
    """`flt` with `responsible_is_school` known (one lookup by primary key when the filter
    names a responsible org): every caller of `_where` passes a resolved filter."""
    if flt.responsible_org_id is None or flt.responsible_is_school is not None:
        return flt
    kind = conn.execute(
        sa_select(_ORG_TABLE.c.kind).where(_ORG_TABLE.c.id == flt.responsible_org_id)
    ).scalar()
    return replace(flt, responsible_is_school=kind == OrgKind.school)


def _filter_values(flt: HazardFilter) -> dict[str, Any]:
    """The bound values of the filters set in `flt`, by bind parameter name. `_where` builds
    its clauses on these names, so a statement built once for a combination of filters runs
    for any values given here."""
    values: dict[str, Any] = {}
    for name in _EQUAL_FILTERS:
        value = getattr(flt, name)
        if value is not None:
            values[f"f_{name}"] = value
    if flt.responsible_org_id is not None:
        if flt.responsible_is_school is None:
            raise RuntimeError("HazardFilter.responsible_org_id needs resolve() first")
        arm = "f_responsible_school" if flt.responsible_is_school else "f_responsible_org_id"
        values[arm] = flt.responsible_org_id
    if flt.status:
        values["f_status"] = list(flt.status)
    if flt.overdue is not None:
        values["f_today"] = today()
    if flt.found_from:
        values["f_found_from"] = flt.found_from
    if flt.found_to:
        values["f_found_to"] = flt.found_to
    # Reported dates are local days: from the start of `from` to the end of `to`.
    if flt.reported_from:
        values["f_reported_from"] = _local_midnight(flt.reported_from)
    if flt.reported_to:
        values["f_reported_to"] = _local_midnight(flt.reported_to + timedelta(days=1))
    return values


def _where(principal: Principal, flt: HazardFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [visible_hazards(principal)]
    values = _filter_values(flt)
    c = _TABLE.c

    def bound(name: str) -> Any:
        return bindparam(name, values[name], type_=c[name[2:]].type)

    for name in _EQUAL_FILTERS:
        if f"f_{name}" in values:
            clauses.append(c[name] == bound(f"f_{name}"))
    # A responsible org: a department's hazards are those handed over to it (the partial
    # indexes' condition), a school's those at it that it still answers for itself.
    if "f_responsible_org_id" in values:
        clauses += [c.responsible_org_id == bound("f_responsible_org_id"), handed_over()]
    if "f_responsible_school" in values:
        school = bindparam("f_responsible_school", values["f_responsible_school"], c.school_id.type)
        clauses += [c.school_id == school, c.responsible_org_id == c.school_id]
    if "f_status" in values:
        clauses.append(c.status.in_(bindparam("f_status", values["f_status"], expanding=True)))
    if flt.overdue is not None:
        overdue = and_(
            c.deadline.is_not(None),
            c.deadline < bindparam("f_today", values["f_today"], type_=c.deadline.type),
            c.status.in_(OPEN_STATUSES),
        )
        clauses.append(overdue if flt.overdue else not_(overdue))
    if "f_found_from" in values:
        clauses.append(
            c.found_on >= bindparam("f_found_from", values["f_found_from"], type_=c.found_on.type)
        )
    if "f_found_to" in values:
        clauses.append(
            c.found_on <= bindparam("f_found_to", values["f_found_to"], type_=c.found_on.type)
        )
    if "f_reported_from" in values:
        clauses.append(
            c.reported_at
            >= bindparam("f_reported_from", values["f_reported_from"], type_=c.reported_at.type)
        )
    if "f_reported_to" in values:
        clauses.append(
            c.reported_at
            < bindparam("f_reported_to", values["f_reported_to"], type_=c.reported_at.type)
        )
    if flt.q:
        q = flt.q[:MAX_Q]
        clauses.append(
            or_(
                c.title.contains(q, autoescape=True),
                c.code.contains(q, autoescape=True),
                c.location.contains(q, autoescape=True),
            )
        )
    return clauses


def _sort_key(columns: Any, key: str) -> Any:
    if key == "deadline":
        return func.coalesce(columns.deadline, NO_DEADLINE)
    return columns[key]


def _sort(sort: str) -> tuple[Any, Any, Callable[[Any], Any], SortDir]:
    """(key expression, cursor coercion, column value → key value, direction) for an
    allowed sort."""
    key, direction = parse_sort(sort, SORT_KEYS)
    if key == "deadline":
        return (
            _sort_key(_TABLE.c, key),
            date.fromisoformat,
            lambda value: value or NO_DEADLINE,
            direction,
        )
    coerce: Any = {"found_on": date.fromisoformat, "reported_at": datetime.fromisoformat}.get(key)
    if key == "id":
        coerce = int
    if key == "code":
        coerce = str
    return _sort_key(_TABLE.c, key), coerce, lambda value: value, direction


# What a register page reads of each row: what identifies the row's entry in
# _REPRESENTATIONS (id, version, updated_at), and the sort key for the next cursor.
# The stored columns' JSON, the FACTS, the plan ids and the pending-extension flag come
# from there, or from one more statement for the rows not there. A hazard's version moves
# whenever any of them does: its stored columns, a plan starting or stopping to cover it
# (plans_changed), an extension requested or decided (a step on its timeline).
_PAGE_NAMES = ("id", "version")
# (stored columns' JSON without its closing brace, FACTS, plan ids as the database lists
# them, pending extension) by hazard.
_Entry = tuple[bytes, tuple[Any, ...], str | None, bool]
_REPRESENTATIONS: Representations[_Entry] = Representations(get_settings().hazard_cache_rows)


def _page_names(key: str) -> tuple[str, ...]:
    """The columns a page sorted by `key` reads."""
    return _PAGE_NAMES if key in _PAGE_NAMES else (*_PAGE_NAMES, key)


def _stamp(columns: Any) -> Any:
    """`updated_at` as the driver returns it: only compared, never shown, so not converted."""
    return type_coerce(columns.updated_at, String).label("stamp")


# Built list statements by (caller, filters set, sort, cursor or not, limit): building one
# and computing its cache key costs more CPU than running it, so each is built once.
_LIST_MEMO: Memo[tuple[Any, ...], db.Prepared] = Memo(_MEMO_SIZE)


def _list_statement(
    principal: Principal, flt: HazardFilter, sort: str, has_cursor: bool, limit: int
) -> Any:
    """The page (limit + 1 rows, walked in index order by the keyset on (sort key, id)): the
    _page_names columns and updated_at. The plan ids and the pending-extension flag come
    with the row's cache entry: both change only with the row's version."""
    key, _, _, direction = _sort(sort)
    key_name = parse_sort(sort, SORT_KEYS)[0]
    names = _page_names(key_name)
    inner = sa_select(*(_TABLE.c[n] for n in names), _TABLE.c.updated_at).where(
        *_where(principal, flt)
    )
    pair = tuple_(key, _TABLE.c.id)
    if has_cursor:
        after = tuple_(
            bindparam("cursor_key", type_=key.type), bindparam("cursor_id", type_=_TABLE.c.id.type)
        )
        inner = inner.where(pair > after if direction == SortDir.asc else pair < after)
    ascending = direction == SortDir.asc
    order = (key.asc(), _TABLE.c.id.asc()) if ascending else (key.desc(), _TABLE.c.id.desc())
    page = inner.order_by(*order).limit(limit + 1).subquery("page")
    outer_key = _sort_key(page.c, key_name)
    outer_order = (
        (outer_key.asc(), page.c.id.asc()) if ascending else (outer_key.desc(), page.c.id.desc())
    )
    return sa_select(*(page.c[n] for n in names), _stamp(page.c)).order_by(*outer_order)


def _list_prepared(
    principal: Principal,
    flt: HazardFilter,
    params: dict[str, Any],
    sort: str,
    has_cursor: bool,
    limit: int,
) -> db.Prepared:
    def build() -> db.Prepared:
        return db.Prepared(_list_statement(principal, flt, sort, has_cursor, limit))

    if flt.q:  # the search text is escaped into the statement: not reusable
        return build()
    return _LIST_MEMO.get((principal, tuple(params), flt.overdue, sort, limit), build)


def _rows_statement(principal: Principal) -> Any:
    """Whole rows by id (those of a page not in _REPRESENTATIONS), with the caller's
    visibility rule: a row that stopped being visible since the page was read is left out."""
    return sa_select(*COLUMNS, _stamp(_TABLE.c), *_derived_columns(_TABLE.c.id)).where(
        _TABLE.c.id.in_(bindparam("ids", expanding=True)), visible_hazards(principal)
    )


_ROWS_MEMO: Memo[Principal, db.Prepared] = Memo(_MEMO_SIZE)


def _items(conn: Connection, principal: Principal, page: Sequence[Sequence[Any]]) -> list[Any]:
    """The response items of `page` (rows of _page_names, then stamp): each the stored
    columns' JSON with the derived fields appended."""
    shape = _Shaper(principal)
    cached = _REPRESENTATIONS.lookup([(r[0], r[1], r[-1]) for r in page])
    missing = [r[0] for r, hit in zip(page, cached, strict=True) if hit is None]
    fresh: dict[int, Fragment] = {}
    if missing:
        # Read whole now: each of these items is then one consistent row, even if it
        # changed since the page was read.
        made = []
        rows = _ROWS_MEMO.get(principal, lambda: db.Prepared(_rows_statement(principal)))
        for row in rows.all(conn, {"ids": missing}):
            h = dict(zip(COLUMN_NAMES, row, strict=False))
            # A slice: a bytes object of its own size. orjson's output keeps the ~16 KB
            # buffer it was written in (20,000 rows held 317 MB, traced).
            entry = (dumps(h)[:-1], _facts_of(h), row[_N + 1], bool(row[_N + 2]))
            made.append(((h["id"], h["version"], row[_N]), entry))
            fresh[h["id"]] = shape.item(*entry)
        _REPRESENTATIONS.store(made)
    items = []
    for r, hit in zip(page, cached, strict=True):
        if hit is not None:
            items.append(shape.item(*hit))
        elif r[0] in fresh:
            items.append(fresh[r[0]])
    return items


def list_hazards(
    conn: Connection,
    principal: Principal,
    flt: HazardFilter,
    *,
    sort: str,
    cursor: str | None,
    limit: int,
    with_total: bool = False,
) -> dict[str, Any]:
    """A page of the register: {"items", "next_cursor", "total"}, the items already
    serialised (orjson Fragments)."""
    _, coerce, key_value, _ = _sort(sort)
    flt = resolve(conn, flt)
    params = _filter_values(flt)
    if cursor:
        params["cursor_key"], params["cursor_id"] = cursor_position(cursor, coerce)
    page = _list_prepared(principal, flt, params, sort, bool(cursor), limit).all(conn, params)
    total = None
    if with_total:
        total = conn.execute(
            select(func.count()).select_from(_TABLE).where(*_where(principal, flt))
        ).scalar_one()
    key_name = parse_sort(sort, SORT_KEYS)[0]
    at = _page_names(key_name).index(key_name)
    kept, next_cursor = split_page(page, limit, lambda r: (key_value(r[at]), r[0]))
    return {"items": _items(conn, principal, kept), "next_cursor": next_cursor, "total": total}


def _get_statement(principal: Principal) -> Any:
    """The get-by-id statement for this caller: the hazard's columns, plan ids and pending
    flag in one round trip, with the caller's visibility rule."""
    return sa_select(*COLUMNS, *_derived_columns(_TABLE.c.id)).where(
        _TABLE.c.id == bindparam("hazard_id"), visible_hazards(principal)
    )


_GET_MEMO: Memo[Principal, db.Prepared] = Memo(_MEMO_SIZE)


def _get_prepared(principal: Principal) -> db.Prepared:
    return _GET_MEMO.get(principal, lambda: db.Prepared(_get_statement(principal)))


def get(conn: Connection, principal: Principal, hazard_id: int) -> dict[str, Any]:
    row = _get_prepared(principal).first(conn, {"hazard_id": hazard_id})
    if row is None:
        raise _not_found()
    return _Shaper(principal).row(row)


def _ensure_visible(session: Session, principal: Principal, hazard_id: int) -> None:
    found = session.execute(
        select(col(Hazard.id)).where(col(Hazard.id) == hazard_id, visible_hazards(principal))
    ).first()
    if found is None:
        raise _not_found()


def list_events(
    principal: Principal, hazard_id: int, *, cursor: str | None, limit: int
) -> tuple[list[HazardEvent], str | None]:
    """The timeline, oldest first."""
    with db.read() as session:
        _ensure_visible(session, principal, hazard_id)
        stmt = keyset(
            select(HazardEvent).where(col(HazardEvent.hazard_id) == hazard_id),
            key=col(HazardEvent.id),
            id_col=col(HazardEvent.id),
            direction=SortDir.asc,
            cursor=cursor,
            limit=limit,
            coerce=int,
        )
        rows = session.exec(stmt).all()
    page, next_cursor = split_page(rows, limit, lambda e: (e.id, e.id))
    return list(page), next_cursor


def list_extensions(
    principal: Principal, hazard_id: int, *, cursor: str | None, limit: int
) -> tuple[list[HazardExtension], str | None]:
    with db.read() as session:
        _ensure_visible(session, principal, hazard_id)
        stmt = keyset(
            select(HazardExtension).where(col(HazardExtension.hazard_id) == hazard_id),
            key=col(HazardExtension.id),
            id_col=col(HazardExtension.id),
            direction=SortDir.asc,
            cursor=cursor,
            limit=limit,
            coerce=int,
        )
        rows = session.exec(stmt).all()
    page, next_cursor = split_page(rows, limit, lambda e: (e.id, e.id))
    return list(page), next_cursor


# ------------------------------------------------------------------------------------------
# Writing helpers


@dataclass
class _Current:
    """A hazard row locked for an action, with what its response needs besides the row."""

    h: dict[str, Any]
    plan_ids: list[int]
    pending: bool

    def respond(
        self, principal: Principal, after: dict[str, Any], *, pending: bool | None = None
    ) -> dict[str, Any]:
        """The response after the action: its plans did not change; its pending extension
        did only when the action says so."""
        return _Shaper(principal)(
            after, self.plan_ids, self.pending if pending is None else pending
        )


_LOCK_MEMO: Memo[Principal, db.Prepared] = Memo(_MEMO_SIZE)


def _locked(session: Session, principal: Principal, hazard_id: int) -> _Current:
    """The visible hazard, row-locked (PostgreSQL; SQLite's write transaction already is),
    with its plan ids and pending flag, in one statement built once per caller."""
    locked = _LOCK_MEMO.get(
        principal,
        lambda: db.Prepared(
            sa_select(*COLUMNS, *_derived_columns(_TABLE.c.id))
            .where(_TABLE.c.id == bindparam("hazard_id"), visible_hazards(principal))
            .with_for_update(of=_TABLE)
        ),
    )
    row = locked.first(session.connection(), {"hazard_id": hazard_id})
    if row is None:
        raise _not_found()
    return _Current(
        dict(zip(COLUMN_NAMES, row, strict=False)), _plan_ids(row[_N]), bool(row[_N + 1])
    )


_EVENT_INSERT = db.Prepared(insert(_EVENT_TABLE))


def _timeline(
    session: Session,
    principal: Principal | None,
    h: Mapping[str, Any],
    action: str,
    from_status: HazardStatus | None,
    to_status: HazardStatus | None,
    *,
    comment: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    _EVENT_INSERT.execute(
        session.connection(),
        {
            "hazard_id": h["id"],
            "at": at or now(),
            "action": HazardAction(action),
            "actor": principal.actor if principal else "system",
            "actor_org_id": principal.org_id if principal else None,
            "from_status": from_status,
            "to_status": to_status,
            "comment": comment,
            "data": audit.plain(data or {}),
        },
    )


def _emit(
    session: Session,
    principal: Principal | None,
    h: Mapping[str, Any],
    type: str,
    payload: dict[str, Any],
) -> None:
    events.emit(
        session,
        principal,
        type=type,
        subject_type="hazard",
        subject_id=h["id"],
        campaign_id=h["campaign_id"],
        school_id=h["school_id"],
        org_id=h["responsible_org_id"],
        payload={"code": h["code"], **payload},
    )


def _deadline(deadline: date | None, working_days: int | None) -> date | None:
    if working_days is not None:
        return add_working_days(today(), working_days)
    return deadline


@dataclass
class _Step:
    """What an action changes besides the status."""

    comment: str | None = None
    data: dict[str, Any] | None = None
    fields: dict[str, Any] | None = None


# One UPDATE … RETURNING per set of changed columns, built once.
_UPDATE_MEMO: Memo[tuple[str, ...], db.Prepared] = Memo(_MEMO_SIZE)


def _update_statement(names: tuple[str, ...]) -> db.Prepared:
    return _UPDATE_MEMO.get(
        names,
        lambda: db.Prepared(
            sa_update(_TABLE)
            .where(_TABLE.c.id == bindparam("hazard_id"))
            .values({n: bindparam(f"new_{n}", type_=_TABLE.c[n].type) for n in names})
            .returning(*COLUMNS)
        ),
    )


def _count_change(session: Session, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    """Move the hazard between statistics counters after a Core update: the counters'
    flush listener (app.hazards.counts) sees ORM objects only."""
    old, new = counts.key_of(before), counts.key_of(after)
    if old != new:
        counts.apply(session, {old: -1, new: 1})


def _store(
    session: Session,
    hazard: "Hazard | Mapping[str, Any]",
    changes: dict[str, Any],
    *,
    silent: Mapping[str, Any] | None = None,
    stamp: datetime | None = None,
) -> dict[str, Any]:
    """Write `changes` (and `silent` ones), bump version and updated_at, in one statement;
    returns the stored row. A loaded ORM object (the demo seeder, plans) is kept in step."""
    before = _facts(hazard)
    values = {
        **changes,
        **(silent or {}),
        "updated_at": stamp or now(),
        "version": before["version"] + 1,
    }
    names = tuple(sorted(values))
    params = {f"new_{n}": v for n, v in values.items()}
    params["hazard_id"] = before["id"]
    row = _update_statement(names).first(session.connection(), params)
    assert row is not None
    after = dict(zip(COLUMN_NAMES, row, strict=True))
    _count_change(session, before, after)
    if isinstance(hazard, Hazard):
        for name in names:
            set_committed_value(hazard, name, after[name])
    return after


def plans_changed(session: Session, hazard_ids: Iterable[int]) -> None:
    """The plans covering these hazards changed, and with them each one's `plan_ids`: a new
    version and updated_at, in the caller's transaction, so the ETag changes with the
    representation (and register pages read it again, app/core/representations.py)."""
    ids = sorted(set(hazard_ids))
    stamp = now()
    for start in range(0, len(ids), 500):
        session.execute(
            sa_update(_TABLE)
            .where(_TABLE.c.id.in_(ids[start : start + 500]))
            .values(version=_TABLE.c.version + 1, updated_at=stamp)
        )


_STAGE_STAMPS = {
    "start": "started_at",
    "escalate": "escalated_at",
    "assign": "assigned_at",
    "submit-rectification": "rectified_at",
    "plan-completed": "rectified_at",
    "verify": "closed_at",
    "void": "voided_at",
}


def _move(
    session: Session,
    principal: Principal | None,
    hazard: "Hazard | Mapping[str, Any]",
    action: str,
    step: _Step,
) -> dict[str, Any]:
    """Apply a status move (already permitted) with its timeline, audit and event; returns
    the stored row."""
    source = hazard.status if isinstance(hazard, Hazard) else hazard["status"]
    target = HAZARD_MACHINE.target(action, source)
    stamp = now()
    changes: dict[str, Any] = {"status": target}
    stage = _STAGE_STAMPS.get(action)
    if stage:
        changes[stage] = stamp
    changes.update(step.fields or {})
    after = _store(session, hazard, changes, stamp=stamp)
    _timeline(
        session,
        principal,
        after,
        action,
        source,
        target,
        comment=step.comment,
        data=step.data,
        at=stamp,
    )
    audit.record(
        session,
        principal,
        action=f"hazard.{action}",
        object_type="hazard",
        object_id=after["id"],
        changes={
            "status": [source, target],
            **(step.fields or {}),
            **({"comment": step.comment} if step.comment else {}),
            **(step.data or {}),
        },
    )
    _emit(
        session,
        principal,
        after,
        "hazard.status_changed",
        {"action": action, "from": source, "to": target, **(step.data or {})},
    )
    return after


def _note(
    session: Session,
    principal: Principal,
    hazard: "Hazard | Mapping[str, Any]",
    action: str,
    event_type: str,
    step: _Step,
    *,
    silent: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A step on the timeline that does not move the status (supervision, extensions,
    edits). `silent` columns are stored without being repeated in the audit row."""
    after = _store(session, hazard, dict(step.fields or {}), silent=silent)
    _timeline(
        session,
        principal,
        after,
        action,
        after["status"],
        after["status"],
        comment=step.comment,
        data=step.data,
    )
    audit.record(
        session,
        principal,
        action=f"hazard.{action}",
        object_type="hazard",
        object_id=after["id"],
        changes={
            **(step.fields or {}),
            **({"comment": step.comment} if step.comment else {}),
            **(step.data or {}),
        },
    )
    _emit(session, principal, after, event_type, {"action": action, **(step.data or {})})
    return after


def _begin(
    session: Session, principal: Principal, hazard_id: int, action: str, if_match: str | None
) -> _Current:
    """Lock, check If-Match, the campaign, the caller's role, then the machine."""
    cur = _locked(session, principal, hazard_id)
    h = cur.h
    check_if_match(if_match, h["version"], required=False)
    _check_role(principal, action, h)
    if action in HAZARD_MACHINE.moves:
        HAZARD_MACHINE.target(action, h["status"])
    ensure_writable(session, h["campaign_id"])
    return cur


def _department(session: Session, org_id: int, field: str) -> Org:
    org = session.get(Org, org_id)
    if org is None or org.kind != OrgKind.department:
        raise _invalid(
            "not_department", field, "必须是已存在的部门。", "Must be an existing department."
        )
    return org


def _has_approved_plan(session: Session, hazard_id: int) -> bool:
    stmt = (
        select(col(PlanHazard.id))
        .join(Plan, col(Plan.id) == col(PlanHazard.plan_id))
        .where(
            col(PlanHazard.hazard_id) == hazard_id,
            col(Plan.status).in_((PlanStatus.approved, PlanStatus.completed)),
        )
    )
    return session.exec(stmt).first() is not None


# ------------------------------------------------------------------------------------------
# Actions


def start(
    principal: Principal, hazard_id: int, body: StartInput, if_match: str | None
) -> dict[str, Any]:
    with db.write() as session:
        cur = _begin(session, principal, hazard_id, "start", if_match)
        fields: dict[str, Any] = {}
        deadline = _deadline(body.deadline, body.deadline_working_days)
        if deadline is not None:
            fields = {"deadline": deadline, "deadline_working_days": body.deadline_working_days}
        after = _move(session, principal, cur.h, "start", _Step(body.comment, dict(fields), fields))
        return cur.respond(principal, after)


def escalate(
    principal: Principal, hazard_id: int, body: EscalateInput, if_match: str | None
) -> dict[str, Any]:
    with db.write() as session:
        cur = _begin(session, principal, hazard_id, "escalate", if_match)
        after = _move(
            session,
            principal,
            cur.h,
            "escalate",
            _Step(body.reason, None, {"escalation_reason": body.reason}),
        )
        return cur.respond(principal, after)


def assign(
    principal: Principal, hazard_id: int, body: AssignInput, if_match: str | None
) -> dict[str, Any]:
    with db.write() as session:
        cur = _begin(session, principal, hazard_id, "assign", if_match)
        _department(session, body.org_id, "body.org_id")
        fields = {
            "responsible_org_id": body.org_id,
            "deadline": _deadline(body.deadline, body.deadline_working_days),
            "deadline_working_days": body.deadline_working_days,
        }
        after = _move(
            session, principal, cur.h, "assign", _Step(body.comment, dict(fields), fields)
        )
        return cur.respond(principal, after)


def submit_rectification(
    principal: Principal, hazard_id: int, body: SubmitRectificationInput, if_match: str | None
) -> dict[str, Any]:
    with db.write() as session:
        cur = _begin(session, principal, hazard_id, "submit-rectification", if_match)
        if cur.h["grade"] == HazardGrade.major and not _has_approved_plan(session, hazard_id):
            raise Conflict(
                "hazard.plan_required",
                zh="重大隐患须有已批准的整改方案后才能提交整改结果。",
                en="A major hazard needs an approved rectification plan before it is rectified.",
            )
        require_attachments(session, body.attachment_ids, AttachmentParent.hazard, hazard_id)
        after = _move(
            session,
            principal,
            cur.h,
            "submit-rectification",
            _Step(
                body.note,
                {"attachment_ids": body.attachment_ids},
                {"rectification_note": body.note},
            ),
        )
        return cur.respond(principal, after)


def _review(
    principal: Principal,
    hazard_id: int,
    action: str,
    comment: str | None,
    attachment_ids: list[int],
    if_match: str | None,
) -> dict[str, Any]:
    """Verification (复查) either way: `verify` closes, `reject` sends it back."""
    with db.write() as session:
        cur = _begin(session, principal, hazard_id, action, if_match)
        require_attachments(session, attachment_ids, AttachmentParent.hazard, hazard_id)
        data = {"attachment_ids": attachment_ids} if attachment_ids else None
        after = _move(session, principal, cur.h, action, _Step(comment, data))
        return cur.respond(principal, after)


def verify(
    principal: Principal, hazard_id: int, body: VerifyInput, if_match: str | None
) -> dict[str, Any]:
    return _review(principal, hazard_id, "verify", body.comment, body.attachment_ids, if_match)


def reject(
    principal: Principal, hazard_id: int, body: RejectInput, if_match: str | None
) -> dict[str, Any]:
    return _review(principal, hazard_id, "reject", body.comment, body.attachment_ids, if_match)


def void(
    principal: Principal, hazard_id: int, body: VoidInput, if_match: str | None
) -> dict[str, Any]:
    with db.write() as session:
        cur = _begin(session, principal, hazard_id, "void", if_match)
        if body.duplicate_of_id is not None:
            original = session.exec(
                select(Hazard.id, Hazard.status).where(
                    col(Hazard.id) == body.duplicate_of_id, visible_hazards(principal)
                )
            ).first()
            if original is None or original[0] == hazard_id or original[1] == HazardStatus.void:
                raise _invalid(
                    "bad_duplicate",
                    "body.duplicate_of_id",
                    "重复的原隐患必须是另一条未作废的隐患。",
                    "The original must be another hazard that is not void.",
                )
        fields = {"void_reason": body.reason, "duplicate_of_id": body.duplicate_of_id}
        data = {"duplicate_of_id": body.duplicate_of_id} if body.duplicate_of_id else None
        after = _move(session, principal, cur.h, "void", _Step(body.reason, data, fields))
        return cur.respond(principal, after)


def supervise(
    principal: Principal, hazard_id: int, body: SuperviseInput, if_match: str | None
) -> dict[str, Any]:
    """Listed supervision (挂牌督办) of a major hazard."""
    with db.write() as session:
        cur = _begin(session, principal, hazard_id, "supervise", if_match)
        if cur.h["grade"] != HazardGrade.major:
            raise Conflict(
                "hazard.not_major",
                zh="只有重大隐患可以挂牌督办。",
                en="Only major hazards can be put under listed supervision.",
            )
        if cur.h["supervised"]:
            raise Conflict(
                "hazard.already_supervised",
                zh="该隐患已挂牌督办。",
                en="Already under supervision.",
            )
        if cur.h["status"] in (HazardStatus.closed, HazardStatus.void):
            raise Conflict(
                "hazard.invalid_transition",
                zh="已销号或已作废的隐患不能挂牌督办。",
                en="A closed or void hazard cannot be put under supervision.",
            )
        sup = session.get(Org, body.supervising_org_id)
        if sup is None or sup.kind == OrgKind.school:
            raise _invalid(
                "bad_supervisor",
                "body.supervising_org_id",
                "督办单位必须是办公室或部门。",
                "The supervising org must be the office or a department.",
            )
        fields = {
            "supervised": True,
            "supervision_notice_no": body.notice_no,
            "supervising_org_id": body.supervising_org_id,
            "supervision_deadline": body.deadline,
            "supervised_at": now(),
            "delisted_at": None,
        }
        data = {
            "notice_no": body.notice_no,
            "supervising_org_id": body.supervising_org_id,
            "deadline": body.deadline,
        }
        after = _note(
            session,
            principal,
            cur.h,
            "supervise",
            "hazard.supervised",
            _Step(body.comment, data, fields),
        )
        return cur.respond(principal, after, pending=False)


def delist(
    principal: Principal, hazard_id: int, body: DelistInput, if_match: str | None
) -> dict[str, Any]:
    """Remove listed supervision (摘牌), only once the hazard is verified and closed."""
    with db.write() as session:
        cur = _begin(session, principal, hazard_id, "delist", if_match)
        if not cur.h["supervised"]:
            raise Conflict(
                "hazard.not_supervised", zh="该隐患未挂牌督办。", en="The hazard is not supervised."
            )
        if cur.h["status"] != HazardStatus.closed:
            raise Conflict(
                "hazard.not_closed",
                zh="隐患复查合格销号后才能摘牌。",
                en="Supervision is removed only after the hazard is verified and closed.",
            )
        fields = {"supervised": False, "delisted_at": now()}
        after = _note(
            session,
            principal,
            cur.h,
            "delist",
            "hazard.delisted",
            _Step(body.comment, None, fields),
        )
        return cur.respond(principal, after)


def _ensure_open(h: Mapping[str, Any]) -> None:
    if h["status"] not in OPEN_STATUSES:
        raise Conflict(
            "hazard.not_open",
            zh="隐患已整改、销号或作废,期限不再适用。",
            en="The hazard is no longer open; its deadline no longer applies.",
        )


def request_extension(
    principal: Principal, hazard_id: int, body: ExtensionRequestInput, if_match: str | None
) -> dict[str, Any]:
    with db.write() as session:
        cur = _begin(session, principal, hazard_id, "request-extension", if_match)
        _ensure_open(cur.h)
        if cur.h["deadline"] is None:
            raise Conflict(
                "hazard.no_deadline",
                zh="该隐患没有整改期限,无需延期。",
                en="The hazard has no deadline to extend.",
            )
        if body.requested_deadline <= cur.h["deadline"]:
            raise _invalid(
                "extension_not_later",
                "body.requested_deadline",
                "申请的期限必须晚于当前期限。",
                "The requested deadline must be after the current one.",
            )
        if cur.pending:
            raise Conflict(
                "hazard.extension_pending",
                zh="已有一项延期申请待审批。",
                en="An extension request is already pending.",
            )
        assert principal.org_id is not None
        extension = HazardExtension(
            hazard_id=hazard_id,
            requested_by=principal.actor,
            requested_org_id=principal.org_id,
            reason=body.reason,
            requested_deadline=body.requested_deadline,
        )
        session.add(extension)
        session.flush()
        data = {
            "extension_id": extension.id,
            "current_deadline": cur.h["deadline"],
            "requested_deadline": body.requested_deadline,
        }
        after = _note(
            session,
            principal,
            cur.h,
            "request-extension",
            "hazard.extension_requested",
            _Step(body.reason, data),
        )
        return cur.respond(principal, after, pending=True)


def _decidable(session: Session, h: Mapping[str, Any], extension_id: int) -> HazardExtension:
    extension = session.exec(
        select(HazardExtension)
        .where(
            col(HazardExtension.id) == extension_id,
            col(HazardExtension.hazard_id) == h["id"],
        )
        .with_for_update()
    ).first()
    if extension is None:
        raise _invalid(
            "unknown_extension",
            "body.extension_id",
            "该隐患没有这项延期申请。",
            "This hazard has no such extension request.",
        )
    if extension.status != ExtensionStatus.pending:
        raise Conflict(
            "hazard.extension_decided",
            zh="该延期申请已处理。",
            en="This extension request has already been decided.",
        )
    _ensure_open(h)
    return extension


def grant_extension(
    principal: Principal, hazard_id: int, body: ExtensionGrantInput, if_match: str | None
) -> dict[str, Any]:
    with db.write() as session:
        cur = _begin(session, principal, hazard_id, "grant-extension", if_match)
        extension = _decidable(session, cur.h, body.extension_id)
        new_deadline = body.deadline or extension.requested_deadline
        extension.status = ExtensionStatus.granted
        extension.decided_by = principal.actor
        extension.decided_at = now()
        extension.decision_comment = body.comment
        extension.granted_deadline = new_deadline
        session.add(extension)
        data = {
            "extension_id": extension.id,
            "previous_deadline": cur.h["deadline"],
            "deadline": new_deadline,
        }
        fields = {"deadline": new_deadline, "deadline_working_days": None}
        after = _note(
            session,
            principal,
            cur.h,
            "grant-extension",
            "hazard.extension_granted",
            _Step(body.comment, data, fields),
        )
        return cur.respond(principal, after, pending=False)


def refuse_extension(
    principal: Principal, hazard_id: int, body: ExtensionRefuseInput, if_match: str | None
) -> dict[str, Any]:
    with db.write() as session:
        cur = _begin(session, principal, hazard_id, "refuse-extension", if_match)
        extension = _decidable(session, cur.h, body.extension_id)
        extension.status = ExtensionStatus.refused
        extension.decided_by = principal.actor
        extension.decided_at = now()
        extension.decision_comment = body.comment
        session.add(extension)
        after = _note(
            session,
            principal,
            cur.h,
            "refuse-extension",
            "hazard.extension_refused",
            _Step(body.comment, {"extension_id": extension.id}),
        )
        return cur.respond(principal, after, pending=False)


def update(
    principal: Principal, hazard_id: int, body: HazardUpdate, if_match: str | None
) -> dict[str, Any]:
    """Correct descriptive fields while the hazard is still being handled."""
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    with db.write() as session:
        cur = _locked(session, principal, hazard_id)
        check_if_match(if_match, cur.h["version"])
        _check_role(principal, "edit", cur.h)
        if cur.h["status"] not in EDITABLE_STATUSES:
            raise Conflict(
                "hazard.not_editable",
                zh="只有已登记、整改中或已上报的隐患可以修改。",
                en="Only reported, rectifying or escalated hazards can be corrected.",
            )
        ensure_writable(session, cur.h["campaign_id"])
        diff = audit.diff(cur.h, changes)
        derived: dict[str, Any] = {}
        if "lat" in changes:
            school = _school(session, cur.h["school_id"])
            derived["distance_m"], derived["venue_unlawful"] = venue_distance(
                {**cur.h, **changes}, school
            )
        after = _note(
            session,
            principal,
            cur.h,
            "edit",
            "hazard.updated",
            _Step(None, {"changes": diff}),
            silent={**changes, **derived},
        )
        return cur.respond(principal, after)


# ------------------------------------------------------------------------------------------
# Called by the plans capability


def rectify_by_plan(
    session: Session, principal: Principal, *, plan_id: int, hazard_ids: list[int]
) -> list[int]:
    """A completed plan marks the hazards it covers rectified (awaiting verification).

    Runs inside the caller's transaction; hazards not `rectifying` or `rejected` are left as
    they are. Returns the ids moved.
    """
    if not hazard_ids:
        return []
    hazards = session.exec(
        select(Hazard)
        .where(col(Hazard.id).in_(hazard_ids))
        .order_by(col(Hazard.id))
        .with_for_update()
    ).all()
    sources = HAZARD_MACHINE.moves["plan-completed"].sources
    moved: list[int] = []
    for hazard in hazards:
        if hazard.status not in sources:
            continue
        _move(session, principal, hazard, "plan-completed", _Step(None, {"plan_id": plan_id}))
        assert hazard.id is not None
        moved.append(hazard.id)
    return moved


def timeline_attachment_ids(data: Mapping[str, Any]) -> list[int]:
    ids: Iterable[Any] = data.get("attachment_ids") or []
    return [i for i in ids if isinstance(i, int)]
