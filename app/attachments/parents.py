"""Who may read an attachment, and who may attach to a parent, decided by the parent.

One entry per parent type. Each domain adds its own entry (a reader and an attacher taking
`(session, principal, parent_id)` and returning bool), built on that domain's visibility
function, so an attachment is never more visible than the object it hangs off.
"""

from collections.abc import Callable

from sqlmodel import Session, col, select

from app.attachments.models import AttachmentParent
from app.auth.principal import Principal, Scope
from app.campaigns.models import Campaign
from app.cases.visibility import case_attachable, case_attachments_readable, case_campaign
from app.hazards.models import Hazard
from app.hazards.visibility import visible_hazards
from app.inspections.visibility import (
    inspection_attachable,
    inspection_campaign,
    inspection_readable,
)
from app.licences.visibility import licence_attachable, licence_readable
from app.plans.models import Plan
from app.plans.visibility import visible_plans
from app.tasks.visibility import report_attachable, report_attachments_readable, report_campaign
from app.users.models import Capability

Check = Callable[[Session, Principal, int], bool]
CampaignOf = Callable[[Session, int], int | None]


def _hazard_readable(session: Session, principal: Principal, parent_id: int) -> bool:
    stmt = select(col(Hazard.id)).where(col(Hazard.id) == parent_id, visible_hazards(principal))
    return session.exec(stmt).first() is not None


def _hazard_attachable(session: Session, principal: Principal, parent_id: int) -> bool:
    """Evidence is added by whoever may act on the hazard: its school, the responsible org,
    the office and inspectors."""
    hazard = session.exec(
        select(Hazard).where(col(Hazard.id) == parent_id, visible_hazards(principal))
    ).first()
    if hazard is None:
        return False
    return (
        principal.org_id in (hazard.school_id, hazard.responsible_org_id)
        or principal.is_office
        or principal.can(Capability.inspector)
    )


def _hazard_campaign(session: Session, parent_id: int) -> int | None:
    return session.exec(select(col(Hazard.campaign_id)).where(col(Hazard.id) == parent_id)).first()


def _campaign_readable(session: Session, principal: Principal, parent_id: int) -> bool:
    """Campaigns (and so the plan document attached to one) are read by every user."""
    return session.get(Campaign, parent_id) is not None


def _campaign_attachable(session: Session, principal: Principal, parent_id: int) -> bool:
    return principal.is_office and session.get(Campaign, parent_id) is not None


def _plan_readable(session: Session, principal: Principal, parent_id: int) -> bool:
    stmt = select(col(Plan.id)).where(col(Plan.id) == parent_id, visible_plans(principal))
    return session.exec(stmt).first() is not None


def _plan_attachable(session: Session, principal: Principal, parent_id: int) -> bool:
    """Evidence of progress is added by the plan's owner; the office may add review papers."""
    plan = session.exec(
        select(Plan).where(col(Plan.id) == parent_id, visible_plans(principal))
    ).first()
    if plan is None:
        return False
    return principal.org_id == plan.owner_org_id or principal.is_office


def _plan_campaign(session: Session, parent_id: int) -> int | None:
    return session.exec(select(col(Plan.campaign_id)).where(col(Plan.id) == parent_id)).first()


READERS: dict[AttachmentParent, Check] = {
    AttachmentParent.hazard: _hazard_readable,
    AttachmentParent.plan: _plan_readable,
    AttachmentParent.campaign: _campaign_readable,
    AttachmentParent.task_report: report_attachments_readable,
    AttachmentParent.inspection: inspection_readable,
    AttachmentParent.licence: licence_readable,
    AttachmentParent.case: case_attachments_readable,
}
ATTACHERS: dict[AttachmentParent, Check] = {
    AttachmentParent.hazard: _hazard_attachable,
    AttachmentParent.plan: _plan_attachable,
    AttachmentParent.campaign: _campaign_attachable,
    AttachmentParent.task_report: report_attachable,
    AttachmentParent.inspection: inspection_attachable,
    AttachmentParent.licence: licence_attachable,
    AttachmentParent.case: case_attachable,
}
# The campaign a parent belongs to, so nothing is attached to a closed campaign's objects.
# A parent type without an entry belongs to no campaign.
CAMPAIGN_OF: dict[AttachmentParent, CampaignOf] = {
    AttachmentParent.hazard: _hazard_campaign,
    AttachmentParent.plan: _plan_campaign,
    AttachmentParent.campaign: lambda _session, parent_id: parent_id,
    AttachmentParent.task_report: report_campaign,
    AttachmentParent.inspection: inspection_campaign,
    AttachmentParent.case: case_campaign,
}
# The OAuth2 scope a service account needs to read a parent type's attachments. A type
# without an entry (cases: victims are minors) is never readable by a service account.
READ_SCOPES: dict[AttachmentParent, str] = {
    AttachmentParent.hazard: Scope.hazards_read,
    AttachmentParent.plan: Scope.plans_read,
    AttachmentParent.task_report: Scope.tasks_read,
    AttachmentParent.campaign: Scope.hazards_read,
    AttachmentParent.inspection: Scope.hazards_read,
}
