"""Stories for co-design leads: the moderation queue, the wall, and patterns across them.

Only the redacted text is ever shown; a moderator can redact further before approving.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.services.disclosure import shown
from bot.services.survey_library import SurveyLibrary
from storage.audit import audit
from storage.dashboard import DashboardRepository
from storage.database import Database

Clock = Callable[[], datetime]
MODERATION_ACTIONS = ("approve", "reject", "redact")


@dataclass(frozen=True)
class StoryCard:
    """A story as moderators and the wall see it: redacted text and described signifiers."""

    id: int
    text: str
    tags: tuple[str, ...]
    language: str
    quote_consent: bool
    state: str


@dataclass(frozen=True)
class Pattern:
    """How stories felt, per setting: counts per point of the feeling scale (disclosed)."""

    points: tuple[str, ...]
    rows: tuple[tuple[str, str, tuple[str, ...]], ...]  # setting, stories, per point


class StoryWall:
    """The moderation queue, the wall of approved stories, and the patterns across them."""

    def __init__(self, database: Database, library: SurveyLibrary, *, clock: Clock) -> None:
        self.database = database
        self.story = library.story
        self.clock = clock

    async def cards(self, state: str, limit: int = 20, offset: int = 0) -> list[StoryCard]:
        """Stories in a moderation state."""
        async with self.database.transaction() as session:
            stories = await DashboardRepository(session).stories(state, limit, offset)
        return [
            StoryCard(s.id, s.redacted_text, self._tags(s.signifiers), s.language,
                      s.quote_consent, s.moderation)
            for s in stories
        ]  # fmt: skip

    async def moderate(self, story_id: int, action: str, text: str | None, actor: str) -> bool:
        """Approve or reject a story, or change its redacted text; False if there is none."""
        if action not in MODERATION_ACTIONS:
            raise ValueError("approve, reject or redact")
        now = self.clock()
        async with self.database.transaction() as session:
            story = await DashboardRepository(session).story(story_id)
            if story is None:
                return False
            if text is not None and text.strip():
                story.redacted_text = text.strip()
            if action != "redact":
                story.moderation = "approved" if action == "approve" else "rejected"
                story.moderated_at = now
            audit(session, actor, f"story.{action}", {"story": story_id}, now)
        return True

    async def patterns(self) -> Pattern:
        """Approved stories' feelings per setting; small counts hidden."""
        async with self.database.transaction() as session:
            signifiers = await DashboardRepository(session).approved_signifiers()
        setting = self.story.question("setting")
        feeling = self.story.question("feeling")
        points = feeling.options() if feeling else ()
        counts: dict[str, dict[str, int]] = {}
        for found in signifiers:
            where = str(found.get("setting", ""))
            counts.setdefault(where, {})
            point = str(found.get("feeling", ""))
            counts[where][point] = counts[where].get(point, 0) + 1
        rows = []
        for option in setting.options() if setting else ():
            by_point = counts.get(option, {})
            total = sum(by_point.values())
            if total:
                label = self._label("setting", option)
                rows.append((label, shown(total), tuple(shown(by_point.get(p, 0)) for p in points)))
        return Pattern(tuple(points), tuple(rows))

    def _tags(self, signifiers: dict[str, Any]) -> tuple[str, ...]:
        tags: list[str] = []
        for question_id, value in signifiers.items():
            values = value if isinstance(value, list) else [value]
            tags.extend(self._label(question_id, str(v)) for v in values if v is not None)
        return tuple(tags)

    def _label(self, question_id: str, value: str) -> str:
        question = self.story.question(question_id)
        choice = question.choice(value) if question else None
        if choice is not None:
            return choice.text.get("en")
        if question is not None and question.type == "scale":
            return f"{question.id.replace('_', ' ').capitalize()}: {value}"
        return value
