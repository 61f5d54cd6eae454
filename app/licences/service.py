"""Unlicensed kindergartens (无证幼儿园查处取缔): discovered → investigated → ordered closed →
closed, driven by the school's supervising org (a town, street office or the kindergarten
approval group) or the office. A closed one is re-inspected later; one found operating
again starts a new cycle at `discovered`, flagged `reopened`, and the office is told
(`licence.reopened`).
"""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.attachments.models import AttachmentParent
from app.attachments.service import require_attachments
from app.audit import service as audit
from app.auth.principal import Principal
from app.core import db
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, field_error
from app.core.etag import check_if_match
from app.core.pagination import SortDir, keyset, split_page
from app.core.time import now, today
from app.events import service as events
from app.licences.models import LICENCE_MACHINE, LicenceAction, LicenceActionKind, LicenceRecord
from app.licences.schemas import (
    LicenceActionPublic,
    LicenceDiscover,
    LicencePublic,
    LicenceStep,
    LicenceStepIn,
)
from app.licences.visibility import may_drive, visible_licences
from app.orgs.models import LicenseStatus, Org, OrgKind, Ownership, SchoolType
from app.users.models import Role

STILL_CLOSED = "复查仍处于关停状态(still closed)"


def _not_found() -> NotFound:
    return NotFound(
        "licence.not_found",
        zh="无证幼儿园不存在或您无权查看。",
        en="No such unlicensed kindergarten, or you may not see it.",
    )


def _not_future(day: date, field: str) -> None:
    if day > today():
        raise Invalid(
            "licence.future_date",
            zh="日期不能晚于今天。",
            en="The date cannot be in the future.",
            errors=[field_error(field, "future", "不能晚于今天", "in the future")],
        )


def _publics(session: Session, schools: Sequence[Org]) -> list[LicencePublic]:
    ids = [s.id for s in schools if s.id is not None]
    records = {
        r.school_id: r
        for r in session.exec(
            select(LicenceRecord).where(col(LicenceRecord.school_id).in_(ids))
        ).all()
    }
    last_ids = select(func.max(LicenceAction.id)).where(col(LicenceAction.school_id).in_(ids))
    last = {
        a.school_id: a
        for a in session.exec(
            select(LicenceAction).where(
                col(LicenceAction.id).in_(last_ids.group_by(col(LicenceAction.school_id)))
            )
        ).all()
    }
    out = []
    for school in schools:
        assert school.id is not None
        assert school.license_status is not None
        record = records.get(school.id)
        action = last.get(school.id)
        out.append(
            LicencePublic(
                school_id=school.id,
                name=school.name,
                address=school.address,
                supervising_org_id=school.supervising_org_id,
                status=school.license_status,
                cycle=record.cycle if record else 1,
                reopened=record.reopened if record else False,
                reopened_count=record.reopened_count if record else 0,
                reopened_at=record.reopened_at if record else None,
                last_action=LicenceActionPublic.model_validate(action) if action else None,
                version=record.version if record else 1,
            )
        )
    return out


def _visible(session: Session, principal: Principal, school_id: int) -> Org:
    school = session.exec(
        select(Org).where(col(Org.id) == school_id, visible_licences(principal))
    ).first()
    if school is None:
        raise _not_found()
    return school


def get(principal: Principal, school_id: int) -> LicencePublic:
    with db.read() as session:
        return _publics(session, [_visible(session, principal, school_id)])[0]


def list_licences(
    principal: Principal,
    *,
    status: LicenseStatus | None,
    reopened: bool | None,
    supervising_org_id: int | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[LicencePublic], str | None]:
    stmt = select(Org).where(visible_licences(principal))
    if status is not None:
        stmt = stmt.where(col(Org.license_status) == status)
    if supervising_org_id is not None:
        stmt = stmt.where(col(Org.supervising_org_id) == supervising_org_id)
    if reopened is not None:
        flagged = select(col(LicenceRecord.school_id)).where(col(LicenceRecord.reopened))
        stmt = stmt.where(col(Org.id).in_(flagged) if reopened else col(Org.id).not_in(flagged))
    stmt = keyset(
        stmt, key=col(Org.id), id_col=col(Org.id), direction=SortDir.asc, cursor=cursor, limit=limit
    )
    with db.read() as session:
        rows = session.exec(stmt).all()
        page, next_cursor = split_page(rows, limit, lambda o: (o.id, o.id))
        return _publics(session, page), next_cursor


def list_actions(
    principal: Principal, school_id: int, *, cursor: str | None, limit: int
) -> tuple[Sequence[LicenceAction], str | None]:
    with db.read() as session:
        _visible(session, principal, school_id)
        stmt = keyset(
            select(LicenceAction).where(col(LicenceAction.school_id) == school_id),
            key=col(LicenceAction.id),
            id_col=col(LicenceAction.id),
            direction=SortDir.asc,
            cursor=cursor,
            limit=limit,
        )
        rows = session.exec(stmt).all()
    return split_page(rows, limit, lambda a: (a.id, a.id))


def _supervisor(session: Session, principal: Principal, wanted: int | None) -> int:
    """A department records what it finds for itself; the office names the department."""
    if principal.role == Role.department:
        assert principal.org_id is not None
        if wanted not in (None, principal.org_id):
            raise Invalid(
                "licence.bad_supervisor",
                zh="部门只能以本单位为主管单位登记无证幼儿园。",
                en="A department records unlicensed kindergartens under its own supervision.",
                errors=[
                    field_error(
                        "body.supervising_org_id", "not_yours", "只能是本单位", "must be your org"
                    )
                ],
            )
        return principal.org_id
    org = session.get(Org, wanted) if wanted is not None else None
    if wanted is None or org is None or org.kind != OrgKind.department:
        raise Invalid(
            "licence.bad_supervisor",
            zh="请指定负责查处的部门(乡镇、街办或幼儿园综合审批工作小组)。",
            en="Name the department that will drive the crackdown.",
            errors=[
                field_error(
                    "body.supervising_org_id",
                    "department_required",
                    "必须是部门",
                    "must be a department",
                )
            ],
        )
    return wanted


def discover(principal: Principal, data: LicenceDiscover) -> LicencePublic:
    _not_future(data.discovered_on, "body.discovered_on")
    with db.write() as session:
        supervisor_id = _supervisor(session, principal, data.supervising_org_id)
        if session.exec(select(Org.id).where(col(Org.name) == data.name)).first() is not None:
            raise Conflict(
                "licence.duplicate_name",
                zh="同名组织已存在;如是同一所幼儿园,请在其记录上操作。",
                en="An org with this name exists; if it is the same kindergarten, act on it.",
            )
        school = Org(
            name=data.name,
            kind=OrgKind.school,
            school_type=SchoolType.kindergarten,
            ownership=Ownership.private,
            license_status=LicenseStatus.discovered,
            supervising_org_id=supervisor_id,
            **data.model_dump(
                include={
                    "address",
                    "contact_person",
                    "contact_phone",
                    "student_count",
                    "lat",
                    "lng",
                }
            ),
        )
        session.add(school)
        session.flush()
        assert school.id is not None
        record = LicenceRecord(school_id=school.id)
        session.add(record)
        session.add(
            LicenceAction(
                school_id=school.id,
                cycle=1,
                action=LicenceActionKind.discover,
                to_status=LicenseStatus.discovered,
                acted_on=data.discovered_on,
                note=data.note,
                actor=principal.actor,
                actor_org_id=principal.org_id,
            )
        )
        audit.record(
            session,
            principal,
            action="licence.discover",
            object_type="org",
            object_id=school.id,
            changes={**data.model_dump(), "supervising_org_id": supervisor_id},
        )
        events.emit(
            session,
            principal,
            type="licence.discovered",
            subject_type="org",
            subject_id=school.id,
            school_id=school.id,
            org_id=supervisor_id,
            payload={"name": school.name, "discovered_on": data.discovered_on},
        )
        session.flush()
        return _publics(session, [school])[0]


def _step_body_errors(step: LicenceStep, data: LicenceStepIn) -> None:
    if step == LicenceStep.reinspect and data.found_operating is None:
        raise Invalid(
            "licence.found_operating_required",
            zh="复查须说明是否发现复办(found_operating)。",
            en="A re-inspection must say whether it was found operating (found_operating).",
            errors=[field_error("body.found_operating", "missing", "必填", "required")],
        )
    if step != LicenceStep.reinspect and data.found_operating is not None:
        raise Invalid(
            "licence.found_operating_only_on_reinspect",
            zh="只有复查可以填写 found_operating。",
            en="found_operating belongs to a re-inspection only.",
            errors=[field_error("body.found_operating", "not_allowed", "不允许", "not allowed")],
        )


def act(
    principal: Principal,
    school_id: int,
    step: LicenceStep,
    data: LicenceStepIn,
    if_match: str | None,
) -> LicencePublic:
    _step_body_errors(step, data)
    _not_future(data.acted_on, "body.acted_on")
    with db.write() as session:
        school = session.exec(
            select(Org)
            .where(col(Org.id) == school_id, visible_licences(principal))
            .with_for_update()
        ).first()
        if school is None:
            raise _not_found()
        if not may_drive(principal, school):
            raise Forbidden(
                "licence.forbidden",
                zh="只有主管单位和办公室可以办理无证幼儿园查处。",
                en="Only the supervising org and the office drive the crackdown.",
            )
        record = session.exec(
            select(LicenceRecord).where(col(LicenceRecord.school_id) == school_id).with_for_update()
        ).first()
        check_if_match(if_match, record.version if record else 1, required=False)
        if record is None:
            record = LicenceRecord(school_id=school_id)
        action = LicenceActionKind(step.value)
        if step == LicenceStep.reinspect and data.found_operating:
            action = LicenceActionKind.reopen
        source = school.license_status
        assert source is not None
        target = LICENCE_MACHINE.target(action.value, source)
        require_attachments(session, data.attachment_ids, AttachmentParent.licence, school_id)
        stamp = now()
        if action == LicenceActionKind.reopen:
            record.cycle += 1
            record.reopened = True
            record.reopened_count += 1
            record.reopened_at = stamp
        note = data.note
        if action == LicenceActionKind.reinspect and not note:
            note = STILL_CLOSED
        school.license_status = target
        school.updated_at = stamp
        school.version += 1
        record.updated_at = stamp
        record.version += 1
        session.add_all([school, record])
        session.add(
            LicenceAction(
                school_id=school_id,
                cycle=record.cycle,
                action=action,
                from_status=source,
                to_status=target,
                acted_on=data.acted_on,
                note=note,
                attachment_ids=data.attachment_ids,
                actor=principal.actor,
                actor_org_id=principal.org_id,
                at=stamp,
            )
        )
        audit.record(
            session,
            principal,
            action=f"licence.{action.value}",
            object_type="org",
            object_id=school_id,
            changes={
                "license_status": [source, target],
                "cycle": record.cycle,
                "acted_on": data.acted_on,
                "note": note,
                "attachment_ids": data.attachment_ids,
            },
        )
        payload = {"action": action, "from": source, "to": target, "cycle": record.cycle}
        events.emit(
            session,
            principal,
            type="licence.status_changed",
            subject_type="org",
            subject_id=school_id,
            school_id=school_id,
            org_id=school.supervising_org_id,
            payload=payload,
        )
        if action == LicenceActionKind.reopen:
            events.emit(
                session,
                principal,
                type="licence.reopened",
                subject_type="org",
                subject_id=school_id,
                school_id=school_id,
                org_id=school.supervising_org_id,
                payload={**payload, "name": school.name, "note": note},
            )
        session.flush()
        return _publics(session, [school])[0]
