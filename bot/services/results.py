"""Survey results for the dashboard: raw and weighted side by side, optionally by one group.

Weights come from raking the respondents to the area's census margins (age, sex, ethnic group,
disability, carer, locality). Every count goes through disclosure control; a result or a group
with fewer than 10 respondents says "too few responses" instead of figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.services.area import AreaProfile
from bot.services.composition import ETHNIC_GROUP, LOCALITY
from bot.services.disclosure import SMALLEST_SHOWN, SMALLEST_VIEW, percent, shown
from bot.services.profile import ETHNICITY, ethnic_group_of
from bot.services.weighting import rake
from bot.surveys import Question, Survey

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


def respondent_columns(
    profiles: Mapping[int, Mapping[str, str]], order: Sequence[int]
) -> dict[str, list[str | None]]:
    """Each respondent's group in every weighting feature (ethnicity as its broad group)."""
    columns: dict[str, list[str | None]] = {f: [] for f in BY_FEATURES}
    for resident in order:
        profile = profiles.get(resident, {})
        for feature in BY_FEATURES:
            if feature == ETHNIC_GROUP:
                columns[feature].append(ethnic_group_of(profile.get(ETHNICITY.id, "")))
            else:
                columns[feature].append(profile.get(feature))
    return columns


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


def survey_results(
    survey: Survey,
    answers: Sequence[tuple[int, str, Any]],
    profiles: Mapping[int, Mapping[str, str]],
    area: AreaProfile | None,
    labels: Mapping[str, Mapping[str, str]],
    by: str | None = None,
) -> SurveyResults:
    """Raw and weighted figures per question; `labels[feature][category]` names the groups."""
    respondents = sorted(profiles)
    title = survey.title.get("en")
    if len(respondents) < SMALLEST_VIEW:
        return SurveyResults(title, shown(len(respondents)), True, "", "", ())
    index = {resident: i for i, resident in enumerate(respondents)}
    columns = respondent_columns(profiles, respondents)
    targets = {f: t for f, t in census_targets(area).items() if f in columns}
    raked = rake(columns, targets)
    weights = [float(w) for w in raked.weights]
    by_question: dict[str, dict[int, Any]] = {}
    for resident, question_id, value in answers:
        if resident in index:
            by_question.setdefault(question_id, {})[index[resident]] = value
    group_of = columns.get(by) if by else None
    results = tuple(
        _question(q, by_question.get(q.id, {}), weights, group_of, labels.get(by or "", {}))
        for q in survey.questions
        if q.type != "note"
    )
    return SurveyResults(
        title,
        shown(len(respondents)),
        False,
        f"{raked.design_effect:.2f}",
        shown(round(raked.effective_n)),
        results,
    )


def _question(
    question: Question,
    given: Mapping[int, Any],
    weights: Sequence[float],
    group_of: Sequence[str | None] | None,
    group_labels: Mapping[str, str],
) -> QuestionResult:
    answered = {i: v for i, v in given.items() if v is not None}
    text = question.text.get("en")
    if len(answered) < SMALLEST_VIEW:
        return QuestionResult(question.id, text, question.type, shown(len(answered)), True)
    if question.type == "number":
        raw = sum(float(v) for v in answered.values()) / len(answered)
        total = sum(weights[i] for i in answered)
        weighted = sum(weights[i] * float(v) for i, v in answered.items()) / total
        return QuestionResult(
            question.id,
            text,
            "number",
            shown(len(answered)),
            False,
            (),
            f"{raw:.1f}",
            f"{weighted:.1f}",
        )
    if question.type not in COUNTED:
        return QuestionResult(question.id, text, question.type, shown(len(answered)), False)
    options = question.options()
    rows = _rows(question, options, answered, weights)
    groups = _groups(options, answered, group_of, group_labels) if group_of is not None else ()
    return QuestionResult(
        question.id, text, question.type, shown(len(answered)), False, rows, groups=groups
    )


def _picked(value: Any) -> set[str]:
    """The options an answer picked (a list for multiple choice, a number for a scale)."""
    return {str(v) for v in value} if isinstance(value, list | tuple) else {str(value)}


def _rows(
    question: Question,
    options: Sequence[str],
    answered: Mapping[int, Any],
    weights: Sequence[float],
) -> tuple[OptionRow, ...]:
    total_weight = sum(weights[i] for i in answered)
    rows = []
    for option in options:
        chosen = [i for i, v in answered.items() if option in _picked(v)]
        count = len(chosen)
        hidden = 0 < count < SMALLEST_SHOWN
        share = sum(weights[i] for i in chosen) / total_weight if total_weight else 0.0
        rows.append(
            OptionRow(
                _option_label(question, option),
                shown(count),
                percent(count, len(answered)),
                "*" if hidden else f"{100 * share:.0f}%",
                0 if hidden else round(100 * count / len(answered)),
                0 if hidden else round(100 * share),
            )
        )
    return tuple(rows)


def _groups(
    options: Sequence[str],
    answered: Mapping[int, Any],
    group_of: Sequence[str | None],
    labels: Mapping[str, str],
) -> tuple[GroupColumn, ...]:
    members: dict[str, list[int]] = {}
    for i in answered:
        group = group_of[i]
        if group is not None:
            members.setdefault(group, []).append(i)
    columns = []
    for group in sorted(members, key=lambda g: list(labels).index(g) if g in labels else 99):
        people = members[group]
        label = labels.get(group, group)
        if len(people) < SMALLEST_VIEW:
            columns.append(GroupColumn(label, shown(len(people)), ()))
            continue
        shares = tuple(
            percent(sum(1 for i in people if o in _picked(answered[i])), len(people))
            for o in options
        )
        columns.append(GroupColumn(label, shown(len(people)), shares))
    return tuple(columns)


def _option_label(question: Question, option: str) -> str:
    choice = question.choice(option)
    if choice is not None:
        return choice.text.get("en")
    if question.type == "yes_no":
        return option.capitalize()
    return option
