"""SQLAlchemy 2 models: residents, consent records, profiles, roles and processed updates."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations are stable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class Resident(Base):
    """A person in a chat with the bot: a panel member or someone joining."""

    __tablename__ = "residents"

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
    consultations_stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    profile: Mapped[list[ProfileAnswer]] = relationship(
        back_populates="resident", cascade="all, delete-orphan", passive_deletes=True
    )
    consents: Mapped[list[ConsentRecord]] = relationship(
        back_populates="resident", cascade="all, delete-orphan", passive_deletes=True
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


class ProcessedUpdate(Base):
    """An inbound update already handled, so a redelivery is not applied twice."""

    __tablename__ = "processed_updates"

    update_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime]
