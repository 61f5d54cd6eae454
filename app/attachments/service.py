"""Attachments (附件): upload, read and list, always through the parent object's rules.

An attachment is uploaded to its parent first (a hazard, a plan …) and only then linked to an
action (`attachment_ids` of `submit-rectification` …), which calls `require_attachments` to
check every id was uploaded to that very parent.
"""

import hashlib
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import BinaryIO

from sqlmodel import Session, col, select

from app.attachments.detect import ALLOWED, GENERIC_TYPES, FileType, detect
from app.attachments.models import Attachment, AttachmentParent
from app.attachments.parents import ATTACHERS, CAMPAIGN_OF, READ_SCOPES, READERS
from app.attachments.schemas import AttachmentPublic
from app.attachments.storage import CHUNK, get_storage, new_key
from app.audit import service as audit
from app.auth.principal import Principal
from app.campaigns.service import ensure_writable
from app.core import db
from app.core.config import get_settings
from app.core.errors import (
    Forbidden,
    Invalid,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    field_error,
)
from app.core.pagination import SortDir, keyset, split_page


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


# ------------------------------------------------------------------------------------------
# Access through the parent


def _parent_not_found() -> NotFound:
    return NotFound(
        "attachment.parent_not_found",
        zh="附件所属对象不存在或您无权查看。",
        en="The object does not exist or you may not see it.",
    )


def _not_found() -> NotFound:
    return NotFound("attachment.not_found", zh="附件不存在或您无权查看。", en="No such attachment.")


def _may_read(
    session: Session, principal: Principal, parent_type: AttachmentParent, parent_id: int
) -> bool:
    """Deny by default: a parent type without a reader is readable by nobody."""
    reader = READERS.get(parent_type)
    if reader is None:
        return False
    if principal.kind == "client":
        scope = READ_SCOPES.get(parent_type)
        if scope is None or not principal.has_scope(scope):
            return False
    return reader(session, principal, parent_id)


def _check_attachable(
    session: Session, principal: Principal, parent_type: AttachmentParent, parent_id: int
) -> None:
    """404 when the parent is not visible, 403 when visible but not the caller's to attach
    to, 409 when its campaign is closed."""
    if not _may_read(session, principal, parent_type, parent_id):
        raise _parent_not_found()
    attacher = ATTACHERS.get(parent_type)
    if attacher is None or not attacher(session, principal, parent_id):
        raise Forbidden(
            "attachment.not_attachable",
            zh="您无权向该对象上传附件。",
            en="You may not attach files to this object.",
        )
    campaign_of = CAMPAIGN_OF.get(parent_type)
    campaign_id = campaign_of(session, parent_id) if campaign_of else None
    if campaign_id is not None:
        ensure_writable(session, campaign_id)


# ------------------------------------------------------------------------------------------
# Upload

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f\"\\/:*?<>|]")


def clean_filename(raw: str | None, kind: FileType) -> str:
    """A display name: no directories, no control or path characters, at most 200 chars,
    keeping the extension."""
    name = PureWindowsPath(PurePosixPath(raw or "").name).name
    name = unicodedata.normalize("NFC", _UNSAFE_NAME.sub("_", name)).strip(" .")
    if not name:
        name = "attachment" + min(kind.extensions)
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 199 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else name[:200]
    return name


def _size(file: BinaryIO) -> int:
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    return size


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        "attachment.too_large",
        zh=f"附件不能超过 {limit // (1024 * 1024)} MB。",
        en=f"An attachment may not exceed {limit} bytes.",
    )


def _unsupported(detail_zh: str, detail_en: str) -> UnsupportedMediaType:
    return UnsupportedMediaType("attachment.unsupported_type", zh=detail_zh, en=detail_en)


def check_type(file: BinaryIO, filename: str | None, declared_type: str | None) -> FileType:
    """The detected type, if allowed and not contradicted by the name or declared type.

    A file whose extension or `Content-Type` claims another type than its bytes is refused
    rather than silently re-labelled: a mislabelled upload is more often a mistake (the
    wrong file picked) than something to store.
    """
    kind = detect(file)
    if kind is None:
        raise _unsupported(
            "仅支持 JPEG、PNG、WebP 图片和 PDF、Word(docx)、Excel(xlsx)文件。",
            "Only JPEG, PNG and WebP images and PDF, Word (docx) and Excel (xlsx) files "
            "are accepted.",
        )
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in GENERIC_TYPES and ALLOWED.get(declared) is not kind:
        raise _unsupported(
            f"文件内容为 {kind.mime},与声明的类型 {declared} 不符。",
            f"The file's content is {kind.mime}, not the declared {declared}.",
        )
    suffix = PurePosixPath(filename or "").suffix.lower()
    if suffix and suffix not in kind.extensions:
        raise _unsupported(
            f"文件内容为 {kind.mime},与扩展名 {suffix} 不符。",
            f"The file's content is {kind.mime}, which does not match the extension {suffix}.",
        )
    return kind


@dataclass
class _Hashed:
    """Copies the upload in chunks, counting and hashing as it goes, and stops at the limit
    even if the size measured beforehand was wrong."""

    file: BinaryIO
    limit: int
    size: int = 0

    def __post_init__(self) -> None:
        self.digest = hashlib.sha256()

    def __iter__(self) -> Iterator[bytes]:
        self.file.seek(0)
        while chunk := self.file.read(CHUNK):
            self.size += len(chunk)
            if self.size > self.limit:
                raise _too_large(self.limit)
            self.digest.update(chunk)
            yield chunk


def _public(attachment: Attachment) -> AttachmentPublic:
    return AttachmentPublic.model_validate(
        {
            **attachment.model_dump(),
            "content_url": f"/api/v1/attachments/{attachment.id}/content",
        }
    )


def upload(
    principal: Principal,
    *,
    parent_type: AttachmentParent,
    parent_id: int,
    file: BinaryIO,
    filename: str | None,
    declared_type: str | None,
) -> AttachmentPublic:
    """Store the file and record it against its parent, with an audit row.

    The parent is checked before any byte is copied, and again in the write transaction
    (it may have changed meanwhile); bytes stored for a refused or failed insert are deleted.
    """
    limit = get_settings().max_upload_bytes
    with db.read() as session:
        _check_attachable(session, principal, parent_type, parent_id)
    if _size(file) > limit:
        raise _too_large(limit)
    kind = check_type(file, filename, declared_type)
    storage = get_storage()
    key = new_key()
    hashed = _Hashed(file, limit)
    storage.save(key, hashed)
    try:
        with db.write() as session:
            _check_attachable(session, principal, parent_type, parent_id)
            attachment = Attachment(
                parent_type=parent_type,
                parent_id=parent_id,
                filename=clean_filename(filename, kind),
                content_type=kind.mime,
                size=hashed.size,
                sha256=hashed.digest.hexdigest(),
                storage_key=key,
                uploaded_by=principal.actor,
                uploader_org_id=principal.org_id,
            )
            session.add(attachment)
            session.flush()
            audit.record(
                session,
                principal,
                action="attachment.upload",
                object_type="attachment",
                object_id=attachment.id,
                changes={
                    "parent_type": parent_type,
                    "parent_id": parent_id,
                    "filename": attachment.filename,
                    "content_type": kind.mime,
                    "size": attachment.size,
                    "sha256": attachment.sha256,
                },
            )
            return _public(attachment)
    except BaseException:
        storage.delete(key)
        raise


# ------------------------------------------------------------------------------------------
# Read


def _readable(session: Session, principal: Principal, attachment_id: int) -> Attachment:
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or not _may_read(
        session, principal, attachment.parent_type, attachment.parent_id
    ):
        raise _not_found()
    return attachment


def get(principal: Principal, attachment_id: int) -> AttachmentPublic:
    with db.read() as session:
        return _public(_readable(session, principal, attachment_id))


@dataclass(frozen=True)
class Download:
    filename: str
    content_type: str
    size: int
    sha256: str
    chunks: Iterator[bytes]


def open_content(principal: Principal, attachment_id: int) -> Download:
    with db.read() as session:
        attachment = _readable(session, principal, attachment_id)
    try:
        chunks = get_storage().open(attachment.storage_key)
    except FileNotFoundError as exc:
        raise _not_found() from exc
    return Download(
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        sha256=attachment.sha256,
        chunks=chunks,
    )


def list_for_parent(
    principal: Principal,
    *,
    parent_type: AttachmentParent,
    parent_id: int,
    cursor: str | None,
    limit: int,
) -> tuple[list[AttachmentPublic], str | None]:
    """A parent's attachments, oldest first."""
    stmt = keyset(
        select(Attachment).where(
            col(Attachment.parent_type) == parent_type, col(Attachment.parent_id) == parent_id
        ),
        key=col(Attachment.id),
        id_col=col(Attachment.id),
        direction=SortDir.asc,
        cursor=cursor,
        limit=limit,
    )
    with db.read() as session:
        if not _may_read(session, principal, parent_type, parent_id):
            raise _parent_not_found()
        rows: Sequence[Attachment] = session.exec(stmt).all()
    page, next_cursor = split_page(rows, limit, lambda a: (a.id, a.id))
    return [_public(a) for a in page], next_cursor
