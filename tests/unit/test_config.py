"""Settings come from the environment and .env, and fail with one clear line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Settings, SettingsError
from bot.services.quiet_hours import QuietHours


def test_defaults_use_sqlite_in_the_data_folder(tmp_path: Path) -> None:
    settings = Settings.load({}, dotenv=tmp_path / "missing.env")
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.effective_database_url.endswith("data/panelbot.db")
    assert settings.bot_api_base_url == "https://api.telegram.org/bot"


def test_environment_overrides_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# comment\nPANELBOT_TELEGRAM_TOKEN='from-file'\n"
        "export PANELBOT_TELEGRAM_API_URL=http://127.0.0.1:8081/\nPANELBOT_HTTP_PORT=9000\n"
    )
    settings = Settings.load({"PANELBOT_TELEGRAM_TOKEN": "from-env"}, dotenv=dotenv)
    assert settings.telegram_token == "from-env"
    assert settings.bot_api_base_url == "http://127.0.0.1:8081/bot"
    assert settings.bot_file_base_url == "http://127.0.0.1:8081/file/bot"
    assert settings.http_port == 9000


def test_missing_token_is_one_line(tmp_path: Path) -> None:
    settings = Settings.load({}, dotenv=tmp_path / "none")
    with pytest.raises(SettingsError) as error:
        settings.require_token()
    assert "\n" not in str(error.value)
    assert "PANELBOT_TELEGRAM_TOKEN" in str(error.value)


def test_bad_port_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="HTTP_PORT"):
        Settings.load({"PANELBOT_HTTP_PORT": "eighty"}, dotenv=tmp_path / "none")


@pytest.mark.parametrize(
    ("given", "quiet_at_23", "quiet_at_noon"),
    [("", True, False), ("22:30-07:00", True, False), ("off", False, False)],
)
def test_quiet_hours_are_a_window_or_off(
    tmp_path: Path, given: str, quiet_at_23: bool, quiet_at_noon: bool
) -> None:
    environ = {"PANELBOT_QUIET_HOURS": given} if given else {}
    window = QuietHours(*Settings.load(environ, dotenv=tmp_path / "none").quiet_hours)
    assert window.is_quiet(datetime(2026, 11, 23, 23, 0, tzinfo=UTC)) is quiet_at_23
    assert window.is_quiet(datetime(2026, 11, 23, 12, 0, tzinfo=UTC)) is quiet_at_noon


@pytest.mark.parametrize("given", ["21:00", "late-early", "25:00-07:00"])
def test_a_malformed_quiet_window_is_one_clear_line(tmp_path: Path, given: str) -> None:
    with pytest.raises(SettingsError, match="QUIET_HOURS"):
        Settings.load({"PANELBOT_QUIET_HOURS": given}, dotenv=tmp_path / "none")


def test_updates_at_once_must_be_a_whole_number(tmp_path: Path) -> None:
    assert Settings.load({}, dotenv=tmp_path / "none").updates_at_once == 64
    with pytest.raises(SettingsError, match="UPDATES_AT_ONCE"):
        Settings.load({"PANELBOT_UPDATES_AT_ONCE": "0"}, dotenv=tmp_path / "none")
