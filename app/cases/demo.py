"""Demo cases of 公安分局: four cases in different statuses, one under listed supervision
(挂牌督办) with a progress report, one solved and exposed on the public board. Idempotent:
nothing is added when the campaign already has cases.

Rows are written in the seeder's own transaction (the service opens its own), using the
service's timeline and event helpers so the timeline and outbox look like real use. The
victims are invented.
"""

from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from app.auth.principal import Principal
from app.campaigns.models import Campaign
from app.cases import service
from app.cases.models import (
    Case,
    CaseAction,
    CaseCodeCounter,
    CaseExposure,
    CaseProgressReport,
    CaseStatus,
    CaseSupervision,
    CaseType,
    CaseVictim,
    SupervisionLevel,
    SuspectStatus,
)
from app.core import codes
from app.core.time import local_date, now, today
from app.orgs.models import Org
from app.users.models import Capability, User

POLICE = "公安分局"
OFFICE = "区校园安全管理工作整治领导小组办公室"

ORDER = [
    CaseStatus.filed,
    CaseStatus.investigating,
    CaseStatus.solved,
    CaseStatus.prosecuted,
    CaseStatus.judged,
    CaseStatus.closed,
]
ACTIONS = {
    CaseStatus.investigating: ("start-investigation", "investigation_started_at"),
    CaseStatus.solved: ("solve", "solved_at"),
    CaseStatus.prosecuted: ("prosecute", "prosecuted_at"),
    CaseStatus.judged: ("judge", "judged_at"),
    CaseStatus.closed: ("close", "closed_at"),
}

# school, fields, status, victims, extra
CASES: list[tuple[str | None, dict[str, Any], CaseStatus, list[dict[str, Any]], str | None]] = [
    ("城关第一小学", {"case_type": CaseType.campus_intrusion, "days_ago": 6,
     "location": "城关第一小学东门外",
     "summary": "一男子持木棍在校门口滋扰上学学生,致两名学生轻微伤,嫌疑人逃离现场。",
     "sanitized_summary": "校门口发生一起滋扰学生事件,公安机关已立案侦查。",
     "victim_minor_count": 2, "suspect_count": 1, "suspect_status": SuspectStatus.at_large},
     CaseStatus.investigating,
     [{"name": "王小雨", "id_number": "610113201601014521", "contact": "13912340001", "age": 9},
      {"name": "刘浩然", "age": 10, "contact": "13912340002"}],
     "supervise"),
    ("城关第二中学", {"case_type": CaseType.campus_violence, "days_ago": 12,
     "location": "城关第二中学附近巷道",
     "summary": "校外人员纠集多人在放学途中拦截殴打学生并索要财物。",
     "sanitized_summary": "放学途中发生一起拦截学生事件,案件已侦破。",
     "victim_minor_count": 3, "suspect_count": 4, "suspect_status": SuspectStatus.arrested},
     CaseStatus.solved,
     [{"name": "陈一鸣", "id_number": "610113201001012233", "age": 15}],
     "expose"),
    ("阳光民办幼儿园", {"case_type": CaseType.food_poisoning, "days_ago": 2,
     "location": "阳光民办幼儿园食堂",
     "summary": "午餐后多名幼儿出现呕吐腹泻症状,疑似食物中毒,已送医并封存留样。",
     "victim_minor_count": 5, "suspect_count": 0, "suspect_status": SuspectStatus.unidentified},
     CaseStatus.filed, [], None),
    ("区实验中学", {"case_type": CaseType.traffic, "days_ago": 40,
     "location": "实验中学南门路口",
     "summary": "一货车在校门口路口闯红灯撞伤过街学生,驾驶人被当场控制。",
     "victim_minor_count": 1, "suspect_count": 1, "suspect_status": SuspectStatus.sentenced},
     CaseStatus.judged,
     [{"name": "赵子涵", "age": 13}],
     None),
]  # fmt: skip


def _principal(user: User) -> Principal:
    assert user.id is not None
    return Principal(
        kind="user",
        id=user.id,
        role=user.role,
        org_id=user.org_id,
        capabilities=frozenset(Capability(c) for c in user.capabilities),
    )


def seed_cases(session: Session, orgs: dict[str, Org], campaign: Campaign) -> None:
    assert campaign.id is not None
    if session.exec(select(Case.id).where(col(Case.campaign_id) == campaign.id)).first():
        return
    users = {u.username: _principal(u) for u in session.exec(select(User)).all()}
    police, office = users.get("police"), users.get("office")
    police_org_id = orgs[POLICE].id if POLICE in orgs else None
    if police is None or office is None or police_org_id is None:
        return
    for school, fields, status, victims, extra in CASES:
        fields = dict(fields)
        occurred_at = now() - timedelta(days=fields.pop("days_ago"))
        (code,) = codes.reserve(session, CaseCodeCounter, service.CODE_PREFIX, today().year)
        case = Case(
            code=code,
            campaign_id=campaign.id,
            occurred_at=occurred_at,
            school_id=orgs[school].id if school else None,
            handling_org_id=police_org_id,
            filed_by=police.actor,
            filed_at=occurred_at + timedelta(hours=3),
            **fields,
        )
        session.add(case)
        session.flush()
        assert case.id is not None
        session.add_all(CaseVictim(case_id=case.id, **v) for v in victims)
        service._timeline(session, police, case, CaseAction.file, to_status=CaseStatus.filed)
        service._emit(session, police, case, "case.filed")
        for step, target in enumerate(ORDER[1 : ORDER.index(status) + 1], start=1):
            action, stamp = ACTIONS[target]
            source = case.status
            case.status = target
            setattr(case, stamp, case.filed_at + timedelta(days=step))
            if target == CaseStatus.judged:
                case.judgement_outcome = "驾驶人犯交通肇事罪,判处有期徒刑一年,缓刑一年。"
            service._timeline(
                session, police, case, CaseAction(action), from_status=source, to_status=target
            )
            service._emit(
                session, police, case, "case.status_changed", **{"from": source, "to": target}
            )
            case.version += 1
        session.add(case)
        if extra == "supervise":
            _supervise(session, office, police, case, orgs)
        elif extra == "expose":
            _expose(session, office, case)
    session.flush()


def _supervise(
    session: Session, office: Principal, police: Principal, case: Case, orgs: dict[str, Org]
) -> None:
    assert case.id is not None
    office_org_id = orgs[OFFICE].id
    assert office_org_id is not None
    listed_at = case.filed_at + timedelta(days=1)
    sup = CaseSupervision(
        case_id=case.id,
        level=SupervisionLevel.district,
        supervising_org_id=office_org_id,
        notice_no="区综治督〔2026〕1号",
        solve_deadline=today() + timedelta(days=15),
        requirements="限期侦破,每周报告侦办进展,加强校门口护学岗。",
        report_interval_days=7,
        next_report_due=local_date(listed_at) + timedelta(days=7),
        listed_by=office.actor,
        listed_at=listed_at,
    )
    session.add(sup)
    session.flush()
    assert sup.id is not None
    service._timeline(
        session, office, case, CaseAction.supervise, data={"notice_no": sup.notice_no}
    )
    service._emit(session, office, case, "case.supervised", level=sup.level)
    reported_at = listed_at + timedelta(days=3)
    session.add(
        CaseProgressReport(
            case_id=case.id,
            supervision_id=sup.id,
            text="已调取沿线监控,锁定嫌疑人活动轨迹,正在组织抓捕。",
            at=reported_at,
            reported_by=police.actor,
            reporter_org_id=police.org_id,
        )
    )
    sup.last_report_at = reported_at
    sup.next_report_due = local_date(reported_at) + timedelta(days=7)
    service._timeline(session, police, case, CaseAction.progress)
    case.version += 1


def _expose(session: Session, office: Principal, case: Case) -> None:
    exposure = CaseExposure(
        case_id=case.id or 0,
        title="校外人员拦截殴打学生案",
        summary="近日,校外人员纠集多人在某中学学生放学途中拦截殴打学生并索要财物。"
        "公安机关快速侦破,4名嫌疑人均已被依法逮捕。",
        published_by=office.actor,
    )
    session.add(exposure)
    session.flush()
    service._timeline(session, office, case, CaseAction.expose, data={"exposure_id": exposure.id})
    service._emit(session, office, case, "case.exposed", exposure_id=exposure.id)
    case.version += 1
