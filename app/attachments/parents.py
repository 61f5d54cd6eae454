"""Who may read an attachment, and who may attach to a parent, decided by the parent.

One entry per parent type. Each domain adds its own entry (a reader and an attacher taking
`(session, principal, parent_id)` and returning bool), built on that domain's visibility
function, so an attachment is never more visible than the object it hangs off.
"""

from collections.abc import Callable

from sqlmodel import Session, col, select

from app.attachments.models import AttachmentParent
from app.auth.principal import Principal
from app.hazards.models import Hazard
from app.hazards.visibility import visible_hazards
from app.users.models import Capability

Check = Callable[[Session, Principal, int], bool]


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


READERS: dict[AttachmentParent, Check] = {
    AttachmentParent.hazard: _hazard_readable,
}
ATTACHERS: dict[AttachmentParent, Check] = {
    AttachmentParent.hazard: _hazard_attachable,
}
