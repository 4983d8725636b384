"""How far the panel's make-up is from its census targets, feature by feature."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Share:
    """One category: how many members, their share, and the census share."""

    category: str
    count: int
    panel: float
    target: float

    @property
    def ratio(self) -> float:
        """Representation ratio: panel share over census share (1 is exact)."""
        return self.panel / self.target if self.target else math.inf


@dataclass(frozen=True)
class FeatureFit:
    """The representativeness measures of one feature."""

    feature: str
    members: int  # members with a value among the targeted categories
    shares: tuple[Share, ...]
    dissimilarity: float  # ½ Σ|s − P|: the share who would have to move category
    largest_gap_pp: float  # max |s − P| in percentage points
    worst: Share | None  # the category with the lowest representation ratio
    cohens_w: float  # √(Σ (s − P)² / P)


def feature_fit(
    feature: str, counts: Mapping[str, int], targets: Mapping[str, float]
) -> FeatureFit:
    """Compare member counts per category with census shares (rescaled to sum to 1).

    Members whose value is not a targeted category (e.g. "prefer not to say") are left out.
    """
    wanted = {category: share for category, share in targets.items() if share > 0}
    total_share = sum(wanted.values())
    members = sum(counts.get(category, 0) for category in wanted)
    shares = tuple(
        Share(
            category,
            counts.get(category, 0),
            counts.get(category, 0) / members if members else 0.0,
            share / total_share,
        )
        for category, share in wanted.items()
    )
    if not members:
        return FeatureFit(feature, 0, shares, 0.0, 0.0, None, 0.0)
    gaps = [abs(s.panel - s.target) for s in shares]
    return FeatureFit(
        feature=feature,
        members=members,
        shares=shares,
        dissimilarity=sum(gaps) / 2,
        largest_gap_pp=max(gaps) * 100,
        worst=min(shares, key=lambda s: s.ratio),
        cohens_w=math.sqrt(sum((s.panel - s.target) ** 2 / s.target for s in shares)),
    )
