"""The k-anonymity gate: every exported group has at least k rows, or the export is refused."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.anonymity import LADDER, MAX_SUPPRESSED, K, Level, decide

AGES = ("16_24", "25_34", "35_44", "45_54", "55_64", "65_74", "75_plus")
ETHNIC = ("white", "asian", "black", "mixed", "other")
PLACES = ("city_centre", "north_riverside", "east_valley", "south_dales", "west_moors")


def person(chooser: random.Random) -> dict[str, str]:
    return {
        "age_band": chooser.choice(AGES),
        "sex": chooser.choice(("female", "male")),
        "ethnic_group": chooser.choices(ETHNIC, weights=(80, 10, 5, 3, 2))[0],
        "disability": chooser.choice(("yes_a_lot", "yes_a_little", "no")),
        "carer": chooser.choice(("yes", "no")),
        "locality": chooser.choice(PLACES),
    }


def test_a_500_member_panel_is_generalised_until_at_most_5_percent_is_suppressed() -> None:
    chooser = random.Random(500)
    profiles = [person(chooser) for _ in range(500)]
    decision = decide(profiles)
    assert not decision.refused and decision.level is not None
    assert decision.level.depth > 0  # 500 people in 2,100 combinations need generalising
    kept = [decision.keeps(p) for p in profiles]
    groups = Counter(g for g in kept if g is not None)
    assert min(groups.values()) >= K
    assert kept.count(None) == decision.suppressed <= MAX_SUPPRESSED * 500


def test_a_tiny_set_is_refused() -> None:
    chooser = random.Random(3)
    decision = decide([person(chooser) for _ in range(4)])
    assert decision.refused


def test_no_generalisation_when_groups_are_big_already() -> None:
    same = {"age_band": "35_44", "sex": "female", "ethnic_group": "white", "locality": "x"}
    decision = decide([same] * 20)
    assert decision.level is not None and decision.level.depth == 0 and decision.suppressed == 0


@settings(max_examples=60)
@given(st.integers(min_value=0, max_value=300), st.integers(min_value=0, max_value=10**6))
def test_whatever_the_panel_every_kept_group_has_k_rows(size: int, seed: int) -> None:
    chooser = random.Random(seed)
    profiles = [person(chooser) for _ in range(size)]
    decision = decide(profiles)
    if decision.refused:  # then even the coarsest level would suppress too much
        coarsest = Counter(Level(len(LADDER)).apply(p) for p in profiles)
        assert sum(n for n in coarsest.values() if n < K) > MAX_SUPPRESSED * size
        return
    kept = Counter(g for p in profiles if (g := decision.keeps(p)) is not None)
    assert all(n >= K for n in kept.values())
    assert decision.suppressed <= MAX_SUPPRESSED * size
