"""The audit log: every action taken with a role, by whom and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


def audit(
    session: AsyncSession, actor: str, action: str, details: dict[str, Any], now: datetime
) -> None:
    """Stage one audit entry in the caller's transaction (never message text)."""
    session.add(AuditEntry(at=now, actor=actor, action=action, details=details))
