"""Imports every table so that `SQLModel.metadata` is complete (Alembic, tests)."""

from app.audit.models import AuditLog
from app.auth.models import RefreshToken, ServiceClient
from app.campaigns.models import Campaign, CampaignKeyDate, CampaignMember, CampaignPhase
from app.events.models import Event
from app.orgs.models import Org
from app.users.models import User

__all__ = [
    "AuditLog",
    "Campaign",
    "CampaignKeyDate",
    "CampaignMember",
    "CampaignPhase",
    "Event",
    "Org",
    "RefreshToken",
    "ServiceClient",
    "User",
]
