"""Surveys and stories in the chat: runs the pure engine and keeps every answer as it comes."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.i18n import gettext as _
from bot.services.chat import Button, Outcome, Reply, Voice
from bot.services.kept_responses import shareable
from bot.services.redaction import Redactor
from bot.services.results import respondent_cell
from bot.services.survey_library import SurveyLibrary
from bot.services.survey_view import (
    BACK,
    CARRY_ON,
    EDIT,
    FINISH,
    NEXT,
    PAUSE,
    PICK,
    RUN_LEVEL,
    SKIP,
    SUBMIT,
    TOGGLE,
    VOICE_MARK,
    Press,
    SurveyView,
    error_text,
    start_id,
)
from bot.services.tallies import count_response
from bot.surveys import (
    Answer,
    Ask,
    Back,
    ChoicePick,
    Done,
    Edit,
    Event,
    FinishQuestion,
    Next,
    Review,
    RunState,
    Skip,
    Step,
    Submit,
    Survey,
    TextAnswer,
    ToggleChoice,
    resume,
    start,
)
from storage.files import FileStore
from storage.models import Resident, Story, SurveyRun
from storage.repositories import ResidentRepository, SurveyRunRepository
from storage.tallies import TallyRepository

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
QUOTE_CONSENT = "may_quote"
UNFINISHED = ("active", "paused")


class RunLike(Protocol):
    """What the chat needs of a run: the ORM's, or the hot path's lighter one."""

    @property
    def id(self) -> int:
        """The run's id."""

    @property
    def survey_id(self) -> str:
        """The survey it answers."""

    @property
    def survey_version(self) -> int:
        """The survey's version."""

    @property
    def state(self) -> dict[str, Any]:
        """The engine state as JSON."""


class RunWriter(Protocol):
    """Where a run's answers are kept: the repository, or the hot path's turn."""

    async def save_state(self, run: Any, state: dict[str, Any], now: datetime) -> None:
        """Write a run's engine state."""

    async def put_answer(
        self, run_id: int, question_id: str, value: object, redacted: str | None, now: datetime
    ) -> None:
        """Insert or replace one answer."""

    async def drop_answers(self, run_id: int, question_ids: Collection[str] | None = None) -> None:
        """Remove some answers."""


@dataclass(frozen=True)
class Advance:
    """What one event does to a run: its survey, the state before and after, the next step."""

    survey: Survey
    before: RunState
    state: RunState
    step: Step


@dataclass(frozen=True)
class Turn:
    """One inbound event's context: the runs repository, the resident, and names to redact."""

    runs: SurveyRunRepository
    resident: Resident
    deny: Sequence[str] = ()


class SurveyChat:
    """Starts, resumes, answers, pauses and submits survey runs inside the caller's transaction."""

    def __init__(
        self,
        library: SurveyLibrary,
        *,
        redactor: Redactor | None = None,
        voice_store: FileStore | None = None,
        clock: Clock,
    ) -> None:
        self.library = library
        self.redactor = redactor or Redactor()
        self.voice_store = voice_store
        self.clock = clock

    # ------------------------------------------------------------------ listing and starting
    async def list_open(self, turn: Turn) -> Outcome:
        """`/surveys`: what is open for this resident, to start or carry on."""
        runs, resident = turn.runs, turn.resident
        profile = {a.feature: a.value for a in resident.profile}
        surveys = self.library.open_for(resident.locality, profile, self.clock())
        progress = {
            (r.survey_id, r.survey_version): r for r in await runs.for_resident(resident.id)
        }
        buttons: list[Button] = []
        for survey in surveys:
            run = progress.get((survey.id, survey.version))
            title = SurveyView(survey, 0).title
            if run is None:
                buttons.append(Button(start_id(survey.id), title))
            elif run.status in UNFINISHED:
                label = _("Carry on: {title}").format(title=title)
                buttons.append(Button(start_id(survey.id), label))
        story = _("You can also tell us your story at any time with /story.")
        if not buttons:
            text = _("There are no surveys for you just now. Thank you for being on the panel!")
            return Outcome([Reply(f"{text}\n\n{story}")])
        text = _("These surveys are open for you. Choose one to start:")
        return Outcome([Reply(f"{text}\n\n{story}", tuple((b,) for b in buttons))])

    async def start_survey(self, turn: Turn, survey_id: str) -> Outcome:
        """Start (or carry on with) one survey from its button."""
        runs, resident = turn.runs, turn.resident
        survey = self.library.get(survey_id)
        profile = {a.feature: a.value for a in resident.profile}
        if survey is None or survey not in self.library.open_for(
            resident.locality, profile, self.clock()
        ):
            return Outcome([Reply(_("Sorry, that survey is not open any more."))])
        run = await runs.find(resident.id, survey.id, survey.version)
        if run is not None and run.status == "submitted":
            text = _("You have already answered this survey. Thank you!")
            return Outcome([Reply(text)], notice=text)
        if run is not None:
            return await self._carry_on(turn, run, survey)
        return await self._begin(turn, survey)

    async def start_story(self, turn: Turn) -> Outcome:
        """`/story`: carry on with an unfinished story, or begin a new one."""
        runs, resident = turn.runs, turn.resident
        story = self.library.story
        unfinished = [
            r
            for r in await runs.for_resident(resident.id)
            if r.survey_id == story.id and r.status in UNFINISHED
        ]
        if unfinished:
            run = await runs.get(unfinished[0].id, resident.id)
            if run is not None:
                return await self._carry_on(turn, run, story)
        return await self._begin(turn, story)

    async def _begin(self, turn: Turn, survey: Survey) -> Outcome:
        """A new run, active, with the survey's opening and first question."""
        runs, resident = turn.runs, turn.resident
        now = self.clock()
        state, step = start(survey)
        run = SurveyRun(
            resident_id=resident.id,
            survey_id=survey.id,
            survey_version=survey.version,
            status="active",
            state=state.to_json(),
            started_at=now,
            updated_at=now,
            reminders_sent=0,
        )
        runs.add(run)
        await runs.session.flush()
        await runs.pause_others(resident.id, run.id)
        view = SurveyView(survey, run.id)
        return Outcome([view.opening(), *view.render(step)])

    async def _carry_on(self, turn: Turn, run: SurveyRun, survey: Survey) -> Outcome:
        """Make an unfinished run the active one and show where it stopped."""
        runs, resident = turn.runs, turn.resident
        run.status = "active"
        run.updated_at = self.clock()
        await runs.pause_others(resident.id, run.id)
        _state, step = resume(survey, RunState.from_json(run.state), None)
        welcome = Reply(_("Welcome back! Here is where you left off."))
        return Outcome([welcome, *SurveyView(survey, run.id).render(step)])

    # ------------------------------------------------------------------ answering
    async def active(self, turn: Turn) -> SurveyRun | None:
        """The run this resident is answering now, if it can still be answered."""
        runs, resident = turn.runs, turn.resident
        run = await runs.active(resident.id)
        if run is None:
            return None
        if self._survey_of(run) is None:
            run.status = "closed"
            return None
        return run

    async def text(self, turn: Turn, run: SurveyRun, text: str) -> Outcome:
        """A typed message while a run is active."""
        return await self._event(turn, run, TextAnswer(text), typed=True)

    async def voice(self, turn: Turn, run: SurveyRun, voice: Voice) -> Outcome:
        """A voice note while a run is active: kept as a story part, refused elsewhere."""
        survey = self._survey_of(run)
        state = RunState.from_json(run.state)
        question = survey.question(state.current) if survey and state.current else None
        if survey is None or question is None or question.type != "story" or not self.voice_store:
            return Outcome(
                [Reply(_("Sorry, I can only take voice notes for stories. Please type instead."))]
            )
        if not voice.content:
            text = _("Sorry, that voice note is too long for me. Please send shorter ones.")
            return Outcome([Reply(text)])
        key = self.voice_store.save(voice.content, voice.suffix)
        return await self._event(turn, run, TextAnswer(f"[voice:{key}]"), typed=True)

    async def command(self, turn: Turn, run: SurveyRun, name: str) -> Outcome:
        """`/back`, `/skip` or `/pause` while a run is active."""
        if name == "pause":
            return self._pause(run)
        event: Event = Back() if name == "back" else Skip()
        return await self._event(turn, run, event, typed=True)

    async def press(self, turn: Turn, press: Press) -> Outcome:
        """A survey button press."""
        runs, resident = turn.runs, turn.resident
        run = await runs.get(press.run_id, resident.id)
        survey = self._survey_of(run) if run is not None else None
        if run is None or survey is None or run.status not in UNFINISHED:
            return _stale()
        if press.verb == PAUSE:
            return self._pause(run)
        if run.status != "active":
            run.status = "active"
            await runs.pause_others(resident.id, run.id)
        if press.verb == CARRY_ON:
            return await self._event(turn, run, None, typed=False)
        event = self._event_for(survey, RunState.from_json(run.state), press)
        if event is None:
            return _stale()
        return await self._event(turn, run, event, typed=False, toggle=press.verb == TOGGLE)

    @staticmethod
    def _event_for(survey: Survey, state: RunState, press: Press) -> Event | None:
        """The engine event a press stands for (None when it cannot be one)."""
        if press.position == RUN_LEVEL:
            if press.verb == SUBMIT:
                return Submit()
            if press.verb == EDIT and press.index is not None:
                target = (
                    survey.questions[press.index] if press.index < len(survey.questions) else None
                )
                return Edit(target.id) if target is not None else None
            return None
        if not 0 <= press.position < len(survey.questions):
            return None
        question = survey.questions[press.position]
        if press.verb in (PICK, TOGGLE):
            options = question.options()
            if press.index is None or press.index >= len(options):
                return None
            choice = options[press.index]
            return (
                ChoicePick(question.id, choice)
                if press.verb == PICK
                else ToggleChoice(question.id, choice)
            )
        if press.verb == BACK:
            return Back() if state.current == question.id else None
        if press.verb == FINISH:
            return FinishQuestion(question.id)
        if press.verb == NEXT:
            return Next(question.id)
        return Skip(question.id) if press.verb == SKIP else None

    async def _event(
        self,
        turn: Turn,
        run: SurveyRun,
        event: Event | None,
        *,
        typed: bool,
        toggle: bool = False,
    ) -> Outcome:
        advance = self.advance(run, event)
        if advance is None or (advance.step.stale and not typed):
            return _stale()
        await self.keep(turn.runs, run, advance, turn.deny)
        if isinstance(advance.step, Done):
            view = SurveyView(advance.survey, run.id)
            return await self._finish(turn, run, advance.survey, advance.step, view)
        return self.reply_to(run.id, advance, typed=typed, toggle=toggle)

    def advance(self, run: RunLike, event: Event | None) -> Advance | None:
        """What an event does to a run (None when its survey can no longer be answered)."""
        survey = self._survey_of(run)
        if survey is None:
            return None
        before = RunState.from_json(run.state)
        state, step = resume(survey, before, event)
        return Advance(survey, before, state, step)

    def press_event(self, run: RunLike, press: Press) -> Event | None:
        """The engine event an answering press stands for (None: stale or not an answer)."""
        survey = self._survey_of(run)
        if survey is None or press.verb in (PAUSE, CARRY_ON):
            return None
        return self._event_for(survey, RunState.from_json(run.state), press)

    @staticmethod
    def reply_to(run_id: int, advance: Advance, *, typed: bool, toggle: bool) -> Outcome:
        """What to show after an event that did not finish the run."""
        view = SurveyView(advance.survey, run_id)
        step = advance.step
        if toggle and isinstance(step, Ask):
            notice = error_text(step.error) if step.error is not None else None
            return Outcome(edit=view.ask(step), notice=notice)
        interrupted = typed and _needs_buttons(step)
        return Outcome(view.render(step, interrupted=interrupted))

    def _pause(self, run: SurveyRun) -> Outcome:
        run.status = "paused"
        run.updated_at = self.clock()
        text = _(
            "Paused. Your answers so far are kept. "
            "Send /surveys (or /story for a story) when you want to carry on."
        )
        return Outcome([Reply(text)], notice=_("Paused"))

    # ------------------------------------------------------------------ keeping answers
    async def keep(
        self, writer: RunWriter, run: RunLike, advance: Advance, deny: Sequence[str]
    ) -> None:
        """Store the new state and every changed answer in the writer's transaction."""
        before, state = advance.before, advance.state
        if state == before:
            return
        now = self.clock()
        await writer.save_state(run, state.to_json(), now)
        for question_id, value in state.answers.items():
            if question_id in before.answers and before.answers[question_id] == value:
                continue
            redacted = self._redacted(advance.survey, question_id, value, deny)
            stored = list(value) if isinstance(value, tuple) else value
            await writer.put_answer(run.id, question_id, stored, redacted, now)
        gone = [question_id for question_id in before.answers if question_id not in state.answers]
        if gone:
            await writer.drop_answers(run.id, gone)

    def _redacted(
        self, survey: Survey, question_id: str, value: Answer, deny: Sequence[str]
    ) -> str | None:
        question = survey.question(question_id)
        if question is None or question.type not in ("text", "story") or not isinstance(value, str):
            return None
        return self.redact(value, deny)

    def redact(self, text: str, deny: Sequence[str]) -> str:
        """Free text de-identified; voice note marks are kept as they are."""
        pieces: list[str] = []
        last = 0
        for mark in VOICE_MARK.finditer(text):
            pieces.append(self.redactor.redact(text[last : mark.start()], deny).text)
            pieces.append(mark.group(0))
            last = mark.end()
        pieces.append(self.redactor.redact(text[last:], deny).text)
        return "".join(pieces)

    async def _finish(
        self,
        turn: Turn,
        run: SurveyRun,
        survey: Survey,
        done: Done,
        view: SurveyView,
    ) -> Outcome:
        now = self.clock()
        run.status = "submitted"
        run.submitted_at = now
        if survey.id != self.library.story.id:
            await self._keep(turn, run, survey, done)
            return Outcome([view.done(done)])
        turn.runs.add_story(self._story(turn, run, survey, done))
        run.state = {}
        await turn.runs.drop_answers(run.id)  # the story now holds them; keep one copy only
        text = _(
            "Thank you for sharing your story. A member of our team will read it and remove "
            "anything that could identify you before anyone else sees it."
        )
        return Outcome([Reply(text)])

    @staticmethod
    async def _keep(turn: Turn, run: SurveyRun, survey: Survey, done: Done) -> None:
        """Keep the sent response whole for exports, and count it into the results' tallies
        (in the same transaction)."""
        session = turn.runs.session
        resident = turn.resident
        await ResidentRepository(session).load_details(resident)
        profile = {answer.feature: answer.value for answer in resident.profile}
        profile["locality"] = resident.locality or ""
        run.cell = respondent_cell(profile)
        redacted = await turn.runs.redacted_texts(run.id)
        given = {
            question: (value, redacted.get(question)) for question, value in done.answers.items()
        }
        run.response = shareable(survey, given)
        await count_response(TallyRepository(session), survey, run.cell, done.answers)

    def _story(self, turn: Turn, run: SurveyRun, survey: Survey, done: Done) -> Story:
        """A finished story run as a story awaiting moderation."""
        resident = turn.resident
        story_ids = [q.id for q in survey.questions if q.type == "story"]
        raw = "\n\n".join(str(done.answers[q]) for q in story_ids if done.answers.get(q))
        signifiers = {
            qid: list(value) if isinstance(value, tuple) else value
            for qid, value in done.answers.items()
            if qid not in story_ids and qid != QUOTE_CONSENT
        }
        return Story(
            resident_id=resident.id,
            run_id=run.id,
            language=resident.language,
            raw_text=raw,
            redacted_text=self.redact(raw, turn.deny),
            signifiers=signifiers,
            voice_files={"keys": voice_keys(raw)},
            quote_consent=done.answers.get(QUOTE_CONSENT) == "yes",
            moderation="new",
            created_at=self.clock(),
        )

    def delete_voice(self, keys: Sequence[str]) -> None:
        """Remove voice note files (after their resident asked us to forget them)."""
        if self.voice_store is not None:
            for key in keys:
                self.voice_store.delete(key)

    # ------------------------------------------------------------------ helpers
    def _survey_of(self, run: RunLike) -> Survey | None:
        """The survey a run answers, while it is loaded, the same version and open."""
        survey = self.library.get(run.survey_id)
        if survey is None or survey.version != run.survey_version:
            return None
        if survey.id != self.library.story.id and not survey.is_open(self.clock()):
            return None
        return survey

    def where_you_are(self, run: SurveyRun) -> list[Reply]:
        """The current step of a run again (after a redelivered update)."""
        survey = self._survey_of(run)
        if survey is None:
            return []
        _state, step = resume(survey, RunState.from_json(run.state), None)
        return SurveyView(survey, run.id).render(step)

    def carry_on_or_pause(self, run: SurveyRun) -> Reply | None:
        """The carry-on-or-pause question for a resident who did something else mid-survey."""
        survey = self._survey_of(run)
        return SurveyView(survey, run.id).carry_on_or_pause() if survey is not None else None


async def voice_keys_of(runs: SurveyRunRepository, resident_id: int) -> list[str]:
    """Every voice note file a resident's runs and stories refer to."""
    keys = [
        key
        for run in await runs.for_resident(resident_id)
        for key in voice_keys(json.dumps(run.state))
    ]
    for story in await runs.stories_of(resident_id):
        keys.extend(str(key) for key in story.voice_files.get("keys", []))
    return keys


def voice_keys(text: str) -> list[str]:
    """The file keys of the voice notes marked in a text."""
    return VOICE_MARK.findall(text)


def _needs_buttons(step: Step) -> bool:
    """Whether a typed message was refused because this step is answered with buttons."""
    if isinstance(step, Review):
        return True
    return isinstance(step, Ask) and step.error is not None and step.error.code == "choose_button"


def _stale() -> Outcome:
    return Outcome(notice=_("That question has already been answered."), stale=True)
