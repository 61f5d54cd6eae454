"""Hazard codes `YH-<year>-<seq>`: the shared yearly counter (`app.core.codes`) on the
hazards' own counter table."""

from sqlmodel import Session

from app.core import codes
from app.hazards.models import HazardCodeCounter

PREFIX = "YH"


def reserve(session: Session, year: int, count: int = 1) -> list[str]:
    """Reserve `count` consecutive hazard codes for `year` inside the caller's transaction."""
    return codes.reserve(session, HazardCodeCounter, PREFIX, year, count)
