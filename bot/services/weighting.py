"""Raking (iterative proportional fitting) of responses to population margins, with Kish's
design effect and effective sample size, for weighted results next to raw ones."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Weights = npt.NDArray[np.float64]
DEFAULT_BOUNDS = (0.2, 5.0)  # weights trimmed to this range of the mean after each sweep
STALLED = 1e-5  # a sweep that moves the worst margin less than this (a share) is the last


@dataclass(frozen=True)
class Raked:
    """Weights (mean 1 over respondents) and how good they are."""

    weights: Weights  # per row: each respondent the row stands for has this weight
    iterations: int
    converged: bool
    empty: tuple[tuple[str, str], ...]  # (feature, category) with a target but no respondent
    counts: Weights | None = None  # respondents per row (None: one each)

    def _counts(self) -> Weights:
        return self.counts if self.counts is not None else np.ones(len(self.weights))

    @property
    def design_effect(self) -> float:
        """Kish's design effect: n Σw² / (Σw)² over respondents (1 when unweighted)."""
        counts = self._counts()
        total = float((counts * self.weights).sum())
        return float(counts.sum()) * float((counts * np.square(self.weights)).sum()) / total**2

    @property
    def effective_n(self) -> float:
        """Effective sample size: (Σw)² / Σw² over respondents."""
        counts = self._counts()
        squares = float((counts * np.square(self.weights)).sum())
        return float((counts * self.weights).sum()) ** 2 / squares

    def margin_of_error(self, share: float = 0.5) -> float:
        """The 95% margin of error of a weighted proportion."""
        return 1.96 * math.sqrt(share * (1 - share) / self.effective_n)


@dataclass(frozen=True)
class _Margin:
    feature: str
    rows: npt.NDArray[np.intp]  # respondents with a known value of the feature
    codes: npt.NDArray[np.intp]  # their category index
    shares: Weights  # target share of each category (over categories with respondents)


def rake(
    columns: Mapping[str, Sequence[str | None]],
    targets: Mapping[str, Mapping[str, float]],
    *,
    tolerance: float = 1e-6,
    max_iterations: int = 200,
    bounds: tuple[float, float] | None = DEFAULT_BOUNDS,
    counts: Sequence[int] | None = None,
) -> Raked:
    """Weights that make each feature's weighted shares match its targets.

    A respondent whose value is missing or not among a feature's targets (e.g. "prefer not to
    say") is left out of that margin only. Target categories nobody is in are dropped and the
    rest rescaled; they are listed in `empty`. With `counts`, each row stands for that many
    identical respondents (a cell of a table), who all get the row's weight.
    """
    size = len(next(iter(columns.values()))) if columns else 0
    margins, empty = _margins(columns, targets, size)
    frequency = np.asarray(counts, dtype=np.float64) if counts is not None else np.ones(size)
    weights = np.ones(size)
    iterations, converged = _fit(weights, frequency, margins, tolerance, max_iterations)
    if bounds is not None and not _within(weights, frequency, bounds):
        more, converged = _fit_within(
            weights, frequency, margins, bounds, tolerance, max_iterations
        )
        iterations += more
    if size:
        weights /= _mean(weights, frequency)
    used = frequency if counts is not None else None
    return Raked(weights, iterations, converged, tuple(empty), used)


def _mean(weights: Weights, frequency: Weights) -> float:
    """The mean weight over respondents."""
    return float((weights * frequency).sum() / frequency.sum())


def _within(weights: Weights, frequency: Weights, bounds: tuple[float, float]) -> bool:
    """Whether every weight lies within the bounds (relative to the mean)."""
    mean = _mean(weights, frequency)
    slack = 1e-9
    low, high = bounds[0] * mean * (1 - slack), bounds[1] * mean * (1 + slack)
    return float(weights.min()) >= low and float(weights.max()) <= high


def _clip(weights: Weights, frequency: Weights, bounds: tuple[float, float]) -> None:
    """Trim weights in place to the bounds relative to the mean (which trimming moves)."""
    for _ in range(100):
        mean = _mean(weights, frequency)
        np.clip(weights, bounds[0] * mean, bounds[1] * mean, out=weights)
        if _within(weights, frequency, bounds):
            return


def _margins(
    columns: Mapping[str, Sequence[str | None]],
    targets: Mapping[str, Mapping[str, float]],
    size: int,
) -> tuple[list[_Margin], list[tuple[str, str]]]:
    """Each targeted feature as row indices, category codes and target shares."""
    margins: list[_Margin] = []
    empty: list[tuple[str, str]] = []
    for feature, wanted in targets.items():
        values = columns[feature]
        if len(values) != size:
            raise ValueError(f"column {feature!r} has {len(values)} rows, not {size}")
        categories = [c for c, share in wanted.items() if share > 0]
        index: dict[str | None, int] = {category: i for i, category in enumerate(categories)}
        codes = np.fromiter((index.get(v, -1) for v in values), dtype=np.intp, count=size)
        rows = np.flatnonzero(codes >= 0)
        present = np.bincount(codes[rows], minlength=len(categories)) > 0
        empty.extend((feature, c) for c, here in zip(categories, present, strict=True) if not here)
        if not present.any():
            continue
        remap = np.cumsum(present) - 1
        shares = np.array([wanted[c] for c in categories], dtype=np.float64)[present]
        margins.append(_Margin(feature, rows, remap[codes[rows]], shares / shares.sum()))
    return margins, empty


def _fit(
    weights: Weights,
    frequency: Weights,
    margins: Sequence[_Margin],
    tolerance: float,
    max_iterations: int,
) -> tuple[int, bool]:
    """Rake in place until every margin is within tolerance; (iterations, converged)."""
    for iteration in range(1, max_iterations + 1):
        _sweep(weights, frequency, margins)
        if _worst_gap(weights, frequency, margins) <= tolerance:
            return iteration, True
    return max_iterations, False


def _fit_within(
    weights: Weights,
    frequency: Weights,
    margins: Sequence[_Margin],
    bounds: tuple[float, float],
    tolerance: float,
    max_iterations: int,
) -> tuple[int, bool]:
    """Rake and trim in turn until the margins are met within the bounds, or the weights settle.

    When the bounds bind, the margins cannot all be met: raking stops once a sweep brings them
    less than STALLED closer, and the bounds win (not converged).
    """
    previous = math.inf
    for iteration in range(1, max_iterations + 1):
        _sweep(weights, frequency, margins)
        mean = _mean(weights, frequency)
        np.clip(weights, bounds[0] * mean, bounds[1] * mean, out=weights)
        gap = _worst_gap(weights, frequency, margins)
        if gap <= tolerance:
            _clip(weights, frequency, bounds)
            return iteration, True
        if previous - gap < STALLED:
            break
        previous = gap
    _clip(weights, frequency, bounds)  # bounds win over margins: margins are not met
    return iteration, False


def _sweep(weights: Weights, frequency: Weights, margins: Sequence[_Margin]) -> None:
    """One pass of raking: scale each margin's categories to their target shares, in turn."""
    for margin in margins:
        part = weights[margin.rows] * frequency[margin.rows]
        totals = np.bincount(margin.codes, weights=part, minlength=len(margin.shares))
        factors = margin.shares * part.sum() / totals
        weights[margin.rows] *= factors[margin.codes]


def _worst_gap(weights: Weights, frequency: Weights, margins: Sequence[_Margin]) -> float:
    """The largest difference between a weighted share and its target."""
    worst = 0.0
    for margin in margins:
        part = weights[margin.rows] * frequency[margin.rows]
        totals = np.bincount(margin.codes, weights=part, minlength=len(margin.shares))
        worst = max(worst, float(np.abs(totals / part.sum() - margin.shares).max()))
    return worst
