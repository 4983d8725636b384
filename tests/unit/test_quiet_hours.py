"""Quiet hours follow UK local time, across midnight and clock changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.quiet_hours import QuietHours

QUIET = QuietHours()


@pytest.mark.parametrize(
    ("utc", "quiet"),
    [
        (datetime(2026, 1, 10, 20, 59, tzinfo=UTC), False),  # winter: UTC = local
        (datetime(2026, 1, 10, 21, 0, tzinfo=UTC), True),
        (datetime(2026, 1, 11, 3, 0, tzinfo=UTC), True),
        (datetime(2026, 1, 11, 9, 0, tzinfo=UTC), False),
        (datetime(2026, 7, 10, 20, 30, tzinfo=UTC), True),  # summer: 21:30 BST
        (datetime(2026, 7, 10, 8, 30, tzinfo=UTC), False),  # 09:30 BST
    ],
)
def test_quiet_hours_in_local_time(utc: datetime, quiet: bool) -> None:
    assert QUIET.is_quiet(utc) is quiet


@given(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2030, 1, 1)))
def test_next_allowed_is_not_quiet_and_not_earlier(naive: datetime) -> None:
    moment = naive.replace(tzinfo=UTC)
    allowed = QUIET.next_allowed(moment)
    assert allowed >= moment
    assert not QUIET.is_quiet(allowed)
    assert allowed - moment <= timedelta(hours=13)
