"""Emitting domain events into the outbox, inside the caller's transaction."""

from typing import Any

from sqlmodel import Session

from app.audit.service import plain
from app.auth.principal import Principal
from app.events.models import Event


def emit(
    session: Session,
    actor: Principal | None,
    *,
    type: str,
    subject_type: str,
    subject_id: int,
    campaign_id: int | None = None,
    school_id: int | None = None,
    org_id: int | None = None,
    audience: str = "all",
    payload: dict[str, Any] | None = None,
) -> Event:
    event = Event(
        type=type,
        subject_type=subject_type,
        subject_id=subject_id,
        campaign_id=campaign_id,
        school_id=school_id,
        org_id=org_id,
        audience=audience,
        actor=actor.actor if actor else "system",
        payload=plain(payload or {}),
    )
    session.add(event)
    return event
