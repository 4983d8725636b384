"""Composition against census targets: dissimilarity, largest gap, worst group, Cohen's w."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.representativeness import feature_fit


def test_a_skewed_panel_is_measured() -> None:
    fit = feature_fit(
        "age",
        {"16_24": 7, "25_64": 61, "65_plus": 32, "prefer_not": 9},
        {"16_24": 0.13, "25_64": 0.65, "65_plus": 0.22},
    )
    assert fit.members == 100
    assert fit.dissimilarity == pytest.approx(0.10)
    assert fit.largest_gap_pp == pytest.approx(10.0)
    assert fit.worst is not None and fit.worst.category == "16_24"
    assert fit.worst.ratio == pytest.approx(7 / 13)
    expected_w = math.sqrt(0.06**2 / 0.13 + 0.04**2 / 0.65 + 0.10**2 / 0.22)
    assert fit.cohens_w == pytest.approx(expected_w)


def test_an_empty_feature_has_no_worst_group() -> None:
    fit = feature_fit("sex", {}, {"female": 0.51, "male": 0.49})
    assert fit.members == 0 and fit.worst is None and fit.dissimilarity == 0


@given(st.lists(st.integers(0, 500), min_size=2, max_size=8), st.data())
def test_measures_are_bounded_and_zero_exactly_at_the_targets(
    counts: list[int], data: st.DataObject
) -> None:
    cats = [f"c{i}" for i in range(len(counts))]
    shares = data.draw(st.lists(st.floats(0.01, 1), min_size=len(cats), max_size=len(cats)))
    fit = feature_fit(
        "f", dict(zip(cats, counts, strict=True)), dict(zip(cats, shares, strict=True))
    )
    assert 0 <= fit.dissimilarity <= 1 + 1e-9
    assert 0 <= fit.largest_gap_pp <= 100 + 1e-9
    assert fit.largest_gap_pp / 100 <= fit.dissimilarity + 1e-9 or fit.members == 0
    exact = feature_fit(
        "f",
        {c: round(s * 1e6) for c, s in zip(cats, shares, strict=True)},
        dict(zip(cats, shares, strict=True)),
    )
    assert exact.dissimilarity == pytest.approx(0, abs=1e-5)
    assert exact.cohens_w == pytest.approx(0, abs=1e-4)
