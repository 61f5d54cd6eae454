"""Per-request context that services need but should not be handed explicitly."""

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
