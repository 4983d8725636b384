"""Quiet hours: no reminders or consultations late in the evening or early in the morning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class QuietHours:
    """A nightly window in local time (default 21:00 to 09:00, UK time)."""

    start: time = time(21, 0)
    end: time = time(9, 0)
    zone: ZoneInfo = LONDON

    def is_quiet(self, moment: datetime) -> bool:
        """Whether a moment falls inside the window."""
        local = moment.astimezone(self.zone).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, moment: datetime) -> datetime:
        """The moment itself when allowed, else the end of this quiet window."""
        if not self.is_quiet(moment):
            return moment
        local = moment.astimezone(self.zone)
        end = datetime.combine(local.date(), self.end, tzinfo=self.zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=self.zone)
        return end.astimezone(moment.tzinfo)
