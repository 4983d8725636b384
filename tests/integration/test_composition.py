"""Panel composition against the census, counted in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.services.area import AreaProfile
from bot.services.composition import compose, panel_counts
from bot.services.panel_status import status_table
from storage.database import Database
from storage.repositories import PanelRepository
from tests.support.panel import new_member

DEMO = AreaProfile.load(Path(__file__).resolve().parents[2] / "areas" / "demo")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def add_member(database: Database, chat_id: int, locality: str, **profile: str) -> None:
    async with database.transaction() as session:
        session.add(new_member(chat_id, locality, profile, NOW))


async def test_a_skewed_panel_is_measured_against_the_census(database: Database) -> None:
    # Older, whiter and more west_moors than the area: as self-selected panels tend to be.
    chat_id = 1
    for locality, age, ethnicity, count in (
        ("west_moors", "75_plus", "white_british", 12),
        ("west_moors", "65_74", "white_irish", 6),
        ("city_centre", "16_24", "asian_pakistani", 1),
        ("east_valley", "45_54", "black_african", 1),
    ):
        for _ in range(count):
            await add_member(
                database, chat_id, locality, age_band=age, ethnicity=ethnicity, sex="female"
            )
            chat_id += 1
    async with database.transaction() as session:
        panel = PanelRepository(session)
        counts, members = panel_counts(await panel.profile_counts()), await panel.locality_counts()
    composition = compose(DEMO, counts, members)
    assert composition.members == 20 and composition.target_size == 3000
    fits = {fit.feature: fit for fit in composition.fits}
    assert fits["locality"].worst is not None and fits["locality"].worst.category in {
        "north_riverside",
        "south_dales",
    }
    ethnic = fits["ethnic_group"]
    white = next(s for s in ethnic.shares if s.category == "white")
    assert white.count == 18 and white.panel == pytest.approx(0.9)
    assert fits["sex"].largest_gap_pp == pytest.approx((1 - 108610 / 213000) * 100, abs=0.01)
    assert fits["age_band"].cohens_w > 1
    table = status_table(DEMO, composition, None)
    assert "Riverside and Dales (demo): 20 members (target 3,000)" in table
    west = compose(DEMO, counts, members, "west_moors")
    assert west.members == 18 and west.target_size is not None and west.target_size < 3000
