"""Databases for benchmarks: a fresh migrated PostgreSQL schema, and emptying it afterwards."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.database import upgrade_async
from storage.models import Base


async def reset_postgres(url: str) -> None:
    """An empty, migrated PostgreSQL database."""
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    await upgrade_async(url)


async def empty_postgres(url: str) -> None:
    """Leave the benchmark database with its schema but no rows."""
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


async def settle(url: str) -> None:
    """After a bulk load, what autovacuum would soon do on a live database: VACUUM ANALYZE, so
    that plans use fresh statistics and index-only scans (SQLite: ANALYZE)."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        await connection.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))
    await engine.dispose()
