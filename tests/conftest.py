"""Test harness: one database per test run, emptied after every test, and factories.

SQLite by default (a file in a temp dir). With DATABASE_URL pointing at PostgreSQL, a fresh
database is created for the run and dropped after; if PostgreSQL is unreachable the run
fails — it never silently falls back.
"""

import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

_tmp = tempfile.mkdtemp(prefix="campus-safety-tests-")
_requested_url = os.environ.get("DATABASE_URL", "")
_admin_url: str | None = None
if _requested_url.startswith(("postgresql", "postgres")):
    from sqlalchemy import create_engine, text

    from app.core.db import normalize_url

    _admin_url = normalize_url(_requested_url)
    _db_name = f"cs_test_{uuid.uuid4().hex[:10]}"
    _admin = create_engine(_admin_url, isolation_level="AUTOCOMMIT")
    with _admin.connect() as conn:  # raises (fails the run) when PostgreSQL is unreachable
        conn.execute(text(f'CREATE DATABASE "{_db_name}"'))
    _admin.dispose()
    os.environ["DATABASE_URL"] = _admin_url.rsplit("/", 1)[0] + "/" + _db_name
else:
    _db_name = ""
    os.environ["DATABASE_URL"] = f"sqlite:///{_tmp}/test.db"
os.environ["ENVIRONMENT"] = "test"
os.environ["SECRET_KEY"] = "test-secret-key-that-is-long-enough-0123456789"
os.environ["STORAGE_DIR"] = f"{_tmp}/attachments"
os.environ.setdefault("REDIS_URL", "")
if not os.environ["REDIS_URL"]:
    del os.environ["REDIS_URL"]

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

import app.models  # noqa: E402
from app.auth import dependencies as auth_deps  # noqa: E402
from app.auth.service import auth_states  # noqa: E402
from app.campaigns.models import Campaign, CampaignPhase, CampaignStatus, PhaseCode  # noqa: E402
from app.core import db, security  # noqa: E402
from app.core.ratelimit import reset_counter  # noqa: E402
from app.hazards import service as hazard_service  # noqa: E402
from app.main import create_app  # noqa: E402
from app.orgs.models import LicenseStatus, Org, OrgKind, Ownership, SchoolType  # noqa: E402
from app.users.models import Capability, Role, User  # noqa: E402

PASSWORD = "correct-horse-battery"
# Hashing is slow by design; the tests share one hash.
PASSWORD_HASH = security.hash_password(PASSWORD)


@pytest.fixture(scope="session", autouse=True)
def _schema() -> Iterator[None]:
    engine = db.get_engine()
    SQLModel.metadata.create_all(engine)
    yield
    db.dispose_engine()
    if _admin_url:
        from sqlalchemy import create_engine

        admin = create_engine(_admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{_db_name}" WITH (FORCE)'))
        admin.dispose()


def _empty_all_tables() -> None:
    engine = db.get_engine()
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
                )
            )
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))
            has_seq = conn.execute(
                text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")
            ).first()
            if has_seq:
                conn.execute(text("DELETE FROM sqlite_sequence"))


@pytest.fixture(autouse=True)
def _clean_state() -> Iterator[None]:
    yield
    _empty_all_tables()
    auth_states.clear()
    auth_deps._memo.clear()
    # Ids and versions start over with the tables; a frozen clock can repeat updated_at.
    hazard_service._REPRESENTATIONS.clear()
    reset_counter()


@pytest.fixture(scope="session")
def app() -> Any:
    return create_app()


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


# --------------------------------------------------------------------------------------------
# Factories


def make_org(name: str | None = None, kind: OrgKind = OrgKind.school, **fields: Any) -> Org:
    if kind == OrgKind.school:
        fields.setdefault("school_type", SchoolType.primary)
        fields.setdefault("ownership", Ownership.public)
        fields.setdefault("license_status", LicenseStatus.licensed)
    with db.write() as session:
        org = Org(name=name or f"{kind.value}-{uuid.uuid4().hex[:8]}", kind=kind, **fields)
        session.add(org)
        session.flush()
        return org


def make_user(
    org: Org,
    role: Role,
    *,
    username: str | None = None,
    capabilities: tuple[Capability, ...] = (),
    password_hash: str = PASSWORD_HASH,
) -> User:
    assert org.id is not None
    with db.write() as session:
        user = User(
            username=username or f"{role.value}-{uuid.uuid4().hex[:8]}",
            full_name=f"{role.value} user",
            org_id=org.id,
            role=role,
            capabilities=[c.value for c in capabilities],
            password_hash=password_hash,
        )
        session.add(user)
        session.flush()
        return user


def token_for(user: User) -> str:
    token, _ = security.create_access_token(
        subject=f"user:{user.id}",
        role=user.role,
        org_id=user.org_id,
        capabilities=tuple(user.capabilities),
        token_version=user.token_version,
    )
    return token


def auth(user: User, lang: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token_for(user)}"}
    if lang:
        headers["Accept-Language"] = lang
    return headers


def make_campaign(status: CampaignStatus = CampaignStatus.active, **fields: Any) -> Campaign:
    with db.write() as session:
        campaign = Campaign(
            name=fields.pop("name", f"campaign-{uuid.uuid4().hex[:8]}"),
            year=2026,
            status=status,
            starts_on=fields.pop("starts_on", date(2026, 11, 21)),
            ends_on=fields.pop("ends_on", date(2026, 12, 20)),
            **fields,
        )
        session.add(campaign)
        session.flush()
        assert campaign.id is not None
        for code, start, end in (
            (PhaseCode.setup, date(2026, 11, 21), date(2026, 11, 23)),
            (PhaseCode.action, date(2026, 11, 24), date(2026, 12, 10)),
            (PhaseCode.rectification, date(2026, 12, 11), date(2026, 12, 20)),
        ):
            session.add(
                CampaignPhase(campaign_id=campaign.id, code=code, starts_on=start, ends_on=end)
            )
        return campaign


@dataclass
class World:
    """A small district: the office, departments, schools, one user of each kind, a campaign.

    `world.h.school_a` etc. are ready Authorization headers.
    """

    orgs: dict[str, Org] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    campaign: Campaign | None = None

    def headers(self, who: str, lang: str | None = None) -> dict[str, str]:
        return auth(self.users[who], lang)

    @property
    def h(self) -> "_Headers":
        return _Headers(self)

    def org_id(self, name: str) -> int:
        org_id = self.orgs[name].id
        assert org_id is not None
        return org_id

    @property
    def campaign_id(self) -> int:
        assert self.campaign is not None
        assert self.campaign.id is not None
        return self.campaign.id


class _Headers:
    def __init__(self, world: World) -> None:
        self._world = world

    def __getattr__(self, who: str) -> dict[str, str]:
        return self._world.headers(who)


@pytest.fixture
def world() -> World:
    """Orgs: office, edu (教体局, supervises public schools), chengjian (城建局), police,
    jiancha (监察), town (桃花镇, supervises kg), school_a, school_b, kg (private kindergarten).
    Users (same keys as their org, plus): admin, office, edu (department), inspector
    (教体局, inspector), chengjian, police (cases), jiancha (oversight), town, school_a,
    school_b, kg."""
    w = World()
    w.orgs["office"] = make_org("区办公室", OrgKind.office)
    for key, name in (
        ("edu", "区教体局"),
        ("chengjian", "城建局"),
        ("police", "公安分局"),
        ("jiancha", "区监察局"),
        ("town", "桃花镇"),
    ):
        w.orgs[key] = make_org(name, OrgKind.department)
    w.orgs["school_a"] = make_org(
        "城关第一小学", supervising_org_id=w.orgs["edu"].id, lat=34.2610, lng=108.9420
    )
    w.orgs["school_b"] = make_org(
        "城关第二中学", school_type=SchoolType.middle, supervising_org_id=w.orgs["edu"].id
    )
    w.orgs["kg"] = make_org(
        "阳光民办幼儿园",
        school_type=SchoolType.kindergarten,
        ownership=Ownership.private,
        supervising_org_id=w.orgs["town"].id,
    )
    w.users["admin"] = make_user(w.orgs["office"], Role.admin, username="admin")
    w.users["office"] = make_user(w.orgs["office"], Role.office, username="office")
    w.users["edu"] = make_user(w.orgs["edu"], Role.department, username="edu")
    w.users["inspector"] = make_user(
        w.orgs["edu"], Role.department, username="inspector", capabilities=(Capability.inspector,)
    )
    w.users["chengjian"] = make_user(w.orgs["chengjian"], Role.department, username="chengjian")
    w.users["police"] = make_user(
        w.orgs["police"], Role.department, username="police", capabilities=(Capability.cases,)
    )
    w.users["jiancha"] = make_user(
        w.orgs["jiancha"], Role.department, username="jiancha", capabilities=(Capability.oversight,)
    )
    w.users["town"] = make_user(w.orgs["town"], Role.department, username="town")
    for key in ("school_a", "school_b", "kg"):
        w.users[key] = make_user(w.orgs[key], Role.school, username=key)
    w.campaign = make_campaign(office_org_id=w.orgs["office"].id)
    return w


def make_hazard(
    campaign: Campaign,
    school: Org,
    *,
    responsible: Org | None = None,
    status: str = "rectifying",
    grade: str = "major",
    **fields: Any,
) -> Any:
    """A hazard row straight in the register (no API, no timeline): at `school`, to be fixed by
    `responsible` (the school itself by default)."""
    from app.hazards.models import (
        Hazard,
        HazardCategory,
        HazardGrade,
        HazardScope,
        HazardSource,
        HazardStatus,
    )

    with db.write() as session:
        hazard = Hazard(
            code=fields.pop("code", f"YH-T-{uuid.uuid4().hex[:10]}"),
            campaign_id=campaign.id,
            school_id=school.id,
            scope=fields.pop("scope", HazardScope.campus),
            category=fields.pop("category", HazardCategory.building),
            grade=HazardGrade(grade),
            title=fields.pop("title", "教学楼外墙瓷砖松动"),
            description=fields.pop("description", "北侧外墙瓷砖大面积空鼓,有坠落危险。"),
            source=fields.pop("source", HazardSource.self_inspection),
            found_on=fields.pop("found_on", date(2026, 11, 25)),
            reported_by="user:0",
            reporter_org_id=school.id,
            responsible_org_id=(responsible or school).id,
            status=HazardStatus(status),
            **fields,
        )
        session.add(hazard)
        session.flush()
        return hazard
