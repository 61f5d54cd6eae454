"""The register as a spreadsheet (台账): export for reading and filing, import for schools
that keep their register in Excel."""

from dataclasses import asdict
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from app.auth.dependencies import CurrentPrincipal, require
from app.auth.principal import Principal
from app.core.downloads import download_headers
from app.core.errors import PROBLEM_JSON, Problem, problem_responses
from app.core.handlers import language, problem
from app.core.middleware import FormChecked
from app.core.responses import json_response
from app.core.schemas import QueryDate
from app.exports import importer as service_import
from app.exports import service
from app.exports.template import template_bytes
from app.hazards.models import HazardCategory, HazardGrade, HazardScope, HazardStatus
from app.hazards.service import MAX_Q, HazardFilter
from app.users.models import Role

router = APIRouter(tags=["register export and import"])


def register_filter(
    campaign_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only this campaign's hazards.")
    ] = None,
    school_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only this school's hazards.")
    ] = None,
    status: Annotated[
        list[HazardStatus] | None, Query(max_length=7, description="Repeat for several.")
    ] = None,
    category: Annotated[
        HazardCategory | None, Query(description="e.g. `fire` (消防), `traffic` (交通).")
    ] = None,
    grade: Annotated[
        HazardGrade | None, Query(description="`general` (一般) or `major` (重大).")
    ] = None,
    scope: Annotated[
        HazardScope | None, Query(description="`campus` (校内) or `surroundings` (周边).")
    ] = None,
    responsible_org_id: Annotated[
        int | None,
        Query(ge=1, le=2**31 - 1, description="Only hazards this org must fix."),
    ] = None,
    overdue: Annotated[
        bool | None, Query(description="Deadline passed and still open (derived).")
    ] = None,
    supervised: Annotated[bool | None, Query(description="Under listed supervision.")] = None,
    found_from: Annotated[
        QueryDate | None, Query(description="Found on or after this local date.")
    ] = None,
    found_to: Annotated[
        QueryDate | None, Query(description="Found on or before this local date.")
    ] = None,
    reported_from: Annotated[QueryDate | None, Query(description="Local date, inclusive.")] = None,
    reported_to: Annotated[QueryDate | None, Query(description="Local date, inclusive.")] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_Q,
            pattern=r"^[^\x00]*$",
            description="Text in the title, code or location.",
        ),
    ] = None,
) -> HazardFilter:
    """The same filters as `GET /hazards`, so "export what I am looking at" is one link."""
    return HazardFilter(
        campaign_id=campaign_id,
        school_id=school_id,
        status=tuple(status or ()),
        category=category,
        grade=grade,
        scope=scope,
        responsible_org_id=responsible_org_id,
        overdue=overdue,
        supervised=supervised,
        found_from=found_from,
        found_to=found_to,
        reported_from=reported_from,
        reported_to=reported_to,
        q=q,
    )


RegisterFilter = Annotated[HazardFilter, Depends(register_filter)]


@router.get(
    "/exports/hazards.xlsx",
    summary="Export Hazard Register (xlsx)",
    response_class=StreamingResponse,
    responses={
        200: {"description": "The register as a workbook.", "content": {service.XLSX_TYPE: {}}},
        **problem_responses(401, 403, 422),
    },
)
def export_hazards_xlsx(principal: CurrentPrincipal, flt: RegisterFilter) -> StreamingResponse:
    """Download the hazard register (隐患台账) as an Excel workbook `hazards-<date>.xlsx`.

    Takes the same filters as `GET /hazards` and contains exactly the hazards you may see
    there (a school its own, a department its own scope, the office everything), one row per
    hazard, oldest first, with Chinese headers and labels: 编号, 学校, 范围, 类别, 场所类型,
    等级, 标题, 描述, 位置, 纬度, 经度, 来源, 发现日期, 责任单位, 责任人, 联系电话, 整改期限,
    状态, 是否逾期, 是否挂牌督办, 督办单位, 督办期限, 登记时间, 销号时间.
    Dates are real spreadsheet dates; times are local (Asia/Shanghai). Text that a
    spreadsheet would run as a formula (starting with = + - @) is prefixed with '.

    Streamed: large registers start downloading at once. Service accounts need
    `hazards:read`; administrators get 403."""
    service.check_exporter(principal)
    return StreamingResponse(
        service.xlsx_chunks(principal, flt),
        media_type=service.XLSX_TYPE,
        headers=download_headers(service.filename("xlsx")),
    )


@router.get(
    "/exports/hazards.csv",
    summary="Export Hazard Register (CSV)",
    response_class=StreamingResponse,
    responses={
        200: {"description": "The register as CSV.", "content": {"text/csv": {}}},
        **problem_responses(401, 403, 422),
    },
)
def export_hazards_csv(principal: CurrentPrincipal, flt: RegisterFilter) -> StreamingResponse:
    """The same register as `hazards.xlsx`, as CSV (`hazards-<date>.csv`): UTF-8 with a byte
    order mark so that Excel shows the Chinese text, comma-separated, RFC 4180 quoting,
    times as `YYYY-MM-DD HH:MM:SS` local. Streamed row by row."""
    service.check_exporter(principal)
    return StreamingResponse(
        service.csv_chunks(principal, flt),
        media_type=service.CSV_TYPE,
        headers=download_headers(service.filename("csv")),
    )


# ------------------------------------------------------------------------------------------
# Import


class ImportRowError(BaseModel):
    row: int = Field(description="Spreadsheet row number (the header is row 1).")
    field: str = Field(description="The `HazardCreate` field, e.g. `title`; `school`.")
    column: str = Field(description="The column header, e.g. 标题.")
    code: str
    message: str


class ImportRejectedProblem(Problem):
    """422 when any row fails: nothing was imported."""

    rows: list[ImportRowError] = Field(description="Row-level errors (at most 1000).")
    error_count: int


class ImportResultPublic(BaseModel):
    imported: int = Field(description="Hazards registered.")
    first_code: str | None
    last_code: str | None = Field(description="Codes are one consecutive block.")


Importer = Annotated[Principal, Depends(require(Role.school, Role.office))]


@router.post(
    "/imports/hazards",
    summary="Import Hazard Register",
    dependencies=[FormChecked],
    response_model=ImportResultPublic,
    status_code=201,
    responses={
        **problem_responses(401, 403, 409, 413, 415),
        422: {
            "model": ImportRejectedProblem,
            "content": {PROBLEM_JSON: {}},
            "description": "Rows failed validation; nothing was imported.",
        },
    },
)
def import_hazards(
    request: Request,
    principal: Importer,
    file: Annotated[UploadFile, File(description="An .xlsx or .csv register.")],
    campaign_id: Annotated[int, Form(ge=1, le=2**31 - 1, description="The campaign.")],
) -> Response:
    """Import a hazard register (台账导入) from a spreadsheet: each row registers one hazard,
    as `POST /hazards` would (status `reported`, code `YH-<year>-<seq>`).

    * **Who**: a school (its own school only; the 学校 column may be left empty) or the
      office (学校 names each row's school, by name or code).
    * **File**: `.xlsx` (first sheet) or `.csv` (UTF-8, or GB18030 as Excel saves it), at most
      `MAX_IMPORT_BYTES` (413; 50 MB by default) and 200,000 rows. Get the template from
      `GET /imports/hazards/template.xlsx`.
    * **Columns** (row 1, any order): 学校, 范围*, 类别*, 场所类型, 等级*, 标题*, 描述*, 位置,
      纬度, 经度, 来源*, 发现日期*, 责任人, 联系电话 (* required). Coded columns take the
      Chinese label as exported (e.g. 消防, 一般隐患) or the code (`fire`). Dates as
      `YYYY-MM-DD`, `YYYY/M/D` or a spreadsheet date. The read-only columns of the export
      (编号, 状态 …) are ignored, so an edited export can be re-imported as new hazards.
    * **All or nothing**: if any row fails, nothing is imported and the 422 lists every
      failing row in `rows` (`row`, `field`, `column`, `message`).
    """
    try:
        result = service_import.import_hazards(
            principal, campaign_id=campaign_id, file=file.file, filename=file.filename
        )
    except service_import.ImportRejected as exc:
        lang = language(request)
        response = problem(
            request,
            422,
            "import.rows_invalid",
            (
                f"{exc.total} errors in the file; nothing was imported."
                if lang == "en"
                else f"文件中有 {exc.total} 处错误,未导入任何数据。"
            ),
        )
        body = orjson.loads(response.body)
        body["rows"] = [asdict(e) for e in exc.errors]
        body["error_count"] = exc.total
        return Response(
            orjson.dumps(body),
            status_code=422,
            media_type=PROBLEM_JSON,
            headers={"Content-Language": lang},
        )
    return json_response(asdict(result), status_code=201)


@router.get(
    "/imports/hazards/template.xlsx",
    summary="Download Import Template",
    response_class=Response,
    responses={
        200: {"description": "The import template.", "content": {service.XLSX_TYPE: {}}},
        **problem_responses(401, 403),
    },
)
def import_template(principal: Importer) -> Response:
    """The import template (隐患导入模板.xlsx) for `POST /imports/hazards`: the writable
    columns with drop-downs for the coded ones, and a second sheet 填写说明 explaining each
    column and its allowed values. Schools and the office only (403 otherwise)."""
    return Response(
        template_bytes(),
        media_type=service.XLSX_TYPE,
        headers=download_headers("隐患导入模板.xlsx"),
    )
