"""The k-anonymity gate for exports: generalise, then suppress, or refuse.

Every exported row's profile fields (its quasi-identifiers) must be shared by at least k rows.
The gate tries a ladder of generalisations, coarsest last, and takes the first level at which
the rows in groups smaller than k (which are then suppressed) are at most 5% of all rows. If no
level gets there, the export is refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

K = 5
MAX_SUPPRESSED = 0.05
QUASI_IDENTIFIERS = ("age_band", "sex", "ethnic_group", "disability", "carer", "locality")
WIDE_AGES = {
    "16_24": "16_34",
    "25_34": "16_34",
    "35_44": "35_54",
    "45_54": "35_54",
    "55_64": "55_plus",
    "65_74": "55_plus",
    "75_plus": "55_plus",
}
HIDDEN = "*"

Profile = Mapping[str, str]
Step = Callable[[dict[str, str]], None]


def _wide_ages(profile: dict[str, str]) -> None:
    profile["age_band"] = WIDE_AGES.get(profile.get("age_band", ""), profile.get("age_band", ""))


def _broad_ethnicity(profile: dict[str, str]) -> None:
    group = profile.get("ethnic_group", "")
    if group and group not in ("white", "prefer_not"):
        profile["ethnic_group"] = "minority"


def _drop(feature: str) -> Step:
    def step(profile: dict[str, str]) -> None:
        profile[feature] = HIDDEN

    return step


# Each level applies every step before it as well.
LADDER: tuple[tuple[str, Step], ...] = (
    ("ages in wider bands", _wide_ages),
    ("ethnic group as white or minority", _broad_ethnicity),
    ("no disability", _drop("disability")),
    ("no locality", _drop("locality")),
    ("no carer", _drop("carer")),
    ("no ethnic group", _drop("ethnic_group")),
)


@dataclass(frozen=True)
class Level:
    """How far profiles are generalised: the first `depth` steps of the ladder."""

    depth: int

    def apply(self, profile: Profile) -> tuple[str, ...]:
        """The profile's quasi-identifiers at this level."""
        generalised = {feature: profile.get(feature, "") for feature in QUASI_IDENTIFIERS}
        for _name, step in LADDER[: self.depth]:
            step(generalised)
        return tuple(generalised[feature] for feature in QUASI_IDENTIFIERS)

    @property
    def steps(self) -> tuple[str, ...]:
        """What was done, in words."""
        return tuple(name for name, _step in LADDER[: self.depth])


@dataclass(frozen=True)
class Decision:
    """The gate's answer: the level to export at, the small classes to suppress, or a refusal."""

    level: Level | None  # None: refused
    small: frozenset[tuple[str, ...]]
    rows: int
    suppressed: int

    @property
    def refused(self) -> bool:
        """Whether the export must not happen."""
        return self.level is None

    def keeps(self, profile: Profile) -> tuple[str, ...] | None:
        """A row's generalised profile, or None when the row is suppressed."""
        assert self.level is not None
        generalised = self.level.apply(profile)
        return None if generalised in self.small else generalised


class Gate:
    """Counts the rows' groups at every level as they stream past (memory: the groups only)."""

    def __init__(self) -> None:
        self.levels = [Level(depth) for depth in range(len(LADDER) + 1)]
        self.counts: list[Counter[tuple[str, ...]]] = [Counter() for _ in self.levels]
        self.rows = 0

    def add(self, profile: Profile, rows: int = 1) -> None:
        """Count rows with one profile (the levels build on each other: each step applied once)."""
        self.rows += rows
        generalised = {feature: profile.get(feature, "") for feature in QUASI_IDENTIFIERS}
        self.counts[0][tuple(generalised.values())] += rows
        for (_name, step), counter in zip(LADDER, self.counts[1:], strict=True):
            step(generalised)
            counter[tuple(generalised.values())] += rows

    def decide(self, k: int = K, limit: float = MAX_SUPPRESSED) -> Decision:
        """The least generalisation that suppresses at most `limit` of the rows, if any."""
        for level, counter in zip(self.levels, self.counts, strict=True):
            small = frozenset(group for group, n in counter.items() if n < k)
            suppressed = sum(counter[group] for group in small)
            if suppressed <= limit * self.rows:
                return Decision(level, small, self.rows, suppressed)
        return Decision(None, frozenset(), self.rows, self.rows)


def decide(profiles: Iterable[Profile], k: int = K, limit: float = MAX_SUPPRESSED) -> Decision:
    """One pass over the rows' profiles: the least generalisation that passes, if any."""
    gate = Gate()
    for profile in profiles:
        gate.add(profile)
    return gate.decide(k, limit)
