"""SQLAlchemy 2 models: residents, consent records, profiles, roles and processed updates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone, so it is put back on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store in UTC; refuse naive datetimes, whose zone would be a guess."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read back as aware UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations are stable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        datetime: UtcDateTime(),
    }


class Resident(Base):
    """A person in a chat with the bot: a panel member or someone joining."""

    __tablename__ = "residents"
    __table_args__ = (Index("ix_residents_status_joined_at", "status", "joined_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), default="telegram")
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True, index=True)
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="joining")
    step: Mapped[str] = mapped_column(String(32), default="language")
    step_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    referral_code: Mapped[str | None] = mapped_column(String(64), default=None)
    postcode_district: Mapped[str | None] = mapped_column(String(8), default=None)
    postcode_full: Mapped[str | None] = mapped_column(String(8), default=None)
    locality: Mapped[str | None] = mapped_column(String(32), default=None)
    imd_quintile: Mapped[int | None] = mapped_column(Integer, default=None)
    consultations_stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime | None] = mapped_column(default=None)
    blocked_at: Mapped[datetime | None] = mapped_column(default=None)  # blocked the bot: inactive
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    # Loaded only when needed (ResidentRepository.load_details): survey answers never need them.
    profile: Mapped[list[ProfileAnswer]] = relationship(
        back_populates="resident",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="raise_on_sql",
    )
    consents: Mapped[list[ConsentRecord]] = relationship(
        back_populates="resident",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="raise_on_sql",
    )


class ProfileAnswer(Base):
    """One demographic answer (feature -> category id) of a resident."""

    __tablename__ = "profile_answers"
    __table_args__ = (UniqueConstraint("resident_id", "feature"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    feature: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(48))
    answered_at: Mapped[datetime]

    resident: Mapped[Resident] = relationship(back_populates="profile")


class ConsentRecord(Base):
    """An append-only record of a consent decision for one purpose and notice version."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(32))
    granted: Mapped[bool] = mapped_column(Boolean)
    notice_version: Mapped[str] = mapped_column(String(32))
    notice_sha256: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime]

    resident: Mapped[Resident] = relationship(back_populates="consents")


class Role(Base):
    """A role (admin, lead, champion) held by a chat account, with its localities."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("chat_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    role: Mapped[str] = mapped_column(String(16))
    localities: Mapped[dict[str, Any]] = mapped_column(default=dict)
    granted_at: Mapped[datetime]
    referral_code: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)


class ProcessedUpdate(Base):
    """An inbound update already handled, so a redelivery is not applied twice."""

    __tablename__ = "processed_updates"

    update_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime]


class SurveyRun(Base):
    """One resident's run through one version of a survey: its engine state and status."""

    __tablename__ = "survey_runs"
    __table_args__ = (
        Index("ix_survey_runs_resident_survey", "resident_id", "survey_id"),
        Index("ix_survey_runs_status_updated", "status", "updated_at"),
        Index("ix_survey_runs_survey_status", "survey_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    survey_id: Mapped[str] = mapped_column(String(64))
    survey_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    reminded_at: Mapped[datetime | None] = mapped_column(default=None)
    # Set when sent: the respondent's profile cell then, and the response as exports share it
    # ({question: answer}, free text only in its redacted form). Exports read one row each.
    cell: Mapped[str | None] = mapped_column(String(200), default=None)
    response: Mapped[dict[str, Any] | None] = mapped_column(default=None)

    answers: Mapped[list[SurveyAnswer]] = relationship(
        back_populates="run", cascade="all, delete-orphan", passive_deletes=True
    )


class SurveyAnswer(Base):
    """One answer in a run, written in the same transaction as the run's state."""

    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("run_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("survey_runs.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    redacted_text: Mapped[str | None] = mapped_column(Text, default=None)
    answered_at: Mapped[datetime]

    run: Mapped[SurveyRun] = relationship(back_populates="answers")


class Story(Base):
    """A resident's story of care with their own signifiers; personal data until moderated."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_runs.id", ondelete="SET NULL"), default=None
    )
    language: Mapped[str] = mapped_column(String(8))
    raw_text: Mapped[str] = mapped_column(Text)
    redacted_text: Mapped[str] = mapped_column(Text)
    signifiers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    voice_files: Mapped[dict[str, Any]] = mapped_column(default=dict)
    quote_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    moderation: Mapped[str] = mapped_column(String(16), default="new")
    created_at: Mapped[datetime]
    moderated_at: Mapped[datetime | None] = mapped_column(default=None)


class AreaPack(Base):
    """An area profile installed with `panelbot area load` (the newest one is in use)."""

    __tablename__ = "area_packs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    content: Mapped[dict[str, Any]] = mapped_column()
    installed_at: Mapped[datetime]


class Selection(Base):
    """The audit record of a sub-panel drawn by lot: how, from whom, and each one's chance."""

    __tablename__ = "selections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime]
    algorithm: Mapped[str] = mapped_column(String(32))
    seed: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(Integer)
    pool: Mapped[int] = mapped_column(Integer)
    quotas: Mapped[dict[str, Any]] = mapped_column()
    probabilities: Mapped[dict[str, Any]] = mapped_column()  # resident id -> chance
    selected: Mapped[dict[str, Any]] = mapped_column()  # {"residents": [ids]}
    lowest: Mapped[float] = mapped_column(Float)
    bound: Mapped[float] = mapped_column(Float)
    seconds: Mapped[float] = mapped_column(Float)


class InviteCode(Base):
    """A one-time code that makes whoever sends it a champion (only its hash is kept)."""

    __tablename__ = "invite_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    localities: Mapped[dict[str, Any]] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class AuditEntry(Base):
    """Who did what with a role, and when (never message text about residents)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Broadcast(Base):
    """A message or survey invitation to an audience, now or at a time."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))  # message | survey
    text: Mapped[str] = mapped_column(Text, default="")
    survey_id: Mapped[str | None] = mapped_column(String(64), default=None)
    audience: Mapped[dict[str, Any]] = mapped_column()
    send_at: Mapped[datetime]
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # or cancelled
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)


class OutboxMessage(Base):
    """One message of a broadcast to one resident, written with the broadcast, sent once."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_not_before", "status", "not_before"),
        Index("ix_outbox_broadcast_status", "broadcast_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # pending -> sending -> sent | blocked | failed | skipped | cancelled
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime]
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(String(64), default=None)


class ChampionDraft(Base):
    """Where a champion is in the /broadcast wizard (one draft per chat)."""

    __tablename__ = "champion_drafts"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column()
    updated_at: Mapped[datetime]


class WebUser(Base):
    """A dashboard account: admin, co-design lead or champion (password hashed with argon2id)."""

    __tablename__ = "web_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    localities: Mapped[dict[str, Any]] = mapped_column(default=dict)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class WebSession(Base):
    """A signed-in browser: only the hash of its cookie is kept, with its CSRF token."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen: Mapped[datetime]


class LoginFailure(Base):
    """Failed sign-ins per account name and per address, to slow guessing down."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[datetime]
    locked_until: Mapped[datetime | None] = mapped_column(default=None)


class ExportRecord(Base):
    """The exports register: who took which response set away, why, when, how many rows."""

    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    survey_id: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(500))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    suppressed: Mapped[int] = mapped_column(Integer, default=0)


class RespondentTally(Base):
    """How many sent responses to a survey came from each profile cell (for fast results)."""

    __tablename__ = "respondent_tallies"

    survey_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cell: Mapped[str] = mapped_column(String(200), primary_key=True)  # JSON list of groups
    count: Mapped[int] = mapped_column(Integer, default=0)


class AnswerTally(Base):
    """How many sent responses from a cell gave an answer (counted as each response is sent)."""

    __tablename__ = "answer_tallies"
    __table_args__ = ({"sqlite_with_rowid": False},)

    survey_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(500), primary_key=True)  # the answer as JSON
    cell: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[float] = mapped_column(Float, default=0.0)  # numbers: their sum (value "#")


class MemberCount(Base):
    """Members per locality and profile answer, kept current by database triggers (migration 0010).

    The row with feature and value `*` counts a locality's members; locality `''` is none known.
    """

    __tablename__ = "member_counts"

    locality: Mapped[str] = mapped_column(String(32), primary_key=True)
    feature: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(48), primary_key=True)
    members: Mapped[int] = mapped_column(Integer, default=0)


class WebChat(Base):
    """A resident's chat in the browser: only the hash of its cookie is kept, and what the page
    shows now (the bot's latest messages, replaced as the chat goes on, gone with /forgetme)."""

    __tablename__ = "web_chats"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    shown: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    seen_at: Mapped[datetime]
