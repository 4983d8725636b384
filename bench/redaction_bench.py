"""Redaction throughput on one core: stories/s, chars/s and per-story latency over the corpus.

Run: .venv/bin/python bench/redaction_bench.py [--stories 3000] [--target 300]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.services.redaction import Redactor  # noqa: E402

CORPORA = [ROOT / "tests" / "fixtures" / "stories" / f"{n}.jsonl" for n in ("tuning", "heldout")]


def load_stories() -> list[dict[str, Any]]:
    """Every story in the fixture corpora that exist."""
    stories: list[dict[str, Any]] = []
    for path in CORPORA:
        if path.exists():
            lines = path.read_text("utf-8").splitlines()
            stories += [json.loads(line) for line in lines if line.strip()]
    return stories


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def run(count: int) -> dict[str, float]:
    """Redact `count` stories (the corpus repeated) and return the measurements."""
    corpus = load_stories()
    if not corpus:
        raise SystemExit("no stories found under tests/fixtures/stories")
    stories = [corpus[i % len(corpus)] for i in range(count)]
    started = time.perf_counter()
    redactor = Redactor()
    construct = time.perf_counter() - started
    for story in corpus[:20]:
        redactor.redact(story["text"], story["deny"])
    latencies: list[float] = []
    chars = 0
    clock = time.perf_counter
    begin = clock()
    for story in stories:
        before = clock()
        redactor.redact(story["text"], story["deny"])
        latencies.append(clock() - before)
        chars += len(story["text"])
    elapsed = clock() - begin
    latencies.sort()
    return {
        "stories": count,
        "corpus": len(corpus),
        "construct_ms": construct * 1000,
        "elapsed_s": elapsed,
        "stories_per_s": count / elapsed,
        "chars_per_s": chars / elapsed,
        "mean_chars": chars / count,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": latencies[-1] * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
    }


def main() -> int:
    """Print the figures; exit 1 if stories/s falls below the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=3000)
    parser.add_argument("--target", type=float, default=300.0)
    args = parser.parse_args()
    r = run(max(args.stories, 1))
    print(f"Redactor() construction: {r['construct_ms']:.2f} ms")
    print(
        f"{r['stories']:.0f} stories ({r['corpus']:.0f} distinct, "
        f"mean {r['mean_chars']:.0f} chars) in {r['elapsed_s']:.2f} s"
    )
    print(f"stories/s: {r['stories_per_s']:,.0f}   (target >= {args.target:,.0f})")
    print(f"chars/s:   {r['chars_per_s']:,.0f}")
    print(
        f"latency per story: p50 {r['p50_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms, "
        f"max {r['max_ms']:.3f} ms, mean {r['mean_ms']:.3f} ms"
    )
    return 0 if r["stories_per_s"] >= args.target else 1


if __name__ == "__main__":
    raise SystemExit(main())
