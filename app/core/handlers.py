"""Render every error as problem+json, in the caller's language."""

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.core.context import request_id_var
from app.core.errors import PROBLEM_JSON, TITLES, AppError
from app.core.routes import MethodIndex

log = logging.getLogger("app.errors")
_methods = MethodIndex()


def language(request: Request) -> str:
    """'en' when the caller prefers English, otherwise 'zh-CN'."""
    header = request.headers.get("accept-language", "")
    first = header.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "zh-CN"


def problem(
    request: Request,
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    lang = language(request)
    zh_title, en_title = TITLES.get(status, ("错误", "Error"))
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": en_title if lang == "en" else zh_title,
        "status": status,
        "code": code,
        "detail": detail,
        "instance": request.url.path,
        "request_id": request_id_var.get(),
    }
    if errors is not None:
        body["errors"] = errors
    all_headers = {"Content-Language": lang}
    if headers:
        all_headers.update(headers)
    return Response(
        orjson.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=all_headers
    )


def _localise(errors: list[dict[str, str]] | None, lang: str) -> list[dict[str, str]] | None:
    if errors is None:
        return None
    return [
        {"field": e["field"], "code": e["code"], "message": e["en"] if lang == "en" else e["zh"]}
        for e in errors
    ]


async def app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    lang = language(request)
    return problem(
        request,
        exc.status,
        exc.code,
        exc.message("en" if lang == "en" else "zh"),
        errors=_localise(exc.errors, lang),
        headers=exc.headers,
    )


_ZH_VALIDATION = {
    "missing": "必填",
    "string_too_long": "过长",
    "string_too_short": "过短",
    "int_parsing": "应为整数",
    "float_parsing": "应为数字",
    "enum": "不在允许的取值中",
    "literal_error": "不在允许的取值中",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式应为 ISO 8601",
    "greater_than_equal": "过小",
    "less_than_equal": "过大",
    "greater_than": "过小",
    "less_than": "过大",
    "json_invalid": "JSON 格式错误",
    "extra_forbidden": "不允许的字段",
    "string_pattern_mismatch": "格式不正确",
    "value_error": "取值无效",
}


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    lang = language(request)
    errors = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        kind = str(err.get("type", "invalid"))
        message = str(err.get("msg", "invalid"))
        if lang != "en":
            message = _ZH_VALIDATION.get(kind, "取值无效")
        errors.append({"field": loc, "code": kind, "message": message})
    detail = "The input did not pass validation." if lang == "en" else "输入未通过校验。"
    return problem(request, 422, "validation_failed", detail, errors=errors)


# Starlette and FastAPI raise a bare 400 only when the body cannot even be decoded (bytes that
# are not UTF-8, JSON nested beyond the parser's recursion, broken multipart framing): the
# client sent unparseable input, which is a 422 here like every other malformed body. Our own
# errors are AppErrors and never come through here.


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        lang = language(request)
        message = "The body could not be parsed." if lang == "en" else "请求体无法解析。"
        return problem(
            request,
            422,
            "validation_failed",
            message,
            errors=[{"field": "body", "code": "json_invalid", "message": message}],
        )
    zh, en = TITLES.get(exc.status_code, ("错误", "Error"))
    lang = language(request)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        allowed = _methods.allowed(request.app, request.url.path)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    return problem(
        request,
        exc.status_code,
        code,
        en if lang == "en" else zh,
        headers=headers or None,
    )


async def data_error(request: Request, exc: Exception) -> Response:
    """The database refused a value's form (an id beyond its column's range, text it cannot
    store). Every input is meant to be bounded before it gets there; when one slips through,
    the caller still sent an impossible value, which is a 422, not a server fault. Logged as a
    warning, with the database's error class only (the values may be personal data), so that
    the missing bound is found and added."""
    assert isinstance(exc, DBAPIError)
    orig = exc.orig
    log.warning(
        "database refused a value",
        extra={
            "error": type(orig).__name__ if orig is not None else type(exc).__name__,
            "sqlstate": getattr(orig, "sqlstate", None),
        },
    )
    lang = language(request)
    message = (
        "A value is out of range or cannot be stored."
        if lang == "en"
        else "取值超出范围或无法保存。"
    )
    return problem(
        request,
        422,
        "validation_failed",
        message,
        errors=[{"field": "body", "code": "out_of_range", "message": message}],
    )


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    lang = language(request)
    detail = (
        "An unexpected error occurred; it has been logged."
        if lang == "en"
        else "发生意外错误,已记录。"
    )
    return problem(request, 500, "internal_error", detail)


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(DataError, data_error)
    app.add_exception_handler(Exception, unexpected_error)
