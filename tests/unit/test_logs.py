"""Logs as JSON lines carry the event, the level and the error's type; bad settings are refused."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from bot.config import Settings, SettingsError
from bot.logs import JsonLines


def test_a_json_line_per_record_with_the_error_type() -> None:
    try:
        raise TimeoutError("the database is away")
    except TimeoutError:
        record = logging.LogRecord("panelbot", logging.ERROR, __file__, 1, "update %s failed",
                                   ("tg:7",), exc_info=sys.exc_info())  # fmt: skip
    line = JsonLines().format(record)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "ERROR" and entry["message"] == "update tg:7 failed"
    assert entry["error"] == "TimeoutError" and entry["time"].endswith("+00:00")


def test_log_format_and_keeping_times_are_checked() -> None:
    assert Settings.load({"PANELBOT_LOG_FORMAT": "JSON"}, dotenv=None).log_format == "json"
    with pytest.raises(SettingsError, match="PANELBOT_LOG_FORMAT"):
        Settings.load({"PANELBOT_LOG_FORMAT": "xml"}, dotenv=None)
    with pytest.raises(SettingsError, match="PANELBOT_KEEP_INACTIVE_DAYS"):
        Settings.load({"PANELBOT_KEEP_INACTIVE_DAYS": "0"}, dotenv=None)
    days = Settings.load({"PANELBOT_KEEP_RAW_STORIES_DAYS": "30"}, dotenv=None).keep_days
    assert days == (30, 730, 30, 730)
