"""Survey results for the dashboard: raw and weighted side by side, optionally by one group.

Weights come from raking the respondents to the area's census margins (age, sex, ethnic group,
disability, carer, locality). Every count goes through disclosure control; a result or a group
with fewer than 10 respondents says "too few responses" instead of figures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.services.area import AreaProfile
from bot.services.composition import ETHNIC_GROUP, LOCALITY
from bot.services.disclosure import SMALLEST_SHOWN, SMALLEST_VIEW, percent, shown
from bot.services.profile import ETHNICITY, ethnic_group_of
from bot.services.weighting import Raked, rake
from bot.surveys import Question, Survey
from storage.tallies import WeightedSum

COUNTED = ("choice", "multi_choice", "yes_no", "scale")
BY_FEATURES = ("age_band", "sex", "carer", "disability", ETHNIC_GROUP, LOCALITY)


@dataclass(frozen=True)
class OptionRow:
    """One answer option: raw count and share, weighted share."""

    label: str
    count: str
    raw: str
    weighted: str
    raw_value: int  # 0-100, for the chart (0 when hidden)
    weighted_value: int


@dataclass(frozen=True)
class GroupColumn:
    """One group of the breakdown: its size and its share per option (or too few)."""

    label: str
    size: str
    shares: tuple[str, ...]  # per option, or () when too few


@dataclass(frozen=True)
class QuestionResult:
    """A question's figures."""

    id: str
    text: str
    kind: str
    answered: str
    too_few: bool
    rows: tuple[OptionRow, ...] = ()
    mean_raw: str = ""
    mean_weighted: str = ""
    groups: tuple[GroupColumn, ...] = ()


@dataclass(frozen=True)
class SurveyResults:
    """A survey's figures and how much weighting moved them."""

    title: str
    respondents: str
    too_few: bool
    design_effect: str
    effective_n: str
    questions: tuple[QuestionResult, ...]


def census_targets(area: AreaProfile | None) -> dict[str, dict[str, float]]:
    """The census shares to weight to, per feature and per locality."""
    if area is None:
        return {}
    targets = {f: {c: float(n) for c, n in area.population(f).items()} for f in area.features()}
    first = area.features()[0] if area.features() else None
    if first is not None:
        targets[LOCALITY] = {
            loc: float(sum(area.population(first, loc).values())) for loc in area.localities
        }
    return targets


def respondent_cell(profile: Mapping[str, str]) -> str:
    """A respondent's cell: their group in every weighting feature, as JSON."""
    groups = []
    for feature in BY_FEATURES:
        if feature == ETHNIC_GROUP:
            groups.append(ethnic_group_of(profile.get(ETHNICITY.id, "")))
        else:
            groups.append(profile.get(feature) or None)
    return json.dumps(groups)


NUMBER_KEY = "#"  # numbers are tallied as a count and a sum, not one row per value
TEXT_KEY = "…"  # free text is tallied as answered, whatever it says


def answer_key(value: Any, question_type: str) -> tuple[str, float]:
    """An answer as tallied: its JSON (numbers: the number key; free text: only that it was
    given, never what it says), and a number's value."""
    if question_type == "number" and isinstance(value, int | float):
        return NUMBER_KEY, float(value)
    if question_type not in COUNTED:
        return TEXT_KEY, 0.0
    return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False), 0.0


@dataclass(frozen=True)
class Entry:
    """Respondents who gave the same answer (in one group): how many, and their weighted sums."""

    value: Any
    count: int
    mass: float  # the sum of their weights
    group: str | None
    total: float = 0.0  # numbers: the sum of their answers
    weighted_total: float = 0.0  # numbers: the sum of weight times answer


@dataclass(frozen=True)
class Weighting:
    """The respondents' profile cells, raked to the census (no weights when too few)."""

    respondents: int
    cells: tuple[str, ...]
    raked: Raked | None

    def by_cell(self, by: str | None) -> dict[str, tuple[float, str | None]]:
        """Each cell's weight, and its group in the breakdown feature (if any)."""
        if self.raked is None:
            return {}
        position = BY_FEATURES.index(by) if by in BY_FEATURES else None
        return {
            cell: (float(weight), json.loads(cell)[position] if position is not None else None)
            for cell, weight in zip(self.cells, self.raked.weights, strict=True)
        }


def weigh(cells: Mapping[str, int], area: AreaProfile | None) -> Weighting:
    """Rake the respondents per cell to the area's census margins."""
    respondents = sum(cells.values())
    order = tuple(sorted(cells))
    if respondents < SMALLEST_VIEW:
        return Weighting(respondents, order, None)
    decoded = [json.loads(cell) for cell in order]
    columns = {f: [groups[i] for groups in decoded] for i, f in enumerate(BY_FEATURES)}
    targets = {f: t for f, t in census_targets(area).items() if f in columns}
    return Weighting(respondents, order, rake(columns, targets, counts=[cells[c] for c in order]))


def survey_results(
    survey: Survey,
    weighting: Weighting,
    sums: Sequence[WeightedSum],
    labels: Mapping[str, Mapping[str, str]],
    by: str | None = None,
) -> SurveyResults:
    """Raw and weighted figures per question, from the weighted sums of the tallies."""
    title = survey.title.get("en")
    raked = weighting.raked
    if raked is None:
        return SurveyResults(title, shown(weighting.respondents), True, "", "", ())
    values: dict[str, Any] = {NUMBER_KEY: NUMBER_KEY, TEXT_KEY: TEXT_KEY}
    entries: dict[str, list[Entry]] = {}
    for question_id, key, group, count, mass, total, weighted_total in sums:
        if key not in values:
            values[key] = json.loads(key)
        entry = Entry(values[key], int(count), mass, group, total, weighted_total)
        entries.setdefault(question_id, []).append(entry)
    grouped = by in BY_FEATURES
    results = tuple(
        _question(q, entries.get(q.id, []), grouped, labels.get(by or "", {}))
        for q in survey.questions
        if q.type != "note"
    )
    return SurveyResults(
        title,
        shown(weighting.respondents),
        False,
        f"{raked.design_effect:.2f}",
        shown(round(raked.effective_n)),
        results,
    )


def _question(
    question: Question, given: list[Entry], grouped: bool, group_labels: Mapping[str, str]
) -> QuestionResult:
    answered = [e for e in given if e.value is not None]
    total = sum(e.count for e in answered)
    text = question.text.get("en")
    if total < SMALLEST_VIEW:
        return QuestionResult(question.id, text, question.type, shown(total), True)
    if question.type == "number":
        raw = sum(e.total for e in answered) / total
        mass = sum(e.mass for e in answered)
        weighted = sum(e.weighted_total for e in answered) / mass
        means = (f"{raw:.1f}", f"{weighted:.1f}")
        return QuestionResult(question.id, text, "number", shown(total), False, (), *means)
    if question.type not in COUNTED:
        return QuestionResult(question.id, text, question.type, shown(total), False)
    options = question.options()
    rows = _rows(question, options, answered, total)
    groups = _groups(options, answered, group_labels) if grouped else ()
    return QuestionResult(
        question.id, text, question.type, shown(total), False, rows, groups=groups
    )


def _picked(value: Any) -> set[str]:
    """The options an answer picked (a list for multiple choice, a number for a scale)."""
    return {str(v) for v in value} if isinstance(value, list | tuple) else {str(value)}


def _rows(
    question: Question, options: Sequence[str], answered: list[Entry], total: int
) -> tuple[OptionRow, ...]:
    counts: dict[str, int] = dict.fromkeys(options, 0)
    masses: dict[str, float] = dict.fromkeys(options, 0.0)
    for key, (count, mass) in _by_answer(answered).items():
        for option in _picked(key):
            if option in counts:
                counts[option] += count
                masses[option] += mass
    whole = sum(e.mass for e in answered)
    rows = []
    for option in options:
        count = counts[option]
        hidden = 0 < count < SMALLEST_SHOWN
        share = masses[option] / whole if whole else 0.0
        rows.append(
            OptionRow(
                _option_label(question, option),
                shown(count),
                percent(count, total),
                "*" if hidden else f"{100 * share:.0f}%",
                0 if hidden else round(100 * count / total),
                0 if hidden else round(100 * share),
            )
        )
    return tuple(rows)


def _by_answer(answered: list[Entry]) -> dict[Any, tuple[int, float]]:
    """Respondents and weighted mass per distinct answer (each answer's options found once)."""
    found: dict[Any, list[float]] = {}
    for entry in answered:
        key = tuple(entry.value) if isinstance(entry.value, list) else entry.value
        slot = found.setdefault(key, [0, 0.0])
        slot[0] += entry.count
        slot[1] += entry.mass
    return {key: (int(count), mass) for key, (count, mass) in found.items()}


def _groups(
    options: Sequence[str], answered: list[Entry], labels: Mapping[str, str]
) -> tuple[GroupColumn, ...]:
    members: dict[str, list[Entry]] = {}
    for entry in answered:
        if entry.group is not None:
            members.setdefault(entry.group, []).append(entry)
    columns = []
    for group in sorted(members, key=lambda g: list(labels).index(g) if g in labels else 99):
        people = members[group]
        size = sum(e.count for e in people)
        label = labels.get(group, group)
        if size < SMALLEST_VIEW:
            columns.append(GroupColumn(label, shown(size), ()))
            continue
        picked = dict.fromkeys(options, 0)
        for key, (count, _mass) in _by_answer(people).items():
            for option in _picked(key):
                if option in picked:
                    picked[option] += count
        columns.append(
            GroupColumn(label, shown(size), tuple(percent(picked[o], size) for o in options))
        )
    return tuple(columns)


def _option_label(question: Question, option: str) -> str:
    choice = question.choice(option)
    if choice is not None:
        return choice.text.get("en")
    if question.type == "yes_no":
        return option.capitalize()
    return option
