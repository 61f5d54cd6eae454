"""Headers for a file served as a download."""

import re
import unicodedata
from urllib.parse import quote

_NOT_TOKEN_SAFE = re.compile(r"[^A-Za-z0-9._ ()\-]")


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the real name RFC 5987-encoded
    (`filename*=UTF-8''…`), which every current browser prefers."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = _NOT_TOKEN_SAFE.sub("_", ascii_name).strip() or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download_headers(filename: str, *, size: int | None = None) -> dict[str, str]:
    # `X-Content-Type-Options: nosniff` and `Cache-Control: no-store` come from the request
    # middleware on every API response; repeating them here would send them twice.
    headers = {"Content-Disposition": content_disposition(filename)}
    if size is not None:
        headers["Content-Length"] = str(size)
    return headers
