"""The panel's make-up against its area's census: per feature, per locality, and the targets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.services.area import AreaProfile
from bot.services.profile import ETHNIC_GROUPS, ETHNICITY, FEATURES_BY_ID, ethnic_group_of
from bot.services.representativeness import FeatureFit, feature_fit

LOCALITY = "locality"
ETHNIC_GROUP = "ethnic_group"

Counts = dict[str, dict[str, int]]  # feature -> category -> members


@dataclass(frozen=True)
class Composition:
    """How the panel (or one locality of it) compares with the census."""

    members: int
    target_size: int | None
    fits: tuple[FeatureFit, ...]  # the locality fit first (whole area only), then each feature

    def target(self, fit: FeatureFit, category: str) -> int | None:
        """How many members of a category the target size calls for."""
        share = next((s.target for s in fit.shares if s.category == category), None)
        if self.target_size is None or share is None:
            return None
        return round(self.target_size * share)


def panel_counts(rows: Iterable[tuple[str | None, str, str, int]]) -> dict[str | None, Counts]:
    """Members per locality, feature and category; ethnicity is also counted by broad group."""
    counts: dict[str | None, Counts] = {}
    for locality, feature, value, members in rows:
        by_feature = counts.setdefault(locality, {})
        _add(by_feature, feature, value, members)
        group = ethnic_group_of(value) if feature == ETHNICITY.id else None
        if group is not None:
            _add(by_feature, ETHNIC_GROUP, group, members)
    return counts


def _add(by_feature: Counts, feature: str, category: str, members: int) -> None:
    row = by_feature.setdefault(feature, {})
    row[category] = row.get(category, 0) + members


def compose(
    area: AreaProfile,
    counts: Mapping[str | None, Counts],
    members_by_locality: Mapping[str | None, int],
    locality: str | None = None,
) -> Composition:
    """Every census feature's fit, for the whole area or one locality."""
    places = [locality] if locality else list(counts)
    merged: Counts = {}
    for place in places:
        for feature, categories in counts.get(place, {}).items():
            for category, members in categories.items():
                _add(merged, feature, category, members)
    fits: list[FeatureFit] = []
    if locality is None:
        population = {loc: _population(area, loc) for loc in area.localities}
        in_area = {loc: members_by_locality.get(loc, 0) for loc in area.localities}
        fits.append(feature_fit(LOCALITY, in_area, {k: float(v) for k, v in population.items()}))
    for feature in area.features():
        census = area.population(feature, locality)
        fits.append(
            feature_fit(feature, merged.get(feature, {}), {k: float(v) for k, v in census.items()})
        )
    members = (
        sum(members_by_locality.get(place, 0) for place in places)
        if locality
        else sum(members_by_locality.values())
    )
    size = area.panel_size
    if size is not None and locality is not None:
        whole = sum(_population(area, loc) for loc in area.localities)
        size = round(size * _population(area, locality) / whole) if whole else None
    return Composition(members, size, tuple(fits))


def _population(area: AreaProfile, locality: str) -> int:
    """A locality's adult population (its total over any one census feature)."""
    features = area.features()
    return sum(area.population(features[0], locality).values()) if features else 0


def category_label(feature: str, category: str) -> str | None:
    """The (untranslated) label of a group a composition counts, if it is a profile answer."""
    if feature == ETHNIC_GROUP:
        return next((c.label for c in ETHNIC_GROUPS if c.id == category), None)
    known = FEATURES_BY_ID.get(feature)
    found = known.category(category) if known else None
    return found.label if found else None
