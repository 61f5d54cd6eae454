"""What a file really is, from its bytes (magic numbers), never from its name or the
`Content-Type` the client sent."""

import zipfile
from dataclasses import dataclass
from typing import BinaryIO

import filetype


@dataclass(frozen=True)
class FileType:
    mime: str
    extensions: frozenset[str]


JPEG = FileType("image/jpeg", frozenset({".jpg", ".jpeg", ".jpe"}))
PNG = FileType("image/png", frozenset({".png"}))
WEBP = FileType("image/webp", frozenset({".webp"}))
PDF = FileType("application/pdf", frozenset({".pdf"}))
DOCX = FileType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    frozenset({".docx"}),
)
XLSX = FileType(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", frozenset({".xlsx"})
)
ALLOWED: dict[str, FileType] = {t.mime: t for t in (JPEG, PNG, WEBP, PDF, DOCX, XLSX)}

# Content types a browser sends when it does not know; they claim nothing.
GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})

_HEAD = 8192
_ZIP_MAGIC = b"PK\x03\x04"
# The part that makes an Office Open XML zip a Word or an Excel document.
_OOXML_MAIN = {"word/document.xml": DOCX, "xl/workbook.xml": XLSX}


def detect(file: BinaryIO) -> FileType | None:
    """The allowed type the bytes are, or None. `file` must be seekable; it is left at 0."""
    file.seek(0)
    head = file.read(_HEAD)
    file.seek(0)
    if head.startswith(_ZIP_MAGIC):
        return _ooxml(file)
    kind = filetype.guess(head)
    if kind is None:
        return None
    found = ALLOWED.get(kind.mime)
    return found if found in (JPEG, PNG, WEBP, PDF) else None


def _ooxml(file: BinaryIO) -> FileType | None:
    # Only the central directory is read: nothing is decompressed, so a zip bomb costs nothing.
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    finally:
        file.seek(0)
    if "[Content_Types].xml" not in names:
        return None
    found = [kind for part, kind in _OOXML_MAIN.items() if part in names]
    return found[0] if len(found) == 1 else None
