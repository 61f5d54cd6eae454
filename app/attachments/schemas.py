"""Response models of attachments. Uploads are multipart forms, not JSON bodies."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.attachments.models import AttachmentParent


class AttachmentPublic(BaseModel):
    """An uploaded photo or document (附件) and the object it hangs off."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "example": {
                "id": 3,
                "parent_type": "hazard",
                "parent_id": 12,
                "filename": "整改后照片.jpg",
                "content_type": "image/jpeg",
                "size": 482133,
                "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "uploaded_by": "user:5",
                "uploader_org_id": 20,
                "created_at": "2026-11-26T02:15:00Z",
                "content_url": "/api/v1/attachments/3/content",
            }
        },
    )

    id: int
    parent_type: AttachmentParent
    parent_id: int
    filename: str = Field(description="The name it was uploaded with; for display only.")
    content_type: str = Field(description="Detected from the file's bytes, not from its name.")
    size: int = Field(description="Bytes.")
    sha256: str = Field(description="Hex SHA-256 of the stored bytes.")
    uploaded_by: str
    uploader_org_id: int | None
    created_at: datetime
    content_url: str = Field(description="Where to download the bytes.")
