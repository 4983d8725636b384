"""Residents' data rights: a copy of everything held (/mydata)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from bot.services.chat import Document
from storage.models import Resident, Story, SurveyRun


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def data_held(
    resident: Resident, runs: Sequence[SurveyRun] = (), stories: Sequence[Story] = ()
) -> dict[str, object]:
    """Everything Panelbot holds about a resident, as plain JSON-ready values."""
    return {
        "about": "Everything Panelbot holds about you.",
        "chat": {"channel": resident.channel, "chat_id": resident.chat_id},
        "language": resident.language,
        "status": resident.status,
        "current_step": resident.step,
        "recruited_through": resident.referral_code,
        "postcode_district": resident.postcode_district,
        "postcode": resident.postcode_full,
        "locality": resident.locality,
        "consultations_stopped": resident.consultations_stopped,
        "joined_at": _iso(resident.joined_at),
        "first_contact_at": _iso(resident.created_at),
        "profile": {a.feature: a.value for a in sorted(resident.profile, key=lambda a: a.feature)},
        "consent_history": [
            {
                "purpose": c.purpose,
                "granted": c.granted,
                "notice_version": c.notice_version,
                "notice_sha256": c.notice_sha256,
                "channel": c.channel,
                "recorded_at": _iso(c.recorded_at),
            }
            for c in sorted(resident.consents, key=lambda c: (c.recorded_at, c.id or 0))
        ],
        "surveys": [
            {
                "survey": run.survey_id,
                "version": run.survey_version,
                "status": run.status,
                "started_at": _iso(run.started_at),
                "submitted_at": _iso(run.submitted_at),
                "answers": {a.question_id: a.value.get("value") for a in run.answers},
                "in_progress": run.state if run.status != "submitted" else None,
            }
            for run in runs
        ],
        "stories": [
            {
                "story": story.raw_text,
                "as_others_may_see_it": story.redacted_text,
                "about_it": story.signifiers,
                "may_quote": story.quote_consent,
                "moderation": story.moderation,
                "told_at": _iso(story.created_at),
            }
            for story in stories
        ],
    }


def data_export(
    resident: Resident, runs: Sequence[SurveyRun] = (), stories: Sequence[Story] = ()
) -> Document:
    """The /mydata file."""
    held = data_held(resident, runs, stories)
    body = json.dumps(held, ensure_ascii=False, indent=2).encode("utf-8")
    return Document("my-panelbot-data.json", body)
