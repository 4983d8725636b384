"""Panel members made directly in the database, for tests about the panel as a whole."""

from __future__ import annotations

from datetime import datetime

from storage.models import ProfileAnswer, Resident


def new_member(
    chat_id: int, locality: str, profile: dict[str, str], now: datetime, *, stopped: bool = False
) -> Resident:
    """A member as joining leaves them, with their profile answers."""
    resident = Resident(
        channel="telegram",
        chat_id=chat_id,
        language="en",
        status="member",
        step="member",
        step_data={},
        locality=locality,
        consultations_stopped=stopped,
        created_at=now,
        updated_at=now,
    )
    resident.profile = [
        ProfileAnswer(feature=f, value=v, answered_at=now) for f, v in profile.items()
    ]
    resident.consents = []
    return resident
