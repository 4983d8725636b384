"""Raking speed: 100,000 biased synthetic responses to 5 census margins.

Run: .venv/bin/python bench/weighting_bench.py [--respondents 100000] [--target 0.5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.services.weighting import rake  # noqa: E402

# Census shares, and the skewed shares a self-selected panel tends to have.
MARGINS = {
    "age": (
        {"16_24": 0.13, "25_44": 0.33, "45_64": 0.32, "65_plus": 0.22},
        [0.07, 0.27, 0.34, 0.32],
    ),
    "sex": ({"female": 0.51, "male": 0.49}, [0.60, 0.40]),
    "ethnicity": (
        {"white": 0.80, "asian": 0.10, "black": 0.05, "mixed": 0.03, "other": 0.02},
        [0.87, 0.07, 0.03, 0.02, 0.01],
    ),
    "disability": ({"yes": 0.20, "no": 0.80}, [0.26, 0.74]),
    "imd": (
        {"q1": 0.28, "q2": 0.22, "q3": 0.18, "q4": 0.16, "q5": 0.16},
        [0.19, 0.2, 0.2, 0.2, 0.21],
    ),
}


def synthetic(respondents: int, seed: int = 7) -> dict[str, list[str | None]]:
    """Biased answers, with 3% "prefer not to say" in each feature."""
    generator = np.random.default_rng(seed)
    columns: dict[str, list[str | None]] = {}
    for feature, (targets, skew) in MARGINS.items():
        drawn = generator.choice(list(targets), size=respondents, p=skew).tolist()
        unknown = generator.random(respondents) < 0.03
        columns[feature] = [None if u else v for v, u in zip(drawn, unknown, strict=True)]
    return columns


def main() -> int:
    """Print the timing and the weights' quality; exit 1 above the target time."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--respondents", type=int, default=100_000)
    parser.add_argument("--target", type=float, default=0.5)
    args = parser.parse_args()
    columns = synthetic(args.respondents)
    targets = {feature: shares for feature, (shares, _skew) in MARGINS.items()}
    begin = time.perf_counter()
    raked = rake(columns, targets)
    elapsed = time.perf_counter() - begin
    weights = raked.weights
    print(f"raked {args.respondents:,} responses x {len(targets)} margins in {elapsed:.3f} s")
    print(
        f"iterations {raked.iterations}, converged {raked.converged}, "
        f"weights {weights.min():.2f}-{weights.max():.2f}"
    )
    print(
        f"Kish design effect {raked.design_effect:.3f}, effective n {raked.effective_n:,.0f}, "
        f"margin of error {raked.margin_of_error() * 100:.2f} pp"
    )
    print(f"target: under {args.target} s")
    return 0 if elapsed < args.target else 1


if __name__ == "__main__":
    raise SystemExit(main())
