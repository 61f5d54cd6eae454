"""ETags and If-Match: optimistic concurrency against lost updates.

Every mutable row has a `version` integer bumped on each change; its ETag is `"v<version>"`.
A PATCH must send `If-Match` (428 without it) and is refused with 412 when the row moved on.
"""

from app.core.errors import PreconditionFailed, PreconditionRequired


def etag(version: int) -> str:
    return f'"v{version}"'


def check_if_match(if_match: str | None, version: int, *, required: bool = True) -> None:
    if not if_match:
        if required:
            raise PreconditionRequired()
        return
    wanted = etag(version)
    candidates = [c.strip().removeprefix("W/") for c in if_match.split(",")]
    if "*" not in candidates and wanted not in candidates:
        raise PreconditionFailed()
