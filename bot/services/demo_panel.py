"""A made-up panel for the demo: members, sent survey responses and stories, so that every
dashboard page has something real to show. Its residents are on the "demo" channel with chat ids
that no message can reach (no Telegram user has them and no web chat either)."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.services.area import AreaProfile
from bot.services.composition import ETHNIC_GROUP
from bot.services.exports import DiscardSink, Exporter, ExportRefused
from bot.services.kept_responses import keep_unkept
from bot.services.profile import ETHNICITY, FEATURES, ethnic_group_of, ethnicities_in_group
from bot.services.redaction import Redactor
from bot.services.survey_library import SurveyLibrary
from bot.services.tallies import recount
from bot.surveys import Question, Survey
from storage.database import Database
from storage.models import (
    Broadcast,
    OutboxMessage,
    ProfileAnswer,
    Resident,
    Story,
    SurveyAnswer,
    SurveyRun,
)

CHANNEL = "demo"
FIRST_CHAT_ID = -(2**53)  # below every web chat id (those stay above -2**52)
WEEKS = 12
# The panel leans the way real ones do (older, female), so weighting has work; 2,000 members of
# the demo area's 3,000 still leave room in every group for someone trying the web chat.
LEAN = {"65_74": 1.5, "75_plus": 1.3, "16_24": 0.5, "female": 1.3}
WHITE_BRITISH = 4.0  # most white residents of an English area are white British
PHRASES = (
    "The phone line was busy every morning.",
    "I could not get through, so I went to the pharmacy.",
    "The receptionist was kind and found me a slot.",
    "I waited three weeks for a call back.",
    "The online form was easy to use.",
    "My mum needed an interpreter and there was none.",
)
STORIES = (
    "When my husband came home from hospital nobody told us who to call at night. "
    "We felt alone until the district nurse came on the third day.",
    "The midwife listened to me and explained everything in Polish. I felt safe.",
    "I waited eleven hours in A&E with my father, who has dementia. The staff were kind "
    "but there was nowhere for him to lie down.",
    "My GP practice now has a text service and I got an appointment the same day.",
    "The care home phoned me every week during the lockdown. It meant the world to us.",
    "I was sent home with tablets but nobody checked I could open them with my arthritis.",
)


Places = tuple[list[str], list[int]]  # localities and their census sizes


class DemoError(Exception):
    """The demo would mix made-up people with real ones."""


@dataclass(frozen=True)
class DemoPanel:
    """What was added."""

    members: int
    responses: int
    stories: int
    panel: int  # made-up members now on the panel


async def fill_demo_panel(
    database: Database,
    library: SurveyLibrary,
    area: AreaProfile,
    members: int,
    *,
    clock: Callable[[], datetime],
    seed: int = 2026,
) -> DemoPanel:
    """Make the demo panel up to `members` made-up members, with their survey responses and
    stories (a panel already that big is left alone; refused in a database of real people)."""
    async with database.transaction() as session:
        made_up = Resident.channel == CHANNEL
        counted = select(func.count().filter(made_up), func.count().filter(~made_up))
        start, real = (int(n) for n in (await session.execute(counted)).one())
    if real and not start:
        raise DemoError("this database has real residents: the demo needs one of its own")
    members = max(0, members - start)
    chooser = random.Random(seed + start)
    now = clock()
    surveys = [s for s in library.surveys.values() if s.id != library.story.id]
    localities = list(area.localities)  # drawn as big as the census says they are
    places = (localities, [sum(area.population(area.features()[0], p).values()) or 1
                           for p in localities])  # fmt: skip
    responses = made_stories = 0
    for first in range(start, start + members, 500):
        async with database.transaction() as session:
            batch = [
                _member(chooser, area, places, first + n, now)
                for n in range(min(500, start + members - first))
            ]
            session.add_all(batch)
            await session.flush()
            for member in batch:
                for survey in surveys:
                    if chooser.random() < 0.6:
                        session.add(_response(chooser, member, survey, now))
                        responses += 1
                if chooser.random() < 0.08:
                    session.add(_story(chooser, member, now))
                    made_stories += 1
    for survey in surveys:
        await keep_unkept(database, survey)
        await recount(database, survey)
    if members and not start:  # the first fill: the broadcasts and exports pages too
        await _past_broadcasts(database, chooser, area, now)
        exported = next((s for s in surveys if s.id == "gp_access"), None)
        if exported is not None:
            await _one_export(database, exported, clock)
    return DemoPanel(members, responses, made_stories, start + members)


async def _past_broadcasts(
    database: Database, chooser: random.Random, area: AreaProfile, now: datetime
) -> None:
    """Two broadcasts sent weeks ago, with what happened to each message (all long delivered)."""
    place = next(iter(area.localities))
    sent = (
        (
            "message",
            None,
            [place],
            21,
            "You said, we did: the surgery phone line now opens at 8am.",
        ),
        ("survey", "gp_access", None, 14, "We would like to hear about getting help from your GP."),
    )
    async with database.transaction() as session:
        for kind, survey_id, places, days, text in sent:
            when = now - timedelta(days=days)
            query = select(Resident.id, Resident.chat_id).where(Resident.channel == CHANNEL)
            if places:
                query = query.where(Resident.locality.in_(places))
            audience = list(await session.execute(query))
            broadcast = Broadcast(
                created_at=when, kind=kind, text=text, survey_id=survey_id,
                audience={"localities": places}, send_at=when, recipients=len(audience),
            )  # fmt: skip
            session.add(broadcast)
            await session.flush()
            for resident_id, chat_id in audience:
                status = chooser.choices(("sent", "blocked", "failed"), (93, 5, 2))[0]
                session.add(OutboxMessage(
                    broadcast_id=broadcast.id, resident_id=resident_id, chat_id=chat_id,
                    status=status, attempts=1, not_before=when, sent_at=when,
                ))  # fmt: skip


async def _one_export(database: Database, survey: Survey, clock: Callable[[], datetime]) -> None:
    """A CSV export made (and thrown away) so that the register has an entry to show."""

    exporter = Exporter(database, clock=clock)
    plan = await exporter.plan(survey)
    with contextlib.suppress(ExportRefused):  # a small demo panel: the refusal is registered too
        await exporter.write(plan, "csv", DiscardSink(), actor="demo", reason="Trying out the demo")


def _member(
    chooser: random.Random, area: AreaProfile, places: Places, number: int, now: datetime
) -> Resident:
    joined = now - timedelta(minutes=chooser.randrange(WEEKS * 7 * 24 * 60))
    resident = Resident(
        channel=CHANNEL, chat_id=FIRST_CHAT_ID - number, language=chooser.choice(
            ("en", "en", "en", "cy", "pl", "ur")), status="member", step="member", step_data={},
        locality=chooser.choices(*places)[0], consultations_stopped=False,
        joined_at=joined, created_at=joined, updated_at=joined,
    )  # fmt: skip
    resident.profile = [
        ProfileAnswer(
            feature=feature.id,
            value=_pick(chooser, area, feature.id, feature.categories),
            answered_at=joined,
        )
        for feature in FEATURES
    ]
    return resident


def _pick(chooser: random.Random, area: AreaProfile, feature: str, categories: Any) -> str:
    """A category drawn as the census has them, leaning as panels do."""
    ids: list[str] = [c.id for c in categories]
    if feature == ETHNICITY.id:  # the census has broad groups: share each among its categories
        groups = area.population(ETHNIC_GROUP)
        weights = [
            groups.get(ethnic_group_of(i) or "", 0)
            / max(1, len(ethnicities_in_group(ethnic_group_of(i) or "")))
            * (WHITE_BRITISH if i == "white_british" else 1.0)
            for i in ids
        ]
    else:
        census = area.population(feature)
        weights = [(census.get(i, 0) or (0 if census else 1)) * LEAN.get(i, 1.0) for i in ids]
    return chooser.choices(ids, weights if sum(weights) else None)[0]


def _response(chooser: random.Random, member: Resident, survey: Survey, now: datetime) -> SurveyRun:
    sent = now - timedelta(minutes=chooser.randrange(60, 30 * 24 * 60))
    run = SurveyRun(
        resident_id=member.id, survey_id=survey.id, survey_version=survey.version,
        status="submitted", state={}, started_at=sent, updated_at=sent, submitted_at=sent,
        reminders_sent=0,
    )  # fmt: skip
    for question in survey.questions:
        value = _answer(chooser, question)
        if value is not None:
            text = value if question.type == "text" else None
            run.answers.append(
                SurveyAnswer(
                    question_id=question.id,
                    value={"value": value},
                    redacted_text=text,
                    answered_at=sent,
                )
            )
    return run


def _answer(chooser: random.Random, question: Question) -> Any:
    """A plausible answer to any question (None: left out, as notes and stories are)."""
    options = list(question.options())
    if question.type in ("choice", "yes_no", "scale"):
        return int(chooser.choice(options)) if question.type == "scale" else chooser.choice(options)
    if question.type == "multi_choice":
        return sorted(chooser.sample(options, chooser.randint(1, min(3, len(options)))))
    if question.type == "number":
        low = int(question.min or 0)
        return chooser.randint(low, max(low, min(int(question.max or 30), 30)))
    if question.type == "text":
        return chooser.choice(PHRASES)
    return None


def _story(chooser: random.Random, member: Resident, now: datetime) -> Story:
    text = chooser.choice(STORIES)
    moderation = chooser.choices(("approved", "new", "rejected"), (7, 2, 1))[0]
    signifiers = {
        "setting": chooser.choice(("gp", "hospital", "urgent_care", "social_care", "maternity")),
        "feeling": chooser.randint(1, 5),
        "mattered_most": chooser.choice(("listened_to", "dignity", "waiting", "information")),
        "life_stage": chooser.choice(("start_well", "live_well", "age_well")),
        "about_whom": chooser.choice(("me", "someone_i_care_for")),
    }
    return Story(
        resident_id=member.id, language="en", raw_text=text,
        redacted_text=Redactor().redact(text).text, signifiers=signifiers,
        voice_files={"keys": []}, quote_consent=chooser.random() < 0.5, moderation=moderation,
        created_at=now - timedelta(days=chooser.randint(1, 60)),
        moderated_at=None if moderation == "new" else now,
    )  # fmt: skip
