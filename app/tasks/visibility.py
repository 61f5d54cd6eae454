"""Who may see which tasks, assignments and reports. Every task list, get and attachment check
starts from these. Deny by default."""

from sqlalchemy import ColumnElement, false, or_, true
from sqlmodel import Session, col, select

from app.auth.principal import Principal
from app.tasks.models import DONE_STATUSES, Task, TaskAssignment, TaskReport
from app.users.models import Role


def visible_tasks(principal: Principal) -> ColumnElement[bool]:
    """The WHERE clause of the tasks `principal` may see.

    * office, oversight and read-scoped service accounts: all;
    * a department: the tasks it leads or takes part in;
    * schools and admins: none.
    """
    if principal.sees_district:
        return true()
    if principal.role == Role.department and principal.org_id is not None:
        mine = select(col(TaskAssignment.task_id)).where(
            col(TaskAssignment.org_id) == principal.org_id
        )
        return col(Task.id).in_(mine)
    return false()


def visible_assignments(principal: Principal) -> ColumnElement[bool]:
    """The assignments (and so the reports) `principal` may see: its own, and as lead every
    assignment of the tasks it leads."""
    if principal.sees_district:
        return true()
    if principal.role == Role.department and principal.org_id is not None:
        led = select(col(Task.id)).where(col(Task.lead_org_id) == principal.org_id)
        return or_(
            col(TaskAssignment.org_id) == principal.org_id,
            col(TaskAssignment.task_id).in_(led),
        )
    return false()


def visible_reports(principal: Principal) -> ColumnElement[bool]:
    if principal.sees_district:
        return true()
    ids = select(col(TaskAssignment.id)).where(visible_assignments(principal))
    return col(TaskReport.assignment_id).in_(ids)


# Attachments of a report are uploaded before the report exists, so their parent id is the
# assignment's id: whoever may see the assignment's reports may read them.


def report_attachments_readable(session: Session, principal: Principal, parent_id: int) -> bool:
    stmt = select(col(TaskAssignment.id)).where(
        col(TaskAssignment.id) == parent_id, visible_assignments(principal)
    )
    return session.exec(stmt).first() is not None


def report_attachable(session: Session, principal: Principal, parent_id: int) -> bool:
    """Only the assigned org attaches to its own report, until the report is in."""
    assignment = session.get(TaskAssignment, parent_id)
    return (
        assignment is not None
        and principal.role == Role.department
        and assignment.org_id == principal.org_id
        and assignment.status not in DONE_STATUSES
    )


def report_campaign(session: Session, parent_id: int) -> int | None:
    stmt = (
        select(col(Task.campaign_id))
        .join(TaskAssignment, col(TaskAssignment.task_id) == col(Task.id))
        .where(col(TaskAssignment.id) == parent_id)
    )
    return session.exec(stmt).first()
