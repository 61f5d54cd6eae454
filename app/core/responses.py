"""Fast JSON responses: serialise once with orjson, skip response-model re-validation.

Routes still declare `response_model` so OpenAPI documents the shape; returning a Response
instance makes FastAPI pass it through untouched.
"""

from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import Response


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    # Decimal and anything else orjson does not know: its exact string form.
    return str(value)


def dumps(content: Any) -> bytes:
    return orjson.dumps(content, default=_default, option=orjson.OPT_NON_STR_KEYS)


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        if isinstance(content, BaseModel):
            return content.__pydantic_serializer__.to_json(content)
        return dumps(content)


def json_response(
    content: Any,
    *,
    status_code: int = 200,
    etag: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSON:
    all_headers = dict(headers or {})
    if etag:
        all_headers["ETag"] = etag
    return JSON(content, status_code=status_code, headers=all_headers)
