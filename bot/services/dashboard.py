"""What the co-design dashboard shows, with disclosure control applied before anything leaves.

Counts of 1 to 7 are shown as `*` and others rounded to the nearest 5; a percentage is hidden
when its count is; a view about fewer than 10 people says "too few responses" instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.i18n import gettext as _
from bot.i18n import language
from bot.services.area import AreaProfile
from bot.services.broadcasts import Broadcasts, Report
from bot.services.composition import (
    ETHNIC_GROUP,
    LOCALITY,
    Composition,
    compose,
    panel_counts,
)
from bot.services.disclosure import SMALLEST_SHOWN, percent, shown
from bot.services.profile import ETHNIC_GROUPS, FEATURES_BY_ID
from bot.services.results import BY_FEATURES, SurveyResults, survey_results, weigh
from bot.services.survey_library import SurveyLibrary
from bot.services.survey_view import SurveyView
from bot.services.tallies import current_cells, weighted_sums
from storage.broadcasts import BroadcastRepository
from storage.dashboard import DashboardRepository
from storage.database import Database
from storage.models import Broadcast
from storage.repositories import PanelRepository

WEEKS = 12
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class SurveyUptake:
    """How one survey is going."""

    survey_id: str
    title: str
    started: str
    submitted: str
    rate: str  # submitted, as a share of members


@dataclass(frozen=True)
class Overview:
    """The front page."""

    members: str
    reserve: str
    joining: str
    stopped: str
    blocked: str
    weeks: list[tuple[str, str, int]]  # week starting, shown count, bar length (0-100)
    surveys: list[SurveyUptake]
    stories: dict[str, str]


class Dashboard:
    """Reads aggregates and shapes them for the pages."""

    def __init__(
        self,
        database: Database,
        library: SurveyLibrary,
        area: AreaProfile | None,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self.database = database
        self.library = library
        self.area = area
        self.clock = clock

    async def overview(self) -> Overview:
        """Panel size, joins per week, survey uptake and stories."""
        now = self.clock()
        start = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0)
        bounds = [start - timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]
        bounds.append(start + timedelta(weeks=1))
        async with self.database.transaction() as session:
            counts = DashboardRepository(session)
            statuses = await counts.residents_by_status()
            stopped, blocked = await counts.stopped_and_blocked()
            joined = await counts.joined_between(bounds)
            runs = await counts.runs_by_survey()
            stories = await counts.stories_by_state()
        members = statuses.get("member", 0)
        top = max(joined) or 1
        weeks = [
            (bounds[i].strftime("%d %b"), shown(n), 0 if 0 < n < SMALLEST_SHOWN else 100 * n // top)
            for i, n in enumerate(joined)
        ]
        uptake = []
        for survey in self.library.open_surveys(now):
            started = sum(n for (sid, _status), n in runs.items() if sid == survey.id)
            submitted = runs.get((survey.id, "submitted"), 0)
            uptake.append(
                SurveyUptake(
                    survey.id,
                    SurveyView(survey, 0).title,
                    shown(started),
                    shown(submitted),
                    percent(submitted, members),
                )
            )
        return Overview(
            shown(members),
            shown(statuses.get("reserve", 0)),
            shown(statuses.get("joining", 0)),
            shown(stopped),
            shown(blocked),
            weeks,
            uptake,
            {state: shown(stories.get(state, 0)) for state in ("new", "approved", "rejected")},
        )

    async def results(self, survey_id: str, by: str | None = None) -> SurveyResults | None:
        """A survey's results, raw and weighted, optionally broken down by one group."""
        survey = self.library.get(survey_id)
        if survey is None or survey.id == self.library.story.id:
            return None
        weighting = weigh(await current_cells(self.database, survey), self.area)
        weights = weighting.by_cell(by)
        sums = await weighted_sums(self.database, survey, weights) if weights else []
        return survey_results(survey, weighting, sums, self.group_labels(), by)

    def group_labels(self) -> dict[str, dict[str, str]]:
        """English names of the groups each breakdown feature has."""
        labels: dict[str, dict[str, str]] = {}
        with language("en"):
            for feature in BY_FEATURES:
                if feature == LOCALITY:
                    places = self.area.localities.values() if self.area else ()
                    labels[feature] = {place.id: place.name for place in places}
                elif feature == ETHNIC_GROUP:
                    labels[feature] = {c.id: _(c.label) for c in ETHNIC_GROUPS}
                else:
                    found = FEATURES_BY_ID[feature]
                    labels[feature] = {c.id: _(c.label) for c in found.categories}
        return labels

    async def broadcasts(
        self, within: tuple[str, ...] | None, limit: int = 50
    ) -> list[tuple[Broadcast, Report]]:
        """The newest broadcasts with their reports (only those inside `within`, if given)."""
        async with self.database.transaction() as session:
            found = await BroadcastRepository(session).recent(None, limit)
        if within is not None:
            found = [b for b in found if set(b.audience.get("localities") or ["*"]) <= set(within)]
        reports = Broadcasts(self.database, clock=self.clock, wake=lambda: None)
        pairs = []
        for broadcast in found:
            report = await reports.report(broadcast.id)
            if report is not None:
                pairs.append((broadcast, report))
        return pairs

    async def composition(self, locality: str | None = None) -> Composition | None:
        """The panel against the census, for the area or one locality (None: no census)."""
        if self.area is None or not self.area.features():
            return None
        async with self.database.transaction() as session:
            panel = PanelRepository(session)
            counts = panel_counts(await panel.profile_counts())
            members = await panel.locality_counts()
        return compose(self.area, counts, members, locality)
