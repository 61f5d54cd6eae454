"""The seed plan's four key tasks (四项重点工作) and the rectification summary, as demo data."""

from datetime import date

from sqlmodel import Session, col, select

from app.campaigns.models import Campaign
from app.orgs.models import Org
from app.tasks.models import (
    KeyTaskType,
    Task,
    TaskAction,
    TaskAssignment,
    TaskAssignmentEvent,
    TaskRole,
)

REPORTS_DUE = date(2026, 12, 10)
SUMMARY_DUE = date(2026, 12, 15)

# title, type, lead, participants, due, description — as the seed plan words them.
TASKS: list[tuple[str, KeyTaskType, str, list[str], date, str]] = [
    (
        "大力开展校园周边环境治理行动",
        KeyTaskType.surroundings_cleanup,
        "区政法委",
        ["公安分局", "文广局", "卫生局", "执法分局", "工商分局", "城建局", "消防大队",
         "交警大队", "安管局", "区教体局"],
        REPORTS_DUE,
        "对学校周边的治安状况进行全面排查,对校园周边道路安全设施和交通秩序进行全面整治,"
        "依法清理整顿校园周边的非法网吧、书摊、小卖部、歌舞厅、游戏厅、录像厅、流动饮食摊点等场所。",
    ),
    (
        "全面排查校园安全隐患",
        KeyTaskType.hazard_inspection,
        "区教体局",
        [],
        REPORTS_DUE,
        "组织对区属中小学和幼儿园进行排查整改,对查出的每一处安全隐患登记造册,逐级上报。",
    ),
    (
        "民办小学、幼儿园安全排查整改和无证幼儿园查处取缔",
        KeyTaskType.private_school_inspection,
        "区幼儿园综合审批工作小组",
        ["桃花镇", "城关街办", "东城街办"],
        REPORTS_DUE,
        "加强对民办小学、幼儿园的安全排查整改、督查,就无证幼儿园进行坚决查处和取缔。",
    ),
    (
        "严肃查处一批重大案件",
        KeyTaskType.case_crackdown,
        "公安分局",
        [],
        REPORTS_DUE,
        "把侦破、查处针对未成年人的伤害案件作为工作重点,对尚未侦破的恶性案件挂牌督办、限期侦破。",
    ),
    (
        "整改完成情况汇总上报",
        KeyTaskType.summary_report,
        "区教体局",
        ["区政法委", "公安分局", "区幼儿园综合审批工作小组"],
        SUMMARY_DUE,
        "对检查发现的安全隐患和工作薄弱环节的整改完成情况于12月15日前汇总上报。",
    ),
]  # fmt: skip


def seed_tasks(session: Session, orgs: dict[str, Org], campaign: Campaign) -> None:
    assert campaign.id is not None
    for title, kind, lead, participants, due_on, description in TASKS:
        exists = session.exec(
            select(Task.id).where(col(Task.campaign_id) == campaign.id, col(Task.title) == title)
        ).first()
        if exists is not None:
            continue
        lead_id = orgs[lead].id
        assert lead_id is not None
        task = Task(
            campaign_id=campaign.id,
            title=title,
            description=description,
            key_task_type=kind,
            lead_org_id=lead_id,
            due_on=due_on,
            created_by="system",
        )
        session.add(task)
        session.flush()
        assert task.id is not None
        for name, role in [
            (lead, TaskRole.lead),
            *((p, TaskRole.participant) for p in participants),
        ]:
            org_id = orgs[name].id
            assert org_id is not None
            assignment = TaskAssignment(task_id=task.id, org_id=org_id, role=role)
            session.add(assignment)
            session.flush()
            assert assignment.id is not None
            session.add(
                TaskAssignmentEvent(
                    assignment_id=assignment.id,
                    action=TaskAction.assign,
                    actor="system",
                    to_status=assignment.status,
                )
            )
    session.flush()
