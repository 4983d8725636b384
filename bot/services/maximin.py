"""Fair sub-panel selection: the maximin lottery over quota-meeting panels (Flanigan et al. 2021).

Column generation on person *types* (people with identical quota features): a master LP over
known panels maximises the lowest selection probability z; a pricing MIP finds the panel that
the LP's duals value most, and its optimum W bounds the optimum (z* <= W). Both solved by HiGHS.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

SMOOTHING = 0.7  # Wentges dual smoothing: weight of the best-bound duals in the pricing duals
TOLERANCE = 1e-9  # reduced cost below which a panel does not improve the master LP
MIP_GAP = 1e-4  # relative gap of the pricing MIP; the bound uses its dual bound anyway
SNAP = 1e-12  # share of a panel's probability below which a piece is float noise


@dataclass(frozen=True)
class Quota:
    """At least `min` and at most `max` panel members with `feature` equal to `category`."""

    feature: str
    category: str
    min: int
    max: int


@dataclass(frozen=True, eq=False)
class Lottery:
    """A probability distribution over quota-meeting panels, and how fair it is."""

    probabilities: tuple[float, ...]  # each person's chance of selection, by index in the pool
    panels: tuple[tuple[frozenset[int], float], ...]  # (person indices, probability)
    lowest: float  # the lowest selection probability of anyone in the pool (but `excluded`)
    bound: float  # upper bound on the best achievable lowest probability (maximin optimum)
    seconds: float  # wall time of the computation
    excluded: tuple[int, ...] = ()  # people in no quota-meeting panel: 0, left out of lowest
    rounds: int = 0  # pricing problems solved
    types: int = 0  # distinct combinations of quota features in the pool

    @property
    def gap(self) -> float:
        """How far the lowest probability may be below the optimum, as a share of the bound."""
        return 1.0 - self.lowest / self.bound if self.bound > 0 else 0.0

    def draw(self, seed: int) -> frozenset[int]:
        """One panel drawn from the lottery with a seeded numpy Generator (reproducible)."""
        cumulative = np.cumsum([probability for _panel, probability in self.panels])
        point = np.random.default_rng(seed).random() * cumulative[-1]
        index = int(np.searchsorted(cumulative, point, side="right"))
        return self.panels[min(index, len(self.panels) - 1)][0]


@dataclass(frozen=True)
class _Pool:
    """People grouped into types: the quota-feature values each type shares."""

    members: tuple[Ints, ...]  # person indices per type, ascending
    sizes: Ints  # people per type
    groups: tuple[Ints, ...]  # type indices per quota
    quotas: tuple[Quota, ...]


def maximin(
    people: Sequence[Mapping[str, str]],
    quotas: Sequence[Quota],
    k: int,
    *,
    gap: float = 0.05,
    time_limit: float = 60,
) -> Lottery:
    """The lottery over size-k quota-meeting panels that maximises the lowest selection chance."""
    start = time.perf_counter()
    deadline = start + time_limit
    if not 0 <= gap < 1:
        raise ValueError(f"gap must be at least 0 and below 1, got {gap}")
    pool = _pool(people, quotas, k)
    pricer = _Pricer(pool, k)
    first = pricer.solve(np.zeros(len(pool.sizes)), deadline)
    if first is None:
        raise ValueError(f"no panel of {k} people from this pool meets all the quotas together")
    master = _Master(pool.sizes)
    master.add(first[0])
    impossible = _cover(pricer, master, first[0] > 0, deadline)
    master.exclude(impossible)
    bound, center = _simple_bound(pool, k, ~impossible)
    rounds, pure = 0, False
    while bound > 0 and time.perf_counter() < deadline:
        z, duals = master.solve()
        if z >= (1 - gap) * bound * (1 + 1e-7):  # a margin for the LP's tolerances
            break
        pricing = duals if pure else SMOOTHING * center + (1 - SMOOTHING) * duals
        priced = pricer.solve(pricing / pool.sizes, deadline)
        rounds += 1
        if priced is None:  # out of time before the MIP found a panel
            break
        counts, priced_bound = priced
        if priced_bound < bound:
            bound, center = priced_bound, pricing
        added = False
        for extra in [counts, *pricer.saved()]:
            if float(duals @ (extra / pool.sizes)) - z > TOLERANCE:
                added = master.add(extra) or added
        if not added and pure:
            break  # nothing improves the LP: z is optimal up to the MIP's own gap
        pure = not added  # mispriced: price the LP's own duals next round
    weights, columns = master.distribution()
    panels = _person_panels(weights, columns, pool)
    probabilities = np.zeros(len(people))
    for panel, probability in panels:
        probabilities[list(panel)] += probability
    excluded = sorted(int(i) for t in np.flatnonzero(impossible) for i in pool.members[t])
    selectable = np.ones(len(people), dtype=bool)
    selectable[excluded] = False
    lowest = float(probabilities[selectable].min()) if selectable.any() else 0.0
    return Lottery(
        probabilities=tuple(float(p) for p in probabilities),
        panels=tuple(panels),
        lowest=lowest,
        bound=max(bound, lowest),
        seconds=time.perf_counter() - start,
        excluded=tuple(excluded),
        rounds=rounds,
        types=len(pool.sizes),
    )


def _cover(
    pricer: _Pricer, master: _Master, covered: npt.NDArray[np.bool_], deadline: float
) -> npt.NDArray[np.bool_]:
    """Add panels until every type is in one; returns the types that fit in no panel at all."""
    rng = np.random.default_rng(0)
    covered = covered.copy()
    while not covered.all() and time.perf_counter() < deadline:
        priced = pricer.solve(np.where(covered, 0.0, 1.0 + rng.random(len(covered))), deadline)
        if priced is None:
            break
        if not (priced[0] > 0)[~covered].any():
            return ~covered  # the best panel has none of them, so no panel has any
        for counts in [priced[0], *pricer.saved()]:
            covered |= counts > 0
            master.add(counts)
    return np.zeros_like(covered)  # out of time: the uncovered keep probability 0


def _simple_bound(pool: _Pool, k: int, active: npt.NDArray[np.bool_]) -> tuple[float, Floats]:
    """The tighter of k/N and each quota's max/pool count, with the duals that certify it."""
    sizes = np.where(active, pool.sizes, 0).astype(np.float64)
    bound, duals = k / sizes.sum(), sizes / sizes.sum()
    for quota, group in zip(pool.quotas, pool.groups, strict=True):
        available = sizes[group].sum()
        if available > 0 and quota.max / available < bound:
            bound, duals = quota.max / available, np.zeros(len(sizes))
            duals[group] = sizes[group] / available
    return bound, duals


def _pool(people: Sequence[Mapping[str, str]], quotas: Sequence[Quota], k: int) -> _Pool:
    """Group people into types and check that the quotas can be met, with a clear reason."""
    if not 0 < k <= len(people):
        raise ValueError(f"panel size {k} must be between 1 and the pool size {len(people)}")
    features = sorted({quota.feature for quota in quotas})
    keys: dict[tuple[str, ...], list[int]] = {}
    for index, person in enumerate(people):
        missing = [feature for feature in features if feature not in person]
        if missing:
            raise ValueError(f"person {index} has no value for {', '.join(missing)}")
        keys.setdefault(tuple(person[feature] for feature in features), []).append(index)
    types = list(keys)
    sizes = np.array([len(keys[key]) for key in types], dtype=np.int64)
    column = {feature: position for position, feature in enumerate(features)}
    groups: list[Ints] = []
    seen: set[tuple[str, str]] = set()
    for quota in quotas:
        name = f"{quota.feature}={quota.category}"
        if (quota.feature, quota.category) in seen:
            raise ValueError(f"two quotas for {name}")
        seen.add((quota.feature, quota.category))
        if not 0 <= quota.min <= quota.max:
            raise ValueError(f"quota {name} needs 0 <= min <= max, got {quota.min}..{quota.max}")
        where = column[quota.feature]
        group = np.array(
            [t for t, key in enumerate(types) if key[where] == quota.category], dtype=np.int64
        )
        available = int(sizes[group].sum())
        if quota.min > available:
            raise ValueError(f"quota {name} needs {quota.min} but the pool has only {available}")
        groups.append(group)
    for feature in features:
        own = [q for q in quotas if q.feature == feature]
        if sum(q.min for q in own) > k:
            raise ValueError(f"the minimums for {feature} add up to more than {k}")
        covered = {q.category for q in own}
        if all(key[column[feature]] in covered for key in types):
            room = sum(
                min(q.max, int(sizes[g].sum()))
                for q, g in zip(quotas, groups, strict=True)
                if q.feature == feature
            )
            if room < k:
                raise ValueError(f"the maximums for {feature} allow only {room} of {k} places")
    return _Pool(
        members=tuple(np.array(keys[key], dtype=np.int64) for key in types),
        sizes=sizes,
        groups=tuple(groups),
        quotas=tuple(quotas),
    )


def _highs() -> highspy.Highs:
    """A HiGHS instance that logs nothing."""
    highs = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy leaves __init__ bare
    highs.setOptionValue("output_flag", False)
    return highs


class _Pricer:
    """The pricing MIP: integer counts per type, size k, every quota met, weights maximised."""

    def __init__(self, pool: _Pool, k: int) -> None:
        """Build the model once; each solve only changes the objective."""
        count = len(pool.sizes)
        self.count = count
        self.highs = _highs()
        self.highs.setOptionValue("mip_rel_gap", MIP_GAP)
        self.highs.setOptionValue("mip_improving_solution_save", True)
        self.highs.addVars(count, np.zeros(count), pool.sizes.astype(np.float64))
        self.highs.changeColsIntegrality(
            count,
            np.arange(count, dtype=np.int32),
            np.full(count, highspy.HighsVarType.kInteger.value, dtype=np.uint8),
        )
        self.highs.addRow(k, k, count, np.arange(count, dtype=np.int32), np.ones(count))
        for quota, group in zip(pool.quotas, pool.groups, strict=True):
            self.highs.addRow(
                quota.min, quota.max, len(group), group.astype(np.int32), np.ones(len(group))
            )
        self.highs.changeObjectiveSense(highspy.ObjSense.kMaximize)

    def solve(self, weights: Floats, deadline: float) -> tuple[Ints, float] | None:
        """The best panel's counts per type and an upper bound on the best panel's value."""
        self.highs.setOptionValue("time_limit", max(deadline - time.perf_counter(), 1.0))
        scale = 1.0 / weights.max() if weights.max() > 0 else 1.0  # MIP tolerances are absolute
        indices = np.arange(self.count, dtype=np.int32)
        self.highs.changeColsCost(self.count, indices, weights * scale)
        self.highs.run()
        status = self.highs.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return None
        solution = self.highs.getSolution()
        if not solution.value_valid:
            return None
        counts = np.rint(np.asarray(solution.col_value)).astype(np.int64)
        info = self.highs.getInfo()
        value = float(weights @ counts)
        bound = float(info.mip_dual_bound) / scale  # an upper bound even within the MIP's gap
        return counts, max(bound, value) if math.isfinite(bound) else math.inf

    def saved(self) -> list[Ints]:
        """The improving solutions the last MIP found on its way (extra candidate panels)."""
        return [
            np.rint(np.asarray(found.col_value)).astype(np.int64)
            for found in self.highs.getSavedMipSolutions()
        ]


class _Master:
    """The master LP: maximise z with every type's probability >= z over the known panels."""

    def __init__(self, sizes: Ints) -> None:
        """Rows: one per type (probability - z >= 0), then the probabilities summing to 1."""
        self.sizes = sizes.astype(np.float64)
        count = len(sizes)
        self.count = count
        self.columns: list[Ints] = []
        self.seen: set[bytes] = set()
        self.highs = _highs()
        self.highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.highs.addRows(
            count + 1,
            np.concatenate([np.zeros(count), [1.0]]),
            np.concatenate([np.full(count, highspy.kHighsInf), [1.0]]),
            0,
            np.zeros(count + 1, dtype=np.int32),
            np.zeros(0, dtype=np.int32),
            np.zeros(0),
        )
        rows = np.arange(count, dtype=np.int32)
        self.highs.addCol(1.0, 0.0, 1.0, count, rows, -np.ones(count))

    def add(self, counts: Ints) -> bool:
        """Add a panel (counts per type) as a column, unless it is already there."""
        key = counts.tobytes()
        if key in self.seen:
            return False
        self.seen.add(key)
        rows = np.flatnonzero(counts).astype(np.int32)
        values = counts[rows] / self.sizes[rows]
        indices = np.concatenate([rows, [self.count]]).astype(np.int32)
        self.highs.addCol(0.0, 0.0, highspy.kHighsInf, len(indices), indices, [*values, 1.0])
        self.columns.append(counts)
        return True

    def exclude(self, types: npt.NDArray[np.bool_]) -> None:
        """Leave these types out of the minimum (they fit in no panel)."""
        for row in np.flatnonzero(types):
            self.highs.changeRowBounds(int(row), -highspy.kHighsInf, highspy.kHighsInf)

    def solve(self) -> tuple[float, Floats]:
        """The LP's z and its duals on the type rows (non-negative, summing to 1)."""
        self.highs.run()
        solution = self.highs.getSolution()
        z = float(solution.col_value[0])
        duals = np.maximum(-np.asarray(solution.row_dual[: self.count]), 0.0)  # HiGHS: <= 0
        total = duals.sum()
        return z, duals / total if total > 0 else np.full(self.count, 1 / self.count)

    def distribution(self) -> tuple[Floats, Ints]:
        """The panels with positive probability (renormalised) and their counts per type."""
        self.highs.run()
        values = np.asarray(self.highs.getSolution().col_value[1:])
        keep = np.flatnonzero(values > SNAP)
        weights = values[keep] / values[keep].sum()
        return weights, np.array([self.columns[i] for i in keep], dtype=np.int64)


def _person_panels(
    weights: Floats, columns: Ints, pool: _Pool
) -> list[tuple[frozenset[int], float]]:
    """Turn panels of type counts into panels of people, everyone of a type equally likely."""
    schedules: list[list[tuple[Ints, Floats]]] = [[] for _ in weights]
    for t, members in enumerate(pool.members):
        used = np.flatnonzero(columns[:, t])
        if len(used) == 0:
            continue
        shares = _shares(weights[used], columns[used, t], len(members))
        for j, column in enumerate(used):
            schedules[column].append((members, shares[:, j]))
    merged: dict[frozenset[int], float] = {}
    for weight, schedule in zip(weights, schedules, strict=True):
        _expand(float(weight), schedule, merged)
    return list(merged.items())


def _shares(weights: Floats, counts: Ints, size: int) -> Floats:
    """Each member's share (0..1) of each panel, summing to the count per panel, equal totals."""
    shares = np.zeros((size, len(weights)))
    loads = np.zeros(size)
    for j in np.argsort(-weights, kind="stable"):
        chosen = np.argsort(loads, kind="stable")[: counts[j]]
        shares[chosen, j] = 1.0
        loads[chosen] += weights[j]
    target = float(weights @ counts) / size
    for _ in range(4 * size * len(weights) + 10):
        excess = loads - target
        over, under = int(np.argmax(excess)), int(np.argmin(excess))
        if excess[over] - excess[under] <= 1e-14 * max(target, 1e-300):
            break
        room = np.minimum(shares[over], 1.0 - shares[under]) * weights
        j = int(np.argmax(room))
        moved = min(room[j], excess[over], -excess[under])
        if moved <= 0:
            break
        shares[over, j] -= moved / weights[j]
        shares[under, j] += moved / weights[j]
        loads[over] -= moved
        loads[under] += moved
    if np.ptp(shares @ weights) > 1e-9 * target:
        raise RuntimeError("could not give every member of a type the same probability")
    shares[shares < SNAP] = 0.0
    shares[shares > 1 - SNAP] = 1.0
    return shares


def _expand(
    weight: float, schedule: list[tuple[Ints, Floats]], merged: dict[frozenset[int], float]
) -> None:
    """Split one panel of type counts into panels of people (McNaughton's wrap-around)."""
    ends: list[Floats] = []
    cuts: list[Floats] = [np.array([0.0, 1.0])]
    for _members, share in schedule:
        end = np.cumsum(share)
        slots = round(float(end[-1]))
        end *= slots / end[-1]  # exactly `slots` long despite rounding
        end[-1] = slots
        ends.append(end)
        cuts.append(np.mod(end, 1.0))
    points = np.unique(np.round(np.concatenate(cuts), 12))
    points = points[(points >= 0) & (points <= 1)]
    for left, right in itertools.pairwise(points):
        if right - left <= SNAP:
            continue
        middle = (left + right) / 2
        chosen: list[int] = []
        for (members, _share), end in zip(schedule, ends, strict=True):
            slots = round(float(end[-1]))
            positions = np.searchsorted(end, middle + np.arange(slots), side="right")
            chosen.extend(members[positions].tolist())
        panel = frozenset(chosen)
        merged[panel] = merged.get(panel, 0.0) + weight * (right - left)
