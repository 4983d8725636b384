"""What Panelbot counts for its operators (Prometheus): numbers only, never what anyone wrote."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)
UPDATES = Counter(
    "panelbot_updates", "Residents' messages and button presses handled", ["channel", "result"],
    registry=REGISTRY,
)  # fmt: skip
LATENCY = Histogram(
    "panelbot_update_seconds", "Time to handle one message or press and answer it", ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0), registry=REGISTRY,
)  # fmt: skip
OUTBOX = Gauge(
    "panelbot_outbox_messages", "Broadcast messages in the outbox, by state", ["state"],
    registry=REGISTRY,
)  # fmt: skip
DELIVERIES = Counter(
    "panelbot_outbox_results", "Outbox messages' delivery results", ["result"], registry=REGISTRY
)
ERRORS = Counter(
    "panelbot_errors", "Failures, by where they happened", ["where"], registry=REGISTRY
)


@asynccontextmanager
async def handling(channel: str) -> AsyncIterator[None]:
    """Count and time one update; a failure is counted, then raised as before."""
    start = time.perf_counter()
    try:
        yield
    except BaseException:
        UPDATES.labels(channel, "failed").inc()
        ERRORS.labels(channel).inc()
        raise
    UPDATES.labels(channel, "handled").inc()
    LATENCY.labels(channel).observe(time.perf_counter() - start)
