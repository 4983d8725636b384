"""Roles held by chat accounts, and one-time invite codes."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InviteCode, ProfileAnswer, Resident, Role


class RoleRepository:
    """Roles and invite codes, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of(self, chat_id: int) -> list[Role]:
        """Every role an account holds."""
        query = select(Role).where(Role.chat_id == chat_id).order_by(Role.role)
        return list((await self.session.execute(query)).scalars())

    async def find(self, chat_id: int, role: str) -> Role | None:
        """One role of an account, if held."""
        query = select(Role).where(Role.chat_id == chat_id, Role.role == role)
        return (await self.session.execute(query)).scalar_one_or_none()

    def add(self, role: Role) -> None:
        """Stage a new role."""
        self.session.add(role)

    async def remove(self, chat_id: int, role: str) -> int:
        """Take a role away; how many were removed."""
        result = await self.session.execute(
            delete(Role).where(Role.chat_id == chat_id, Role.role == role)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def holders(self) -> list[int]:
        """Every account holding any role."""
        return list((await self.session.execute(select(Role.chat_id).distinct())).scalars())

    def add_invite(self, invite: InviteCode) -> None:
        """Stage a new invite code."""
        self.session.add(invite)

    async def invite(self, code_hash: str) -> InviteCode | None:
        """The invite with this code hash, locked until the transaction ends."""
        query = select(InviteCode).where(InviteCode.code_hash == code_hash).with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def recruit_profiles(self, referral_code: str) -> list[tuple[str, str, int]]:
        """(feature, value, residents) over everyone who joined through a referral code."""
        query = (
            select(ProfileAnswer.feature, ProfileAnswer.value, func.count())
            .join(Resident, Resident.id == ProfileAnswer.resident_id)
            .where(Resident.referral_code == referral_code)
            .group_by(ProfileAnswer.feature, ProfileAnswer.value)
        )
        return [(f, v, int(n)) for f, v, n in await self.session.execute(query)]

    async def recruits(self, referral_code: str) -> list[Resident]:
        """Residents who joined through a referral code (profiles not loaded)."""
        query = select(Resident).where(Resident.referral_code == referral_code)
        return list((await self.session.execute(query)).scalars())
