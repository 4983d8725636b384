"""Our maximin against the sortition-algorithms library (maximin and legacy) on the same pools.

Uses the synthetic biased pools and tight census quotas of bench/selection_bench.py. Each library
run happens in its own process, killed after --library-limit seconds. sortition-algorithms is not
a project dependency: install it with `.venv/bin/pip install sortition-algorithms`.

Run: .venv/bin/python bench/selection_compare.py [--sizes 500:30 3000:50] [--library-limit 120]
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.selection_bench import pool, tight_quotas  # noqa: E402
from bot.services.maximin import Quota, maximin  # noqa: E402

if TYPE_CHECKING:
    from sortition_algorithms.features import FeatureCollection
    from sortition_algorithms.people import People

INSTALL_HINT = "sortition-algorithms is not installed: .venv/bin/pip install sortition-algorithms"
SEED = 2021


@dataclass(frozen=True)
class Outcome:
    """What one library run reports back to the parent process."""

    seconds: float
    lowest: float | None = None  # lowest selection probability over the whole pool
    panels: int = 0  # panels with positive probability in the distribution
    quotas_met: bool = False
    error: str = ""


def meets(panel: Sequence[Mapping[str, str]], quotas: Sequence[Quota], k: int) -> bool:
    """Whether the panel has k people and every quota's count lies within its min and max."""
    return len(panel) == k and all(
        quota.min <= sum(person[quota.feature] == quota.category for person in panel) <= quota.max
        for quota in quotas
    )


def library_inputs(
    people: Sequence[Mapping[str, str]], quotas: Sequence[Quota]
) -> tuple[FeatureCollection, People]:
    """The library's FeatureCollection and People (ids are pool indices as strings)."""
    from sortition_algorithms.features import FeatureValueMinMax
    from sortition_algorithms.people import People

    features: FeatureCollection = {}
    for quota in quotas:
        features.setdefault(quota.feature, {})[quota.category] = FeatureValueMinMax(
            min=quota.min, max=quota.max, max_flex=len(people)
        )
    library_people = People(columns_to_keep=[])
    for index, person in enumerate(people):
        library_people.add(str(index), dict(person), features, row_number=index + 2)
    return features, library_people


def run_library(
    method: str, people: list[dict[str, str]], quotas: list[Quota], k: int, send: Connection
) -> None:
    """Child process: run one library method and send an Outcome through the pipe."""
    import logging

    from sortition_algorithms import Settings, run_stratification
    from sortition_algorithms.committee_generation import find_distribution_maximin
    from sortition_algorithms.utils import set_log_level

    set_log_level(logging.ERROR)  # the library logs every step to stdout by default
    features, library_people = library_inputs(people, quotas)
    start = time.perf_counter()
    try:
        if method == "maximin":
            committees, probabilities, _report = find_distribution_maximin(
                features, library_people, k, []
            )
            seconds = time.perf_counter() - start
            chance = dict.fromkeys(library_people, 0.0)
            for committee, probability in zip(committees, probabilities, strict=True):
                for person in committee:
                    chance[person] += probability
            used = [c for c, p in zip(committees, probabilities, strict=True) if p > 0]
            met = all(meets([people[int(i)] for i in c], quotas, k) for c in used)
            send.send(Outcome(seconds, min(chance.values()), len(used), met))
        else:
            settings = Settings("id", [], selection_algorithm=method, random_number_seed=SEED)
            ok, panels, report = run_stratification(features, library_people, k, settings)
            seconds = time.perf_counter() - start
            met = ok and len(panels) == 1 and meets([people[int(i)] for i in panels[0]], quotas, k)
            error = "" if ok else str(report.last_error())
            send.send(Outcome(seconds, panels=len(panels), quotas_met=met, error=error))
    except Exception as error:  # report any library failure instead of a child traceback
        send.send(Outcome(time.perf_counter() - start, error=f"{type(error).__name__}: {error}"))


def library(method: str, people: list[dict[str, str]], k: int, limit: float) -> Outcome | None:
    """Run a library method in a spawned process; None if it is not done within limit seconds."""
    context = multiprocessing.get_context("spawn")  # no fork after HiGHS started its threads
    receive, send = context.Pipe(duplex=False)
    process = context.Process(
        target=run_library, args=(method, people, tight_quotas(k), k, send), daemon=True
    )
    process.start()
    send.close()
    try:
        return receive.recv() if receive.poll(limit) else None
    except EOFError:  # the child died without reporting
        return Outcome(limit, error=f"process exited with code {process.exitcode}")
    finally:
        process.kill()
        process.join()


def main() -> int:
    """Print each method's time and lowest selection probability per pool; 2 without the library."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["500:30"])
    parser.add_argument("--library-limit", type=float, default=120, help="seconds per library run")
    args = parser.parse_args()
    try:
        importlib.import_module("sortition_algorithms")
    except ImportError:
        print(INSTALL_HINT)
        return 2
    for spec in args.sizes:
        size, k = (int(part) for part in spec.split(":"))
        people = pool(size)
        head = f"N={size:,} k={k} (k/N {k / size:.4%})"
        lottery = maximin(people, tight_quotas(k), k)
        print(
            f"{head} ours maximin: {lottery.seconds:.2f} s, lowest {lottery.lowest:.4%} "
            f"(bound {lottery.bound:.4%}), {len(lottery.panels):,} panels"
        )
        for method in ("maximin", "legacy"):
            outcome = library(method, people, k, args.library_limit)
            label = f"{head} library {method}:"
            if outcome is None:
                print(f"{label} not finished within {args.library_limit:g} s")
            elif outcome.error and method == "maximin":
                print(f"{label} failed after {outcome.seconds:.2f} s: {outcome.error}")
            elif method == "maximin":
                print(
                    f"{label} {outcome.seconds:.2f} s, lowest {outcome.lowest:.4%}, "
                    f"{outcome.panels:,} panels, every panel meets the quotas: {outcome.quotas_met}"
                )
            else:
                failure = f" ({outcome.error})" if outcome.error else ""
                print(
                    f"{label} {outcome.seconds:.2f} s, one panel (no distribution, so no lowest "
                    f"probability), every quota met: {outcome.quotas_met}{failure}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
