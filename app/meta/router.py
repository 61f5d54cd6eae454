from fastapi import APIRouter
from pydantic import BaseModel

from app.core.enums import REGISTRY

router = APIRouter(prefix="/meta", tags=["meta"])


class EnumLabel(BaseModel):
    code: str
    zh: str
    en: str


@router.get("/enums", summary="List Enum Labels", response_model=dict[str, list[EnumLabel]])
def list_enums() -> dict[str, list[EnumLabel]]:
    """Every code the API uses, with its zh-CN and en labels, keyed by enum name
    (`hazard_status`, `hazard_category`, …). Frontends render labels from here instead of
    hard-coding them. No authentication needed: it holds no data."""
    return {
        key: [EnumLabel(code=m.value, zh=m.zh, en=m.en) for m in enum]
        for key, enum in sorted(REGISTRY.items())
    }
