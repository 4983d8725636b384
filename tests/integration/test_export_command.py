"""`panelbot export`: a file with a progress bar, or a clear refusal."""

from __future__ import annotations

import json
from pathlib import Path

from storage.database import Database, upgrade_async
from tests.conftest import FakeClock
from tests.integration.test_exports import panel_with_responses
from tests.unit.test_cli import run_cli


async def test_the_command_writes_an_export_and_refuses_a_tiny_one(
    tmp_path: Path, clock: FakeClock
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'panelbot.db'}"
    await upgrade_async(url)
    env = {"PANELBOT_DATA_DIR": "data"}
    args = ("export", "--survey", "housing_repairs", "--format", "json", "--reason", "a test")
    empty = run_cli(*args, "--out", "none.json", cwd=tmp_path, extra_env=env)
    assert empty.returncode == 2 and "no responses to export yet" in empty.stderr
    database = Database(url)
    await panel_with_responses(database, clock, 3)
    refused = run_cli(*args, "--out", "small.json", cwd=tmp_path, extra_env=env)
    assert refused.returncode == 2 and "too few respondents" in refused.stderr
    assert not (tmp_path / "small.json").exists()
    await panel_with_responses(database, clock, 40, first=100)
    await database.dispose()
    done = run_cli(*args, "--out", "set.json", cwd=tmp_path, extra_env=env)
    assert done.returncode == 0, done.stderr
    assert "rows written to set.json" in done.stdout and "43/43 rows" in done.stderr
    document = json.loads((tmp_path / "set.json").read_text())
    assert len(document["rows"]) == document["codebook"]["rows"]
