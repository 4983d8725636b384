"""`panelbot select`: a sub-panel drawn by lot within quotas, with its audit record."""

from __future__ import annotations

import json
import random
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from storage.database import Database, upgrade_async
from tests.support.panel import new_member
from tests.unit.test_cli import ROOT, run_cli

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
AGES = ["16_24", "25_34", "35_44", "45_54", "55_64", "65_74", "75_plus"]


async def make_panel(url: str, members: int) -> None:
    """A skewed synthetic panel: older and more often women than the census."""
    await upgrade_async(url)
    database = Database(url)
    chooser = random.Random(4)
    async with database.transaction() as session:
        for chat_id in range(1, members + 1):
            age = chooser.choices(AGES, weights=[1, 2, 2, 3, 4, 5, 4])[0]
            sex = chooser.choices(["female", "male"], weights=[3, 2])[0]
            profile = {"age_band": age, "sex": sex}
            resident = new_member(chat_id, "west_moors", profile, NOW, stopped=chat_id % 17 == 0)
            session.add(resident)
    await database.dispose()


async def test_select_meets_every_quota_and_keeps_an_audit_record(tmp_path: Path) -> None:
    data = tmp_path / "d"
    await make_panel(f"sqlite+aiosqlite:///{data / 'panelbot.db'}", 300)
    env = {"PANELBOT_DATA_DIR": str(data), "PANELBOT_AREA_DIR": str(ROOT / "areas" / "demo")}
    args = ("select", "--size", "20", "--seed", "7", "--features", "age_band,sex")
    result = run_cli(*args, cwd=tmp_path, extra_env=env)
    assert result.returncode == 0, result.stderr
    assert "Selection 1: 20 of 283 members (seed 7)" in result.stdout
    with sqlite3.connect(data / "panelbot.db") as connection:
        quotas, chances, selected, lowest, bound = connection.execute(
            "SELECT quotas, probabilities, selected, lowest, bound FROM selections"
        ).fetchone()
        chosen = json.loads(selected)["residents"]
        placeholders = ",".join("?" * len(chosen))
        answers = connection.execute(
            f"SELECT feature, value FROM profile_answers WHERE resident_id IN ({placeholders})",
            chosen,
        ).fetchall()
    counts = Counter(answers)
    for feature, category, low, high in json.loads(quotas)["quotas"]:
        assert low <= counts[(feature, category)] <= high, (feature, category)
    probabilities = json.loads(chances)
    assert len(probabilities) == 283 and abs(sum(probabilities.values()) - 20) < 1e-6
    assert min(probabilities.values()) == lowest >= 0.95 * bound
    again = run_cli(*args, cwd=tmp_path, extra_env=env)
    assert again.returncode == 0 and "Selection 2: 20 of 283" in again.stdout
