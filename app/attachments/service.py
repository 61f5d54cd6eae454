"""Attachments: upload, download and linking to timeline steps."""

from sqlmodel import Session, col, select

from app.attachments.models import Attachment, AttachmentParent
from app.core.errors import Invalid, field_error


def require_attachments(
    session: Session,
    ids: list[int],
    parent_type: AttachmentParent,
    parent_id: int,
    *,
    field: str = "body.attachment_ids",
) -> None:
    """Every id is an attachment uploaded to this very parent; otherwise 422."""
    if not ids:
        return
    found = set(
        session.exec(
            select(col(Attachment.id)).where(
                col(Attachment.id).in_(ids),
                col(Attachment.parent_type) == parent_type,
                col(Attachment.parent_id) == parent_id,
            )
        ).all()
    )
    missing = sorted(set(ids) - found)
    if missing:
        raise Invalid(
            "attachment.not_on_parent",
            zh=f"附件 {missing} 不存在或不属于该对象,请先上传到该对象。",
            en=f"Attachments {missing} do not exist or were not uploaded to this object.",
            errors=[
                field_error(field, "attachment_not_on_parent", "附件无效", "invalid attachment")
            ],
        )
