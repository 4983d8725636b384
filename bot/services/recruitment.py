"""Recruitment against quotas: does a new member's every group still have room?"""

from __future__ import annotations

from bot.services.composition import ETHNIC_GROUP, LOCALITY
from bot.services.profile import ETHNICITY, ethnicities_in_group
from bot.services.quotas import Group, Quotas, groups_of
from storage.models import Resident
from storage.repositories import PanelRepository


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

    @staticmethod
    async def _members(panel: PanelRepository, feature: str, category: str) -> int:
        if feature == LOCALITY:
            return await panel.members_in(category)
        if feature == ETHNIC_GROUP:
            detailed = [c.id for c in ethnicities_in_group(category)]
            return await panel.members_with(ETHNICITY.id, detailed)
        return await panel.members_with(feature, [category])
