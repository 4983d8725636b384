"""Dashboard accounts: argon2id passwords, server-side sessions, throttled sign-in."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.services.roles import ROLES
from storage.accounts import AccountRepository
from storage.audit import audit
from storage.database import Database
from storage.models import LoginFailure, WebSession, WebUser

MIN_PASSWORD = 12
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
IDLE_TIMEOUT = timedelta(hours=1)
TOUCH_EVERY = timedelta(minutes=1)
_COMMON = frozenset({"password1234", "123456789012", "qwertyuiopas", "letmein12345"})


def token_hash(token: str) -> str:
    """How a session cookie is kept: only its SHA-256."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class AccountError(ValueError):
    """A username, role or password that cannot be used; the message says why."""


@dataclass(frozen=True)
class Visitor:
    """A signed-in dashboard user as the pages need them."""

    user_id: int
    username: str
    role: str
    localities: tuple[str, ...]
    csrf_token: str


class Accounts:
    """Creates accounts, signs people in and out, and recognises their sessions."""

    def __init__(
        self,
        database: Database,
        *,
        clock: Callable[[], datetime],
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.database = database
        self.clock = clock
        self.hasher = hasher or PasswordHasher()  # argon2id, 64 MiB, 3 passes
        self._dummy_hash: str | None = None

    async def add(
        self, username: str, role: str, password: str, localities: Collection[str] = ()
    ) -> None:
        """A new account (names are 3-64 letters, digits, dots, dashes or underscores)."""
        name = username.strip().lower()
        if not 3 <= len(name) <= 64 or not all(c.isalnum() or c in "._-" for c in name):
            raise AccountError("a username has 3 to 64 letters, digits, dots, dashes or _")
        if role not in ROLES:
            raise AccountError(f"the role is one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD or password.lower() in _COMMON or name in password.lower():
            raise AccountError(
                f"a password has at least {MIN_PASSWORD} characters and is not easy to guess"
            )
        now = self.clock()
        async with self.database.transaction() as session:
            accounts = AccountRepository(session)
            if await accounts.user(name) is not None:
                raise AccountError(f"there is already an account called {name}")
            accounts.add_user(
                WebUser(
                    username=name,
                    role=role,
                    localities={"ids": sorted(localities)},
                    password_hash=self.hasher.hash(password),
                    created_at=now,
                    disabled=False,
                )
            )
            audit(session, "cli", "account.add", {"username": name, "role": role}, now)

    async def sign_in(self, username: str, password: str, address: str) -> str | None:
        """A new session token, or None (wrong details, or too many recent failures)."""
        name, now = username.strip().lower()[:64], self.clock()
        keys = (f"user:{name}", f"ip:{address}"[:128])
        async with self.database.transaction() as session:
            accounts = AccountRepository(session)
            if await self._locked(accounts, keys, now):
                audit(session, f"web:{name}", "sign_in.throttled", {}, now)
                return None
            user = await accounts.user(name)
            # A hash is checked either way, so an unknown name takes as long as a wrong password.
            verified = self._verify(user.password_hash if user else self._dummy(), password)
            if user is None or user.disabled or not verified:
                await self._fail(accounts, keys, now)
                audit(session, f"web:{name}", "sign_in.failed", {}, now)
                return None
            for key in keys:
                await accounts.clear_failures(key)
            await accounts.end_sessions_before(now - IDLE_TIMEOUT)  # nobody's idle sessions kept
            token = secrets.token_urlsafe(32)
            accounts.add_session(
                WebSession(
                    token_hash=token_hash(token),
                    user_id=user.id,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    last_seen=now,
                )
            )
            audit(session, f"web:{name}", "sign_in", {}, now)
        return token

    async def visitor(self, token: str) -> Visitor | None:
        """Who holds a session cookie (None when unknown or idle too long)."""
        now = self.clock()
        async with self.database.transaction() as session:
            accounts = AccountRepository(session)
            found = await accounts.signed_in(token_hash(token))
            if found is None:
                return None
            web_session, user = found
            if now - web_session.last_seen > IDLE_TIMEOUT:
                await accounts.end_session(web_session.token_hash)
                return None
            if now - web_session.last_seen > TOUCH_EVERY:
                web_session.last_seen = now
            ids = tuple(user.localities.get("ids", []))
            return Visitor(user.id, user.username, user.role, ids, web_session.csrf_token)

    async def sign_out(self, token: str) -> None:
        """End a session."""
        async with self.database.transaction() as session:
            await AccountRepository(session).end_session(token_hash(token))

    def _dummy(self) -> str:
        """A hash made once with the same settings, to check against when the name is unknown."""
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    @staticmethod
    async def _locked(accounts: AccountRepository, keys: tuple[str, ...], now: datetime) -> bool:
        for key in keys:
            failure = await accounts.failure(key)
            until = failure.locked_until if failure is not None else None
            if until is not None and until > now:
                return True
        return False

    @staticmethod
    async def _fail(accounts: AccountRepository, keys: tuple[str, ...], now: datetime) -> None:
        for key in keys:
            failure = await accounts.failure(key)
            if failure is None:
                accounts.add_failure(LoginFailure(key=key, failures=1, first_at=now))
                continue
            if now - failure.first_at > FAILURE_WINDOW:  # a new window starts
                failure.failures, failure.first_at, failure.locked_until = 0, now, None
            failure.failures += 1
            if failure.failures >= MAX_FAILURES:
                failure.locked_until = now + LOCKOUT


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two tokens."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
