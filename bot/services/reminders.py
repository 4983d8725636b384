"""Survey reminders: a kind nudge to carry on, at most N per run, never in quiet hours."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.i18n import gettext as _
from bot.i18n import language
from bot.services.chat import Reply
from bot.services.quiet_hours import QuietHours
from bot.services.survey_library import SurveyLibrary
from bot.services.survey_view import SurveyView
from bot.surveys import RunState, Survey
from storage.database import Database
from storage.models import SurveyRun
from storage.repositories import SurveyRunRepository

Clock = Callable[[], datetime]
SHORTEST_WAIT = timedelta(hours=1)


@dataclass(frozen=True)
class Reminder:
    """One reminder to send: to which chat, and what."""

    chat_id: int
    reply: Reply


class SurveyReminders:
    """Finds unfinished runs that are due a reminder and counts each one as it is handed out."""

    def __init__(
        self,
        db: Database,
        library: SurveyLibrary,
        *,
        clock: Clock,
        quiet: QuietHours | None = None,
        channel: str = "telegram",
    ) -> None:
        self.db = db
        self.library = library
        self.clock = clock
        self.quiet = quiet or QuietHours()
        self.channel = channel

    async def due(self) -> list[Reminder]:
        """Reminders due now (none in quiet hours); each is counted before it is sent."""
        now = self.clock()
        if self.quiet.is_quiet(now):
            return []
        reminders: list[Reminder] = []
        async with self.db.transaction() as session:
            candidates = await SurveyRunRepository(session).reminder_candidates(now - SHORTEST_WAIT)
            for run, resident in candidates:
                survey = self.library.get(run.survey_id)
                if resident.channel != self.channel or survey is None:
                    continue
                if not self._is_due(run, survey, now):
                    continue
                run.reminders_sent += 1
                run.reminded_at = now
                with language(resident.language):
                    reminders.append(Reminder(resident.chat_id, self._nudge(run, survey)))
        return reminders

    @staticmethod
    def _is_due(run: SurveyRun, survey: Survey, now: datetime) -> bool:
        """Whether a run of this survey should be reminded now."""
        if survey.version != run.survey_version or not survey.is_open(now):
            return False
        if run.reminders_sent >= survey.reminders.max:
            return False
        last_touch = max(run.updated_at, run.reminded_at or run.updated_at)
        return now - last_touch >= timedelta(hours=survey.reminders.after_hours)

    @staticmethod
    def _nudge(run: SurveyRun, survey: Survey) -> Reply:
        """The reminder message, with carry on and pause buttons."""
        view = SurveyView(survey, run.id)
        answered = len(RunState.from_json(run.state).answers)
        text = _(
            "You started “{title}” and have answered {answered} questions so far. "
            "Your answers are kept. Would you like to carry on?"
        ).format(title=view.title, answered=answered)
        return Reply(text, ((view.carry_on_button(), view.pause_button()),))
