"""The common case, a member answering the survey they are in, on the answers' hot path.

It takes typed answers and answering button presses of the active run, when they do not finish
it; everything else (and anything unexpected, such as a redelivered update) is rolled back and
left to PanelChat's general path, which gives the same result more slowly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.i18n import language
from bot.services import steps
from bot.services.chat import Inbound, Outcome
from bot.services.survey_chat import SurveyChat
from bot.services.survey_view import CARRY_ON, PAUSE, TOGGLE, Press, parse_press
from bot.surveys import Done, Event, TextAnswer
from storage.answer_store import ActiveRun, AnswerStore, AnswerTurn
from storage.group_commit import GroupCommit

# When a resident was last seen is kept to the hour here (it only serves retention): the run
# itself records every answer's time, so most answers spare a write to the resident's row.
SEEN_GRANULARITY = timedelta(hours=1)


class QuickAnswers:
    """Answers to the active run in one lean transaction, or None to use the general path."""

    def __init__(
        self,
        store: AnswerStore,
        surveys: SurveyChat,
        *,
        channel: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.batches: GroupCommit[Outcome] = GroupCommit(store)
        self.surveys = surveys
        self.channel = channel
        self.clock = clock

    async def handle(self, event: Inbound) -> Outcome | None:
        """Apply an answer and say what to show next; None when it is not one for this path."""
        if event.voice is not None or event.command is not None:
            return None
        press = parse_press(event.button) if event.button is not None else None
        if event.button is not None and (press is None or press.verb in (PAUSE, CARRY_ON)):
            return None  # not an answering survey button
        if event.button is None and event.text is None:
            return None

        async def job(turn: AnswerTurn) -> Outcome | None:
            return await self._answer(turn, event, press)

        return await self.batches.run(event.chat_id, job)

    async def _answer(
        self, turn: AnswerTurn, event: Inbound, press: Press | None
    ) -> Outcome | None:
        """The answer applied; None, with nothing written, when it is not for this path."""
        member = await turn.member(self.channel, event.chat_id)
        if member is None or member.status not in steps.ON_PANEL or member.run is None:
            return None
        run = member.run
        if press is None and member.step != steps.MEMBER:
            return None  # changing the profile or confirming erasure comes first
        if press is not None and press.run_id != run.id:
            return None
        with language(member.language):
            answer = self._event(run, press, event)
            advance = self.surveys.advance(run, answer) if answer is not None else None
            if advance is None or isinstance(advance.step, Done):
                return None
            if press is not None and advance.step.stale:
                return None
            now = self.clock()
            if not await turn.first_time(event.update_key, now):
                return None
            await self.surveys.keep(turn, run, advance, event.names)
            if now - member.seen_at >= SEEN_GRANULARITY:
                await turn.touch(member.id, now)
            toggle = press is not None and press.verb == TOGGLE
            return self.surveys.reply_to(run.id, advance, typed=press is None, toggle=toggle)

    def _event(self, run: ActiveRun, press: Press | None, event: Inbound) -> Event | None:
        if press is None:
            return TextAnswer(event.text or "")
        return self.surveys.press_event(run, press)
