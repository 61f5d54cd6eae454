"""Where attachment bytes live. Local disk by default, behind a small protocol so an object
store (MinIO, OSS …) can replace it without touching the service.

Keys are made by the server (a uuid), never from the uploaded name, so no upload can choose
where its bytes land.
"""

import os
import uuid
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from app.core.config import get_settings

CHUNK = 64 * 1024


class Storage(Protocol):
    def save(self, key: str, chunks: Iterable[bytes]) -> None:
        """Write the chunks under `key`. If the iterable raises, nothing stays behind."""

    def open(self, key: str, *, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """The stored bytes, chunk by chunk."""

    def delete(self, key: str) -> None:
        """Remove `key`; a missing key is not an error."""


def new_key() -> str:
    """A server-made name; the two-character prefix keeps directories small."""
    name = uuid.uuid4().hex
    return f"{name[:2]}/{name}"


class LocalStorage:
    """Files under one root directory; written to a temp name and renamed, so a reader never
    sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError("storage key escapes the storage root")
        return path

    def save(self, key: str, chunks: Iterable[bytes]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        try:
            with partial.open("xb") as out:
                for chunk in chunks:
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            partial.replace(path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def open(self, key: str, *, chunk_size: int = CHUNK) -> Iterator[bytes]:
        # Opened now, not on first iteration, so a missing file fails before the response
        # starts.
        handle = self._path(key).open("rb")

        def read() -> Iterator[bytes]:
            with handle:
                while chunk := handle.read(chunk_size):
                    yield chunk

        return read()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


@lru_cache
def _local(root: str) -> LocalStorage:
    return LocalStorage(Path(root))


def get_storage() -> Storage:
    return _local(str(get_settings().storage_dir))
