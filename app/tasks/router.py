from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response

from app.auth.dependencies import OfficeUser, require, require_scope
from app.auth.principal import Principal
from app.core.errors import problem_responses
from app.core.etag import etag
from app.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from app.tasks import service
from app.tasks.models import AssignmentStatus, KeyTaskType, ReportStatus
from app.tasks.schemas import (
    AssignmentPublic,
    ReportCreate,
    ReportPublic,
    ReviewAccept,
    ReviewReturn,
    TaskCreate,
    TaskPublic,
    TaskUpdate,
)
from app.users.models import Role

router = APIRouter(prefix="/tasks", tags=["tasks"])

TaskId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Task id.")]
AssignmentId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Assignment id.")]
ReportId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Report id.")]
IfMatch = Annotated[str | None, Header(description="The object's current ETag.")]
TaskReader = Annotated[Principal, Depends(require_scope("tasks:read"))]
DepartmentUser = Annotated[Principal, Depends(require(Role.department))]


def _task(task: TaskPublic, response: Response) -> TaskPublic:
    response.headers["ETag"] = etag(task.version)
    return task


def _report(report: object, response: Response) -> ReportPublic:
    out = ReportPublic.model_validate(report)
    response.headers["ETag"] = etag(out.version)
    return out


@router.get("", response_model=Page[TaskPublic], responses=problem_responses(401, 403, 422))
def list_tasks(
    principal: TaskReader,
    campaign_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only this campaign's tasks.")
    ] = None,
    key_task_type: Annotated[
        KeyTaskType | None,
        Query(description="One of the key tasks, e.g. `surroundings_cleanup` (周边环境整治)."),
    ] = None,
    org_id: Annotated[
        int | None,
        Query(ge=1, le=2**31 - 1, description="Tasks in which this org has an assignment."),
    ] = None,
    status: Annotated[
        AssignmentStatus | None,
        Query(description="Tasks with an assignment (that you may see) in this status."),
    ] = None,
    overdue: Annotated[
        bool | None,
        Query(
            description="true: tasks with an assignment past the due date and no report in; "
            "false: tasks with an assignment that is not overdue."
        ),
    ] = None,
    sort: Annotated[
        str, Query(max_length=20, description="`id`, `due_on`; prefix `-` for descending.")
    ] = "-id",
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[TaskPublic]:
    """Department tasks (部门任务) you may see: the office and oversight see all; a department
    sees the tasks it leads or takes part in; schools see none (an empty list). Each task
    carries the assignments you may see (a participant only its own). `org_id`, `status` and
    `overdue` filter on those assignments together."""
    items, next_cursor = service.list_tasks(
        principal,
        campaign_id=campaign_id,
        key_task_type=key_task_type,
        org_id=org_id,
        status=status,
        overdue=overdue,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "",
    response_model=TaskPublic,
    status_code=201,
    responses=problem_responses(401, 403, 409, 422),
)
def create_task(principal: OfficeUser, body: TaskCreate, response: Response) -> TaskPublic:
    """Give a task to departments (office only): one lead org (牵头) and any participants
    (参加), all departments, each listed once. Every org gets its own assignment in
    `assigned`. A closed campaign refuses (409 `campaign.closed`)."""
    return _task(service.create(principal, body), response)


@router.get(
    "/{task_id}", response_model=TaskPublic, responses=problem_responses(401, 403, 404, 422)
)
def get_task(principal: TaskReader, task_id: TaskId, response: Response) -> TaskPublic:
    """One task with the assignments you may see (404 if you may not see the task)."""
    return _task(service.get(principal, task_id), response)


@router.patch(
    "/{task_id}",
    response_model=TaskPublic,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
def update_task(
    principal: OfficeUser,
    task_id: TaskId,
    body: TaskUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> TaskPublic:
    """Change a task's title, description, due date or participants (office only; needs
    `If-Match`). The key-task type and lead org are fixed once created. A participant that
    has started cannot be removed (409 `task.participant_busy`)."""
    return _task(service.update(principal, task_id, body, if_match), response)


@router.post(
    "/{task_id}/assignments/{assignment_id}/start",
    response_model=AssignmentPublic,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def start_assignment(
    principal: DepartmentUser,
    task_id: TaskId,
    assignment_id: AssignmentId,
    response: Response,
    if_match: IfMatch = None,
) -> AssignmentPublic:
    """`assigned` → `in_progress`: the assigned org starts work on its share. Only the org the
    assignment belongs to may start it (the lead cannot start a participant's)."""
    out = service.start(principal, task_id, assignment_id, if_match)
    response.headers["ETag"] = etag(out.version)
    return out


@router.get(
    "/{task_id}/reports",
    summary="List Task Reports",
    response_model=Page[ReportPublic],
    responses=problem_responses(401, 403, 404, 422),
)
def list_reports(
    principal: TaskReader,
    task_id: TaskId,
    org_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only this org's reports.")
    ] = None,
    status: Annotated[
        ReportStatus | None, Query(description="`submitted`, `accepted` or `returned`.")
    ] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[ReportPublic]:
    """Written reports of a task, newest first: all of them for the office, oversight and the
    lead org; only its own for a participant. Returned reports stay listed."""
    rows, next_cursor = service.list_reports(
        principal, task_id, org_id=org_id, status=status, cursor=cursor, limit=limit
    )
    return Page(items=[ReportPublic.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "/{task_id}/reports",
    summary="Submit Task Report",
    response_model=ReportPublic,
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def submit_report(
    principal: DepartmentUser, task_id: TaskId, body: ReportCreate, response: Response
) -> ReportPublic:
    """Send your org's written report (书面报告) on a task: text, the figures of the task's
    type and attachments. An `assigned` or `returned` assignment goes to `in_progress` and
    then `reported`. A report sent after the due date is marked `late`. A report already
    waiting for review, or accepted, refuses another (409)."""
    return _report(service.submit_report(principal, task_id, body), response)


@router.post(
    "/{task_id}/reports/{report_id}/accept",
    summary="Accept Task Report",
    response_model=ReportPublic,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def accept_report(
    principal: OfficeUser,
    task_id: TaskId,
    report_id: ReportId,
    response: Response,
    body: ReviewAccept | None = None,
    if_match: IfMatch = None,
) -> ReportPublic:
    """Accept a submitted report (office only): the report and its assignment become
    `accepted`. The body, and its `comment`, may be left out. Optional `If-Match` with the
    report's ETag; a report not `submitted` is 409."""
    comment = body.comment if body else None
    return _report(
        service.review(principal, task_id, report_id, "accept", comment, if_match), response
    )


@router.post(
    "/{task_id}/reports/{report_id}/return",
    summary="Return Task Report",
    response_model=ReportPublic,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def return_report(
    principal: OfficeUser,
    task_id: TaskId,
    report_id: ReportId,
    body: ReviewReturn,
    response: Response,
    if_match: IfMatch = None,
) -> ReportPublic:
    """Return a submitted report with a comment (office only; the comment is required). The
    assignment becomes `returned`; its org submits a new report."""
    return _report(
        service.review(principal, task_id, report_id, "return", body.comment, if_match), response
    )
