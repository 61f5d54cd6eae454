"""Demo hazards: fifteen entries of the register across the demo schools, in every status,
with their timelines. Idempotent: nothing is added when the campaign already has hazards.

They go through the service's own steps (register, status moves, notes) so the timeline,
audit rows, events and counters look exactly like real use; evidence files are not
fabricated, so the rectified ones carry a note but no attachment ids.
"""

from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from app.auth.principal import Principal
from app.campaigns.models import Campaign
from app.core.time import add_working_days, now, today
from app.hazards import service
from app.hazards.models import Hazard, HazardExtension
from app.hazards.schemas import HazardCreate
from app.orgs.models import Org
from app.users.models import Capability, User

SCHOOL_1 = "城关第一小学"
SCHOOL_2 = "城关第二中学"
KG = "阳光民办幼儿园"

# reporter username, school, fields, steps [(username, action, args)]
HAZARDS: list[tuple[str, str, dict[str, Any], list[tuple[str, str, dict[str, Any]]]]] = [
    ("school1", SCHOOL_1, {"category": "building", "title": "教学楼二楼栏杆松动",
     "description": "二楼走廊东侧栏杆固定螺栓松动,学生倚靠有坠落危险。", "location": "教学楼二楼东侧"},
     []),
    ("school1", SCHOOL_1, {"category": "fire", "title": "食堂灭火器过期",
     "description": "食堂操作间3具灭火器超过检验期。", "location": "学校食堂"},
     [("school1", "start", {"days": 3})]),
    ("school1", SCHOOL_1, {"scope": "surroundings", "category": "traffic", "title": "校门前道路缺少减速带",
     "description": "校门前主干道车速快,无减速带和警示标志。", "location": "学府路校门口"},
     [("school1", "escalate", {"reason": "道路施工需城建部门实施"}),
      ("office", "assign", {"org": "城建局", "days": 10})]),
    ("school1", SCHOOL_1, {"category": "electrical", "title": "微机室线路老化",
     "description": "微机室插线板串接,线路绝缘层老化开裂。", "location": "综合楼三楼微机室"},
     [("school1", "start", {"days": 5}), ("school1", "submit", {"note": "已更换线路和插座"})]),
    ("school1", SCHOOL_1, {"scope": "surroundings", "category": "surroundings_venue",
     "venue_type": "internet_cafe", "title": "校门东侧网吧距学校不足200米",
     "description": "校门东侧约120米处有一网吧,放学时段有学生出入。", "location": "学府路12号",
     "lat": 34.2621, "lng": 108.9420, "source": "public_report"},
     [("school1", "escalate", {"reason": "需文广局依法查处"})]),
    ("school2", SCHOOL_2, {"category": "building", "grade": "major", "title": "学生宿舍楼墙体开裂",
     "description": "宿舍楼北侧山墙出现贯通裂缝,经初步检测存在安全隐患。", "location": "学生宿舍楼"},
     [("school2", "escalate", {"reason": "需专业鉴定和加固,学校无力实施"}),
      ("office", "assign", {"org": "城建局", "days": 15}),
      ("office", "supervise", {"notice_no": "区安督〔2026〕1号", "org": "区监察局", "days": 20})]),
    ("school2", SCHOOL_2, {"category": "food_hygiene", "title": "食堂从业人员健康证过期",
     "description": "食堂2名从业人员健康证已过期。", "location": "学校食堂"},
     [("school2", "start", {"days": 5}), ("school2", "submit", {"note": "已办理新健康证"}),
      ("inspector", "verify", {"comment": "复查合格"})]),
    ("school2", SCHOOL_2, {"category": "equipment", "title": "体育器材单杠锈蚀",
     "description": "操场单杠立柱根部锈蚀严重。", "location": "操场"},
     [("school2", "start", {"days": 5}), ("school2", "submit", {"note": "已除锈刷漆"}),
      ("inspector", "reject", {"comment": "立柱根部未加固"})]),
    ("school2", SCHOOL_2, {"category": "management", "title": "门卫登记制度未落实",
     "description": "外来人员进出校园未登记。", "location": "校门口"},
     [("office", "void", {"reason": "已于检查当日现场整改,不作隐患登记"})]),
    ("kg1", KG, {"category": "fire", "title": "幼儿园疏散通道堆放杂物",
     "description": "一楼疏散通道堆放床垫等杂物,影响疏散。", "location": "一楼走廊"},
     [("kg1", "start", {"days": 2}), ("kg1", "extension", {"reason": "需等待储物间改造完成", "days": 8})]),
    ("kg1", KG, {"category": "public_order", "title": "幼儿园围墙过低",
     "description": "东侧围墙高度不足1.5米,易被翻越。", "location": "东侧围墙"},
     []),
    ("kg1", KG, {"scope": "surroundings", "category": "surroundings_venue", "venue_type": "food_stall",
     "title": "园门口流动饮食摊点", "description": "放学时段园门口聚集流动饮食摊点。",
     "location": "幸福路园门口"},
     [("kg1", "escalate", {"reason": "需执法分局清理"}), ("office", "assign", {"org": "执法分局", "days": 5})]),
    ("inspector", "桃花镇中心小学", {"category": "building", "grade": "major", "title": "教学楼屋面渗漏",
     "description": "教学楼屋面防水层老化,雨天多处渗漏,存在电气短路风险。", "location": "教学楼",
     "source": "inspection_group"},
     []),
    ("inspector", "区实验中学", {"category": "traffic", "scope": "surroundings", "title": "校车停靠点无标线",
     "description": "校车停靠点无停车标线和安全护栏。", "location": "实验中学南门",
     "source": "inspection_group"},
     [("office", "void", {"reason": "与城关第一小学同一道路隐患重复", "duplicate_of": 2})]),
    ("office", "区机关幼儿园", {"category": "equipment", "title": "滑梯护栏螺丝脱落",
     "description": "户外滑梯平台护栏两颗螺丝脱落。", "location": "户外活动场",
     "source": "department"},
     []),
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


def seed_hazards(session: Session, orgs: dict[str, Org], campaign: Campaign) -> None:
    assert campaign.id is not None
    if session.exec(select(Hazard.id).where(col(Hazard.campaign_id) == campaign.id)).first():
        return
    users = {u.username: _principal(u) for u in session.exec(select(User)).all()}
    made: list[Hazard] = []
    for index, (reporter, school, fields, steps) in enumerate(HAZARDS):
        data = HazardCreate.model_validate(
            {
                "campaign_id": campaign.id,
                "school_id": orgs[school].id,
                "scope": "campus",
                "grade": "general",
                "source": "self_inspection",
                "found_on": today() - timedelta(days=len(HAZARDS) - index),
                **fields,
            }
        )
        hazard = service.register_in(session, users[reporter], data)
        made.append(hazard)
        for username, action, args in steps:
            _step(session, users[username], hazard, action, args, orgs, made)
    session.flush()


def _step(
    session: Session,
    principal: Principal,
    hazard: Hazard,
    action: str,
    args: dict[str, Any],
    orgs: dict[str, Org],
    made: list[Hazard],
) -> None:
    step = service._Step
    deadline = add_working_days(today(), args.get("days", 0))
    if action == "start":
        fields = {"deadline": deadline, "deadline_working_days": args["days"]}
        service._move(session, principal, hazard, "start", step(None, dict(fields), fields))
    elif action == "escalate":
        service._move(
            session,
            principal,
            hazard,
            "escalate",
            step(args["reason"], None, {"escalation_reason": args["reason"]}),
        )
    elif action == "assign":
        fields = {
            "responsible_org_id": orgs[args["org"]].id,
            "deadline": deadline,
            "deadline_working_days": args["days"],
        }
        service._move(
            session, principal, hazard, "assign", step("请限期整改", dict(fields), fields)
        )
    elif action == "submit":
        service._move(
            session,
            principal,
            hazard,
            "submit-rectification",
            step(args["note"], None, {"rectification_note": args["note"]}),
        )
    elif action in ("verify", "reject"):
        service._move(session, principal, hazard, action, step(args["comment"]))
    elif action == "void":
        original = made[args["duplicate_of"]].id if "duplicate_of" in args else None
        fields = {"void_reason": args["reason"], "duplicate_of_id": original}
        service._move(session, principal, hazard, "void", step(args["reason"], None, fields))
    elif action == "supervise":
        fields = {
            "supervised": True,
            "supervision_notice_no": args["notice_no"],
            "supervising_org_id": orgs[args["org"]].id,
            "supervision_deadline": today() + timedelta(days=args["days"]),
            "supervised_at": now(),
        }
        service._note(
            session, principal, hazard, "supervise", "hazard.supervised", step(None, None, fields)
        )
    elif action == "extension":
        assert principal.org_id is not None
        assert hazard.id is not None
        extension = HazardExtension(
            hazard_id=hazard.id,
            requested_by=principal.actor,
            requested_org_id=principal.org_id,
            reason=args["reason"],
            requested_deadline=add_working_days(today(), args["days"]),
        )
        session.add(extension)
        session.flush()
        service._note(
            session,
            principal,
            hazard,
            "request-extension",
            "hazard.extension_requested",
            step(args["reason"], {"extension_id": extension.id}),
        )
    else:  # pragma: no cover - a typo in the table above
        raise ValueError(action)
