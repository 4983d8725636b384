"""Evaluate structured `when` conditions against the answers given so far."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from bot.surveys.model import AllOf, Answer, AnyOf, Condition, InRange, Matches, Not, Status


def holds(condition: Condition | None, answers: Mapping[str, Answer]) -> bool:
    """Whether the condition holds; no condition always holds."""
    match condition:
        case None:
            return True
        case Matches():
            return _matches(condition, answers)
        case InRange():
            return _in_range(condition, answers.get(condition.question_id))
        case Status():
            return _status(condition, answers)
        case AllOf():
            return all(holds(part, answers) for part in condition.conditions)
        case AnyOf():
            return any(holds(part, answers) for part in condition.conditions)
        case Not():
            return not holds(condition.condition, answers)


def references(condition: Condition | None) -> Iterator[str]:
    """The ids of the questions a condition reads."""
    match condition:
        case None:
            return
        case Matches() | InRange() | Status():
            yield condition.question_id
        case AllOf() | AnyOf():
            for part in condition.conditions:
                yield from references(part)
        case Not():
            yield from references(condition.condition)


def _matches(condition: Matches, answers: Mapping[str, Answer]) -> bool:
    """Equality / any-of on an answer; a missing or skipped answer matches nothing."""
    answer = answers.get(condition.question_id)
    if answer is None:
        return False
    given = answer if isinstance(answer, tuple) else (answer,)
    found = any(value in condition.values for value in given)
    return found != condition.negate


def _in_range(condition: InRange, answer: Answer) -> bool:
    """Whether a numeric answer lies within the inclusive bounds."""
    if not isinstance(answer, int | float):
        return False
    above = condition.min is None or answer >= condition.min
    return above and (condition.max is None or answer <= condition.max)


def _status(condition: Status, answers: Mapping[str, Answer]) -> bool:
    """Answered: has a value. Skipped: recorded as skipped (None)."""
    if condition.answered:
        return answers.get(condition.question_id) is not None
    return condition.question_id in answers and answers[condition.question_id] is None
