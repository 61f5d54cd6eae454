from fastapi import APIRouter, Request

from app.core.errors import problem_responses
from app.core.handlers import language
from app.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from app.public import service
from app.public.schemas import PublicExposure

router = APIRouter(prefix="/public", tags=["public"])


@router.get(
    "/exposures",
    summary="List Public Exposures",
    response_model=Page[PublicExposure],
    responses=problem_responses(422),
)
def list_exposures(
    request: Request, cursor: CursorQuery = None, limit: LimitQuery = DEFAULT_LIMIT
) -> Page[PublicExposure]:
    """The public exposure board (曝光台), newest first. **No authentication.**

    Each item is a sanitized title and summary the office published (checked for personal
    data), its category with a label in the caller's language (`Accept-Language`), and the
    date of publication — nothing else. Items withdrawn by the office disappear."""
    items, next_cursor = service.list_exposures(cursor=cursor, limit=limit, lang=language(request))
    return Page(items=items, next_cursor=next_cursor)
