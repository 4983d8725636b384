"""Quotas from the census: targets, full groups, and the groups recruitment should reach."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bot.services.area import AreaProfile
from bot.services.quotas import Quotas, groups_of

DEMO = AreaProfile.load(Path(__file__).resolve().parents[2] / "areas" / "demo")


def test_targets_are_census_shares_of_the_panel_size() -> None:
    quotas = Quotas.from_area(DEMO)
    assert quotas is not None
    assert quotas.targets["sex"]["female"] == round(3000 * 108610 / 213000)
    assert quotas.targets["locality"]["city_centre"] == round(3000 * 31000 / 213000)
    for by_category in quotas.targets.values():
        assert abs(sum(by_category.values()) - 3000) <= len(by_category)


def test_a_member_is_over_quota_only_in_groups_that_are_full() -> None:
    quotas = Quotas.from_area(DEMO, size=100)
    assert quotas is not None
    groups = groups_of(
        {"age_band": "75_plus", "sex": "female", "ethnicity": "white_irish", "carer": "prefer_not"},
        "west_moors",
    )
    assert groups["ethnic_group"] == "white" and groups["locality"] == "west_moors"
    old = quotas.targets["age_band"]["75_plus"]
    counts = {("age_band", "75_plus"): old, ("sex", "female"): 3}
    assert quotas.full(groups, counts) == [("age_band", "75_plus")]  # prefer_not has no quota


@given(st.integers(10, 10_000))
def test_no_group_is_full_on_an_empty_panel_and_every_one_when_full(size: int) -> None:
    quotas = Quotas.from_area(DEMO, size=size)
    assert quotas is not None
    for feature, by_category in quotas.targets.items():
        for category, target in by_category.items():
            groups = {feature: category}
            assert quotas.full(groups, {}) == ([] if target > 0 else [(feature, category)])
            assert quotas.full(groups, {(feature, category): target}) == [(feature, category)]
