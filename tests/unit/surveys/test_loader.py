"""The strict survey loader: shipped definitions load; broken files report every problem."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.surveys import (
    DEFINITIONS,
    Problem,
    SurveyError,
    check_survey,
    load_survey,
    load_survey_text,
    load_surveys,
)
from bot.surveys.model import AllOf, AnyOf, InRange, Matches, Not, Status

FIXTURES = Path(__file__).parents[2] / "fixtures" / "surveys"
BROKEN = sorted((FIXTURES / "broken").glob("*.yaml"))
SHIPPED = sorted(DEFINITIONS.glob("*.yaml"))
SUPPORTED = ("en", "cy", "pl", "ur")
EXPECT = re.compile(r"^# expect: (\S+) \| (.+)$", re.MULTILINE)

MINIMAL = """
id: minimal
version: 1
languages: [en, cy]
title: {en: "Minimal", cy: "Lleiaf"}
questions:
  - id: q
    type: text
    text: {en: "Q?", cy: "C?"}
"""


def expectations(path: Path) -> list[tuple[str, str]]:
    """The `# expect: place | message part` lines of a broken fixture."""
    found = EXPECT.findall(path.read_text(encoding="utf-8"))
    return [("" if place == "(top)" else place, part) for place, part in found]


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_definitions_load(path: Path) -> None:
    """Every survey shipped with Panelbot is valid and in every supported language."""
    assert check_survey(path) == []
    survey = load_survey(path)
    assert survey.languages == SUPPORTED
    assert path.stem == survey.id


def test_shipped_definitions_load_together() -> None:
    """The definitions directory loads as a catalogue keyed by id."""
    assert set(load_surveys()) == {"gp_access", "housing_repairs", "story"}


def test_gp_access_uses_every_question_type() -> None:
    """The GP access survey exercises every question type and condition kind."""
    survey = load_survey(DEFINITIONS / "gp_access.yaml")
    types = {question.type for question in survey.questions}
    assert types == {"choice", "multi_choice", "scale", "number", "text", "story", "yes_no", "note"}
    kinds = {type(q.when) for q in survey.questions if q.when is not None}
    assert {Matches, AnyOf} <= kinds


@pytest.mark.parametrize("path", BROKEN, ids=[p.name for p in BROKEN])
def test_broken_fixture_reports_every_expected_problem(path: Path) -> None:
    """Each broken file reports each expected problem at its place, with a line number."""
    wanted = expectations(path)
    assert wanted, f"{path.name} has no `# expect:` lines"
    problems = check_survey(path)
    for place, part in wanted:
        matching = [p for p in problems if p.place == place and part in p.message]
        assert matching, f"{path.name}: no `{part}` at `{place}` in:\n" + "\n".join(
            map(str, problems)
        )
        assert all(p.line is not None and p.source == str(path) for p in matching)
    with pytest.raises(SurveyError) as raised:
        load_survey(path)
    assert list(raised.value.problems) == problems


def test_there_are_enough_broken_cases() -> None:
    """The loader is specified by at least fifteen broken files."""
    assert len(BROKEN) >= 15


def test_problem_lines_point_at_the_mistake() -> None:
    """Lines count from 1 and point at the offending key or item."""
    path = FIXTURES / "broken" / "unquoted_no_id.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    (problem,) = [p for p in check_survey(path) if p.place == "questions[0].choices[1].id"]
    assert problem.line is not None
    assert "id: no," in lines[problem.line - 1]
    assert str(problem).startswith(f"{path}:{problem.line}: questions[0].choices[1].id: quote")


def test_every_problem_is_reported_not_just_the_first() -> None:
    """A file with many mistakes lists them all."""
    problems = check_survey(FIXTURES / "broken" / "wrong_types.yaml")
    assert len({p.place for p in problems}) >= 5


def test_minimal_survey_and_defaults() -> None:
    """Defaults: required, text max_length 500, reminders 2 after 48 h, no window."""
    survey = load_survey_text(MINIMAL)
    (question,) = survey.questions
    assert question.required and question.max_length == 500
    assert (survey.reminders.max, survey.reminders.after_hours) == (2, 48)
    assert survey.opens is None and survey.audience is None
    assert question.text.get("cy") == "C?" and question.text.get("ur") == "Q?"


def test_dates_are_utc_and_closing_dates_include_the_whole_day() -> None:
    """A closing date means the end of that day; datetimes without a zone are UTC."""
    text = MINIMAL + "opens: 2026-01-05T09:30:00\ncloses: 2026-03-31\n"
    survey = load_survey_text(text)
    assert survey.opens == datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    assert survey.closes == datetime(2026, 4, 1, tzinfo=UTC)
    assert survey.is_open(datetime(2026, 3, 31, 23, 59, tzinfo=UTC))
    assert not survey.is_open(datetime(2026, 4, 1, tzinfo=UTC))
    assert not survey.is_open(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))


def test_audience_matching() -> None:
    """Any listed locality, and every profile feature among its values."""
    text = MINIMAL + (
        "audience:\n  localities: ['north_riverside']\n"
        "  profile: {age_band: ['65_74', '75_plus'], carer: ['yes']}\n"
    )
    audience = load_survey_text(text).audience
    assert audience is not None
    member = {"age_band": "75_plus", "carer": ["yes", "young_carer"]}
    assert audience.includes("north_riverside", member)
    assert not audience.includes("south_bank", member)
    assert not audience.includes("north_riverside", {"age_band": "75_plus"})
    assert not audience.includes(None, member)


def test_conditions_are_built_structurally() -> None:
    """Several keys mean all; any/all/not combine; values, lists, min/max, answered/skipped."""
    text = MINIMAL.replace(
        '    text: {en: "Q?", cy: "C?"}\n',
        '    text: {en: "Q?", cy: "C?"}\n'
        "  - id: mood\n    type: scale\n    min: 1\n    max: 5\n"
        '    text: {en: "M", cy: "M"}\n'
        '  - id: later\n    type: text\n    text: {en: "L", cy: "L"}\n'
        "    when:\n      q: answered\n      mood: {min: 2, max: 4}\n"
        "      any: [{mood: [1, 5]}, {not: {q: skipped}}]\n",
    )
    when = load_survey_text(text).questions[2].when
    assert when == AllOf(
        (
            Status("q", True),
            InRange("mood", 2, 4),
            AnyOf((Matches("mood", (1, 5)), Not(Status("q", False)))),
        )
    )


def test_surveys_with_the_same_id_are_refused(tmp_path: Path) -> None:
    """Two files may not define one survey id."""
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(MINIMAL, encoding="utf-8")
    with pytest.raises(SurveyError, match="used twice"):
        load_surveys(tmp_path)


def test_unreadable_files_are_problems(tmp_path: Path) -> None:
    """A missing or non-UTF-8 file is a problem, not a crash."""
    (tmp_path / "latin1.yaml").write_bytes("title: caf\xe9".encode("latin-1"))
    assert "cannot read" in check_survey(tmp_path / "latin1.yaml")[0].message
    assert "cannot read" in check_survey(tmp_path / "missing.yaml")[0].message


@pytest.mark.parametrize(
    "text",
    ["", "null", "[]", "42", "id: [", "!!python/object:os.system {}", "a: &x [*x]"],
)
def test_junk_is_reported_not_raised(text: str) -> None:
    """Anything at all gives problems, never another exception."""
    with pytest.raises(SurveyError) as raised:
        load_survey_text(text)
    assert raised.value.problems
    assert all(isinstance(problem, Problem) for problem in raised.value.problems)
