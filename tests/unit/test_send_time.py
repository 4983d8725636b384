"""Typed send times: what champions write, and nonsense refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.quiet_hours import LONDON
from bot.services.send_time import FURTHEST, parse_send_time

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # 10:00 in London (GMT)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("18:30", datetime(2026, 11, 23, 18, 30)),
        ("6pm", datetime(2026, 11, 23, 18, 0)),
        ("6.15 PM", datetime(2026, 11, 23, 18, 15)),
        ("9am", datetime(2026, 11, 24, 9, 0)),  # already past today: tomorrow
        ("12am", datetime(2026, 11, 24, 0, 0)),
        ("24/11 09:30", datetime(2026, 11, 24, 9, 30)),
        ("1/12/2026 7pm", datetime(2026, 12, 1, 19, 0)),
        ("5/1 10:00", datetime(2027, 1, 5, 10, 0)),  # January: next year's
    ],
)
def test_times_champions_type_mean_what_they_say(typed: str, meant: datetime) -> None:
    assert parse_send_time(typed, NOW) == meant.replace(tzinfo=LONDON).astimezone(UTC)


@pytest.mark.parametrize(
    "typed", ["", "tomorrow", "18", "25:00", "13pm", "0am", "31/02 10:00", "1/1/2026 10:00", "ten"]
)
def test_nonsense_and_the_past_are_refused(typed: str) -> None:
    assert parse_send_time(typed, NOW) is None


def test_british_summer_time_is_taken_into_account() -> None:
    summer = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)  # 09:00 in London
    assert parse_send_time("18:00", summer) == datetime(2026, 7, 1, 17, 0, tzinfo=UTC)


@given(st.text(max_size=40), st.datetimes(timezones=st.just(UTC)))
def test_any_text_gives_nothing_or_a_moment_within_ninety_days(text: str, now: datetime) -> None:
    moment = parse_send_time(text, now)
    assert moment is None or now < moment <= now + FURTHEST + timedelta(hours=2)
