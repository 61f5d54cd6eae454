"""Demo plans: an approved plan for the dormitory wall crack (a major hazard 城建局 was
ordered to fix) and a draft for the leaking roof at 桃花镇中心小学. Skipped when the demo
hazards are not there; idempotent: nothing is added when the campaign already has plans.
"""

from datetime import timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from app.audit import service as audit
from app.auth.principal import Principal
from app.campaigns.models import Campaign
from app.core.time import now, today
from app.hazards.models import Hazard
from app.orgs.models import Org
from app.plans import service
from app.plans.models import Plan, PlanAction, PlanHazard, PlanMilestone, PlanStatus
from app.users.models import Capability, User

APPROVED_FOR = "学生宿舍楼墙体开裂"
DRAFT_FOR = "教学楼屋面渗漏"


def _principal(session: Session, username: str) -> Principal | None:
    user = session.exec(select(User).where(col(User.username) == username)).first()
    if user is None or user.id is None:
        return None
    return Principal(
        kind="user",
        id=user.id,
        role=user.role,
        org_id=user.org_id,
        capabilities=frozenset(Capability(c) for c in user.capabilities),
    )


def _hazard(session: Session, campaign_id: int, title: str) -> Hazard | None:
    return session.exec(
        select(Hazard).where(col(Hazard.campaign_id) == campaign_id, col(Hazard.title) == title)
    ).first()


def _owner_user(session: Session, org_id: int) -> Principal | None:
    user = session.exec(
        select(User).where(col(User.org_id) == org_id).order_by(col(User.id))
    ).first()
    return _principal(session, user.username) if user else None


def _add(
    session: Session,
    principal: Principal,
    plan: Plan,
    hazard: Hazard,
    milestones: list[tuple[str, int, int | None]],
) -> Plan:
    session.add(plan)
    session.flush()
    assert plan.id is not None
    assert hazard.id is not None
    session.add(PlanHazard(plan_id=plan.id, hazard_id=hazard.id))
    for order, (title, due_in, done_ago) in enumerate(milestones):
        session.add(
            PlanMilestone(
                plan_id=plan.id,
                sort_order=order,
                title=title,
                due_on=today() + timedelta(days=due_in),
                done_on=today() - timedelta(days=done_ago) if done_ago is not None else None,
            )
        )
    service._timeline(session, principal, plan, PlanAction.create)
    audit.record(session, principal, action="plan.create", object_type="plan", object_id=plan.id)
    service._emit(session, principal, plan, "plan.created", {"hazard_ids": [hazard.id]})
    return plan


def seed_plans(session: Session, orgs: dict[str, Org], campaign: Campaign) -> None:
    assert campaign.id is not None
    if session.exec(select(Plan.id).where(col(Plan.campaign_id) == campaign.id)).first():
        return
    office = _principal(session, "office")
    major = _hazard(session, campaign.id, APPROVED_FOR)
    if office is not None and major is not None:
        owner = _owner_user(session, major.responsible_org_id)
        if owner is not None:
            stamp = now()
            plan = _add(
                session,
                owner,
                Plan(
                    campaign_id=campaign.id,
                    owner_org_id=major.responsible_org_id,
                    title="城关第二中学学生宿舍楼墙体加固整改方案",
                    goal_and_tasks="完成宿舍楼北侧山墙结构鉴定与加固,消除墙体开裂隐患。",
                    methods_and_measures="委托有资质的鉴定机构检测;采用钢筋网砂浆面层加固北侧山墙。",
                    funds_amount=Decimal("186000.00"),
                    funds_source="区财政校舍安全专项资金",
                    materials="钢筋网、高强度砂浆、脚手架",
                    responsible_body="城建局质量安全科",
                    responsible_person="李振华",
                    responsible_phone="029-86661234",
                    deadline=today() + timedelta(days=20),
                    requirements="加固完成后经鉴定机构复检合格方可恢复使用。",
                    safety_measures="宿舍楼北侧设置围挡和警示标志,相关宿舍学生临时调整住宿。",
                    contingency_plan="发现裂缝扩展立即疏散宿舍楼全部学生,报告区办公室。",
                    created_by=owner.actor,
                    submitted_at=stamp,
                    approved_at=stamp,
                    review_comment="同意,施工期间确保学生安全。",
                    progress_percent=20,
                ),
                major,
                [("完成结构鉴定", -3, 4), ("完成加固设计", 5, None), ("完成加固施工", 18, None)],
            )
            for action, actor, source, target, event in (
                ("submit", owner, PlanStatus.draft, PlanStatus.submitted, "plan.submitted"),
                ("approve", office, PlanStatus.submitted, PlanStatus.approved, "plan.approved"),
            ):
                plan.status = target
                service._timeline(session, actor, plan, PlanAction(action), from_status=source)
                audit.record(
                    session,
                    actor,
                    action=f"plan.{action}",
                    object_type="plan",
                    object_id=plan.id,
                    changes={"status": [source, target]},
                )
                service._emit(session, actor, plan, event, {"from": source, "to": target})
            session.add(plan)
    roof = _hazard(session, campaign.id, DRAFT_FOR)
    if roof is not None:
        owner = _owner_user(session, roof.responsible_org_id) or office
        if owner is not None:
            _add(
                session,
                owner,
                Plan(
                    campaign_id=campaign.id,
                    owner_org_id=roof.responsible_org_id,
                    title="教学楼屋面防水翻新方案(草稿)",
                    goal_and_tasks="寒假前完成教学楼屋面防水层翻新。",
                    methods_and_measures="铲除旧防水层,铺设SBS改性沥青防水卷材。",
                    deadline=today() + timedelta(days=30),
                    created_by=owner.actor,
                ),
                roof,
                [("完成招标", 10, None), ("完成施工", 28, None)],
            )
    session.flush()
