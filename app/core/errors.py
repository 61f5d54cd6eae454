"""One exception tree, rendered once as `application/problem+json` (RFC 9457).

Services raise these; they never import FastAPI. Each error has a stable machine `code`, an
HTTP status, and a human message in both zh-CN and en; the handler picks the language from
`Accept-Language` (Chinese by default: the users are a Chinese district's staff).
"""

from typing import Any

from pydantic import BaseModel, Field

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending input, e.g. `body.deadline`.")
    code: str = Field(description="Stable machine code of the check that failed.")
    message: str


class Problem(BaseModel):
    """The body of every error response."""

    type: str = Field(default="about:blank")
    title: str
    status: int
    code: str = Field(description="Stable machine-readable error code.")
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None

    model_config = {
        "json_schema_extra": {
            "example": {
                "type": "about:blank",
                "title": "Conflict",
                "status": 409,
                "code": "hazard.invalid_transition",
                "detail": "A hazard in status 'closed' cannot be escalated.",
                "request_id": "5f0c9c1e8d3b4f2a",
            }
        }
    }


TITLES: dict[int, tuple[str, str]] = {
    400: ("请求错误", "Bad Request"),
    401: ("未认证", "Unauthorized"),
    403: ("无权操作", "Forbidden"),
    404: ("未找到", "Not Found"),
    405: ("方法不允许", "Method Not Allowed"),
    409: ("状态冲突", "Conflict"),
    412: ("版本已变化", "Precondition Failed"),
    413: ("请求体过大", "Payload Too Large"),
    415: ("不支持的媒体类型", "Unsupported Media Type"),
    422: ("输入校验失败", "Unprocessable Content"),
    428: ("缺少前置条件", "Precondition Required"),
    429: ("请求过于频繁", "Too Many Requests"),
    500: ("服务器内部错误", "Internal Server Error"),
    503: ("服务不可用", "Service Unavailable"),
}


class AppError(Exception):
    """Base of every error a service may raise on purpose."""

    status: int = 400
    code: str = "bad_request"
    zh: str = "请求无效。"
    en: str = "The request is not valid."

    def __init__(
        self,
        code: str | None = None,
        *,
        zh: str | None = None,
        en: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.code = code or type(self).code
        self.zh = zh or type(self).zh
        self.en = en or type(self).en
        # Each field error: {"field", "code", "zh", "en"}.
        self.errors = errors
        self.headers = headers
        super().__init__(self.en)

    def message(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class Unauthorized(AppError):
    status = 401
    code = "auth.unauthenticated"
    zh = "需要有效的访问令牌。"
    en = "A valid access token is required."

    def __init__(self, code: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(code, **kw)


class Forbidden(AppError):
    status = 403
    code = "auth.forbidden"
    zh = "您的角色无权执行此操作。"
    en = "Your role may not perform this action."


class NotFound(AppError):
    status = 404
    code = "not_found"
    zh = "对象不存在或您无权查看。"
    en = "The object does not exist or you may not see it."


class Conflict(AppError):
    status = 409
    code = "conflict"
    zh = "当前状态不允许此操作。"
    en = "The action is not allowed in the object's current state."


class Invalid(AppError):
    """A business-rule validation failure (the request was well-formed)."""

    status = 422
    code = "validation_failed"
    zh = "输入未通过校验。"
    en = "The input did not pass validation."


class PreconditionRequired(AppError):
    status = 428
    code = "precondition.if_match_required"
    zh = "修改请求必须带 If-Match 头(取自 ETag)。"
    en = "This change requires an If-Match header carrying the resource's ETag."


class PreconditionFailed(AppError):
    status = 412
    code = "precondition.stale"
    zh = "对象已被他人修改,请刷新后重试。"
    en = "The object was changed by someone else; reload it and try again."


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"
    zh = "请求体超过大小限制。"
    en = "The request body exceeds the size limit."


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"
    zh = "不支持的文件类型。"
    en = "The file type is not supported."


class TooManyRequests(AppError):
    status = 429
    code = "too_many_requests"
    zh = "尝试次数过多,请稍后再试。"
    en = "Too many attempts; try again later."


class ServiceUnavailable(AppError):
    status = 503
    code = "unavailable"
    zh = "服务暂不可用。"
    en = "The service is not available."


def field_error(field: str, code: str, zh: str, en: str) -> dict[str, str]:
    return {"field": field, "code": code, "zh": zh, "en": en}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the problems a route can return."""
    return {
        s: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": TITLES[s][1]}
        for s in statuses
    }
