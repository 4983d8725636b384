"""Roles (admin, co-design lead, champion), one-time invite codes and referral codes."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.audit import audit
from storage.database import Database
from storage.models import InviteCode, Role
from storage.roles import RoleRepository

ADMIN, LEAD, CHAMPION = "admin", "lead", "champion"
ROLES = (ADMIN, LEAD, CHAMPION)
INVITE_DAYS = 14


def code_hash(code: str) -> str:
    """How an invite code is kept: only its SHA-256 (a code is a secret, like a password)."""
    return hashlib.sha256(code.strip().encode("utf-8")).hexdigest()


def new_referral_code() -> str:
    """A champion's referral code: 10 letters and digits, fit for a `start` deep link."""
    return secrets.token_hex(5)


@dataclass(frozen=True)
class Reach:
    """Who an account may reach: None for everywhere (admins and leads), else localities."""

    roles: tuple[str, ...]
    localities: tuple[str, ...] | None

    @property
    def may_broadcast(self) -> bool:
        """Whether the account may send broadcasts at all."""
        return bool(self.roles)


class Roles:
    """Grants, revokes and checks roles; every change is audited."""

    def __init__(self, database: Database, *, clock: Callable[[], datetime]) -> None:
        self.database = database
        self.clock = clock

    async def grant(
        self, chat_id: int, role: str, localities: Collection[str], *, actor: str
    ) -> Role:
        """Give an account a role (champions get a referral code), or update its localities."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        if role == CHAMPION and not localities:
            raise ValueError("a champion works in at least one locality")
        now = self.clock()
        async with self.database.transaction() as session:
            roles = RoleRepository(session)
            held = await roles.find(chat_id, role)
            if held is None:
                held = Role(chat_id=chat_id, role=role, localities={}, granted_at=now)
                roles.add(held)
            held.localities = {"ids": sorted(localities)}
            if role == CHAMPION and held.referral_code is None:
                held.referral_code = new_referral_code()
            details = {"chat_id": chat_id, "role": role, "localities": sorted(localities)}
            audit(session, actor, "role.grant", details, now)
        return held

    async def revoke(self, chat_id: int, role: str, *, actor: str) -> bool:
        """Take a role away; False when it was not held."""
        now = self.clock()
        async with self.database.transaction() as session:
            removed = await RoleRepository(session).remove(chat_id, role)
            audit(session, actor, "role.revoke", {"chat_id": chat_id, "role": role}, now)
        return removed > 0

    async def invite(
        self, role: str, localities: Collection[str], *, actor: str, days: int = INVITE_DAYS
    ) -> str:
        """A one-time code that grants a role to whoever sends `/champion <code>`."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        code = secrets.token_urlsafe(12)
        now = self.clock()
        async with self.database.transaction() as session:
            RoleRepository(session).add_invite(
                InviteCode(
                    code_hash=code_hash(code),
                    role=role,
                    localities={"ids": sorted(localities)},
                    created_by=actor,
                    created_at=now,
                    expires_at=now + timedelta(days=days),
                )
            )
            audit(session, actor, "invite.create", {"role": role, "days": days}, now)
        return code

    async def redeem(self, code: str, chat_id: int) -> Role | None:
        """Use an invite code: the role it grants, or None if unknown, used or expired."""
        now = self.clock()
        actor = f"chat:{chat_id}"
        async with self.database.transaction() as session:
            roles = RoleRepository(session)
            invite = await roles.invite(code_hash(code))
            if invite is None or invite.used_at is not None or invite.expires_at <= now:
                audit(session, actor, "invite.refused", {}, now)
                return None
            invite.used_by, invite.used_at = chat_id, now
            held = await roles.find(chat_id, invite.role)
            if held is None:
                held = Role(chat_id=chat_id, role=invite.role, localities={}, granted_at=now)
                roles.add(held)
            ids = set(held.localities.get("ids", [])) | set(invite.localities.get("ids", []))
            held.localities = {"ids": sorted(ids)}
            if held.role == CHAMPION and held.referral_code is None:
                held.referral_code = new_referral_code()
            audit(session, actor, "invite.redeem", {"role": invite.role, "invite": invite.id}, now)
        return held

    async def reach(self, chat_id: int) -> Reach:
        """The roles an account holds and where it may reach."""
        async with self.database.transaction() as session:
            held = await RoleRepository(session).of(chat_id)
        names = tuple(role.role for role in held)
        if ADMIN in names or LEAD in names:
            return Reach(names, None)
        ids = sorted({i for role in held for i in role.localities.get("ids", [])})
        return Reach(names, tuple(ids))

    async def holders(self) -> set[int]:
        """Every account with a role."""
        async with self.database.transaction() as session:
            return set(await RoleRepository(session).holders())
