"""The command line: a missing token is one clear line, not a traceback."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_cli(
    *args: str, cwd: Path, extra_env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANELBOT_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_sender_without_a_token_says_so_in_one_line(tmp_path: Path) -> None:
    result = run_cli("sender", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "PANELBOT_TELEGRAM_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr


def test_db_upgrade_creates_the_sqlite_database(tmp_path: Path) -> None:
    result = run_cli("db", "upgrade", cwd=tmp_path, extra_env={"PANELBOT_DATA_DIR": "d"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "d" / "panelbot.db").is_file()


def test_a_broken_area_profile_is_one_line(tmp_path: Path) -> None:
    env = {
        "PANELBOT_TELEGRAM_TOKEN": "1:x",
        "PANELBOT_AREA_DIR": str(tmp_path / "nowhere"),
        "PANELBOT_DATA_DIR": str(tmp_path / "d"),
    }
    result = run_cli("run", cwd=tmp_path, extra_env=env)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "missing" in result.stderr


def test_survey_check_prints_every_problem_with_its_place(tmp_path: Path) -> None:
    broken = ROOT / "tests" / "fixtures" / "surveys" / "broken" / "reserved_ids.yaml"
    good = ROOT / "bot" / "surveys" / "definitions" / "gp_access.yaml"
    result = run_cli("survey", "check", str(good), str(broken), cwd=tmp_path)
    assert result.returncode == 1
    assert "gp_access.yaml: ok (gp_access version 1" in result.stdout
    assert "reserved_ids.yaml:18: questions[2].id: id 'Bad Id!' must be" in result.stdout
    assert "reserved_ids.yaml: 3 problem(s)" in result.stdout
    assert run_cli("survey", "check", str(good), cwd=tmp_path).returncode == 0


def test_redact_reads_text_and_json_lines_and_writes_the_same_format(tmp_path: Path) -> None:
    lines = [
        "Ring me on 07700 900123 please",
        '{"id": 7, "text": "I am Joan Smith, NHS number 943 476 5919", "deny": ["Joan Smith"]}',
    ]
    result = run_cli("redact", cwd=tmp_path, stdin="\n".join(lines) + "\n")
    assert result.returncode == 0
    plain, record = result.stdout.splitlines()
    assert plain == "Ring me on <PHONE> please"
    assert json.loads(record) == {"id": 7, "text": "I am <NAME>, NHS number <NHS_NUMBER>"}


def test_area_check_and_load_install_the_pack_in_the_database(tmp_path: Path) -> None:
    demo = str(ROOT / "areas" / "demo")
    checked = run_cli("area", "check", demo, cwd=tmp_path)
    assert checked.returncode == 0
    assert "ok (Riverside and Dales (demo): 5 localities, 16 districts" in checked.stdout
    assert run_cli("area", "check", str(tmp_path), cwd=tmp_path).returncode == 1
    loaded = run_cli("area", "load", demo, cwd=tmp_path, extra_env={"PANELBOT_DATA_DIR": "d"})
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith("Installed Riverside and Dales (demo)")
    with sqlite3.connect(tmp_path / "d" / "panelbot.db") as connection:
        [(name, content)] = connection.execute("SELECT name, content FROM area_packs").fetchall()
    assert name == "Riverside and Dales (demo)"
    assert json.loads(content)["district_locality"]["LS8"] == "east_valley"


def test_panel_status_prints_the_composition_table(tmp_path: Path) -> None:
    env = {"PANELBOT_DATA_DIR": "d", "PANELBOT_AREA_DIR": str(ROOT / "areas" / "demo")}
    result = run_cli("panel", "status", "--locality", "west_moors", cwd=tmp_path, extra_env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("West Moors: 0 members (target 620)")
    assert "ethnic_group" in result.stdout and "Cohen w" in result.stdout
    no_area = run_cli("panel", "status", cwd=tmp_path, extra_env={"PANELBOT_DATA_DIR": "d"})
    assert no_area.returncode == 2
    assert "panelbot area load DIR" in no_area.stderr


def test_panel_draw_reports_who_moved_and_leaves_the_news_to_the_sender(tmp_path: Path) -> None:
    env = {"PANELBOT_DATA_DIR": "d", "PANELBOT_AREA_DIR": str(ROOT / "areas" / "demo")}
    drawn = run_cli("panel", "draw", cwd=tmp_path, extra_env=env)
    assert drawn.returncode == 0, drawn.stderr
    assert drawn.stdout.strip() == (
        "0 moved from the reserve list onto the panel; the bot (or `panelbot sender`) "
        "tells them in the chat."
    )
