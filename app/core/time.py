"""Local dates and working days.

Deadlines are local (Asia/Shanghai) dates. Working days follow China's official calendar of
public holidays and make-up working days (调休), taken from the maintained `chinesecalendar`
package rather than a hand-typed list. For a year the package does not yet cover, only
weekends count as rest days.
"""

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

from app.core.config import get_settings


@lru_cache
def local_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today's local date: the day a deadline is compared against."""
    return now().astimezone(local_zone()).date()


def local_date(moment: datetime) -> date:
    return moment.astimezone(local_zone()).date()


@lru_cache(maxsize=4096)
def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (start itself not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 if end ≤ start)."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count
