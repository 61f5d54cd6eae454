"""Demo data: the seed plan's district, its departments, a dozen schools, one user per role and
the campaign with its three phases. Idempotent: running it twice changes nothing.

Demo users all have the password `demo-password`; they exist only when DEMO_MODE is on.
"""

from datetime import date

from sqlmodel import Session, col, select

from app.campaigns.models import (
    Campaign,
    CampaignKeyDate,
    CampaignPhase,
    CampaignStatus,
    KeyDateCode,
    PhaseCode,
)
from app.cases.demo import seed_cases
from app.core import db, security
from app.core.config import get_settings
from app.core.time import now
from app.hazards.demo import seed_hazards
from app.orgs.models import LicenseStatus, Org, OrgKind, Ownership, SchoolType
from app.plans.demo import seed_plans
from app.tasks.demo import seed_tasks
from app.users.models import Capability, Role, User

DEMO_PASSWORD = "demo-password"
OFFICE = "区校园安全管理工作整治领导小组办公室"
CAMPAIGN = "2026年校园安全管理专项整治行动"

DEPARTMENTS = [
    "区政法委", "公安分局", "文广局", "卫生局", "执法分局", "工商分局", "城建局", "消防大队",
    "交警大队", "安管局", "区教体局", "区监察局", "区委宣传部", "桃花镇", "城关街办", "东城街办",
    "区幼儿园综合审批工作小组",
]  # fmt: skip

# name, type, ownership, licence, supervising org, lat, lng
SCHOOLS: list[tuple[str, SchoolType, Ownership, LicenseStatus, str, float, float]] = [
    ("城关第一小学", SchoolType.primary, Ownership.public, LicenseStatus.licensed, "区教体局", 34.2610, 108.9420),
    ("城关第二中学", SchoolType.middle, Ownership.public, LicenseStatus.licensed, "区教体局", 34.2655, 108.9501),
    ("桃花镇中心小学", SchoolType.primary, Ownership.public, LicenseStatus.licensed, "区教体局", 34.3012, 108.9903),
    ("桃花镇九年制学校", SchoolType.nine_year, Ownership.public, LicenseStatus.licensed, "区教体局", 34.3050, 108.9951),
    ("区实验中学", SchoolType.complete_middle, Ownership.public, LicenseStatus.licensed, "区教体局", 34.2702, 108.9385),
    ("区第一高级中学", SchoolType.high, Ownership.public, LicenseStatus.licensed, "区教体局", 34.2751, 108.9450),
    ("区职业技术学校", SchoolType.vocational, Ownership.public, LicenseStatus.licensed, "区教体局", 34.2800, 108.9300),
    ("区特殊教育学校", SchoolType.special, Ownership.public, LicenseStatus.licensed, "区教体局", 34.2580, 108.9350),
    ("区机关幼儿园", SchoolType.kindergarten, Ownership.public, LicenseStatus.licensed, "区教体局", 34.2633, 108.9399),
    ("阳光民办幼儿园", SchoolType.kindergarten, Ownership.private, LicenseStatus.licensed, "区幼儿园综合审批工作小组", 34.2688, 108.9555),
    ("育才民办小学", SchoolType.primary, Ownership.private, LicenseStatus.licensed, "城关街办", 34.2599, 108.9477),
    ("小太阳幼儿园", SchoolType.kindergarten, Ownership.private, LicenseStatus.discovered, "桃花镇", 34.3030, 108.9870),
    ("童乐幼儿园", SchoolType.kindergarten, Ownership.private, LicenseStatus.ordered_closed, "东城街办", 34.2720, 108.9620),
]  # fmt: skip

# username, full name, org, role, capabilities
USERS: list[tuple[str, str, str, Role, list[Capability]]] = [
    ("admin", "系统管理员", OFFICE, Role.admin, []),
    ("office", "办公室值班员", OFFICE, Role.office, []),
    ("police", "公安分局民警", "公安分局", Role.department, [Capability.cases]),
    ("jiancha", "监察局督查员", "区监察局", Role.department, [Capability.oversight]),
    ("inspector", "教体局检查组", "区教体局", Role.department, [Capability.inspector]),
    ("chengjian", "城建局联络员", "城建局", Role.department, []),
    ("zhengfawei", "政法委联络员", "区政法委", Role.department, []),
    ("school1", "城关一小安全员", "城关第一小学", Role.school, []),
    ("school2", "城关二中安全员", "城关第二中学", Role.school, []),
    ("kg1", "阳光幼儿园园长", "阳光民办幼儿园", Role.school, []),
]  # fmt: skip


def _org(session: Session, name: str, **fields: object) -> Org:
    org = session.exec(select(Org).where(col(Org.name) == name)).first()
    if org is None:
        org = Org(name=name, **fields)  # type: ignore[arg-type]
        session.add(org)
        session.flush()
    return org


def seed_orgs_and_users(session: Session) -> dict[str, Org]:
    orgs = {OFFICE: _org(session, OFFICE, kind=OrgKind.office, address="区教体局三楼")}
    for name in DEPARTMENTS:
        orgs[name] = _org(session, name, kind=OrgKind.department)
    for name, school_type, ownership, licence, supervisor, lat, lng in SCHOOLS:
        orgs[name] = _org(
            session,
            name,
            kind=OrgKind.school,
            school_type=school_type,
            ownership=ownership,
            license_status=licence,
            supervising_org_id=orgs[supervisor].id,
            lat=lat,
            lng=lng,
        )
    password_hash = security.hash_password(DEMO_PASSWORD)
    for username, full_name, org_name, role, caps in USERS:
        if session.exec(select(User.id).where(col(User.username) == username)).first() is None:
            org_id = orgs[org_name].id
            assert org_id is not None
            session.add(
                User(
                    username=username,
                    full_name=full_name,
                    org_id=org_id,
                    role=role,
                    capabilities=[c.value for c in caps],
                    password_hash=password_hash,
                )
            )
    return orgs


def seed_campaign(session: Session, orgs: dict[str, Org]) -> Campaign:
    campaign = session.exec(select(Campaign).where(col(Campaign.name) == CAMPAIGN)).first()
    if campaign is not None:
        return campaign
    campaign = Campaign(
        name=CAMPAIGN,
        year=2026,
        description="为消除我区中小学、幼儿园各类设施的安全隐患,改善学校及周边环境安全状况。",
        status=CampaignStatus.active,
        starts_on=date(2026, 11, 21),
        ends_on=date(2026, 12, 20),
        office_org_id=orgs[OFFICE].id,
        activated_at=now(),
    )
    session.add(campaign)
    session.flush()
    assert campaign.id is not None
    for code, start, end in (
        (PhaseCode.setup, date(2026, 11, 21), date(2026, 11, 23)),
        (PhaseCode.action, date(2026, 11, 24), date(2026, 12, 10)),
        (PhaseCode.rectification, date(2026, 12, 11), date(2026, 12, 20)),
    ):
        session.add(CampaignPhase(campaign_id=campaign.id, code=code, starts_on=start, ends_on=end))
    session.add(
        CampaignKeyDate(
            campaign_id=campaign.id,
            code=KeyDateCode.department_reports,
            title="各部门专项整治情况书面报告、排查情况汇总上报",
            due_on=date(2026, 12, 10),
        )
    )
    session.add(
        CampaignKeyDate(
            campaign_id=campaign.id,
            code=KeyDateCode.completion_report,
            title="整改完成情况汇总上报",
            due_on=date(2026, 12, 15),
        )
    )
    session.flush()
    return campaign


def seed() -> None:
    """Load the demo district in one transaction. Each domain's seeder skips what exists."""
    settings = get_settings()
    if settings.environment == "production" and not settings.demo_mode:
        raise SystemExit("refusing to load demo data in production without DEMO_MODE=true")
    with db.write() as session:
        orgs = seed_orgs_and_users(session)
        campaign = seed_campaign(session, orgs)
        # Order matters: plans cover demo hazards, tasks and cases stand alone.
        for seeder in (seed_tasks, seed_hazards, seed_plans, seed_cases):
            seeder(session, orgs, campaign)
