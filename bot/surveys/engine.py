"""The pure survey engine: events in, (RunState, Ask | Review | Done) out; it never sends."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, TypeAlias

from bot.surveys.conditions import holds
from bot.surveys.model import NUMBER_LIMIT, Answer, Number, Question, Survey, Text

STATE_FORMAT = 1
STORY_JOINER = "\n\n"

Phase = Literal["asking", "review", "submitted"]
ErrorCode = Literal[
    "not_a_number",
    "too_small",
    "too_large",
    "not_whole",
    "too_long",
    "empty",
    "choose_button",
    "choose_at_least_one",
    "too_many",
    "required",
]


# -- events -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TextAnswer:
    """A typed message: a number, text, a story part, or a choice's number or label."""

    text: str


@dataclass(frozen=True)
class ChoicePick:
    """A button of a choice, yes_no ("yes"/"no") or scale ("3") question."""

    question_id: str
    choice_id: str


@dataclass(frozen=True)
class ToggleChoice:
    """Tick or untick one option of a multi_choice question."""

    question_id: str
    choice_id: str


@dataclass(frozen=True)
class FinishQuestion:
    """ "Done" on a multi_choice or story question."""

    question_id: str


@dataclass(frozen=True)
class Next:
    """Continue after a note, or keep the previous answer of a question."""

    question_id: str


@dataclass(frozen=True)
class Back:
    """Go to the previous question (or, while editing from the review, back to the review)."""


@dataclass(frozen=True)
class Skip:
    """Skip a question that is not required (None: the current question)."""

    question_id: str | None = None


@dataclass(frozen=True)
class Submit:
    """Confirm the answers at the review."""


@dataclass(frozen=True)
class Edit:
    """From the review, change one answer, then return to the review."""

    question_id: str


Event: TypeAlias = (
    TextAnswer | ChoicePick | ToggleChoice | FinishQuestion | Next | Back | Skip | Submit | Edit
)


# -- results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerError:
    """Why an answer was not accepted: a code for the chat layer to translate."""

    code: ErrorCode
    params: Mapping[str, int | float | str] = field(default_factory=dict)
    custom: Text | None = None


@dataclass(frozen=True)
class Ask:
    """Ask (or ask again) a question; `stale` when the event was out of date and ignored."""

    question: Question
    number: int
    total: int
    selected: tuple[str, ...] = ()
    draft_parts: int = 0
    error: AnswerError | None = None
    previous: Answer = None
    stale: bool = False


@dataclass(frozen=True)
class Review:
    """Show every answer (None: skipped) for confirmation or editing."""

    items: tuple[tuple[Question, Answer], ...]
    stale: bool = False


@dataclass(frozen=True)
class Done:
    """The answers were submitted."""

    answers: Mapping[str, Answer]
    stale: bool = False


Step: TypeAlias = Ask | Review | Done


# -- state ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunState:
    """Where a resident is in a survey; JSON round-trippable, stored between messages."""

    # history: the shown questions already passed (answered, skipped or read), in survey
    # order. editing: set while changing an answer from the review.

    survey_id: str
    version: int
    answers: Mapping[str, Answer]
    history: tuple[str, ...]
    current: str | None
    selected: tuple[str, ...] = ()
    draft: tuple[str, ...] = ()
    phase: Phase = "asking"
    editing: bool = False

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict (multi_choice answers become lists)."""
        answers = {k: list(v) if isinstance(v, tuple) else v for k, v in self.answers.items()}
        return {
            "format": STATE_FORMAT,
            "survey_id": self.survey_id,
            "version": self.version,
            "answers": answers,
            "history": list(self.history),
            "current": self.current,
            "selected": list(self.selected),
            "draft": list(self.draft),
            "phase": self.phase,
            "editing": self.editing,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> RunState:
        """Rebuild a state from `to_json()` output; ValueError if it is malformed."""
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"run state format {data.get('format')!r} is unknown")
        phase = data.get("phase")
        if phase not in ("asking", "review", "submitted"):
            raise ValueError(f"run state phase {phase!r} is unknown")
        return cls(
            survey_id=_json_str(data, "survey_id"),
            version=_json_int(data, "version"),
            answers=_json_answers(data.get("answers")),
            history=_json_strs(data, "history"),
            current=None if data.get("current") is None else _json_str(data, "current"),
            selected=_json_strs(data, "selected"),
            draft=_json_strs(data, "draft"),
            phase=phase,
            editing=data.get("editing") is True,
        )


def _json_str(data: Mapping[str, object], key: str) -> str:
    """A text field of stored state."""
    value = data.get(key)
    if not isinstance(value, str):
        raise ValueError(f"run state `{key}` must be text")
    return value


def _json_int(data: Mapping[str, object], key: str) -> int:
    """A whole-number field of stored state."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"run state `{key}` must be a whole number")
    return value


def _json_strs(data: Mapping[str, object], key: str) -> tuple[str, ...]:
    """A list-of-text field of stored state."""
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"run state `{key}` must be a list of text")
    return tuple(value)


def _json_answers(value: object) -> dict[str, Answer]:
    """The stored answers."""
    if not isinstance(value, dict):
        raise ValueError("run state `answers` must be a mapping")
    return {_json_key(key): _json_answer(answer) for key, answer in value.items()}


def _json_key(key: object) -> str:
    """A question id of stored answers."""
    if not isinstance(key, str):
        raise ValueError("run state answer keys must be text")
    return key


def _json_answer(value: object) -> Answer:
    """One stored answer."""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise ValueError(f"run state answer {value!r} is not a valid answer")


# -- the API ----------------------------------------------------------------------------


def start(survey: Survey) -> tuple[RunState, Step]:
    """Begin a run: ask the first question."""
    state = RunState(survey.id, survey.version, {}, (), None)
    state = _repaired(survey, state)
    return state, _render(survey, state)


def resume(survey: Survey, state: RunState, event: Event | None) -> tuple[RunState, Step]:
    """Apply one event (None: show where the resident is) and say what to show next."""
    # A stale event leaves the state unchanged and renders with `stale`; an invalid answer
    # leaves it unchanged and renders the question with `error`.
    if state.survey_id != survey.id:
        raise ValueError(f"run state of `{state.survey_id}` resumed with `{survey.id}`")
    state = _repaired(survey, state)
    if event is None:
        return state, _render(survey, state)
    outcome = _apply(survey, state, event)
    if outcome is None:
        return state, _render(survey, state, stale=True)
    if isinstance(outcome, AnswerError):
        return state, _render(survey, state, error=outcome)
    return outcome, _render(survey, outcome)


_Outcome: TypeAlias = RunState | AnswerError | None


# -- what is shown ----------------------------------------------------------------------


def _pruned(
    survey: Survey, answers: Mapping[str, Answer], history: tuple[str, ...]
) -> tuple[dict[str, Answer], tuple[str, ...], tuple[str, ...]]:
    """Drop answers and history of hidden questions; also give the shown ids, in order."""
    kept: dict[str, Answer] = {}
    shown: list[str] = []
    for question in survey.questions:
        if not holds(question.when, kept):
            continue
        shown.append(question.id)
        if question.id in answers and question.type != "note":
            kept[question.id] = answers[question.id]
    passed = set(history)
    return kept, tuple(q for q in shown if q in passed), tuple(shown)


def _shown(survey: Survey, state: RunState) -> tuple[str, ...]:
    """The ids of the questions shown given the answers so far, in survey order."""
    return _pruned(survey, state.answers, ())[2]


def _question(survey: Survey, question_id: str | None) -> Question:
    """A question known to exist (the state was repaired)."""
    question = survey.question(question_id or "")
    assert question is not None, question_id
    return question


# -- rendering --------------------------------------------------------------------------


def _render(
    survey: Survey, state: RunState, error: AnswerError | None = None, stale: bool = False
) -> Step:
    """The step to show for a state."""
    if state.phase == "submitted":
        return Done(dict(state.answers), stale)
    shown = [_question(survey, qid) for qid in _shown(survey, state)]
    counted = [question.id for question in shown if question.type != "note"]
    if state.phase == "review":
        items = tuple((q, state.answers.get(q.id)) for q in shown if q.type != "note")
        return Review(items, stale)
    question = _question(survey, state.current)
    before = survey.position(question.id)
    number = min(1 + sum(1 for qid in counted if survey.position(qid) < before), len(counted))
    return Ask(
        question=question,
        number=max(number, 1),
        total=len(counted),
        selected=state.selected,
        draft_parts=len(state.draft),
        error=error,
        previous=state.answers.get(question.id),
        stale=stale,
    )


# -- moving around ----------------------------------------------------------------------


def _ask(survey: Survey, state: RunState, question_id: str, editing: bool) -> RunState:
    """Make a question current, ticking its previous multi_choice answer."""
    previous = state.answers.get(question_id)
    question = _question(survey, question_id)
    ticked = previous if question.type == "multi_choice" and isinstance(previous, tuple) else ()
    return replace(
        state,
        current=question_id,
        selected=ticked,
        draft=(),
        phase="asking",
        editing=editing,
    )


def _review(state: RunState) -> RunState:
    """Go to the review."""
    return replace(state, current=None, selected=(), draft=(), phase="review", editing=False)


def _pending(survey: Survey, state: RunState) -> str | None:
    """The first shown question not yet passed."""
    return next((qid for qid in _shown(survey, state) if qid not in state.history), None)


def _passed(survey: Survey, state: RunState, question: Question, answer: Answer) -> RunState:
    """Record the current question as passed (with its answer), then move on."""
    answers = dict(state.answers)
    if question.type != "note":
        answers[question.id] = answer
    answers, history, shown = _pruned(survey, answers, (*state.history, question.id))
    state = replace(state, answers=answers, history=history)
    later = shown[shown.index(question.id) + 1 :]
    if state.editing:
        later = tuple(qid for qid in later if qid not in history)
    target = later[0] if later else _pending(survey, state)
    return _review(state) if target is None else _ask(survey, state, target, state.editing)


def _previous(survey: Survey, state: RunState) -> str | None:
    """The shown question before the current one (the last one at the review)."""
    shown = _shown(survey, state)
    if state.current is None:
        return shown[-1] if shown else None
    earlier = [qid for qid in shown if survey.position(qid) < survey.position(state.current)]
    return earlier[-1] if earlier else None


def _repaired(survey: Survey, state: RunState) -> RunState:
    """A consistent state for this survey (unchanged when it is already consistent)."""
    if state.phase == "submitted":
        return state
    answers = {
        qid: answer
        for qid, answer in state.answers.items()
        if (q := survey.question(qid)) is not None and _acceptable(q, answer)
    }
    passed = tuple(qid for qid in state.history if qid in answers or _is_note(survey, qid))
    answers, history, shown = _pruned(survey, answers, passed)
    fixed = replace(state, version=survey.version, answers=answers, history=history)
    pending = _pending(survey, fixed)
    current = state.current if state.phase == "asking" else None
    if current not in shown or (pending is not None and _before(survey, pending, current)):
        current = pending
    if current is None:
        return _review(fixed)
    if current != state.current or state.phase != "asking":
        return _ask(survey, fixed, current, fixed.editing or state.phase == "review")
    return replace(fixed, selected=_valid_ticks(survey, fixed), draft=_valid_draft(survey, fixed))


def _is_note(survey: Survey, question_id: str) -> bool:
    """Whether an id names a note."""
    question = survey.question(question_id)
    return question is not None and question.type == "note"


def _before(survey: Survey, first: str, second: str | None) -> bool:
    """Whether `first` comes before `second` in the survey."""
    return second is not None and survey.position(first) < survey.position(second)


def _valid_ticks(survey: Survey, state: RunState) -> tuple[str, ...]:
    """The ticks in progress, if they fit the current question."""
    question = _question(survey, state.current)
    fits = question.type == "multi_choice" and set(state.selected) <= set(question.options())
    return state.selected if fits else ()


def _valid_draft(survey: Survey, state: RunState) -> tuple[str, ...]:
    """The story parts in progress, if the current question is a story."""
    return state.draft if _question(survey, state.current).type == "story" else ()


def _acceptable(question: Question, answer: Answer) -> bool:
    """Whether a stored answer still fits its question (after a survey change)."""
    if answer is None:
        return not question.required and question.type != "note"
    if question.type in ("choice", "yes_no"):
        return answer in question.options()
    if question.type == "multi_choice":
        return isinstance(answer, tuple) and bool(answer) and set(answer) <= set(question.options())
    if question.type in ("scale", "number"):
        return isinstance(answer, int | float) and _range_error(question, answer) is None
    if question.type in ("text", "story"):
        return isinstance(answer, str) and len(answer) <= (question.max_length or 0)
    return False


# -- events -----------------------------------------------------------------------------


def _apply(survey: Survey, state: RunState, event: Event) -> _Outcome:
    """The new state, an answer error, or None when the event is stale."""
    if state.phase == "submitted":
        return None
    match event:
        case Submit():
            return _submit(survey, state)
        case Edit():
            return _edit(survey, state, event.question_id)
        case Back():
            return _back(survey, state)
    if state.phase != "asking":
        return None
    return _answer(survey, state, _question(survey, state.current), event)


def _submit(survey: Survey, state: RunState) -> _Outcome:
    """Confirm at the review."""
    if state.phase != "review":
        return None
    shown = [_question(survey, qid) for qid in _shown(survey, state)]
    missing = [q.id for q in shown if q.required and state.answers.get(q.id) is None]
    if missing:
        return _ask(survey, state, missing[0], editing=True)
    return replace(state, phase="submitted")


def _edit(survey: Survey, state: RunState, question_id: str) -> _Outcome:
    """Change one answer from the review."""
    question = survey.question(question_id)
    if state.phase != "review" or question is None or question.type == "note":
        return None
    if question_id not in _shown(survey, state):
        return None
    return _ask(survey, state, question_id, editing=True)


def _back(survey: Survey, state: RunState) -> _Outcome:
    """Go back one question; while editing a complete run, go back to the review."""
    if state.editing and _pending(survey, state) is None:
        return _review(state)
    target = _previous(survey, state)
    if target is None:
        return state
    return _ask(survey, state, target, editing=state.editing)


def _answer(survey: Survey, state: RunState, question: Question, event: Event) -> _Outcome:
    """An event about the current question (None when it names another one)."""
    if isinstance(event, TextAnswer):
        return _typed(survey, state, question, _clean(event.text))
    if _names_another(event, question.id):
        return None
    match event:
        case ChoicePick():
            return _pick(survey, state, question, event.choice_id)
        case ToggleChoice():
            return _toggle(survey, state, question, event.choice_id)
        case FinishQuestion():
            return _finish(survey, state, question)
        case Next():
            return _next(survey, state, question)
        case Skip():
            return _skip(survey, state, question)
    return None


def _names_another(event: Event, question_id: str) -> bool:
    """Whether an event is about a question other than the current one."""
    if isinstance(event, Skip) and event.question_id is None:
        return False
    named = getattr(event, "question_id", None)
    return named != question_id


def _pick(survey: Survey, state: RunState, question: Question, choice_id: str) -> _Outcome:
    """A button of a choice, yes_no or scale question."""
    if question.type not in ("choice", "yes_no", "scale") or choice_id not in question.options():
        return None
    answer: Answer = int(choice_id) if question.type == "scale" else choice_id
    return _passed(survey, state, question, answer)


def _toggle(survey: Survey, state: RunState, question: Question, choice_id: str) -> _Outcome:
    """Tick or untick an option of a multi_choice question."""
    if question.type != "multi_choice" or choice_id not in question.options():
        return None
    if choice_id in state.selected:
        ticked = set(state.selected) - {choice_id}
    elif question.max_selected is not None and len(state.selected) >= question.max_selected:
        return _error(question, "too_many", max=question.max_selected)
    else:
        ticked = {*state.selected, choice_id}
    return replace(state, selected=tuple(c for c in question.options() if c in ticked))


def _finish(survey: Survey, state: RunState, question: Question) -> _Outcome:
    """ "Done" on a multi_choice or story question."""
    if question.type == "multi_choice":
        if not state.selected:
            return _error(question, "choose_at_least_one")
        return _passed(survey, state, question, state.selected)
    if question.type != "story":
        return None
    previous = state.answers.get(question.id)
    if not state.draft and isinstance(previous, str):
        return _passed(survey, state, question, previous)
    if not state.draft:
        return _error(question, "empty")
    return _passed(survey, state, question, STORY_JOINER.join(state.draft))


def _next(survey: Survey, state: RunState, question: Question) -> _Outcome:
    """Continue after a note, or keep a previous answer."""
    if question.type == "note":
        return _passed(survey, state, question, None)
    if question.id in state.answers:
        return _passed(survey, state, question, state.answers[question.id])
    return None


def _skip(survey: Survey, state: RunState, question: Question) -> _Outcome:
    """Skip the current question when it is not required."""
    if question.required:
        return _error(question, "required")
    return _passed(survey, state, question, None)


def _error(question: Question, code: ErrorCode, **params: int | float | str) -> AnswerError:
    """An answer error with the question's bounds and its own validation message."""
    bounds = {
        key: value
        for key, value in (("min", question.min), ("max", question.max))
        if value is not None
    }
    return AnswerError(code, {**bounds, **params}, question.validation)


# -- typed answers ----------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_NUMBER = re.compile(r"([+-]?)(\d+(?:[, \u00a0\u202f]\d{3})*)(?:[.,](\d+))?")


def _clean(text: str) -> str:
    """Text without control characters or lone surrogates, trimmed."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub("", text.replace("\r\n", "\n")).strip()


def _typed(survey: Survey, state: RunState, question: Question, text: str) -> _Outcome:
    """A typed message, read according to the question type."""
    return _TYPED[question.type](survey, state, question, text)


def _typed_text(survey: Survey, state: RunState, question: Question, text: str) -> _Outcome:
    """A text answer."""
    if not text:
        return _error(question, "empty")
    limit = question.max_length or 0
    if len(text) > limit:
        return _error(question, "too_long", max=limit, length=len(text))
    return _passed(survey, state, question, text)


def _typed_story(survey: Survey, state: RunState, question: Question, text: str) -> _Outcome:
    """One part of a story, kept until "Done"."""
    if not text:
        return _error(question, "empty")
    limit = question.max_length or 0
    length = len(STORY_JOINER.join((*state.draft, text)))
    if length > limit:
        return _error(question, "too_long", max=limit, length=length)
    return replace(state, draft=(*state.draft, text))


def _typed_number(survey: Survey, state: RunState, question: Question, text: str) -> _Outcome:
    """A number (or scale point), within the question's bounds."""
    value = parse_number(text, question.decimals)
    if isinstance(value, str):
        return _error(question, value)
    return _range_error(question, value) or _passed(survey, state, question, value)


def _typed_choice(survey: Survey, state: RunState, question: Question, text: str) -> _Outcome:
    """A typed choice: its number, its id or its label in any language."""
    choice_id = _choice_named(question, text)
    if choice_id is None:
        return _error(question, "choose_button")
    if question.type == "multi_choice":
        return _toggle(survey, state, question, choice_id)
    return _pick(survey, state, question, choice_id)


def _typed_note(survey: Survey, state: RunState, question: Question, text: str) -> _Outcome:
    """Typing at a note: press the button to continue."""
    del survey, state, text
    return _error(question, "choose_button")


_TYPED: Mapping[str, Callable[[Survey, RunState, Question, str], _Outcome]] = {
    "choice": _typed_choice,
    "multi_choice": _typed_choice,
    "yes_no": _typed_choice,
    "scale": _typed_number,
    "number": _typed_number,
    "text": _typed_text,
    "story": _typed_story,
    "note": _typed_note,
}


def _choice_named(question: Question, text: str) -> str | None:
    """The option a typed text names: its number, its id, or its label in any language."""
    options = question.options()
    if question.choices and text.isdecimal() and len(text) < 4:
        index = int(text) - 1
        return options[index] if 0 <= index < len(options) else None
    wanted = text.casefold()
    for choice in question.choices:
        labels = (choice.id, *choice.text.translations.values())
        if any(label.casefold() == wanted for label in labels):
            return choice.id
    return wanted if wanted in options else None


def parse_number(text: str, decimals: bool) -> Number | ErrorCode:
    """Read "12", "-3", "1,200", "1 200", "12.5" or "12,5" (digits of any script)."""
    match = _NUMBER.fullmatch(text.strip())
    if match is None:
        return "not_a_number"
    sign, whole, fraction = match.groups()
    digits = re.sub(r"\D", "", whole).lstrip("0") or "0"
    if len(digits) > len(str(NUMBER_LIMIT)):
        return "too_small" if sign == "-" else "too_large"
    value = int(digits) * (-1 if sign == "-" else 1)
    if fraction is None or not fraction.strip("0"):
        return value
    if not decimals:
        return "not_whole"
    decimal_digits = "".join(str(int(digit)) for digit in fraction[:15])
    return float(f"{sign}{int(digits)}.{decimal_digits}")


def _range_error(question: Question, value: Number) -> AnswerError | None:
    """Why a number does not fit the question, if it does not."""
    low = question.min if question.min is not None else -NUMBER_LIMIT
    high = question.max if question.max is not None else NUMBER_LIMIT
    if value < low:
        return _error(question, "too_small")
    if value > high:
        return _error(question, "too_large")
    if question.type == "scale" and not isinstance(value, int):
        return _error(question, "not_whole")
    return None
