"""Run every survey transcript in tests/fixtures/surveys (tests as data, as in goflow)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.surveys import (
    DEFINITIONS,
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
    load_survey,
    resume,
    start,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "surveys"
TRANSCRIPTS = sorted(FIXTURES.glob("*.transcript.yaml"))


def survey_for(transcript: Path, name: str) -> Survey:
    """The survey a transcript names: next to it, or shipped with Panelbot."""
    local = transcript.parent / name
    return load_survey(local if local.exists() else DEFINITIONS / name)


def event_from(send: Mapping[str, Any]) -> Event | None:
    """The engine event a transcript step sends."""
    ((kind, value),) = send.items()
    builders: dict[str, Any] = {
        "text": lambda: TextAnswer(str(value)),
        "pick": lambda: ChoicePick(*value),
        "toggle": lambda: ToggleChoice(*value),
        "done": lambda: FinishQuestion(value),
        "next": lambda: Next(value),
        "back": Back,
        "skip": lambda: Skip(value),
        "submit": Submit,
        "edit": lambda: Edit(value),
        "resume": lambda: None,
    }
    event: Event | None = builders[kind]()
    return event


def answer(value: Any) -> Answer:
    """An expected answer as the engine holds it (lists become tuples)."""
    return tuple(value) if isinstance(value, list) else value


def check(step: Step, expect: Mapping[str, Any], where: str) -> None:
    """Compare a step with a transcript's expectation."""
    if "ask" in expect:
        assert isinstance(step, Ask), f"{where}: expected a question, got {step}"
        check_ask(step, expect, where)
    elif "review" in expect:
        assert isinstance(step, Review), f"{where}: expected the review, got {step}"
        check_review(step, expect["review"], where)
    else:
        assert isinstance(step, Done), f"{where}: expected done, got {step}"
        assert dict(step.answers) == {k: answer(v) for k, v in expect["done"].items()}, where
    assert getattr(step, "stale", False) == expect.get("stale", False), f"{where}: stale"


def check_ask(step: Ask, expect: Mapping[str, Any], where: str) -> None:
    """Compare an Ask with its expectation."""
    shown = {
        "ask": step.question.id,
        "number": step.number,
        "total": step.total,
        "error": step.error.code if step.error else None,
        "selected": list(step.selected),
        "draft_parts": step.draft_parts,
        "previous": list(step.previous) if isinstance(step.previous, tuple) else step.previous,
    }
    wanted = {"error": None, "selected": [], "draft_parts": 0, **expect}
    wanted.pop("stale", None)
    wanted.pop("params", None)
    if "previous" not in expect:
        shown.pop("previous")
    assert {k: shown[k] for k in wanted} == wanted, f"{where}: {step}"
    if "params" in expect:
        assert step.error is not None and dict(step.error.params) == expect["params"], where


def check_review(step: Review, expect: Any, where: str) -> None:
    """Compare a Review with a list of ids or a mapping of answers."""
    ids = [question.id for question, _ in step.items]
    if isinstance(expect, list):
        assert ids == expect, where
    else:
        found = {question.id: value for question, value in step.items}
        assert found == {k: answer(v) for k, v in expect.items()}, where


def restarted(state: RunState) -> RunState:
    """The state after a trip through JSON text, as after a restart."""
    return RunState.from_json(json.loads(json.dumps(state.to_json())))


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.name for p in TRANSCRIPTS])
def test_transcript(path: Path) -> None:
    """Play a transcript, restarting the state between every step."""
    script = yaml.safe_load(path.read_text(encoding="utf-8"))
    survey = survey_for(path, script["survey"])
    state, step = start(survey)
    for number, entry in enumerate(script["steps"], start=1):
        where = f"{path.name} step {number} {entry.get('send')}"
        if "send" in entry:
            event = event_from(entry["send"])
            restored = restarted(state)
            assert restored == state, f"{where}: the state does not survive JSON"
            state, step = resume(survey, state, event)
            assert resume(survey, restored, event) == (state, step), f"{where}: restart differs"
        check(step, entry["expect"], where)


def test_there_are_enough_transcripts() -> None:
    """The transcripts are the engine's main specification."""
    assert len(TRANSCRIPTS) >= 8
