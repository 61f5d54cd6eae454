"""Inspections (检查/督查) and the hazards registered from them.

A school inspects itself; inspection groups (inspectors, or a department at the schools it
supervises) inspect schools; oversight (监察) users check whether measures were carried out.
An inspection and its hazards are linked both ways: `Hazard.inspection_id` points at the
inspection, and the inspection lists the hazards that point at it.
"""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.auth.principal import Principal
from app.campaigns.service import ensure_writable
from app.core import db
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, field_error
from app.core.etag import check_if_match
from app.core.pagination import keyset, parse_sort, split_page
from app.core.time import now, today
from app.events import service as events
from app.hazards.models import Hazard
from app.hazards.visibility import visible_hazards
from app.inspections.models import Inspection, InspectionKind, InspectionResult
from app.inspections.schemas import HazardLinks, InspectionCreate, InspectionPublic
from app.inspections.visibility import may_act_on, visible_inspections
from app.orgs.models import Org, OrgKind
from app.orgs.service import visible_orgs
from app.users.models import Capability, Role

SORT_KEYS = ("inspected_on", "id")


def _not_found() -> NotFound:
    return NotFound(
        "inspection.not_found",
        zh="检查记录不存在或您无权查看。",
        en="No such inspection, or you may not see it.",
    )


def _hazard_ids(
    session: Session, principal: Principal, inspection_ids: Sequence[int]
) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {i: [] for i in inspection_ids}
    if not inspection_ids:
        return out
    rows = session.exec(
        select(col(Hazard.inspection_id), col(Hazard.id))
        .where(col(Hazard.inspection_id).in_(inspection_ids), visible_hazards(principal))
        .order_by(col(Hazard.id))
    ).all()
    for inspection_id, hazard_id in rows:
        if inspection_id is not None and hazard_id is not None:
            out[inspection_id].append(hazard_id)
    return out


def _publics(
    session: Session, principal: Principal, rows: Sequence[Inspection]
) -> list[InspectionPublic]:
    links = _hazard_ids(session, principal, [r.id for r in rows if r.id is not None])
    return [
        InspectionPublic.model_validate({**r.model_dump(), "hazard_ids": links.get(r.id or 0, [])})
        for r in rows
    ]


def _visible(session: Session, principal: Principal, inspection_id: int) -> Inspection:
    row = session.exec(
        select(Inspection).where(
            col(Inspection.id) == inspection_id, visible_inspections(principal)
        )
    ).first()
    if row is None:
        raise _not_found()
    return row


def get(principal: Principal, inspection_id: int) -> InspectionPublic:
    with db.read() as session:
        return _publics(session, principal, [_visible(session, principal, inspection_id)])[0]


def list_inspections(
    principal: Principal,
    *,
    campaign_id: int | None,
    school_id: int | None,
    kind: InspectionKind | None,
    result: InspectionResult | None,
    inspected_from: date | None,
    inspected_to: date | None,
    sort: str,
    cursor: str | None,
    limit: int,
) -> tuple[list[InspectionPublic], str | None]:
    key, direction = parse_sort(sort, SORT_KEYS)
    conds: list[ColumnElement[bool]] = [visible_inspections(principal)]
    if campaign_id is not None:
        conds.append(col(Inspection.campaign_id) == campaign_id)
    if school_id is not None:
        conds.append(col(Inspection.school_id) == school_id)
    if kind is not None:
        conds.append(col(Inspection.kind) == kind)
    if result is not None:
        conds.append(col(Inspection.result) == result)
    if inspected_from is not None:
        conds.append(col(Inspection.inspected_on) >= inspected_from)
    if inspected_to is not None:
        conds.append(col(Inspection.inspected_on) <= inspected_to)
    by_date = key == "inspected_on"
    stmt = keyset(
        select(Inspection).where(*conds),
        key=col(Inspection.inspected_on) if by_date else col(Inspection.id),
        id_col=col(Inspection.id),
        direction=direction,
        cursor=cursor,
        limit=limit,
        coerce=date.fromisoformat if by_date else None,
    )
    with db.read() as session:
        rows = session.exec(stmt).all()
        page, next_cursor = split_page(
            rows, limit, lambda r: (r.inspected_on if by_date else r.id, r.id)
        )
        return _publics(session, principal, page), next_cursor


def _may_inspect(principal: Principal, kind: InspectionKind, school: Org) -> bool:
    if kind == InspectionKind.self_inspection:
        return principal.role == Role.school and principal.org_id == school.id
    if kind == InspectionKind.oversight:
        return principal.can(Capability.oversight)
    return (
        principal.is_office
        or principal.can(Capability.inspector)
        or (principal.role == Role.department and school.supervising_org_id == principal.org_id)
    )


def create(principal: Principal, data: InspectionCreate) -> InspectionPublic:
    if data.inspected_on > today():
        raise Invalid(
            "inspection.future_date",
            zh="检查日期不能晚于今天。",
            en="The inspection date cannot be in the future.",
            errors=[field_error("body.inspected_on", "future", "不能晚于今天", "in the future")],
        )
    with db.write() as session:
        ensure_writable(session, data.campaign_id)
        school = session.exec(
            select(Org).where(
                col(Org.id) == data.school_id,
                col(Org.kind) == OrgKind.school,
                visible_orgs(principal),
            )
        ).first()
        if school is None:
            raise Invalid(
                "inspection.unknown_school",
                zh="学校不存在或您无权查看。",
                en="No such school, or you may not see it.",
                errors=[
                    field_error("body.school_id", "unknown_school", "学校无效", "no such school")
                ],
            )
        if not _may_inspect(principal, data.kind, school):
            raise Forbidden(
                "inspection.forbidden_kind",
                zh=f"您不能对该学校登记“{data.kind.zh}”。",
                en=f"You may not record a {data.kind.value} of this school.",
            )
        assert principal.org_id is not None
        inspection = Inspection(
            **data.model_dump(), inspector_org_id=principal.org_id, created_by=principal.actor
        )
        session.add(inspection)
        session.flush()
        assert inspection.id is not None
        audit.record(
            session,
            principal,
            action="inspection.create",
            object_type="inspection",
            object_id=inspection.id,
            changes=data.model_dump(),
        )
        events.emit(
            session,
            principal,
            type="inspection.recorded",
            subject_type="inspection",
            subject_id=inspection.id,
            campaign_id=inspection.campaign_id,
            school_id=inspection.school_id,
            org_id=inspection.inspector_org_id,
            payload={"kind": inspection.kind, "result": inspection.result},
        )
        return _publics(session, principal, [inspection])[0]


def link_hazards(
    principal: Principal, inspection_id: int, data: HazardLinks, if_match: str | None
) -> InspectionPublic:
    """Mark existing hazards as registered from this inspection."""
    with db.write() as session:
        inspection = session.exec(
            select(Inspection)
            .where(col(Inspection.id) == inspection_id, visible_inspections(principal))
            .with_for_update()
        ).first()
        if inspection is None:
            raise _not_found()
        if not may_act_on(principal, inspection):
            raise Forbidden(
                "inspection.forbidden",
                zh="只有检查单位和办公室可以关联隐患。",
                en="Only the org that made the inspection and the office may link hazards.",
            )
        check_if_match(if_match, inspection.version, required=False)
        ensure_writable(session, inspection.campaign_id)
        hazards = session.exec(
            select(Hazard)
            .where(col(Hazard.id).in_(data.hazard_ids), visible_hazards(principal))
            .with_for_update()
        ).all()
        missing = sorted(set(data.hazard_ids) - {h.id for h in hazards})
        if missing:
            raise Invalid(
                "inspection.unknown_hazard",
                zh=f"隐患 {missing} 不存在或您无权查看。",
                en=f"Hazards {missing} do not exist or you may not see them.",
                errors=[
                    field_error("body.hazard_ids", "unknown_hazard", "隐患无效", "no such hazard")
                ],
            )
        elsewhere = sorted(
            h.id
            for h in hazards
            if h.id is not None
            and (h.school_id != inspection.school_id or h.campaign_id != inspection.campaign_id)
        )
        if elsewhere:
            raise Invalid(
                "inspection.hazard_mismatch",
                zh=f"隐患 {elsewhere} 不属于本次检查的学校或专项行动。",
                en=f"Hazards {elsewhere} belong to another school or campaign.",
                errors=[
                    field_error(
                        "body.hazard_ids", "hazard_mismatch", "学校或专项行动不符", "mismatch"
                    )
                ],
            )
        taken = sorted(
            h.id
            for h in hazards
            if h.id is not None and h.inspection_id not in (None, inspection.id)
        )
        if taken:
            raise Conflict(
                "inspection.hazard_linked_elsewhere",
                zh=f"隐患 {taken} 已关联到另一次检查。",
                en=f"Hazards {taken} are already linked to another inspection.",
            )
        added = []
        stamp = now()
        for hazard in hazards:
            if hazard.inspection_id == inspection.id:
                continue
            hazard.inspection_id = inspection.id
            hazard.updated_at = stamp
            hazard.version += 1
            session.add(hazard)
            added.append(hazard.id)
            audit.record(
                session,
                principal,
                action="hazard.link_inspection",
                object_type="hazard",
                object_id=hazard.id,
                changes={"inspection_id": [None, inspection.id]},
            )
        if added:
            inspection.updated_at = stamp
            inspection.version += 1
            session.add(inspection)
            audit.record(
                session,
                principal,
                action="inspection.link_hazards",
                object_type="inspection",
                object_id=inspection.id,
                changes={"hazard_ids": sorted(i for i in added if i is not None)},
            )
            assert inspection.id is not None
            events.emit(
                session,
                principal,
                type="inspection.hazards_linked",
                subject_type="inspection",
                subject_id=inspection.id,
                campaign_id=inspection.campaign_id,
                school_id=inspection.school_id,
                org_id=inspection.inspector_org_id,
                payload={"hazard_ids": added},
            )
        session.flush()
        return _publics(session, principal, [inspection])[0]
