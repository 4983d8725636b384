"""Dashboard accounts, their sessions, failed sign-ins and the exports register."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ExportRecord, LoginFailure, WebSession, WebUser


class AccountRepository:
    """Accounts and sessions, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def user(self, username: str) -> WebUser | None:
        """The account with this name."""
        query = select(WebUser).where(WebUser.username == username)
        return (await self.session.execute(query)).scalar_one_or_none()

    def add_user(self, user: WebUser) -> None:
        """Stage a new account."""
        self.session.add(user)

    async def signed_in(self, token_hash: str) -> tuple[WebSession, WebUser] | None:
        """The session with this token hash and its account, if the account is enabled."""
        query = (
            select(WebSession, WebUser)
            .join(WebUser, WebUser.id == WebSession.user_id)
            .where(WebSession.token_hash == token_hash, WebUser.disabled.is_(False))
        )
        row = (await self.session.execute(query)).first()
        return (row[0], row[1]) if row is not None else None

    def add_session(self, web_session: WebSession) -> None:
        """Stage a new session."""
        self.session.add(web_session)

    async def end_session(self, token_hash: str) -> None:
        """Sign a browser out."""
        await self.session.execute(delete(WebSession).where(WebSession.token_hash == token_hash))

    async def end_sessions_before(self, moment: datetime) -> None:
        """Forget sessions idle since before a moment."""
        await self.session.execute(delete(WebSession).where(WebSession.last_seen < moment))

    async def failure(self, key: str) -> LoginFailure | None:
        """The failed sign-ins recorded under a key."""
        return await self.session.get(LoginFailure, key)

    def add_failure(self, failure: LoginFailure) -> None:
        """Stage a first failure under a key."""
        self.session.add(failure)

    async def clear_failures(self, key: str) -> None:
        """Forget failures under a key (after a successful sign-in)."""
        await self.session.execute(delete(LoginFailure).where(LoginFailure.key == key))

    def record_export(self, record: ExportRecord) -> None:
        """Stage an entry in the exports register."""
        self.session.add(record)

    async def exports(self, limit: int = 100) -> list[ExportRecord]:
        """The newest entries of the exports register."""
        query = select(ExportRecord).order_by(ExportRecord.id.desc()).limit(limit)
        return list((await self.session.execute(query)).scalars())
