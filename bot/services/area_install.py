"""Installing an area pack in the database, so every process uses the same one."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.services.area import AreaProfile
from storage.database import Database
from storage.repositories import AreaPackRepository


async def install_area(database: Database, profile: AreaProfile) -> None:
    """Install a checked pack; it replaces the one in use."""
    async with database.transaction() as session:
        AreaPackRepository(session).install(profile.name, profile.to_json(), datetime.now(UTC))


async def installed_area(database: Database) -> AreaProfile | None:
    """The pack in use, if one was installed."""
    async with database.transaction() as session:
        pack = await AreaPackRepository(session).current()
    return AreaProfile.from_json(pack.content) if pack is not None else None
