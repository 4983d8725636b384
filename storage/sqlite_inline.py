"""SQLite for the async engine without a thread hop per statement (`sqlite+panelbot://`).

aiosqlite runs every call on a helper thread; on a small machine each hop costs about 0.35 ms,
ten times the statement itself, which capped the bot at a few dozen answers a second. Local
SQLite statements take microseconds, so this driver runs them on the event loop's thread. The
engine keeps a single connection, so the process's transactions queue for it instead of waiting
on SQLite's file lock (which would block the loop).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Generator, Iterable, Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi, SQLiteDialect_aiosqlite

DRIVER = "panelbot"


class Cursor:
    """An awaitable-API cursor over a sqlite3 cursor."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        """Column descriptions of the last query."""
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        """Rows changed by the last statement."""
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        """The id of the last inserted row."""
        return self._cursor.lastrowid

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        """Run one statement."""
        self._cursor.execute(sql, parameters or ())
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Cursor:
        """Run one statement for each set of parameters."""
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        """The next row."""
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """The next rows."""
        return self._cursor.fetchmany(size or self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        """Every remaining row."""
        return self._cursor.fetchall()

    async def close(self) -> None:
        """Release the cursor."""
        self._cursor.close()


class _Immediate:
    """Stands in for aiosqlite's work queue: runs a function now and resolves its future."""

    def put_nowait(self, item: tuple[Any, Callable[[], Any]]) -> None:
        """Run the function and settle the future."""
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:  # handed to the awaiting caller
            future.set_exception(error)


class Connection:
    """The subset of aiosqlite's Connection that SQLAlchemy's adapter uses."""

    def __init__(self, database: str, **kwargs: Any) -> None:
        kwargs["check_same_thread"] = False  # one connection, used from the loop's thread only
        self._conn: sqlite3.Connection = sqlite3.connect(database, **kwargs)
        self._tx = _Immediate()
        self._thread = SimpleNamespace(daemon=True)

    def __await__(self) -> Generator[Any, None, Connection]:
        """Awaiting a new connection gives it back, as aiosqlite's does once it has opened."""
        return self
        yield  # a generator that finishes at once

    @property
    def sqlite_connection(self) -> sqlite3.Connection:
        """The sqlite3 connection underneath (for the answers' hot path)."""
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        """The sqlite3 isolation level."""
        level: str | None = self._conn.isolation_level
        return level

    async def cursor(self) -> Cursor:
        """A new cursor."""
        return Cursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        """Run one statement on a new cursor."""
        return Cursor(self._conn.execute(sql, parameters or ()))

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        """Register an SQL function."""
        self._conn.create_function(*args, **kwargs)

    async def commit(self) -> None:
        """Commit."""
        self._conn.commit()

    async def rollback(self) -> None:
        """Roll back."""
        self._conn.rollback()

    async def close(self) -> None:
        """Close."""
        self._conn.close()

    def stop(self) -> None:
        """Close at once (used when SQLAlchemy terminates a connection)."""
        self._conn.close()


def connect(database: str, **kwargs: Any) -> Connection:
    """Open a connection (awaitable, like aiosqlite's)."""
    return Connection(database, **kwargs)


_MODULE = SimpleNamespace(
    connect=connect,
    Connection=Connection,
    DatabaseError=sqlite3.DatabaseError,
    Error=sqlite3.Error,
    IntegrityError=sqlite3.IntegrityError,
    NotSupportedError=sqlite3.NotSupportedError,
    OperationalError=sqlite3.OperationalError,
    ProgrammingError=sqlite3.ProgrammingError,
    sqlite_version=sqlite3.sqlite_version,
    sqlite_version_info=sqlite3.sqlite_version_info,
)


class InlineSQLiteDialect(SQLiteDialect_aiosqlite):
    """SQLAlchemy's aiosqlite dialect with statements run inline."""

    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> AsyncAdapt_aiosqlite_dbapi:
        """The adapter over this module instead of aiosqlite."""
        return AsyncAdapt_aiosqlite_dbapi(_MODULE, sqlite3)  # type: ignore[arg-type]
