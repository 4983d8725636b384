"""How a survey step looks in a chat: progress, question, hints, errors and buttons."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.i18n import current_language
from bot.i18n import gettext as _
from bot.services.chat import Button, Reply
from bot.surveys import Answer, AnswerError, Ask, Done, Question, Review, Step, Survey, Text

MAX_MESSAGE = 4000  # Telegram allows 4096 characters; leave room for the "✓ answer" mark
REVIEW_ANSWER_LENGTH = 300
SCALE_ROW = 6
EDIT_ROW = 4
VOICE_MARK = re.compile(r"\[voice:([A-Za-z0-9_-]{16,64}\.[a-z0-9]{1,8})\]")

# Button verbs: s:<run>:<question position>:<verb>[:<index>]
PICK, TOGGLE, FINISH, NEXT, SKIP, BACK = "p", "t", "f", "n", "k", "b"
SUBMIT, EDIT, CARRY_ON, PAUSE = "u", "e", "c", "z"
VERBS = frozenset({PICK, TOGGLE, FINISH, NEXT, SKIP, BACK, SUBMIT, EDIT, CARRY_ON, PAUSE})
RUN_LEVEL = -1  # the "question position" of buttons about the whole run
SURVEY_PREFIX = "s"
START_PREFIX = "n"


@dataclass(frozen=True)
class Press:
    """A survey button press: which run, which question, what, and which option."""

    run_id: int
    position: int
    verb: str
    index: int | None = None


def press_id(run_id: int, position: int, verb: str, index: int | None = None) -> str:
    """The callback id of a survey button (well under Telegram's 64 bytes)."""
    tail = "" if index is None else f":{index}"
    return f"{SURVEY_PREFIX}:{run_id}:{position}:{verb}{tail}"


def parse_press(data: str) -> Press | None:
    """The press a callback id names, or None if it is not a well-formed survey button."""
    parts = data.split(":")
    if len(parts) not in (4, 5) or parts[0] != SURVEY_PREFIX or parts[3] not in VERBS:
        return None
    numbers = [parts[1], parts[2].removeprefix("-"), *parts[4:]]
    if not all(n.isascii() and n.isdigit() and len(n) <= 12 for n in numbers):
        return None
    index = int(parts[4]) if len(parts) == 5 else None
    return Press(int(parts[1]), int(parts[2]), parts[3], index)


def start_id(survey_id: str) -> str:
    """The callback id of a "start this survey" button."""
    return f"{START_PREFIX}:{survey_id}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit(text: str) -> str:
    """Text cut to what one chat message can carry."""
    return _shorten(text, MAX_MESSAGE)


def _format(template: str, params: Mapping[str, int | float | str]) -> str:
    """A message with its {placeholders} filled, leaving unknown ones as written."""
    return re.sub(r"\{(\w+)\}", lambda m: str(params.get(m.group(1), m.group(0))), template)


def error_text(error: AnswerError) -> str:
    """Why an answer was not taken, kindly, in the resident's language."""
    if error.custom is not None:
        return _format(error.custom.get(current_language()), error.params)
    messages = {
        "not_a_number": _("Please type a number, for example 3."),
        "too_small": _("Please type a number of at least {min}."),
        "too_large": _("Please type a number no bigger than {max}."),
        "not_whole": _("Please type a whole number, for example 3."),
        "too_long": _(
            "That is a bit too long: please keep it under {max} characters (it has {length})."
        ),
        "empty": _("Please type your answer first."),
        "choose_button": _("Please choose one of the buttons below."),
        "choose_at_least_one": _("Please choose at least one, then press Done."),
        "too_many": _("You can choose up to {max}. Untick one to choose another."),
        "required": _("This question needs an answer, so it cannot be skipped."),
    }
    return _format(messages[error.code], error.params)


class SurveyView:
    """Renders one run's steps as chat messages in the current language."""

    def __init__(self, survey: Survey, run_id: int) -> None:
        self.survey = survey
        self.run_id = run_id

    def text(self, text: Text | None) -> str:
        """A survey text in the resident's language (with the survey's fallback)."""
        return text.get(current_language()) if text is not None else ""

    @property
    def title(self) -> str:
        """The survey's title."""
        return self.text(self.survey.title)

    def opening(self) -> Reply:
        """The title and introduction shown when a run starts."""
        count = sum(1 for q in self.survey.questions if q.type != "note")
        how = _(
            "There are up to {count} questions. You can stop at any time with /pause "
            "and carry on later: nothing you have answered is lost."
        ).format(count=count)
        parts = [self.title, self.text(self.survey.intro), how]
        return Reply(fit("\n\n".join(p for p in parts if p)))

    def render(self, step: Step, *, interrupted: bool = False) -> list[Reply]:
        """The messages for a step (Ask, Review or Done)."""
        if isinstance(step, Ask):
            return [self.ask(step, interrupted=interrupted)]
        if isinstance(step, Review):
            hint = _("Please use the buttons: send your answers, or press a number to change one.")
            return [Reply(hint), self.review(step)] if interrupted else [self.review(step)]
        return [self.done(step)]

    # ------------------------------------------------------------------ ask
    def ask(self, ask: Ask, *, interrupted: bool = False) -> Reply:
        """A question with its progress, hint, any error and its buttons."""
        question = ask.question
        lines: list[str] = []
        if ask.error is not None:
            lines.append(error_text(ask.error))
        if interrupted:
            lines.append(_("You are in the middle of a survey. Press Pause to finish it later."))
        if question.type == "story" and ask.draft_parts and ask.error is None:
            lines.append(
                _("Thank you, I have that. Add more if you like, or press Done when finished.")
            )
            return Reply(fit("\n\n".join(lines)), self._buttons(ask, interrupted))
        progress = _("Question {number} of {total}").format(number=ask.number, total=ask.total)
        lines.append(f"{progress}\n{self.text(question.text)}")
        hint = self._hint(question)
        if hint:
            lines.append(hint)
        if ask.previous is not None:
            lines.append(
                _("Your answer was: {answer}").format(
                    answer=_shorten(self.answer(question, ask.previous), REVIEW_ANSWER_LENGTH)
                )
            )
        return Reply(fit("\n\n".join(lines)), self._buttons(ask, interrupted))

    def _hint(self, question: Question) -> str:
        kind = question.type
        if kind == "multi_choice":
            if question.max_selected:
                return _("Choose up to {max}, then press Done.").format(max=question.max_selected)
            return _("Choose all that apply, then press Done.")
        if kind == "scale" and (question.min_label or question.max_label):
            ends = (
                (question.min, question.min_label),
                (question.max, question.max_label),
            )
            return "\n".join(f"{point} = {self.text(label)}" for point, label in ends if label)
        if kind == "number":
            if question.min is not None and question.max is not None:
                return _("Please type a number from {min} to {max}.").format(
                    min=question.min, max=question.max
                )
            return _("Please type a number.")
        if kind == "text":
            return _("Please type your answer.")
        if kind == "story":
            return _("Send as many messages as you like, then press Done.")
        return ""

    def _buttons(self, ask: Ask, interrupted: bool) -> tuple[tuple[Button, ...], ...]:
        question = ask.question
        position = self.survey.position(question.id)
        rows = list(self._answer_rows(ask, position))
        nav: list[Button] = []
        if ask.number > 1:
            nav.append(Button(press_id(self.run_id, position, BACK), _("Back")))
        if ask.previous is not None and question.type in ("number", "text", "story"):
            nav.append(Button(press_id(self.run_id, position, NEXT), _("Keep this answer")))
        if not question.required and question.type != "note":
            nav.append(Button(press_id(self.run_id, position, SKIP), _("Skip")))
        if nav:
            rows.append(tuple(nav))
        if interrupted:
            rows.append((self.pause_button(),))
        return tuple(rows)

    def _answer_rows(self, ask: Ask, position: int) -> list[tuple[Button, ...]]:
        question = ask.question
        kind = question.type

        def button(verb: str, label: str, index: int | None = None) -> Button:
            return Button(press_id(self.run_id, position, verb, index), label)

        if kind in ("choice", "multi_choice"):
            rows: list[tuple[Button, ...]] = []
            for index, choice in enumerate(question.choices):
                label = self.text(choice.text)
                if kind == "multi_choice" and choice.id in ask.selected:
                    label = f"✅ {label}"
                rows.append((button(PICK if kind == "choice" else TOGGLE, label, index),))
            if kind == "multi_choice":
                rows.append((button(FINISH, _("Done")),))
            return rows
        if kind == "yes_no":
            return [(button(PICK, _("Yes"), 0), button(PICK, _("No"), 1))]
        if kind == "scale":
            points = [button(PICK, p, i) for i, p in enumerate(question.options())]
            return [tuple(points[i : i + SCALE_ROW]) for i in range(0, len(points), SCALE_ROW)]
        if kind == "story":
            return [(button(FINISH, _("Done")),)]
        if kind == "note":
            return [(button(NEXT, _("Next")),)]
        return []

    # ------------------------------------------------------------------ review, done
    def review(self, review: Review) -> Reply:
        """Every answer, to send or change."""
        lines = [_("Please check your answers before you send them:")]
        edits: list[Button] = []
        for number, (question, answer) in enumerate(review.items, start=1):
            shown = _shorten(self.answer(question, answer), REVIEW_ANSWER_LENGTH)
            question_text = _shorten(self.text(question.text), REVIEW_ANSWER_LENGTH)
            lines.append(f"{number}. {question_text}\n→ {shown}")
            position = self.survey.position(question.id)
            edits.append(Button(press_id(self.run_id, RUN_LEVEL, EDIT, position), f"✏️ {number}"))
        lines.append(_("To change an answer, press its number."))
        rows: list[tuple[Button, ...]] = [
            (Button(press_id(self.run_id, RUN_LEVEL, SUBMIT), _("Send my answers")),)
        ]
        rows.extend(tuple(edits[i : i + EDIT_ROW]) for i in range(0, len(edits), EDIT_ROW))
        return Reply(fit("\n\n".join(lines)), tuple(rows))

    def done(self, done: Done) -> Reply:
        """Thanks once the answers are sent."""
        del done
        return Reply(
            _("Thank you! Your answers have been sent. They will help shape local services.")
        )

    def answer(self, question: Question, answer: Answer) -> str:
        """An answer as the resident would say it."""
        if answer is None:
            return _("(skipped)")
        if question.type == "yes_no":
            return _("Yes") if answer == "yes" else _("No")
        if isinstance(answer, tuple):
            return ", ".join(self._choice_label(question, c) for c in answer)
        if question.type == "choice" and isinstance(answer, str):
            return self._choice_label(question, answer)
        if isinstance(answer, str):
            return VOICE_MARK.sub(_("[voice note]"), answer)
        return str(answer)

    def _choice_label(self, question: Question, choice_id: str) -> str:
        choice = question.choice(choice_id)
        return self.text(choice.text) if choice is not None else choice_id

    # ------------------------------------------------------------------ run level
    def pause_button(self) -> Button:
        """Pause this run."""
        return Button(press_id(self.run_id, RUN_LEVEL, PAUSE), _("Pause"))

    def carry_on_button(self) -> Button:
        """Carry on with this run."""
        return Button(press_id(self.run_id, RUN_LEVEL, CARRY_ON), _("Carry on"))

    def carry_on_or_pause(self) -> Reply:
        """The clear choice offered when a resident did something else mid-survey."""
        text = _("You were answering “{title}”. Would you like to carry on?").format(
            title=self.title
        )
        return Reply(text, ((self.carry_on_button(), self.pause_button()),))
