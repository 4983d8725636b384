"""The retention job: nothing personal is kept longer than the deployment says.

- A moderated story keeps only its redacted text (and loses its voice notes) after a while.
- Residents who have done nothing for a long time are erased, as /forgetme would.
- Residents who started joining and never finished are erased sooner.
- Entries of the exports register, and browser chats nobody came back to, go too.
Every run is audited with its counts (never who).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from bot.services.survey_chat import voice_keys_of
from storage.audit import audit
from storage.database import Database
from storage.files import FileStore
from storage.repositories import ResidentRepository, SurveyRunRepository
from storage.retention import RetentionRepository

ON_PANEL = ("member", "reserve")


@dataclass(frozen=True)
class RetentionPolicy:
    """How long things are kept, in days."""

    raw_stories: int = 90  # after the story was told, once moderated
    inactive_residents: int = 730  # after a member's or reserve's last message
    unfinished_joining: int = 30  # after someone's last message, if they never finished joining
    export_records: int = 730  # entries of the exports register


@dataclass(frozen=True)
class RetentionReport:
    """What one run removed."""

    raw_stories: int = 0
    inactive_residents: int = 0
    unfinished_joining: int = 0
    export_records: int = 0
    web_chats: int = 0


class Retention:
    """Applies a retention policy."""

    def __init__(
        self,
        database: Database,
        policy: RetentionPolicy,
        *,
        voice_store: FileStore | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.database = database
        self.policy = policy
        self.voice_store = voice_store
        self.clock = clock

    async def run(self) -> RetentionReport:
        """Remove everything past its keeping time; what was removed."""
        now = self.clock()
        policy = self.policy
        stories = await self._strip_stories(now - timedelta(days=policy.raw_stories))
        inactive = await self._erase(now - timedelta(days=policy.inactive_residents), ON_PANEL)
        joining = await self._erase(now - timedelta(days=policy.unfinished_joining), ("joining",))
        async with self.database.transaction() as session:
            kept = RetentionRepository(session)
            records = await kept.drop_export_records(now - timedelta(days=policy.export_records))
            chats = await kept.drop_idle_web_chats(now - timedelta(days=policy.unfinished_joining))
            report = RetentionReport(stories, inactive, joining, records, chats)
            audit(session, "retention", "retention.run", asdict(report), now)
        return report

    async def _strip_stories(self, before: datetime) -> int:
        """Moderated stories keep only their redacted text; their voice notes are deleted."""
        keys: list[str] = []
        stripped = 0
        async with self.database.transaction() as session:
            for story in await RetentionRepository(session).moderated_stories(before):
                voice = [str(key) for key in story.voice_files.get("keys", [])]
                if story.raw_text != story.redacted_text or voice:
                    story.raw_text = story.redacted_text
                    story.voice_files = {"keys": []}
                    keys.extend(voice)
                    stripped += 1
        self._delete_voice(keys)
        return stripped

    async def _erase(self, before: datetime, statuses: tuple[str, ...]) -> int:
        """Erase residents idle since `before`, as /forgetme does (voice notes too)."""
        keys: list[str] = []
        async with self.database.transaction() as session:
            residents = ResidentRepository(session)
            runs = SurveyRunRepository(session)
            idle = await RetentionRepository(session).residents_idle_since(before, statuses)
            for resident in idle:
                keys.extend(await voice_keys_of(runs, resident.id))
                await residents.erase(resident)
        self._delete_voice(keys)
        return len(idle)

    def _delete_voice(self, keys: Sequence[str]) -> None:
        if self.voice_store is not None:
            for key in keys:
                self.voice_store.delete(key)
