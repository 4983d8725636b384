"""Stateful property tests: random residents pressing anything, on real and generated surveys."""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import event as event_note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from bot.surveys import (
    DEFINITIONS,
    Ask,
    Back,
    ChoicePick,
    Done,
    Edit,
    Event,
    FinishQuestion,
    Next,
    Question,
    Review,
    RunState,
    Skip,
    Step,
    Submit,
    Survey,
    TextAnswer,
    ToggleChoice,
    holds,
    load_survey,
    load_survey_text,
    resume,
    start,
)

GP_ACCESS = load_survey(DEFINITIONS / "gp_access.yaml")
REPEATABLE = (ChoicePick, FinishQuestion, Next, Submit, Edit)
TYPES = ("choice", "multi_choice", "scale", "number", "text", "story", "yes_no", "note")
TYPED = st.sampled_from(["1", "2", "3", "0", "-5", "3.5", "1,200", "yes", "no", "", "ok", "۳"])
MACHINE_SETTINGS = settings(
    max_examples=200,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def text(words: str) -> dict[str, str]:
    """The same text in both test languages."""
    return {"en": words, "cy": words}


@st.composite
def condition_on(draw: st.DrawFn, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    """A condition on one earlier (answerable) question, sometimes wrapped in not/any."""
    target = draw(st.sampled_from(earlier))
    kind, qid = target["type"], target["id"]
    if kind in ("choice", "multi_choice", "yes_no"):
        options = [c["id"] for c in target["choices"]] if "choices" in target else ["yes", "no"]
        value: Any = draw(
            st.sampled_from(options)
            | st.lists(st.sampled_from(options), min_size=1, max_size=2)
            | st.builds(lambda o: {"not": o}, st.sampled_from(options))
        )
    elif kind in ("scale", "number"):
        value = {draw(st.sampled_from(["min", "max"])): draw(st.integers(1, 4))}
    else:
        value = draw(st.sampled_from(["answered", "skipped"]))
    condition = {qid: value}
    wrap = draw(st.sampled_from(["plain", "not", "any"]))
    return {"plain": condition, "not": {"not": condition}, "any": {"any": [condition]}}[wrap]


@st.composite
def question_spec(draw: st.DrawFn, index: int, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    """One random question of any type."""
    kind = draw(st.sampled_from(TYPES))
    spec: dict[str, Any] = {"id": f"q{index}", "type": kind, "text": text(f"Question {index}")}
    if kind != "note":
        spec["required"] = draw(st.booleans())
    if kind in ("choice", "multi_choice"):
        count = draw(st.integers(2, 4))
        spec["choices"] = [{"id": f"c{i}", "text": text(f"C{i}")} for i in range(count)]
    if kind == "multi_choice" and draw(st.booleans()):
        spec["max_selected"] = draw(st.integers(1, len(spec["choices"])))
    if kind == "scale":
        spec.update(min=1, max=draw(st.integers(2, 5)))
    if kind == "number":
        spec.update(min=0, max=100, decimals=draw(st.booleans()))
    if kind in ("text", "story"):
        spec["max_length"] = draw(st.integers(3, 40))
    answerable = [q for q in earlier if q["type"] != "note"]
    if draw(st.booleans()) and answerable:
        spec["when"] = draw(condition_on(answerable))
    return spec


@st.composite
def generated_survey(draw: st.DrawFn) -> Survey:
    """A small random survey, written as YAML and read by the real loader."""
    questions: list[dict[str, Any]] = []
    for index in range(draw(st.integers(1, 6))):
        questions.append(draw(question_spec(index, questions)))
    data = {
        "id": "generated",
        "version": 1,
        "languages": ["en", "cy"],
        "title": text("Generated"),
        "questions": questions,
    }
    return load_survey_text(yaml.safe_dump(data, allow_unicode=True))


def shown(survey: Survey, state: RunState) -> list[Question]:
    """The questions shown for the state's answers (computed independently of the engine)."""
    return [q for q in survey.questions if holds(q.when, state.answers)]


def restarted(state: RunState) -> RunState:
    """The state after a trip through JSON text."""
    return RunState.from_json(json.loads(json.dumps(state.to_json())))


class EngineMachine(RuleBasedStateMachine):
    """A resident pressing random buttons and typing random text."""

    survey: Survey
    state: RunState
    step: Step
    last: Event | None
    accepted: bool

    def begin_with(self, survey: Survey) -> None:
        """Start a run."""
        self.survey = survey
        self.state, self.step = start(survey)
        self.last, self.accepted = None, False

    def send(self, event: Event | None) -> None:
        """Apply an event, checking restarts, staleness and submission on the way."""
        before = self.state
        restored = restarted(before)
        assert restored == before
        self.state, self.step = resume(self.survey, before, event)
        assert resume(self.survey, restored, event) == (self.state, self.step)
        if getattr(self.step, "stale", False) or event is None:
            assert self.state == before
        if self.state.phase == "submitted" and before.phase != "submitted":
            assert isinstance(event, Submit) and before.phase == "review"
        self.last, self.accepted = event, self.state != before
        event_note(f"reached {self.state.phase}")

    def current(self) -> Question | None:
        """The question being asked, if any."""
        return self.step.question if isinstance(self.step, Ask) else None

    @rule(data=st.data())
    def answer_the_current_question(self, data: st.DataObject) -> None:
        """A plausible answer to the question on screen."""
        question = self.current()
        if question is None:
            self.send(Submit())
            return
        self.send(data.draw(plausible(question)))

    @rule(data=st.data())
    def press_a_stray_button(self, data: st.DataObject) -> None:
        """A button of another question (or of no question): nothing changes."""
        ids = [q.id for q in self.survey.questions if q.id != self.state.current] + ["nope"]
        qid = data.draw(st.sampled_from(ids))
        option = data.draw(st.sampled_from(["c0", "c1", "yes", "no", "1", "2", "x"]))
        events: list[Event] = [
            ChoicePick(qid, option),
            ToggleChoice(qid, option),
            FinishQuestion(qid),
            Next(qid),
        ]
        event = data.draw(st.sampled_from(events))
        before = self.state
        self.send(event)
        assert self.state == before and getattr(self.step, "stale", False)

    @rule(typed=TYPED | st.text(max_size=20))
    def type_something(self, typed: str) -> None:
        """Any typed text."""
        self.send(TextAnswer(typed))

    @rule()
    def go_back(self) -> None:
        """/back."""
        self.send(Back())

    @rule()
    def skip(self) -> None:
        """/skip."""
        self.send(Skip())

    @rule()
    def submit(self) -> None:
        """Submit, wherever the resident is: at the review it always completes the run."""
        at_review = self.state.phase == "review"
        self.send(Submit())
        assert isinstance(self.step, Done) == (at_review or self.state.phase == "submitted")

    @rule(data=st.data())
    def edit(self, data: st.DataObject) -> None:
        """Edit any question (only works at the review)."""
        self.send(Edit(data.draw(st.sampled_from([q.id for q in self.survey.questions]))))

    @rule()
    def restart(self) -> None:
        """Re-render after a restart: nothing changes."""
        self.send(None)

    @rule(data=st.data(), count=st.integers(1, 12))
    def answer_several(self, data: st.DataObject, count: int) -> None:
        """Several plausible answers in a row, to reach the review and beyond."""
        for _ in range(count):
            self.answer_the_current_question(data)

    @rule()
    def press_again(self) -> None:
        """The same button twice: the second press changes nothing."""
        if self.accepted and isinstance(self.last, REPEATABLE):
            before = self.state
            self.send(self.last)
            assert self.state == before

    @invariant()
    def answers_only_for_shown_questions(self) -> None:
        """Hidden questions and notes have no answers; the history holds shown ones only."""
        visible = {q.id for q in shown(self.survey, self.state)}
        notes = {q.id for q in self.survey.questions if q.type == "note"}
        assert set(self.state.answers) <= visible - notes
        if self.state.phase != "submitted":
            assert set(self.state.history) <= visible

    @invariant()
    def step_matches_phase(self) -> None:
        """Ask while asking (the current question), Review at review, Done once submitted."""
        expected = {"asking": Ask, "review": Review, "submitted": Done}[self.state.phase]
        assert isinstance(self.step, expected)
        if isinstance(self.step, Ask):
            assert self.step.question.id == self.state.current
            assert 1 <= self.step.number <= max(self.step.total, 1)

    @invariant()
    def review_and_done_only_when_complete(self) -> None:
        """Every shown question is answered at the review; required ones have a value."""
        if self.state.phase == "asking":
            return
        for question in shown(self.survey, self.state):
            if question.type != "note":
                assert question.id in self.state.answers
                assert not question.required or self.state.answers[question.id] is not None


def plausible(question: Question) -> st.SearchStrategy[Event]:
    """Events a resident would plausibly send for this question."""
    qid, options = question.id, question.options()
    if question.type in ("choice", "yes_no", "scale"):
        return st.builds(ChoicePick, st.just(qid), st.sampled_from(options))
    if question.type == "multi_choice":
        toggles = st.builds(ToggleChoice, st.just(qid), st.sampled_from(options))
        return toggles | st.just(FinishQuestion(qid))
    if question.type == "number":
        return st.builds(TextAnswer, st.integers(-10, 120).map(str) | st.just("7"))
    if question.type == "note":
        return st.just(Next(qid))
    typed = st.builds(TextAnswer, st.text(min_size=1, max_size=15))
    return typed | st.just(FinishQuestion(qid)) if question.type == "story" else typed


class GpAccessMachine(EngineMachine):
    """The shipped GP access survey."""

    @initialize()
    def begin(self) -> None:
        """Start the GP access survey."""
        self.begin_with(GP_ACCESS)


class GeneratedSurveyMachine(EngineMachine):
    """Small generated surveys with random conditions."""

    @initialize(survey=generated_survey())
    def begin(self, survey: Survey) -> None:
        """Start a generated survey."""
        self.begin_with(survey)


TestGpAccess = GpAccessMachine.TestCase
TestGpAccess.settings = MACHINE_SETTINGS
TestGeneratedSurveys = GeneratedSurveyMachine.TestCase
TestGeneratedSurveys.settings = MACHINE_SETTINGS
