"""Statements run on the database driver itself, for paths where SQLAlchemy's per-row work shows."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

_PARAMETER = re.compile(r":(\w+)")
PLACEHOLDERS: dict[str, Callable[[int], str]] = {
    "sqlite": lambda _n: "?",
    "postgresql": "${}".format,
}


@dataclass(frozen=True)
class Statement:
    """One statement in a driver's parameter style, with its parameters' order."""

    sql: str
    names: tuple[str, ...]

    @classmethod
    def build(cls, sql: str, placeholder: Callable[[int], str]) -> Statement:
        """Rewrite `:name` parameters as the driver's placeholders."""
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            names.append(match.group(1))
            return placeholder(len(names))

        return cls(_PARAMETER.sub(number, sql), tuple(names))

    def values(self, parameters: Mapping[str, Any]) -> tuple[Any, ...]:
        """The parameters in the statement's order."""
        return tuple(parameters[name] for name in self.names)


async def fetch_all(
    connection: AsyncConnection, sql: str, **parameters: Any
) -> Sequence[Sequence[Any]]:
    """Every row of a plain query (`:name` parameters of plain types) straight from the driver."""
    dialect = connection.dialect.name
    statement = Statement.build(sql, PLACEHOLDERS[dialect])
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    values = statement.values(parameters)
    if dialect == "sqlite":
        return driver.sqlite_connection.execute(statement.sql, values).fetchall()  # type: ignore[no-any-return]
    return await driver.fetch(statement.sql, *values)  # type: ignore[no-any-return]
