"""The surveys a deployment runs: the shipped definitions or a folder of its own, by id."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.surveys import DEFINITIONS, Problem, Survey, SurveyError, load_surveys

STORY_SURVEY_ID = "story"


@dataclass(frozen=True)
class SurveyLibrary:
    """Loaded surveys by id; the story survey (`/story`) is always among them."""

    surveys: Mapping[str, Survey]

    def __post_init__(self) -> None:
        """A library without the story survey cannot serve `/story`."""
        if STORY_SURVEY_ID not in self.surveys:
            raise ValueError(f"no `{STORY_SURVEY_ID}` survey")

    @classmethod
    def load(cls, directory: Path | None = None) -> SurveyLibrary:
        """The surveys of `directory` (the shipped examples when None), plus the shipped story."""
        shipped = load_surveys(DEFINITIONS)
        if directory is None:
            return cls(shipped)
        if not directory.is_dir():
            raise SurveyError([Problem("", "no such folder", None, str(directory))])
        own = load_surveys(directory)
        return cls({STORY_SURVEY_ID: shipped[STORY_SURVEY_ID], **own})

    def get(self, survey_id: str) -> Survey | None:
        """The survey with this id, if loaded."""
        return self.surveys.get(survey_id)

    @property
    def story(self) -> Survey:
        """The survey `/story` runs."""
        return self.surveys[STORY_SURVEY_ID]

    def open_for(
        self, locality: str | None, profile: Mapping[str, str], at: datetime
    ) -> list[Survey]:
        """Surveys open at `at` whose audience includes this member, in id order (not the story)."""
        return [
            survey
            for survey_id, survey in sorted(self.surveys.items())
            if survey_id != STORY_SURVEY_ID
            and survey.is_open(at)
            and (survey.audience is None or survey.audience.includes(locality, profile))
        ]

    def open_surveys(self, at: datetime) -> list[Survey]:
        """Every survey open at `at`, whatever its audience, in id order (not the story)."""
        return [
            survey
            for survey_id, survey in sorted(self.surveys.items())
            if survey_id != STORY_SURVEY_ID and survey.is_open(at)
        ]
