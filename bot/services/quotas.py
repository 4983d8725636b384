"""Recruitment quotas: each group's target from the census, who is over, and who is short."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.services.area import AreaProfile
from bot.services.composition import ETHNIC_GROUP, LOCALITY
from bot.services.profile import ETHNICITY, ethnic_group_of

Group = tuple[str, str]  # (feature, category)


def groups_of(profile: Mapping[str, str], locality: str | None) -> dict[str, str]:
    """A member's quota groups: locality, the profile answers, and the broad ethnic group."""
    groups = dict(profile)
    if locality is not None:
        groups[LOCALITY] = locality
    group = ethnic_group_of(profile.get(ETHNICITY.id, ""))
    if group is not None:
        groups[ETHNIC_GROUP] = group
    return groups


@dataclass(frozen=True)
class Quotas:
    """Target member counts per group (feature, category)."""

    targets: Mapping[str, Mapping[str, int]]

    @classmethod
    def from_area(cls, area: AreaProfile, size: int | None = None) -> Quotas | None:
        """Census shares of the panel size, per feature and per locality (None: no targets)."""
        size = size or area.panel_size
        if not size or not area.features():
            return None
        targets: dict[str, dict[str, int]] = {}
        populations = {f: area.population(f) for f in area.features()}
        first = area.features()[0]
        populations[LOCALITY] = {
            loc: sum(area.population(first, loc).values()) for loc in area.localities
        }
        for feature, counts in populations.items():
            total = sum(counts.values())
            if total:
                targets[feature] = {c: round(size * n / total) for c, n in counts.items()}
        return cls(targets)

    def full(self, groups: Mapping[str, str], counts: Mapping[Group, int]) -> list[Group]:
        """The member's groups that have already reached their target."""
        return [
            (feature, category)
            for feature, category in groups.items()
            if category in self.targets.get(feature, {})
            and counts.get((feature, category), 0) >= self.targets[feature][category]
        ]
