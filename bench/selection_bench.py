"""Maximin sub-panel selection speed on synthetic biased pools with tight census quotas.

Run: .venv/bin/python bench/selection_bench.py [--sizes 500:30 3000:50 10000:50] [--gap 0.05]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.services.maximin import Quota, maximin  # noqa: E402

# Census shares per feature, and how likely each category is to answer an invitation.
CENSUS = {
    "age": {
        "16_24": 0.13,
        "25_34": 0.17,
        "35_44": 0.16,
        "45_54": 0.17,
        "55_64": 0.15,
        "65_plus": 0.22,
    },
    "sex": {"female": 0.51, "male": 0.49},
    "ethnicity": {"white": 0.80, "asian": 0.10, "black": 0.05, "mixed": 0.03, "other": 0.02},
    "disability": {"yes": 0.20, "no": 0.80},
    "imd": {"q1": 0.28, "q2": 0.22, "q3": 0.18, "q4": 0.16, "q5": 0.16},
}
RESPONSE = {
    "age": [0.5, 0.75, 0.9, 1.05, 1.25, 1.3],
    "sex": [1.15, 0.85],
    "ethnicity": [1.1, 0.7, 0.6, 0.7, 0.5],
    "disability": [1.3, 0.93],
    "imd": [0.65, 0.9, 1.1, 1.25, 1.3],
}
YOUNG_AND_DEPRIVED = 0.6  # extra response factor for 16-24s in IMD quintile 1


def pool(size: int, seed: int = 2021) -> list[dict[str, str]]:
    """Respondents drawn from the census mix, kept in proportion to their response propensity."""
    generator = np.random.default_rng(seed)
    top = math.prod(max(factors) for factors in RESPONSE.values())
    people: list[dict[str, str]] = []
    while len(people) < size:
        batch = 4 * (size - len(people)) + 100
        drawn = {
            feature: generator.choice(len(shares), size=batch, p=list(shares.values()))
            for feature, shares in CENSUS.items()
        }
        propensity = np.ones(batch)
        for feature, factors in RESPONSE.items():
            propensity *= np.asarray(factors)[drawn[feature]]
        propensity *= np.where((drawn["age"] == 0) & (drawn["imd"] == 0), YOUNG_AND_DEPRIVED, 1)
        kept = np.flatnonzero(generator.random(batch) < propensity / top)
        names = {feature: list(shares) for feature, shares in CENSUS.items()}
        for row in kept[: size - len(people)]:
            people.append({feature: names[feature][drawn[feature][row]] for feature in CENSUS})
    return people


def tight_quotas(k: int) -> list[Quota]:
    """Floor and ceiling of each census share times k."""
    return [
        Quota(feature, category, math.floor(share * k + 1e-9), math.ceil(share * k - 1e-9))
        for feature, shares in CENSUS.items()
        for category, share in shares.items()
    ]


def main() -> int:
    """Print time, lowest probability, bound and k/N per pool; exit 1 if any misses a target."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["500:30", "3000:50", "10000:50"])
    parser.add_argument("--gap", type=float, default=0.05)
    parser.add_argument("--time-limit", type=float, default=120)
    parser.add_argument("--target", type=float, default=60, help="seconds allowed per pool")
    args = parser.parse_args()
    ok = True
    for spec in args.sizes:
        size, k = (int(part) for part in spec.split(":"))
        people = pool(size)
        lottery = maximin(people, tight_quotas(k), k, gap=args.gap, time_limit=args.time_limit)
        print(
            f"N={size:,} k={k}: {lottery.seconds:.1f} s, lowest {lottery.lowest:.4%}, "
            f"bound {lottery.bound:.4%} (gap {lottery.gap:.1%}), k/N {k / size:.4%}; "
            f"{lottery.types} types, {lottery.rounds} rounds, {len(lottery.panels):,} panels"
        )
        ok &= lottery.seconds < args.target and lottery.gap <= args.gap
    print(f"target: under {args.target:g} s with gap <= {args.gap:.0%}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
