"""Raking reproduces the margins it is given; the design effect says what weighting costs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.services.weighting import rake


def weighted_shares(
    values: list[str | None], weights: np.ndarray, categories: list[str]
) -> list[float]:
    known = [(v, w) for v, w in zip(values, weights, strict=True) if v in categories]
    total = sum(w for _v, w in known)
    return [sum(w for v, w in known if v == c) / total for c in categories]


def test_one_margin_is_matched_exactly_with_known_weights() -> None:
    raked = rake({"sex": ["f", "f", "f", "m"]}, {"sex": {"f": 0.5, "m": 0.5}}, bounds=None)
    assert raked.converged
    assert np.allclose(raked.weights, [2 / 3, 2 / 3, 2 / 3, 2.0])
    assert raked.design_effect == pytest.approx(4 * (3 * 4 / 9 + 4) / 16)
    assert raked.effective_n == pytest.approx(4 / raked.design_effect)


def test_unweighted_when_the_sample_already_matches() -> None:
    raked = rake(
        {"a": ["x", "y"], "b": ["p", "q"]}, {"a": {"x": 0.5, "y": 0.5}, "b": {"p": 1, "q": 1}}
    )
    assert np.allclose(raked.weights, 1.0)
    assert raked.design_effect == pytest.approx(1.0)
    assert raked.margin_of_error() == pytest.approx(1.96 * math.sqrt(0.25 / 2))


def test_unknown_values_sit_out_their_margin_and_empty_targets_are_reported() -> None:
    raked = rake(
        {"age": ["young", "old", "old", None, "prefer_not"]},
        {"age": {"young": 0.5, "old": 0.3, "middle": 0.2}},
        bounds=None,
    )
    assert raked.empty == (("age", "middle"),)
    shares = weighted_shares(
        ["young", "old", "old", None, "prefer_not"], raked.weights, ["young", "old"]
    )
    assert shares == pytest.approx([0.5 / 0.8, 0.3 / 0.8])


def test_trimming_keeps_weights_within_bounds() -> None:
    values = ["rare"] + ["common"] * 99
    raked = rake({"g": values}, {"g": {"rare": 0.5, "common": 0.5}}, bounds=(0.2, 5.0))
    assert raked.weights.max() <= 5.0 * raked.weights.mean() * (1 + 1e-6)
    assert raked.weights.min() >= 0.2 * raked.weights.mean() * (1 - 1e-6)
    assert not raked.converged  # 50% from one person in a hundred needs a weight of 50


CATEGORIES = ["a", "b", "c", "d"]


@st.composite
def samples(draw: st.DrawFn) -> tuple[dict[str, list[str | None]], dict[str, dict[str, float]]]:
    size = draw(st.integers(8, 60))
    columns: dict[str, list[str | None]] = {}
    targets: dict[str, dict[str, float]] = {}
    for feature in ("f1", "f2", "f3")[: draw(st.integers(1, 3))]:
        cats = CATEGORIES[: draw(st.integers(2, 4))]
        column: list[str | None] = [cats[i % len(cats)] for i in range(len(cats))]  # all present
        column += draw(st.lists(st.sampled_from([*cats, None]), min_size=size, max_size=size))
        columns[feature] = column
        shares = draw(st.lists(st.floats(0.05, 1.0), min_size=len(cats), max_size=len(cats)))
        targets[feature] = dict(zip(cats, shares, strict=True))
    length = max(len(c) for c in columns.values())
    for column in columns.values():
        column.extend([None] * (length - len(column)))
    return columns, targets


@settings(max_examples=150, deadline=None)
@given(samples())
def test_raking_reproduces_every_margin(
    sample: tuple[dict[str, list[str | None]], dict[str, dict[str, float]]],
) -> None:
    columns, targets = sample
    raked = rake(columns, targets, tolerance=1e-9, max_iterations=5000, bounds=None)
    assert (raked.weights >= 0).all()
    assert raked.weights.mean() == pytest.approx(1.0)
    assert raked.design_effect >= 1 - 1e-9
    assert raked.effective_n <= len(raked.weights) + 1e-6
    assume(raked.converged)  # some margin combinations cannot all be met together
    for feature, wanted in targets.items():
        cats = list(wanted)
        total = sum(wanted.values())
        got = weighted_shares(columns[feature], raked.weights, cats)
        assert got == pytest.approx([wanted[c] / total for c in cats], abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("ab"), st.sampled_from("xyz")), min_size=4, max_size=40))
def test_a_table_of_cells_rakes_exactly_like_the_respondents_it_counts(
    people: list[tuple[str, str]],
) -> None:
    targets = {"s": {"a": 0.5, "b": 0.5}, "t": {"x": 0.2, "y": 0.3, "z": 0.5}}
    each = rake({"s": [p[0] for p in people], "t": [p[1] for p in people]}, targets)
    cells = sorted(set(people))
    counted = rake(
        {"s": [c[0] for c in cells], "t": [c[1] for c in cells]},
        targets,
        counts=[people.count(c) for c in cells],
    )
    by_cell = dict(zip(cells, counted.weights, strict=True))
    assert np.allclose(each.weights, [by_cell[p] for p in people])
    assert counted.design_effect == pytest.approx(each.design_effect)
    assert counted.effective_n == pytest.approx(each.effective_n)
