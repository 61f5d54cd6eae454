"""The import template (导入模板): the writable columns with drop-downs for coded values, and
a sheet explaining each column."""

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from app.exports.register import WRITABLE


def template_bytes() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "隐患导入"
    sheet.append([c.header for c in WRITABLE])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for index, column in enumerate(WRITABLE, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = 30 if column.field == "description" else 16
        if column.enum is not None:
            options = ",".join(m.zh for m in column.enum)
            validation = DataValidation(type="list", formula1=f'"{options}"', allow_blank=True)
            validation.add(f"{letter}2:{letter}200001")
            sheet.add_data_validation(validation)
    guide = workbook.create_sheet("填写说明")
    guide.append(["列名", "是否必填", "可选值", "说明"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for column in WRITABLE:
        options = "、".join(m.zh for m in column.enum) if column.enum else ""
        guide.append([column.header, "是" if column.required else "否", options, column.note])
    guide.append([])
    guide.append(["每行一条隐患;任一行有误则整个文件都不导入,并逐行列出错误。"])
    guide.append(["也可上传 UTF-8 或 GB18030 编码的 CSV 文件,表头相同。"])
    for letter, width in zip("ABCD", (12, 10, 60, 40), strict=True):
        guide.column_dimensions[letter].width = width
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()
