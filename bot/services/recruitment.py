"""Recruitment against quotas: does a new member's every group still have room?"""

from __future__ import annotations

from datetime import datetime

from bot.i18n import gettext as _
from bot.i18n import language
from bot.services.composition import ETHNIC_GROUP, LOCALITY
from bot.services.profile import ETHNICITY, ethnicities_in_group
from bot.services.quotas import Group, Quotas, groups_of
from storage.broadcasts import BroadcastRepository
from storage.models import Resident
from storage.repositories import PanelRepository

PLACE_OPENED = "place_opened"  # the notice sent to those drawn from the reserve list


def place_opened_text(language_code: str) -> str:
    """What a resident moved from the reserve list onto the panel is told, in their language."""
    with language(language_code):
        return _(
            "Good news: a place has opened on the panel, and you are now a member. Thank you "
            "for waiting! When there is a survey or consultation for you, it will arrive here."
        )


class Recruitment:
    """Decides, under a lock held to the end of the transaction, who joins and who waits."""

    def __init__(self, quotas: Quotas) -> None:
        self.quotas = quotas

    async def full_groups(self, panel: PanelRepository, resident: Resident) -> list[Group]:
        """The resident's groups whose quota is already met (none: they can join)."""
        await panel.lock_quotas()
        profile = {answer.feature: answer.value for answer in resident.profile}
        groups = groups_of(profile, resident.locality)
        counts: dict[Group, int] = {}
        for feature, category in groups.items():
            if category not in self.quotas.targets.get(feature, {}):
                continue
            counts[(feature, category)] = await self._members(panel, feature, category)
        return self.quotas.full(groups, counts)

    async def draw_and_tell(self, panel: PanelRepository, now: datetime) -> list[Resident]:
        """Draw from the reserve list and queue the good news for each one drawn."""
        promoted = await self.draw(panel)
        if promoted:
            ids = [resident.id for resident in promoted]
            await BroadcastRepository(panel.session).notify(PLACE_OPENED, ids, now)
        return promoted

    async def draw(self, panel: PanelRepository) -> list[Resident]:
        """Move reserve residents whose groups have room onto the panel; return them, to tell."""
        promoted: list[Resident] = []
        for resident in await panel.reserve_list():
            if not await self.full_groups(panel, resident):
                resident.status = "member"
                await panel.session.flush()  # counted as a member for the next one
                promoted.append(resident)
        return promoted

    @staticmethod
    async def _members(panel: PanelRepository, feature: str, category: str) -> int:
        if feature == LOCALITY:
            return await panel.members_in(category)
        if feature == ETHNIC_GROUP:
            detailed = [c.id for c in ethnicities_in_group(category)]
            return await panel.members_with(ETHNICITY.id, detailed)
        return await panel.members_with(feature, [category])
