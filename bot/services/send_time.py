"""When a champion wants a broadcast to go, as typed: `18:30`, `6pm`, `24/11 9am`."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from bot.services.quiet_hours import LONDON

FURTHEST = timedelta(days=90)
_WHEN = re.compile(
    r"^\s*(?:(?P<day>\d{1,2})[/.-](?P<month>\d{1,2})(?:[/.-](?P<year>\d{4}))?\s+)?"
    r"(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<half>am|pm)?\s*$",
    re.IGNORECASE,
)


def parse_send_time(text: str, now: datetime) -> datetime | None:
    """The moment meant, in UK time, if it is in the next 90 days (a bare time: its next one)."""
    match = _WHEN.match(text)
    if match is None:
        return None
    clock = _clock(match)
    if clock is None:
        return None
    local_now = now.astimezone(LONDON)
    try:
        day = _day(match, local_now.date())
    except ValueError:
        return None
    moment = datetime.combine(day or local_now.date(), clock, tzinfo=LONDON)
    if day is None and moment <= local_now:
        moment = datetime.combine(local_now.date() + timedelta(days=1), clock, tzinfo=LONDON)
    if not local_now < moment <= local_now + FURTHEST:
        return None
    return moment.astimezone(now.tzinfo)


def _clock(match: re.Match[str]) -> time | None:
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    half = (match["half"] or "").lower()
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif match["minute"] is None:
        return None  # "18" alone is too unclear to schedule a broadcast on
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


def _day(match: re.Match[str], today: date) -> date | None:
    if match["day"] is None:
        return None
    year = int(match["year"]) if match["year"] else today.year
    day = date(year, int(match["month"]), int(match["day"]))
    if match["year"] is None and day < today:
        day = date(year + 1, day.month, day.day)
    return day
