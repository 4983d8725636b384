"""Engine behaviour the transcripts do not show well: parsing, state, versions, hostile text."""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from pathlib import Path

import pytest

from bot.surveys import (
    DEFINITIONS,
    Ask,
    Back,
    ChoicePick,
    Done,
    FinishQuestion,
    Next,
    Review,
    RunState,
    Skip,
    Submit,
    Survey,
    TextAnswer,
    load_survey,
    load_survey_text,
    parse_number,
    resume,
    start,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "surveys"
BRANCHING = load_survey(FIXTURES / "branching.yaml")
STORY = load_survey(DEFINITIONS / "story.yaml")
HOSTILE_INPUTS = 10_000

ONE_OF_EACH = """
id: one_of_each
version: 1
languages: [en]
title: {en: "One of each (all optional, so a run can stand at any question)"}
questions:
  - {id: "note", type: note, text: {en: "N"}}
  - id: "choice"
    type: choice
    required: false
    text: {en: "C"}
    choices: [{id: "a", text: {en: "A"}}, {id: "b", text: {en: "B"}}]
  - id: "multi"
    type: multi_choice
    required: false
    max_selected: 1
    text: {en: "M"}
    choices: [{id: "a", text: {en: "A"}}, {id: "b", text: {en: "B"}}]
  - {id: "scale", type: scale, required: false, min: 0, max: 10, text: {en: "S"}}
  - {id: "number", type: number, required: false, text: {en: "N"}}
  - {id: "decimal", type: number, required: false, decimals: true, min: -5, max: 5, text: {en: "D"}}
  - {id: "text", type: text, required: false, max_length: 50, text: {en: "T"}}
  - {id: "story", type: story, required: false, max_length: 300, text: {en: "S"}}
  - {id: "yes_no", type: yes_no, required: false, text: {en: "Y"}}
"""


@pytest.mark.parametrize(
    ("typed", "decimals", "expected"),
    [
        ("12", False, 12),
        (" 12 ", False, 12),
        ("+7", False, 7),
        ("-3", False, -3),
        ("1,200", False, 1200),
        ("1 200", False, 1200),
        ("1\u00a0200\u00a0000", False, 1200000),
        ("12.0", False, 12),
        ("12.5", False, "not_whole"),
        ("12.5", True, 12.5),
        ("12,5", True, 12.5),
        ("1,200.75", True, 1200.75),
        ("۱۲", False, 12),
        ("١٢٫", False, "not_a_number"),
        ("１２", False, 12),
        ("twelve", False, "not_a_number"),
        ("12 weeks", False, "not_a_number"),
        ("1e3", False, "not_a_number"),
        ("nan", True, "not_a_number"),
        ("inf", True, "not_a_number"),
        ("0x10", False, "not_a_number"),
        ("", False, "not_a_number"),
        ("9" * 4096, False, "too_large"),
        ("-" + "9" * 4096, False, "too_small"),
        ("0" * 4096 + "7", False, 7),
        ("²", False, "not_a_number"),
    ],
)
def test_parse_number(typed: str, decimals: bool, expected: object) -> None:
    """Digits of any script, thousands separators and decimal commas; nothing else."""
    assert parse_number(typed, decimals) == expected


def test_state_json_round_trip_keeps_types() -> None:
    """Multi-choice answers are tuples in memory and lists in JSON."""
    state = RunState(
        "s", 2, {"a": ("x", "y"), "b": None, "c": 1.5, "d": 3, "e": "t"}, ("a",), "b", ("x",)
    )
    data = json.loads(json.dumps(state.to_json()))
    assert data["answers"]["a"] == ["x", "y"]
    assert RunState.from_json(data) == state


@pytest.mark.parametrize(
    "change",
    [
        {"format": 99},
        {"phase": "lost"},
        {"survey_id": 3},
        {"version": True},
        {"answers": []},
        {"answers": {"a": {"nested": 1}}},
        {"answers": {"a": True}},
        {"history": "a"},
        {"selected": [1]},
    ],
)
def test_malformed_state_is_refused(change: dict[str, object]) -> None:
    """from_json raises ValueError for anything but to_json output."""
    data = {**start(BRANCHING)[0].to_json(), **change}
    with pytest.raises(ValueError, match="run state"):
        RunState.from_json(data)


def test_resuming_with_another_survey_is_a_bug() -> None:
    """A run belongs to one survey id."""
    state, _ = start(BRANCHING)
    with pytest.raises(ValueError, match="branching"):
        resume(STORY, state, None)


def test_a_new_survey_version_keeps_what_still_fits() -> None:
    """After a survey change, answers that no longer fit are dropped and asked again."""
    state, _ = start(BRANCHING)
    for event in (Next("hello"), ChoicePick("pet", "dog"), TextAnswer("Rex"), TextAnswer("3")):
        state, step = resume(BRANCHING, state, event)
    assert isinstance(step, Ask) and step.question.id == "weight_kg"
    text = (FIXTURES / "branching.yaml").read_text(encoding="utf-8")
    changed = text.replace("version: 3", "version: 4").replace(
        "min: 0\n    max: 50", "min: 5\n    max: 50"
    )
    newer = load_survey_text(changed)
    state, step = resume(newer, state, None)
    assert state.version == 4
    assert isinstance(step, Ask) and step.question.id == "walks"
    assert "walks" not in state.answers and state.answers["pet_name"] == "Rex"


def test_removed_question_moves_the_resident_on() -> None:
    """If the current question disappears, the next pending one is asked."""
    state, _ = start(BRANCHING)
    state = replace(state, current="gone", history=("hello",))
    state, step = resume(BRANCHING, state, None)
    assert isinstance(step, Ask) and step.question.id == "pet"


def test_submitted_runs_stay_done() -> None:
    """Anything after submission returns Done, marked stale, with the answers unchanged."""
    survey = load_survey_text(ONE_OF_EACH.split('  - id: "choice"')[0])
    state, step = start(survey)
    state, step = resume(survey, state, Next("note"))
    assert isinstance(step, Review) and step.items == ()
    state, step = resume(survey, state, Submit())
    assert step == Done({})
    for event in (Back(), Skip(), TextAnswer("x"), Submit(), None):
        again, step = resume(survey, state, event)
        assert again == state and isinstance(step, Done)


def test_next_keeps_a_previous_answer_and_is_stale_without_one() -> None:
    """Next on an answered question keeps its answer; on an unanswered one it is ignored."""
    state, _ = start(STORY)
    state, step = resume(STORY, state, Next("story"))
    assert isinstance(step, Ask) and step.stale
    state, _ = resume(STORY, state, TextAnswer("It went well."))
    state, _ = resume(STORY, state, FinishQuestion("story"))
    state, _ = resume(STORY, state, Back())
    state, step = resume(STORY, state, Next("story"))
    assert isinstance(step, Ask) and step.question.id == "setting" and not step.stale
    assert state.answers["story"] == "It went well."


def test_typed_text_is_cleaned() -> None:
    """NUL and other control characters and lone surrogates never reach the answers."""
    survey = load_survey_text(ONE_OF_EACH)
    state = at(survey, "text")
    state, _ = resume(survey, state, TextAnswer("\x00a\ud800b\x1b[31mc\r\nd\t"))
    assert state.answers["text"] == "a?b[31mc\nd"


def at(survey: Survey, question_id: str) -> RunState:
    """A run of the one-of-each survey standing at a question, the earlier ones skipped."""
    state, _ = start(survey)
    ids = [q.id for q in survey.questions]
    before = ids[: ids.index(question_id)]
    answers = {qid: None for qid in before if qid != "note"}
    state = replace(state, answers=answers, history=tuple(before), current=question_id)
    assert resume(survey, state, None)[0] == state
    return state


def hostile_texts(count: int) -> list[str]:
    """Deterministic nasty messages: long, RTL, bidi, ZWJ emoji, NUL, markup, huge numbers."""
    rng = random.Random(20261123)
    pieces = [
        "مرحبا بالعالم",
        "میں نے چار گھنٹے انتظار کیا",
        "שלום",
        "\u202e\u2066evil\u2069\u202c",
        "\u200f\u200e",
        "👩‍👩‍👧‍👦",
        "🏳️‍🌈",
        "\x00",
        "\x07\x1b[2J",
        "\ud800",
        "\r\n",
        "<script>alert(1)</script>",
        "**bold** _it_ `code` [link](http://x)",
        "${q1} {{ q2 }} %(x)s {0}",
        "[voice:abc]",
        "9" * 4096,
        "-" + "1" * 4096,
        "1,000,000,000,000,000",
        "١٢٣",
        "３",
        "1e309",
        "NaN",
        "e\u0301" * 50,
        "\ufeff",
        " ",
        "\n\n\n",
        "2",
        "yes",
        "A",
        "Ａ",
        "/skip",
        "0",
        "-0",
        "5.5",
        "12,5",
    ]
    texts: list[str] = []
    for index in range(count):
        if index % 500 == 0:
            piece = rng.choice(pieces)
            texts.append(piece * (rng.randint(20_000, 200_000) // len(piece)))
        else:
            texts.append("".join(rng.choices(pieces, k=rng.randint(1, 4))))
    return texts


def test_hostile_text_never_raises_at_any_question_type() -> None:
    """10,000 hostile messages at every question type: no exception, clean answers only."""
    survey = load_survey_text(ONE_OF_EACH)
    texts = hostile_texts(HOSTILE_INPUTS)
    began = time.perf_counter()
    for question in survey.questions:
        state = at(survey, question.id)
        for typed in texts:
            after, step = resume(survey, state, TextAnswer(typed))
            assert isinstance(step, Ask | Review)
            stored = after.answers.get(question.id) if after != state else None
            if isinstance(stored, str):
                assert "\x00" not in stored and "\ud800" not in stored
            if question.type in ("text", "story") and isinstance(stored, str):
                assert len(stored) <= (question.max_length or 0)
            if isinstance(stored, int | float):
                assert abs(stored) <= 10**12
            json.dumps(after.to_json())
    assert time.perf_counter() - began < 30


def test_hostile_ids_in_events_are_stale() -> None:
    """Events naming odd or unknown ids change nothing."""
    survey = load_survey_text(ONE_OF_EACH)
    state = at(survey, "choice")
    for qid, cid in [("", ""), ("choice", "c"), ("choice", "\x00"), ("choice", "1" * 5000)]:
        after, step = resume(survey, state, ChoicePick(qid, cid))
        assert after == state and isinstance(step, Ask) and step.stale
