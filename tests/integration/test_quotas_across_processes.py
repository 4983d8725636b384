"""Quotas hold when several processes recruit into one database at the same moment."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import time
from pathlib import Path

from storage.database import Database
from tests.integration.test_quotas_in_joining import DEMO, smallest_target, statuses

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 3
EACH = 8


async def test_three_processes_joining_at_once_never_overfill_a_group(database: Database) -> None:
    panel_size = 40
    limit = smallest_target(dataclasses.replace(DEMO, panel_size=panel_size))
    assert limit < PROCESSES * EACH
    start_at = time.time() + 6  # after every process has brought its residents to the last step
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.support.join_worker",
            database.url,
            str(panel_size),
            str(60_000 + n * 1000),
            str(EACH),
            str(start_at),
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for n in range(PROCESSES)
    ]
    codes = [await worker.wait() for worker in workers]
    assert codes == [0] * PROCESSES
    assert await statuses(database) == {"member": limit, "reserve": PROCESSES * EACH - limit}
