from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from fastapi.responses import StreamingResponse

from app.attachments import service
from app.attachments.models import AttachmentParent
from app.attachments.schemas import AttachmentPublic
from app.auth.dependencies import require
from app.auth.principal import Principal
from app.core.downloads import download_headers
from app.core.errors import problem_responses
from app.core.middleware import FormChecked
from app.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from app.users.models import Role

router = APIRouter(prefix="/attachments", tags=["attachments"])

MAX_BIG_ID = 2**62
AttachmentId = Annotated[int, Path(ge=1, le=MAX_BIG_ID, description="Attachment id.")]
# Admins manage users and orgs, not business data; service accounts only read.
Uploader = Annotated[Principal, Depends(require(Role.school, Role.department, Role.office))]
Reader = Annotated[
    Principal, Depends(require(Role.school, Role.department, Role.office, Role.service))
]


@router.post(
    "",
    response_model=AttachmentPublic,
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
    dependencies=[FormChecked],
)
def upload_attachment(
    principal: Uploader,
    file: Annotated[UploadFile, File(description="The photo or document.")],
    parent_type: Annotated[
        AttachmentParent, Form(description="What the file belongs to, e.g. `hazard`.")
    ],
    parent_id: Annotated[int, Form(ge=1, le=MAX_BIG_ID, description="The parent's id.")],
) -> AttachmentPublic:
    """Upload evidence (附件) to a parent object, as `multipart/form-data`.

    **Two steps.** Upload each file to its parent first (e.g. `parent_type=hazard`,
    `parent_id=12`); then pass the returned ids to the action that uses them, e.g.
    `POST /hazards/12/submit-rectification` with `{"note": …, "attachment_ids": [3, 4]}`.
    An action refuses ids that were not uploaded to that very parent (422).

    * Accepted: JPEG, PNG, WebP, PDF, Word `.docx`, Excel `.xlsx`. The type is detected from
      the bytes; a file whose name or `Content-Type` claims another type than its content
      (e.g. a PNG named `.pdf`) is refused with 415, as is anything else (415).
    * At most `MAX_UPLOAD_BYTES` (10 MB by default): 413 beyond.
    * 404 when you may not see the parent; 403 when you may see it but not attach to it
      (hazards: its school, the responsible org, the office and inspectors may);
      409 when the parent's campaign is closed.
    """
    return service.upload(
        principal,
        parent_type=parent_type,
        parent_id=parent_id,
        file=file.file,
        filename=file.filename,
        declared_type=file.content_type,
    )


@router.get(
    "",
    response_model=Page[AttachmentPublic],
    responses=problem_responses(401, 403, 404, 422),
)
def list_attachments(
    principal: Reader,
    parent_type: Annotated[AttachmentParent, Query(description="The parent's type.")],
    parent_id: Annotated[int, Query(ge=1, le=MAX_BIG_ID, description="The parent's id.")],
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[AttachmentPublic]:
    """The attachments uploaded to one parent, oldest first. 404 when you may not see the
    parent. Use the ids with the parent's actions (see `POST /attachments`)."""
    items, next_cursor = service.list_for_parent(
        principal, parent_type=parent_type, parent_id=parent_id, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/{attachment_id}",
    response_model=AttachmentPublic,
    responses=problem_responses(401, 403, 404, 422),
)
def get_attachment(principal: Reader, attachment_id: AttachmentId) -> AttachmentPublic:
    """An attachment's metadata: name, detected type, size, SHA-256, uploader. Readable by
    whoever may read its parent; 404 otherwise."""
    return service.get(principal, attachment_id)


@router.get(
    "/{attachment_id}/content",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file, as a download.",
            "content": {"application/octet-stream": {}},
        },
        **problem_responses(401, 403, 404, 422),
    },
)
def download_attachment(principal: Reader, attachment_id: AttachmentId) -> StreamingResponse:
    """Download the file. Served as an attachment (never shown inline) with the detected
    content type, `X-Content-Type-Options: nosniff`, and the original name encoded per
    RFC 5987 (`filename*=UTF-8''…`). 404 when you may not read the parent."""
    download = service.open_content(principal, attachment_id)
    headers = download_headers(download.filename, size=download.size)
    headers["ETag"] = f'"{download.sha256}"'
    return StreamingResponse(download.chunks, media_type=download.content_type, headers=headers)
