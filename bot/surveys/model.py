"""Survey definitions as frozen dataclasses (built by the loader, read by the engine)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeAlias

FORMAT = 1

QuestionType = Literal[
    "choice", "multi_choice", "scale", "number", "text", "story", "yes_no", "note"
]
QUESTION_TYPES: tuple[QuestionType, ...] = (
    "choice",
    "multi_choice",
    "scale",
    "number",
    "text",
    "story",
    "yes_no",
    "note",
)
YES_NO = ("yes", "no")
DEFAULT_MAX_LENGTH: Mapping[str, int] = {"text": 500, "story": 20000}
NUMBER_LIMIT = 10**12
"""The largest magnitude a number (answer, bound or condition value) may have."""

Number: TypeAlias = int | float
Answer: TypeAlias = str | tuple[str, ...] | int | float | None
"""An answer: choice id, "yes"/"no", ticked ids, a number, text; None when skipped."""


@dataclass(frozen=True)
class Text:
    """Human text in every language of its survey; the first language is the fallback."""

    translations: Mapping[str, str]

    def __hash__(self) -> int:
        """Hash by content, so that questions and surveys are hashable."""
        return hash(tuple(self.translations.items()))

    def get(self, language: str) -> str:
        """The text in `language`, or in the survey's first language."""
        found = self.translations.get(language)
        return found if found is not None else next(iter(self.translations.values()), "")


@dataclass(frozen=True)
class Choice:
    """One option of a choice or multi_choice question."""

    id: str
    text: Text


@dataclass(frozen=True)
class Matches:
    """Holds when answered with one of `values` (multi_choice: ticked one); `negate`: none."""

    question_id: str
    values: tuple[str | Number, ...]
    negate: bool = False


@dataclass(frozen=True)
class InRange:
    """Holds when a scale or number answer lies within the bounds (inclusive)."""

    question_id: str
    min: Number | None = None
    max: Number | None = None


@dataclass(frozen=True)
class Status:
    """Holds when the question was answered (`answered`) or skipped (not `answered`)."""

    question_id: str
    answered: bool


@dataclass(frozen=True)
class AllOf:
    """Holds when every condition holds."""

    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    """Holds when at least one condition holds."""

    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    """Holds when the condition does not."""

    condition: Condition


Condition: TypeAlias = Matches | InRange | Status | AllOf | AnyOf | Not


@dataclass(frozen=True)
class Question:
    """One question (or note) of a survey."""

    id: str
    type: QuestionType
    text: Text
    required: bool = True
    when: Condition | None = None
    choices: tuple[Choice, ...] = ()
    min: Number | None = None
    max: Number | None = None
    decimals: bool = False
    min_label: Text | None = None
    max_label: Text | None = None
    max_selected: int | None = None
    max_length: int | None = None
    validation: Text | None = None

    def options(self) -> tuple[str, ...]:
        """The ids its buttons carry: choice ids, "yes"/"no", or the scale points as text."""
        if self.type in ("choice", "multi_choice"):
            return tuple(choice.id for choice in self.choices)
        if self.type == "yes_no":
            return YES_NO
        if self.type == "scale" and self.min is not None and self.max is not None:
            return tuple(str(point) for point in range(int(self.min), int(self.max) + 1))
        return ()

    def choice(self, choice_id: str) -> Choice | None:
        """The choice with this id, if any."""
        return next((choice for choice in self.choices if choice.id == choice_id), None)


@dataclass(frozen=True)
class Audience:
    """Who a survey is for: any of the localities, and every profile feature matching."""

    localities: tuple[str, ...] = ()
    profile: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __hash__(self) -> int:
        """Hash by content, so that surveys are hashable."""
        return hash((self.localities, tuple(self.profile.items())))

    def includes(self, locality: str | None, profile: Mapping[str, str | Collection[str]]) -> bool:
        """Whether a member in `locality` with these profile values is in the audience."""
        if self.localities and locality not in self.localities:
            return False
        return all(_feature_matches(profile.get(f), wanted) for f, wanted in self.profile.items())


def _feature_matches(value: str | Collection[str] | None, wanted: tuple[str, ...]) -> bool:
    """Whether a member's value (one or several) is among the wanted ones."""
    if value is None:
        return False
    values = (value,) if isinstance(value, str) else tuple(value)
    return any(v in wanted for v in values)


@dataclass(frozen=True)
class Reminders:
    """How many reminders to send, and after how many hours without an answer."""

    max: int = 2
    after_hours: int = 48


@dataclass(frozen=True)
class Survey:
    """A loaded, validated survey definition."""

    id: str
    version: int
    languages: tuple[str, ...]
    title: Text
    questions: tuple[Question, ...]
    intro: Text | None = None
    opens: datetime | None = None
    closes: datetime | None = None
    audience: Audience | None = None
    reminders: Reminders = Reminders()
    _index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index the questions by id."""
        index = {question.id: i for i, question in enumerate(self.questions)}
        object.__setattr__(self, "_index", index)

    def question(self, question_id: str) -> Question | None:
        """The question with this id, if any."""
        position = self._index.get(question_id)
        return None if position is None else self.questions[position]

    def position(self, question_id: str) -> int:
        """The index of a question in the survey, -1 if unknown."""
        return self._index.get(question_id, -1)

    def is_open(self, at: datetime) -> bool:
        """Whether the survey takes answers at `at` (aware; `closes` is exclusive)."""
        if self.opens is not None and at < self.opens:
            return False
        return self.closes is None or at < self.closes
