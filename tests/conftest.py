"""Shared fixtures: migrated databases (SQLite file and PostgreSQL) and a fixed clock."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.database import Database, upgrade, upgrade_async
from storage.models import Base

POSTGRES_URL = os.environ.get(
    "PANELBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def _reset_postgres() -> None:
    engine = create_async_engine(POSTGRES_URL)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def _prepare_postgres() -> None:
    asyncio.run(_reset_postgres())
    upgrade(POSTGRES_URL)


_postgres_ready = False


async def migrated_postgres() -> str:
    """PostgreSQL emptied and migrated once per test session."""
    global _postgres_ready
    if not _postgres_ready:
        await asyncio.to_thread(_prepare_postgres)
        _postgres_ready = True
    return POSTGRES_URL


async def migrated_sqlite(folder: Path) -> str:
    """A fresh, migrated SQLite file in a folder."""
    url = f"sqlite+aiosqlite:///{folder / 'panelbot.db'}"
    await upgrade_async(url)
    return url


async def _truncate(database: Database) -> None:
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    async with database.transaction() as session:
        await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database on each engine (parametrised: SQLite and PostgreSQL)."""
    if request.param == "sqlite":
        db = Database(await migrated_sqlite(tmp_path))
    else:
        db = Database(await migrated_postgres())
        await _truncate(db)
    yield db
    await db.dispose()
