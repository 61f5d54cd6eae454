"""Imports every table so that `SQLModel.metadata` is complete (Alembic, tests)."""

from app.accountability.models import AccountabilityRecord
from app.alerts.models import AlertNotice
from app.attachments.models import Attachment
from app.audit.models import AuditLog
from app.auth.models import RefreshToken, ServiceClient
from app.campaigns.models import Campaign, CampaignKeyDate, CampaignMember, CampaignPhase
from app.cases.models import (
    Case,
    CaseCodeCounter,
    CaseEvent,
    CaseExposure,
    CaseProgressReport,
    CaseSupervision,
    CaseVictim,
)
from app.core.idempotency import IdempotencyRecord
from app.events.models import Event
from app.hazards.counts import HazardCount
from app.hazards.models import Hazard, HazardCodeCounter, HazardEvent, HazardExtension
from app.inspections.models import Inspection
from app.licences.models import LicenceAction, LicenceRecord
from app.orgs.models import Org
from app.plans.models import Plan, PlanEvent, PlanHazard, PlanMilestone, PlanProgress
from app.tasks.models import Task, TaskAssignment, TaskAssignmentEvent, TaskReport
from app.users.models import User
from app.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDispatchState,
    WebhookSubscription,
)

__all__ = [
    "AccountabilityRecord",
    "AlertNotice",
    "Attachment",
    "AuditLog",
    "Campaign",
    "CampaignKeyDate",
    "CampaignMember",
    "CampaignPhase",
    "Case",
    "CaseCodeCounter",
    "CaseEvent",
    "CaseExposure",
    "CaseProgressReport",
    "CaseSupervision",
    "CaseVictim",
    "Event",
    "Hazard",
    "HazardCodeCounter",
    "HazardCount",
    "HazardEvent",
    "HazardExtension",
    "IdempotencyRecord",
    "Inspection",
    "LicenceAction",
    "LicenceRecord",
    "Org",
    "Plan",
    "PlanEvent",
    "PlanHazard",
    "PlanMilestone",
    "PlanProgress",
    "RefreshToken",
    "ServiceClient",
    "Task",
    "TaskAssignment",
    "TaskAssignmentEvent",
    "TaskReport",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookDispatchState",
    "WebhookSubscription",
]
