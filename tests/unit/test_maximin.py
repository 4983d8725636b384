"""The maximin lottery: quota-meeting panels, certified fairness, equal chances within a type."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("highspy")

from bot.services.maximin import Lottery, Quota, maximin

SHARES = {
    "age": {"young": 0.3, "middle": 0.4, "old": 0.3},
    "sex": {"f": 0.5, "m": 0.5},
    "imd": {"q1": 0.4, "q2": 0.3, "q3": 0.3},
}
SKEW = {"age": [0.12, 0.38, 0.5], "sex": [0.6, 0.4], "imd": [0.2, 0.35, 0.45]}


def biased_pool(size: int, seed: int = 5) -> list[dict[str, str]]:
    """A pool where the young and deprived are under-represented."""
    generator = np.random.default_rng(seed)
    columns = {
        feature: generator.choice(list(shares), size=size, p=SKEW[feature])
        for feature, shares in SHARES.items()
    }
    return [{feature: str(columns[feature][i]) for feature in SHARES} for i in range(size)]


def tight_quotas(k: int) -> list[Quota]:
    """Floor and ceiling of each share times k."""
    return [
        Quota(feature, category, math.floor(share * k + 1e-9), math.ceil(share * k - 1e-9))
        for feature, shares in SHARES.items()
        for category, share in shares.items()
    ]


@pytest.fixture(scope="module")
def pool() -> list[dict[str, str]]:
    return biased_pool(400)


@pytest.fixture(scope="module")
def lottery(pool: list[dict[str, str]]) -> Lottery:
    return maximin(pool, tight_quotas(25), 25, gap=0.02)


def test_every_panel_has_k_people_and_meets_every_quota(
    pool: list[dict[str, str]], lottery: Lottery
) -> None:
    assert lottery.panels
    for panel, probability in lottery.panels:
        assert probability > 0
        assert len(panel) == 25
        for quota in tight_quotas(25):
            count = sum(pool[i][quota.feature] == quota.category for i in panel)
            assert quota.min <= count <= quota.max, (quota, count)


def test_probabilities_add_up_to_k_and_match_the_panels(lottery: Lottery) -> None:
    assert sum(p for _panel, p in lottery.panels) == pytest.approx(1.0)
    assert sum(lottery.probabilities) == pytest.approx(25)
    recomputed = np.zeros(len(lottery.probabilities))
    for panel, probability in lottery.panels:
        recomputed[list(panel)] += probability
    assert np.allclose(recomputed, lottery.probabilities, atol=1e-12)
    assert lottery.lowest == pytest.approx(min(lottery.probabilities))


def test_lowest_is_certified_within_the_gap(lottery: Lottery) -> None:
    assert lottery.lowest <= lottery.bound + 1e-12
    assert lottery.lowest >= (1 - 0.02) * lottery.bound
    assert lottery.bound <= 25 / 400 + 1e-12  # never above the equal chance k/N
    assert lottery.gap <= 0.02


def test_people_of_the_same_type_have_the_same_probability(
    pool: list[dict[str, str]], lottery: Lottery
) -> None:
    by_type: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for person, probability in zip(pool, lottery.probabilities, strict=True):
        by_type[tuple(person.values())].append(probability)
    assert any(len(chances) > 5 for chances in by_type.values())
    for chances in by_type.values():
        assert max(chances) - min(chances) < 1e-9


def test_draw_is_reproducible_with_a_seed(lottery: Lottery) -> None:
    assert lottery.draw(7) == lottery.draw(7)
    assert len({lottery.draw(seed) for seed in range(20)}) > 1
    assert lottery.draw(7) in {panel for panel, _p in lottery.panels}


def test_draws_follow_the_probabilities(lottery: Lottery) -> None:
    counts = np.zeros(len(lottery.probabilities))
    for seed in range(3000):
        counts[list(lottery.draw(seed))] += 1
    assert np.abs(counts / 3000 - lottery.probabilities).max() < 0.06


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    size=st.integers(8, 80),
    share=st.floats(0.1, 0.9),
    slack=st.integers(0, 2),
)
def test_random_pools_give_valid_fair_lotteries(
    seed: int, size: int, share: float, slack: int
) -> None:
    generator = np.random.default_rng(seed)
    people = [
        {"a": str(generator.integers(2)), "b": str(generator.integers(3))} for _ in range(size)
    ]
    k = int(generator.integers(1, size + 1))
    quotas = [
        Quota("a", "0", max(0, math.floor(share * k) - slack), math.ceil(share * k) + slack),
        Quota("a", "1", max(0, math.floor((1 - share) * k) - slack), k),
        Quota("b", "2", 0, max(1, k // 2)),
    ]
    try:
        lottery = maximin(people, quotas, k, gap=0.01)
    except ValueError:
        return
    assert sum(lottery.probabilities) == pytest.approx(k)
    assert lottery.lowest >= 0.99 * lottery.bound - 1e-12
    for panel, _probability in lottery.panels:
        assert len(panel) == k
        for quota in quotas:
            count = sum(people[i][quota.feature] == quota.category for i in panel)
            assert quota.min <= count <= quota.max
    by_type: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for person, probability in zip(people, lottery.probabilities, strict=True):
        by_type[(person["a"], person["b"])].append(probability)
    for chances in by_type.values():
        assert max(chances) - min(chances) < 1e-9


def test_known_optimum_one_third() -> None:
    # Panels of 2 with one woman and one man, one young and one old: either the young woman
    # with one of two old men (chance x), or the old woman with the young man (1 - x).
    # Maximin: x / 2 = 1 - x, so x = 2/3 and the lowest chance is 1/3.
    people = [
        {"sex": "f", "age": "young"},
        {"sex": "f", "age": "old"},
        {"sex": "m", "age": "young"},
        {"sex": "m", "age": "old"},
        {"sex": "m", "age": "old"},
    ]
    quotas = [
        Quota("sex", "f", 1, 1),
        Quota("sex", "m", 1, 1),
        Quota("age", "young", 1, 1),
        Quota("age", "old", 1, 1),
    ]
    lottery = maximin(people, quotas, 2, gap=0.0)
    assert lottery.lowest == pytest.approx(1 / 3, rel=1e-6)
    assert lottery.bound == pytest.approx(1 / 3, rel=1e-3)
    assert lottery.probabilities == pytest.approx([2 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3], abs=1e-6)


def test_a_single_scarce_group_sets_everyone_elses_chance() -> None:
    # One man must sit on every panel of 2; the three women share the other seat.
    people = [{"sex": "f"}, {"sex": "f"}, {"sex": "f"}, {"sex": "m"}]
    lottery = maximin(people, [Quota("sex", "f", 1, 1), Quota("sex", "m", 1, 1)], 2, gap=0.0)
    assert lottery.probabilities == pytest.approx([1 / 3, 1 / 3, 1 / 3, 1.0])
    assert lottery.bound == pytest.approx(1 / 3, rel=1e-3)


def test_without_quotas_everyone_gets_k_over_n() -> None:
    lottery = maximin([{"sex": "f"}] * 7, [], 3, gap=0.0)
    assert lottery.probabilities == pytest.approx([3 / 7] * 7)
    assert lottery.bound == pytest.approx(3 / 7)
    assert all(len(panel) == 3 for panel, _p in lottery.panels)


def test_people_in_no_possible_panel_are_excluded_not_fatal() -> None:
    people = [{"age": "young"}] * 4 + [{"age": "old"}] * 2
    quotas = [Quota("age", "young", 2, 2), Quota("age", "old", 0, 0)]
    lottery = maximin(people, quotas, 2, gap=0.0)
    assert lottery.excluded == (4, 5)
    assert lottery.probabilities[4:] == (0.0, 0.0)
    assert lottery.lowest == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("quotas", "message"),
    [
        ([Quota("sex", "f", 3, 4), Quota("sex", "m", 3, 4)], "minimums for sex"),
        ([Quota("sex", "f", 0, 0), Quota("sex", "m", 0, 1)], "maximums for sex"),
        ([Quota("sex", "f", 5, 5)], "pool has only 3"),
        ([Quota("sex", "f", 2, 1)], "min <= max"),
        (  # each quota alone is fine; together the two women must be young, breaking age
            [
                Quota("sex", "f", 2, 2),
                Quota("sex", "m", 0, 0),
                Quota("age", "young", 0, 1),
                Quota("age", "old", 1, 2),
            ],
            "no panel of 2",
        ),
    ],
)
def test_quotas_that_cannot_be_met_raise(quotas: list[Quota], message: str) -> None:
    people = [{"sex": "f", "age": "young"}] * 3 + [{"sex": "m", "age": "old"}] * 3
    with pytest.raises(ValueError, match=message):
        maximin(people, quotas, 2)


def test_bad_input_raises() -> None:
    with pytest.raises(ValueError, match="panel size"):
        maximin([{"sex": "f"}], [Quota("sex", "f", 0, 1)], 2)
    with pytest.raises(ValueError, match="no value for sex"):
        maximin([{"sex": "f"}, {"age": "old"}], [Quota("sex", "f", 0, 1)], 1)
    with pytest.raises(ValueError, match="two quotas"):
        maximin([{"sex": "f"}] * 2, [Quota("sex", "f", 0, 1), Quota("sex", "f", 0, 2)], 1)
