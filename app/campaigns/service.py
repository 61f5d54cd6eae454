"""Campaigns. Every authenticated user may read them; only the office runs them.

A closed campaign is read-only: `ensure_writable` is the one check every other domain calls
before writing anything that belongs to a campaign.
"""

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Table, bindparam
from sqlmodel import Session, col, delete, select

from app.audit import service as audit
from app.auth.principal import Principal
from app.campaigns.models import (
    CAMPAIGN_MACHINE,
    Campaign,
    CampaignKeyDate,
    CampaignMember,
    CampaignPhase,
    CampaignStatus,
)
from app.campaigns.schemas import (
    CampaignCreate,
    CampaignPublic,
    CampaignUpdate,
    KeyDateIn,
    MemberIn,
    PhaseIn,
)
from app.core import db
from app.core.errors import Conflict, Invalid, NotFound, field_error
from app.core.etag import check_if_match
from app.core.pagination import SortDir, keyset, split_page
from app.core.time import now, today
from app.events import service as events
from app.orgs.models import Org


def _not_found() -> NotFound:
    return NotFound("campaign.not_found", zh="专项行动不存在。", en="No such campaign.")


def _closed() -> Conflict:
    return Conflict(
        "campaign.closed",
        zh="专项行动已结束,数据只读。",
        en="The campaign is closed and read-only.",
    )


class OpenCampaign(NamedTuple):
    id: int
    year: int


_CAMPAIGN_TABLE: Table = Campaign.__table__  # type: ignore[attr-defined]
_STATUS_AND_YEAR = db.Prepared(
    select(_CAMPAIGN_TABLE.c.status, _CAMPAIGN_TABLE.c.year).where(
        _CAMPAIGN_TABLE.c.id == bindparam("campaign_id")
    )
)


def ensure_writable(
    session: Session, campaign_id: int, *, field: str = "body.campaign_id"
) -> OpenCampaign:
    """The campaign exists and is not closed. Other domains call this before any write.

    A plain column select, not an ORM load: every write in the system runs it."""
    row = _STATUS_AND_YEAR.first(session.connection(), {"campaign_id": campaign_id})
    if row is None:
        raise Invalid(
            "campaign.unknown",
            zh="专项行动不存在。",
            en="The campaign does not exist.",
            errors=[field_error(field, "unknown_campaign", "专项行动不存在", "no such campaign")],
        )
    status, year = row
    if status == CampaignStatus.closed:
        raise _closed()
    return OpenCampaign(campaign_id, year)


def _public(session: Session, campaign: Campaign) -> CampaignPublic:
    cid = campaign.id
    phases = session.exec(
        select(CampaignPhase)
        .where(col(CampaignPhase.campaign_id) == cid)
        .order_by(col(CampaignPhase.starts_on))
    ).all()
    key_dates = session.exec(
        select(CampaignKeyDate)
        .where(col(CampaignKeyDate.campaign_id) == cid)
        .order_by(col(CampaignKeyDate.due_on))
    ).all()
    members = session.exec(
        select(CampaignMember)
        .where(col(CampaignMember.campaign_id) == cid)
        .order_by(col(CampaignMember.id))
    ).all()
    day = today()
    current = next((p.code for p in phases if p.starts_on <= day <= p.ends_on), None)
    return CampaignPublic.model_validate(
        {
            **campaign.model_dump(),
            "phases": phases,
            "key_dates": key_dates,
            "members": members,
            "current_phase": current,
        }
    )


def get(campaign_id: int) -> CampaignPublic:
    with db.read() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise _not_found()
        return _public(session, campaign)


def list_campaigns(
    *, status: CampaignStatus | None, year: int | None, cursor: str | None, limit: int
) -> tuple[list[CampaignPublic], str | None]:
    stmt = select(Campaign)
    if status:
        stmt = stmt.where(col(Campaign.status) == status)
    if year:
        stmt = stmt.where(col(Campaign.year) == year)
    stmt = keyset(
        stmt,
        key=col(Campaign.id),
        id_col=col(Campaign.id),
        direction=SortDir.desc,
        cursor=cursor,
        limit=limit,
    )
    with db.read() as session:
        rows: Sequence[Campaign] = session.exec(stmt).all()
        page, next_cursor = split_page(rows, limit, lambda c: (c.id, c.id))
        return [_public(session, c) for c in page], next_cursor


def _check_orgs(session: Session, members: list[MemberIn], office_org_id: int | None) -> None:
    ids = {m.org_id for m in members if m.org_id} | ({office_org_id} if office_org_id else set())
    if not ids:
        return
    found = set(session.exec(select(Org.id).where(col(Org.id).in_(ids))).all())
    missing = sorted(ids - found)
    if missing:
        raise Invalid(
            "campaign.unknown_org",
            zh=f"组织不存在:{missing}。",
            en=f"These orgs do not exist: {missing}.",
            errors=[field_error("body.members", "unknown_org", "组织不存在", "no such org")],
        )


def _replace_children(
    session: Session,
    campaign_id: int,
    phases: list[PhaseIn] | None,
    key_dates: list[KeyDateIn] | None,
    members: list[MemberIn] | None,
) -> None:
    if phases is not None:
        session.exec(delete(CampaignPhase).where(col(CampaignPhase.campaign_id) == campaign_id))
        session.add_all(CampaignPhase(campaign_id=campaign_id, **p.model_dump()) for p in phases)
    if key_dates is not None:
        session.exec(delete(CampaignKeyDate).where(col(CampaignKeyDate.campaign_id) == campaign_id))
        session.add_all(
            CampaignKeyDate(campaign_id=campaign_id, **k.model_dump()) for k in key_dates
        )
    if members is not None:
        session.exec(delete(CampaignMember).where(col(CampaignMember.campaign_id) == campaign_id))
        session.add_all(CampaignMember(campaign_id=campaign_id, **m.model_dump()) for m in members)


def _name_taken(session: Session, name: str, exclude_id: int | None = None) -> None:
    stmt = select(Campaign.id).where(col(Campaign.name) == name)
    if exclude_id:
        stmt = stmt.where(col(Campaign.id) != exclude_id)
    if session.exec(stmt).first() is not None:
        raise Conflict(
            "campaign.duplicate", zh="同名专项行动已存在。", en="A campaign with this name exists."
        )


def create(principal: Principal, data: CampaignCreate) -> CampaignPublic:
    with db.write() as session:
        _name_taken(session, data.name)
        _check_orgs(session, data.members, data.office_org_id)
        campaign = Campaign(**data.model_dump(exclude={"phases", "key_dates", "members"}))
        session.add(campaign)
        session.flush()
        assert campaign.id is not None
        _replace_children(session, campaign.id, data.phases, data.key_dates, data.members)
        audit.record(
            session,
            principal,
            action="campaign.create",
            object_type="campaign",
            object_id=campaign.id,
            changes=data.model_dump(),
        )
        events.emit(
            session,
            principal,
            type="campaign.created",
            subject_type="campaign",
            subject_id=campaign.id,
            campaign_id=campaign.id,
            payload={"name": campaign.name},
        )
        session.flush()
        return _public(session, campaign)


def _locked(session: Session, campaign_id: int) -> Campaign:
    campaign = session.exec(
        select(Campaign).where(col(Campaign.id) == campaign_id).with_for_update()
    ).first()
    if campaign is None:
        raise _not_found()
    return campaign


def update(
    principal: Principal, campaign_id: int, data: CampaignUpdate, if_match: str | None
) -> CampaignPublic:
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    with db.write() as session:
        campaign = _locked(session, campaign_id)
        check_if_match(if_match, campaign.version)
        if campaign.status == CampaignStatus.closed:
            raise _closed()
        if "name" in changes:
            _name_taken(session, changes["name"], campaign.id)
        _check_orgs(session, data.members or [], data.office_org_id)
        before = campaign.model_dump()
        scalars = {k: v for k, v in changes.items() if k not in ("phases", "key_dates", "members")}
        for key, value in scalars.items():
            setattr(campaign, key, value)
        if campaign.ends_on < campaign.starts_on:
            raise Invalid(
                "campaign.bad_dates",
                zh="结束日期不能早于开始日期。",
                en="The campaign cannot end before it starts.",
                errors=[
                    field_error("body.ends_on", "bad_dates", "日期顺序错误", "dates out of order")
                ],
            )
        assert campaign.id is not None
        _replace_children(session, campaign.id, data.phases, data.key_dates, data.members)
        campaign.updated_at = now()
        campaign.version += 1
        session.add(campaign)
        audit.record(
            session,
            principal,
            action="campaign.update",
            object_type="campaign",
            object_id=campaign.id,
            changes={
                **audit.diff(before, scalars),
                **{k: v for k, v in changes.items() if k not in scalars},
            },
        )
        session.flush()
        return _public(session, campaign)


def transition(
    principal: Principal, campaign_id: int, action: str, if_match: str | None
) -> CampaignPublic:
    with db.write() as session:
        campaign = _locked(session, campaign_id)
        check_if_match(if_match, campaign.version, required=False)
        source = campaign.status
        campaign.status = CAMPAIGN_MACHINE.target(action, source)
        stamp = now()
        if action == "activate":
            campaign.activated_at = stamp
        else:
            campaign.closed_at = stamp
        campaign.updated_at = stamp
        campaign.version += 1
        session.add(campaign)
        audit.record(
            session,
            principal,
            action=f"campaign.{action}",
            object_type="campaign",
            object_id=campaign.id,
            changes={"status": [source, campaign.status]},
        )
        events.emit(
            session,
            principal,
            type="campaign.status_changed",
            subject_type="campaign",
            subject_id=campaign_id,
            campaign_id=campaign_id,
            payload={"from": source, "to": campaign.status},
        )
        return _public(session, campaign)
