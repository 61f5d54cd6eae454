"""The hand-built register every statistics test checks its figures against.

Today (frozen) is 2026-12-05 local. Eight hazards:

| # | school   | status     | grade   | category     | scope        | deadline | closed (local)   |
|---|----------|------------|---------|--------------|--------------|----------|------------------|
| 1 | school_a | closed     | general | fire         | campus       | 12-01    | 11-30 10:00 (on time)
| 2 | school_a | closed     | major   | building     | campus       | 12-01    | 12-02 07:00 (late; 12-01 in UTC)
| 3 | school_a | rectifying | general | traffic      | surroundings | 12-02    | — overdue, supervised
| 4 | school_a | reported   | general | fire         | campus       | 12-10    | —
| 5 | school_a | void       | general | building     | campus       | 11-30    | — (void: never overdue)
| 6 | school_a | rectified  | major   | building     | campus       | 12-01    | — (not open: not overdue)
| 7 | school_b | escalated  | major   | public_order | surroundings | 12-04    | — overdue; 城建局 responsible
| 8 | school_b | closed     | general | building     | campus       | none     | 12-02 10:00 (not judged)

Hazards 1–7 were reported 2026-11-25 10:00 local, hazard 8 on 2026-11-26 10:00.
"""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.hazards.models import HazardCategory, HazardScope
from tests.conftest import World, make_hazard

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = datetime(2026, 12, 5, 9, 0, tzinfo=SHANGHAI)


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def build(world: World) -> list[Any]:
    c, a, b = world.campaign, world.orgs["school_a"], world.orgs["school_b"]
    assert c is not None
    reported = at(11, 25)
    return [
        make_hazard(
            c,
            a,
            status="closed",
            grade="general",
            category=HazardCategory.fire,
            deadline=date(2026, 12, 1),
            reported_at=reported,
            closed_at=at(11, 30),
        ),
        make_hazard(
            c,
            a,
            status="closed",
            grade="major",
            category=HazardCategory.building,
            deadline=date(2026, 12, 1),
            reported_at=reported,
            closed_at=at(12, 2, 7),
        ),
        make_hazard(
            c,
            a,
            status="rectifying",
            grade="general",
            category=HazardCategory.traffic,
            scope=HazardScope.surroundings,
            deadline=date(2026, 12, 2),
            reported_at=reported,
            supervised=True,
            supervision_notice_no="督-2026-01",
            supervision_deadline=date(2026, 12, 3),
        ),
        make_hazard(
            c,
            a,
            status="reported",
            grade="general",
            category=HazardCategory.fire,
            deadline=date(2026, 12, 10),
            reported_at=reported,
        ),
        make_hazard(
            c,
            a,
            status="void",
            grade="general",
            category=HazardCategory.building,
            deadline=date(2026, 11, 30),
            reported_at=reported,
        ),
        make_hazard(
            c,
            a,
            status="rectified",
            grade="major",
            category=HazardCategory.building,
            deadline=date(2026, 12, 1),
            reported_at=reported,
        ),
        make_hazard(
            c,
            b,
            responsible=world.orgs["chengjian"],
            status="escalated",
            grade="major",
            category=HazardCategory.public_order,
            scope=HazardScope.surroundings,
            deadline=date(2026, 12, 4),
            reported_at=reported,
        ),
        make_hazard(
            c,
            b,
            status="closed",
            grade="general",
            category=HazardCategory.building,
            reported_at=at(11, 26),
            closed_at=at(12, 2),
        ),
    ]
