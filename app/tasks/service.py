"""Department tasks (部门任务) and their written reports (书面报告).

The office creates a task with a lead org (牵头) and participants (参加); each org gets its own
assignment and sends its own report; the office accepts or returns each report. A returned
assignment goes back to work and its org submits a new report.

Who sees what: the office, oversight and read-scoped systems see every task; a department
sees the tasks it leads or takes part in — as lead all assignments and reports of the task,
as participant only its own; schools and admins see none.
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, not_
from sqlmodel import Session, col, delete, select

from app.attachments.models import AttachmentParent
from app.attachments.service import require_attachments
from app.audit import service as audit
from app.auth.principal import Principal
from app.campaigns.service import ensure_writable
from app.core import db
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, field_error
from app.core.etag import check_if_match
from app.core.pagination import SortDir, keyset, parse_sort, split_page
from app.core.time import now, today
from app.events import service as events
from app.orgs.models import Org, OrgKind
from app.tasks.models import (
    ASSIGNMENT_MACHINE,
    DONE_STATUSES,
    REPORT_MACHINE,
    AssignmentStatus,
    KeyTaskType,
    ReportStatus,
    Task,
    TaskAction,
    TaskAssignment,
    TaskAssignmentEvent,
    TaskReport,
    TaskRole,
)
from app.tasks.schemas import (
    AssignmentPublic,
    ReportCreate,
    TaskCreate,
    TaskPublic,
    TaskUpdate,
)
from app.tasks.visibility import visible_assignments, visible_reports, visible_tasks

# The figures a written report may carry, per key task. All are optional non-negative counts.
FIGURES: dict[KeyTaskType, tuple[str, ...]] = {
    KeyTaskType.surroundings_cleanup: ("venues_inspected", "venues_rectified", "venues_closed"),
    KeyTaskType.hazard_inspection: ("schools_inspected", "hazards_found", "hazards_rectified"),
    KeyTaskType.private_school_inspection: (
        "schools_inspected",
        "unlicensed_found",
        "unlicensed_closed",
    ),
    KeyTaskType.case_crackdown: ("cases_filed", "cases_solved"),
    KeyTaskType.summary_report: (
        "schools_inspected",
        "hazards_found",
        "hazards_rectified",
        "hazards_outstanding",
    ),
    KeyTaskType.other: (),
}
# (part, whole): a report cannot rectify more venues than it inspected, and so on.
NOT_MORE_THAN = (
    ("venues_rectified", "venues_inspected"),
    ("venues_closed", "venues_inspected"),
    ("hazards_rectified", "hazards_found"),
    ("hazards_outstanding", "hazards_found"),
    ("unlicensed_closed", "unlicensed_found"),
    ("cases_solved", "cases_filed"),
)

SORT_KEYS = ("id", "due_on")

EVENT_TYPES = {
    "start": "task.assignment_started",
    "submit": "task.report_submitted",
    "accept": "task.report_accepted",
    "return": "task.report_returned",
}
STAMPS = {
    "start": "started_at",
    "submit": "reported_at",
    "accept": "accepted_at",
    "return": "returned_at",
}


def overdue_clause(day: date) -> ColumnElement[bool]:
    """Assignment is overdue: its task's due date has passed and no report is in."""
    return and_(col(Task.due_on) < day, col(TaskAssignment.status).not_in(DONE_STATUSES))


def is_overdue(task: Task, assignment: TaskAssignment, day: date) -> bool:
    return task.due_on < day and assignment.status not in DONE_STATUSES


# --------------------------------------------------------------------------------------------
# Errors


def _task_not_found() -> NotFound:
    return NotFound(
        "task.not_found", zh="任务不存在或您无权查看。", en="No such task, or you may not see it."
    )


def _assignment_not_found() -> NotFound:
    return NotFound(
        "task.assignment_not_found",
        zh="任务分工不存在或您无权查看。",
        en="No such assignment, or you may not see it.",
    )


def _report_not_found() -> NotFound:
    return NotFound(
        "task.report_not_found",
        zh="书面报告不存在或您无权查看。",
        en="No such report, or you may not see it.",
    )


def _not_assigned() -> Forbidden:
    return Forbidden(
        "task.not_assigned",
        zh="只有承担该任务的单位可以办理和报告。",
        en="Only an org assigned to this task may work on it and report.",
    )


# --------------------------------------------------------------------------------------------
# Shaping


def _assignment_public(task: Task, a: TaskAssignment, day: date) -> AssignmentPublic:
    return AssignmentPublic.model_validate({**a.model_dump(), "overdue": is_overdue(task, a, day)})


def _publics(session: Session, principal: Principal, tasks: Sequence[Task]) -> list[TaskPublic]:
    ids = [t.id for t in tasks]
    if not ids:
        return []
    rows = session.exec(
        select(TaskAssignment)
        .where(col(TaskAssignment.task_id).in_(ids))
        .order_by(col(TaskAssignment.id))
    ).all()
    shown = set(
        session.exec(
            select(col(TaskAssignment.id)).where(
                col(TaskAssignment.task_id).in_(ids), visible_assignments(principal)
            )
        ).all()
    )
    day = today()
    out = []
    for task in tasks:
        mine = [a for a in rows if a.task_id == task.id]
        out.append(
            TaskPublic.model_validate(
                {
                    **task.model_dump(),
                    "participant_org_ids": [
                        a.org_id for a in mine if a.role == TaskRole.participant
                    ],
                    "assignments": [
                        _assignment_public(task, a, day) for a in mine if a.id in shown
                    ],
                }
            )
        )
    return out


# --------------------------------------------------------------------------------------------
# Reads


def _visible_task(session: Session, principal: Principal, task_id: int) -> Task:
    task = session.exec(
        select(Task).where(col(Task.id) == task_id, visible_tasks(principal))
    ).first()
    if task is None:
        raise _task_not_found()
    return task


def get(principal: Principal, task_id: int) -> TaskPublic:
    with db.read() as session:
        task = _visible_task(session, principal, task_id)
        return _publics(session, principal, [task])[0]


def list_tasks(
    principal: Principal,
    *,
    campaign_id: int | None,
    key_task_type: KeyTaskType | None,
    org_id: int | None,
    status: AssignmentStatus | None,
    overdue: bool | None,
    sort: str,
    cursor: str | None,
    limit: int,
) -> tuple[list[TaskPublic], str | None]:
    key, direction = parse_sort(sort, SORT_KEYS)
    stmt = select(Task).where(visible_tasks(principal))
    if campaign_id is not None:
        stmt = stmt.where(col(Task.campaign_id) == campaign_id)
    if key_task_type is not None:
        stmt = stmt.where(col(Task.key_task_type) == key_task_type)
    if org_id is not None or status is not None or overdue is not None:
        # The assignment filters look only at assignments the caller may see, so a
        # participant cannot probe another participant's status through them.
        conds: list[ColumnElement[bool]] = [
            col(TaskAssignment.task_id) == col(Task.id),
            visible_assignments(principal),
        ]
        if org_id is not None:
            conds.append(col(TaskAssignment.org_id) == org_id)
        if status is not None:
            conds.append(col(TaskAssignment.status) == status)
        if overdue is not None:
            late = overdue_clause(today())
            conds.append(late if overdue else not_(late))
        stmt = stmt.where(exists(select(col(TaskAssignment.id)).where(*conds)))
    sort_col = col(Task.due_on) if key == "due_on" else col(Task.id)
    stmt = keyset(
        stmt,
        key=sort_col,
        id_col=col(Task.id),
        direction=direction,
        cursor=cursor,
        limit=limit,
        coerce=date.fromisoformat if key == "due_on" else None,
    )
    with db.read() as session:
        rows = session.exec(stmt).all()
        page, next_cursor = split_page(
            rows, limit, lambda t: (t.due_on if key == "due_on" else t.id, t.id)
        )
        return _publics(session, principal, page), next_cursor


def list_reports(
    principal: Principal,
    task_id: int,
    *,
    org_id: int | None,
    status: ReportStatus | None,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[TaskReport], str | None]:
    with db.read() as session:
        _visible_task(session, principal, task_id)
        stmt = select(TaskReport).where(
            col(TaskReport.task_id) == task_id, visible_reports(principal)
        )
        if org_id is not None:
            stmt = stmt.where(col(TaskReport.org_id) == org_id)
        if status is not None:
            stmt = stmt.where(col(TaskReport.status) == status)
        stmt = keyset(
            stmt,
            key=col(TaskReport.id),
            id_col=col(TaskReport.id),
            direction=SortDir.desc,
            cursor=cursor,
            limit=limit,
        )
        rows = session.exec(stmt).all()
    return split_page(rows, limit, lambda r: (r.id, r.id))


# --------------------------------------------------------------------------------------------
# Writes


def _check_departments(session: Session, ids: list[int], field: str) -> None:
    if not ids:
        return
    found = set(
        session.exec(
            select(col(Org.id)).where(
                col(Org.id).in_(ids), col(Org.kind) == OrgKind.department, col(Org.is_active)
            )
        ).all()
    )
    missing = sorted(set(ids) - found)
    if missing:
        raise Invalid(
            "task.bad_org",
            zh=f"组织 {missing} 不存在或不是部门;任务只能下达给部门。",
            en=f"Orgs {missing} do not exist or are not departments; tasks go to departments.",
            errors=[field_error(field, "not_a_department", "必须是部门", "must be a department")],
        )


def _timeline(
    session: Session,
    principal: Principal,
    assignment: TaskAssignment,
    action: TaskAction,
    source: AssignmentStatus | None,
    comment: str | None = None,
    report_id: int | None = None,
) -> None:
    assert assignment.id is not None
    session.add(
        TaskAssignmentEvent(
            assignment_id=assignment.id,
            action=action,
            actor=principal.actor,
            actor_org_id=principal.org_id,
            from_status=source,
            to_status=assignment.status,
            comment=comment,
            report_id=report_id,
        )
    )


def _assign(
    session: Session, principal: Principal, task: Task, org_id: int, role: TaskRole
) -> TaskAssignment:
    assert task.id is not None
    assignment = TaskAssignment(task_id=task.id, org_id=org_id, role=role)
    session.add(assignment)
    session.flush()
    _timeline(session, principal, assignment, TaskAction.assign, None)
    events.emit(
        session,
        principal,
        type="task.created",
        subject_type="task",
        subject_id=task.id,
        campaign_id=task.campaign_id,
        org_id=org_id,
        payload={
            "assignment_id": assignment.id,
            "role": role,
            "title": task.title,
            "key_task_type": task.key_task_type,
            "due_on": task.due_on,
        },
    )
    return assignment


def create(principal: Principal, data: TaskCreate) -> TaskPublic:
    with db.write() as session:
        ensure_writable(session, data.campaign_id)
        _check_departments(session, [data.lead_org_id], "body.lead_org_id")
        _check_departments(session, data.participant_org_ids, "body.participant_org_ids")
        task = Task(**data.model_dump(exclude={"participant_org_ids"}), created_by=principal.actor)
        session.add(task)
        session.flush()
        _assign(session, principal, task, data.lead_org_id, TaskRole.lead)
        for org_id in data.participant_org_ids:
            _assign(session, principal, task, org_id, TaskRole.participant)
        audit.record(
            session,
            principal,
            action="task.create",
            object_type="task",
            object_id=task.id,
            changes=data.model_dump(),
        )
        session.flush()
        return _publics(session, principal, [task])[0]


def _locked_task(session: Session, principal: Principal, task_id: int) -> Task:
    task = session.exec(
        select(Task).where(col(Task.id) == task_id, visible_tasks(principal)).with_for_update()
    ).first()
    if task is None:
        raise _task_not_found()
    return task


def update(
    principal: Principal, task_id: int, data: TaskUpdate, if_match: str | None
) -> TaskPublic:
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    with db.write() as session:
        task = _locked_task(session, principal, task_id)
        check_if_match(if_match, task.version)
        ensure_writable(session, task.campaign_id)
        before = task.model_dump()
        scalars = {k: v for k, v in changes.items() if k != "participant_org_ids"}
        for key, value in scalars.items():
            setattr(task, key, value)
        audit_changes: dict[str, Any] = audit.diff(before, scalars)
        if data.participant_org_ids is not None:
            audit_changes.update(
                _replace_participants(session, principal, task, data.participant_org_ids)
            )
        task.updated_at = now()
        task.version += 1
        session.add(task)
        audit.record(
            session,
            principal,
            action="task.update",
            object_type="task",
            object_id=task.id,
            changes=audit_changes,
        )
        session.flush()
        return _publics(session, principal, [task])[0]


def _replace_participants(
    session: Session, principal: Principal, task: Task, wanted: list[int]
) -> dict[str, Any]:
    if task.lead_org_id in wanted:
        raise Invalid(
            "task.lead_is_participant",
            zh="牵头单位不能同时作为参加单位。",
            en="The lead org cannot also be a participant.",
            errors=[
                field_error(
                    "body.participant_org_ids", "lead_repeated", "牵头单位重复", "lead repeated"
                )
            ],
        )
    current = session.exec(
        select(TaskAssignment).where(
            col(TaskAssignment.task_id) == task.id,
            col(TaskAssignment.role) == TaskRole.participant,
        )
    ).all()
    have = {a.org_id: a for a in current}
    added = [o for o in wanted if o not in have]
    removed = [a for o, a in have.items() if o not in wanted]
    _check_departments(session, added, "body.participant_org_ids")
    busy = sorted(a.org_id for a in removed if a.status != AssignmentStatus.assigned)
    if busy:
        raise Conflict(
            "task.participant_busy",
            zh=f"单位 {busy} 已开始办理该任务,不能移除。",
            en=f"Orgs {busy} have started on this task and cannot be removed.",
        )
    for a in removed:
        session.exec(
            delete(TaskAssignmentEvent).where(col(TaskAssignmentEvent.assignment_id) == a.id)
        )
        session.delete(a)
    for org_id in added:
        _assign(session, principal, task, org_id, TaskRole.participant)
    return (
        {
            "participant_org_ids": [sorted(have), sorted(wanted)],
        }
        if added or removed
        else {}
    )


def _move(
    session: Session,
    principal: Principal,
    task: Task,
    assignment: TaskAssignment,
    action: str,
    *,
    comment: str | None = None,
    report: TaskReport | None = None,
) -> None:
    """One assignment transition: status, stamp, timeline row, audit row and event."""
    source = assignment.status
    assignment.status = ASSIGNMENT_MACHINE.target(action, source)
    stamp = now()
    setattr(assignment, STAMPS[action], stamp)
    assignment.updated_at = stamp
    assignment.version += 1
    session.add(assignment)
    report_id = report.id if report is not None else None
    _timeline(
        session,
        principal,
        assignment,
        TaskAction(action),
        source,
        comment=comment,
        report_id=report_id,
    )
    audit.record(
        session,
        principal,
        action=f"task_assignment.{action}",
        object_type="task_assignment",
        object_id=assignment.id,
        changes={"status": [source, assignment.status], "report_id": report_id},
    )
    assert task.id is not None
    events.emit(
        session,
        principal,
        type=EVENT_TYPES[action],
        subject_type="task",
        subject_id=task.id,
        campaign_id=task.campaign_id,
        org_id=assignment.org_id,
        payload={
            "assignment_id": assignment.id,
            "report_id": report_id,
            "from": source,
            "to": assignment.status,
            "comment": comment,
            "late": report.late if report is not None else None,
        },
    )


def _locked_assignment(
    session: Session, principal: Principal, task_id: int, assignment_id: int
) -> tuple[Task, TaskAssignment]:
    task = _locked_task(session, principal, task_id)
    assignment = session.exec(
        select(TaskAssignment)
        .where(
            col(TaskAssignment.id) == assignment_id,
            col(TaskAssignment.task_id) == task_id,
            visible_assignments(principal),
        )
        .with_for_update()
    ).first()
    if assignment is None:
        raise _assignment_not_found()
    return task, assignment


def start(
    principal: Principal, task_id: int, assignment_id: int, if_match: str | None
) -> AssignmentPublic:
    with db.write() as session:
        task, assignment = _locked_assignment(session, principal, task_id, assignment_id)
        if assignment.org_id != principal.org_id:
            raise _not_assigned()
        check_if_match(if_match, assignment.version, required=False)
        ensure_writable(session, task.campaign_id)
        _move(session, principal, task, assignment, "start")
        return _assignment_public(task, assignment, today())


def _check_figures(kind: KeyTaskType, figures: dict[str, int]) -> None:
    allowed = FIGURES[kind]
    unknown = sorted(set(figures) - set(allowed))
    errors = [
        field_error(
            f"body.figures.{k}",
            "unknown_figure",
            f"“{kind.zh}”任务没有此项数据",
            f"not a figure of {kind.value} tasks",
        )
        for k in unknown
    ]
    for part, whole in NOT_MORE_THAN:
        if part in figures and whole in figures and figures[part] > figures[whole]:
            errors.append(
                field_error(
                    f"body.figures.{part}",
                    "exceeds_total",
                    f"不能大于 {whole}",
                    f"cannot exceed {whole}",
                )
            )
    if errors:
        raise Invalid(
            "task.bad_figures",
            zh=f"报告数据无效;“{kind.zh}”任务可填:{', '.join(allowed) or '无'}。",
            en=f"Invalid figures; {kind.value} tasks take: {', '.join(allowed) or 'none'}.",
            errors=errors,
        )


def submit_report(principal: Principal, task_id: int, data: ReportCreate) -> TaskReport:
    with db.write() as session:
        task = _locked_task(session, principal, task_id)
        assignment = session.exec(
            select(TaskAssignment)
            .where(
                col(TaskAssignment.task_id) == task_id,
                col(TaskAssignment.org_id) == principal.org_id,
            )
            .with_for_update()
        ).first()
        if assignment is None:
            raise _not_assigned()
        assert assignment.id is not None
        assert task.id is not None
        ensure_writable(session, task.campaign_id)
        _check_figures(task.key_task_type, data.figures)
        require_attachments(
            session, data.attachment_ids, AttachmentParent.task_report, assignment.id
        )
        if assignment.status in (AssignmentStatus.assigned, AssignmentStatus.returned):
            _move(session, principal, task, assignment, "start")
        # Checked before the report row exists so that a refused submission leaves nothing.
        ASSIGNMENT_MACHINE.target("submit", assignment.status)
        stamp = now()
        report = TaskReport(
            task_id=task.id,
            assignment_id=assignment.id,
            org_id=assignment.org_id,
            text=data.text,
            figures=data.figures,
            attachment_ids=data.attachment_ids,
            late=today() > task.due_on,
            submitted_by=principal.actor,
            submitted_at=stamp,
        )
        session.add(report)
        session.flush()
        audit.record(
            session,
            principal,
            action="task_report.submit",
            object_type="task_report",
            object_id=report.id,
            changes=data.model_dump(),
        )
        _move(session, principal, task, assignment, "submit", report=report)
        return report


def review(
    principal: Principal,
    task_id: int,
    report_id: int,
    action: str,
    comment: str | None,
    if_match: str | None,
) -> TaskReport:
    """`accept` or `return` a submitted report (office only)."""
    with db.write() as session:
        task = _locked_task(session, principal, task_id)
        report = session.exec(
            select(TaskReport)
            .where(
                col(TaskReport.id) == report_id,
                col(TaskReport.task_id) == task_id,
                visible_reports(principal),
            )
            .with_for_update()
        ).first()
        if report is None:
            raise _report_not_found()
        check_if_match(if_match, report.version, required=False)
        ensure_writable(session, task.campaign_id)
        source = report.status
        report.status = REPORT_MACHINE.target(action, source)
        stamp = now()
        report.review_comment = comment
        report.reviewed_by = principal.actor
        report.reviewed_at = stamp
        report.version += 1
        session.add(report)
        audit.record(
            session,
            principal,
            action=f"task_report.{action}",
            object_type="task_report",
            object_id=report.id,
            changes={"status": [source, report.status], "comment": comment},
        )
        assignment = session.exec(
            select(TaskAssignment)
            .where(col(TaskAssignment.id) == report.assignment_id)
            .with_for_update()
        ).one()
        _move(session, principal, task, assignment, action, comment=comment, report=report)
        return report
