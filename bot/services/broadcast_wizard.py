"""The /broadcast wizard: what to send, to whom, when; a preview with the exact count first.

Each step is a message with buttons (`w:<step>:<value>`), except the message itself, which the
champion types. The draft lives in the database, so a restart loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from bot.i18n import gettext as _
from bot.services.area import AreaProfile
from bot.services.broadcasts import MAX_TEXT, MESSAGE, SURVEY, Broadcasts, Draft, NotAllowed
from bot.services.chat import Button, Outcome, Reply
from bot.services.profile import FEATURES, FEATURES_BY_ID, PREFER_NOT_TO_SAY
from bot.services.quiet_hours import LONDON
from bot.services.roles import Reach
from bot.services.send_time import parse_send_time
from bot.services.survey_library import SurveyLibrary
from bot.services.survey_view import SurveyView
from bot.surveys import Survey
from storage.broadcasts import Audience
from storage.database import Database
from storage.drafts import DraftRepository

PREFIX = "w"
FOLLOW_UP = "follow_up"
TYPED_STEPS = (
    "text",
    "at",
)  # steps answered by typing  # "you said, we did": a message to those who answered a survey
EVERYWHERE, EVERYONE = "*", "*"
# Special-category answers (ethnicity, health) are never used to pick an audience.
AUDIENCE_FEATURES = tuple(f for f in FEATURES if not f.special_category)


def press(step: str, value: str = "") -> str:
    """A wizard button's callback id."""
    return f"{PREFIX}:{step}:{value}"


def _cancel_row() -> tuple[Button, ...]:
    return (Button(press("cancel"), _("Cancel")),)


class BroadcastWizard:
    """Walks a champion through one broadcast."""

    def __init__(
        self,
        database: Database,
        broadcasts: Broadcasts,
        library: SurveyLibrary,
        area: AreaProfile | None,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self.database = database
        self.broadcasts = broadcasts
        self.library = library
        self.area = area
        self.clock = clock

    async def begin(self, chat_id: int) -> Outcome:
        """Start a new draft (any earlier one is dropped)."""
        await self._save(chat_id, {"step": "kind"})
        buttons = (
            (Button(press("kind", MESSAGE), _("A message")),),
            (Button(press("kind", SURVEY), _("An invitation to a survey")),),
            (Button(press("kind", FOLLOW_UP), _("News for those who answered a survey")),),
            _cancel_row(),
        )
        return Outcome([Reply(_("What would you like to send?"), buttons)])

    async def awaiting_text(self, chat_id: int) -> bool:
        """Whether the champion's next typed message is the broadcast's text."""
        draft = await self._load(chat_id)
        return draft is not None and draft.get("step") in TYPED_STEPS

    async def typed(self, chat_id: int, reach: Reach, text: str) -> Outcome:
        """The message to send, or the time to send it, typed by the champion."""
        draft = await self._load(chat_id)
        if draft is None or draft.get("step") not in TYPED_STEPS:
            return Outcome([Reply(_("Send /broadcast to start a new broadcast."))])
        if draft["step"] == "at":
            moment = parse_send_time(text, self.clock())
            if moment is None:
                again = _("Please type a day and time like 24/11 18:30, or a time like 6pm.")
                return Outcome([Reply(again, (_cancel_row(),))])
            return await self._send(chat_id, reach, draft, moment)
        text = text.strip()
        if not text or len(text) > MAX_TEXT:
            limit = _("Please send a message of up to {limit} characters.")
            return Outcome([Reply(limit.format(limit=MAX_TEXT), (_cancel_row(),))])
        draft.update(text=text)
        return await self._ask_place(chat_id, reach, draft)

    async def pressed(self, chat_id: int, reach: Reach, step: str, value: str) -> Outcome:
        """A wizard button."""
        if step == "cancel":
            await self._drop(chat_id)
            return Outcome([Reply(_("Cancelled. Nothing was sent."))], notice=_("Cancelled"))
        draft = await self._load(chat_id)
        if draft is None or draft.get("step") != step:
            return Outcome(notice=_("That button is from an earlier step."), stale=True)
        if step == "kind" and value in (MESSAGE, SURVEY, FOLLOW_UP):
            if value == FOLLOW_UP:
                return await self._ask_survey(chat_id, {**draft, "kind": MESSAGE}, FOLLOW_UP)
            draft.update(kind=value)
            return await self._ask_text_or_survey(chat_id, draft)
        if step == "survey" and value in {s.id for s in self._surveys(draft)}:
            if draft.get("purpose") == FOLLOW_UP:
                return await self._ask_text({**draft, "answered": value}, chat_id)
            draft.update(survey=value)
            return await self._ask_place(chat_id, reach, draft)
        if step == "place" and value in self._places(reach):
            draft.update(place=value)
            if draft.get("answered"):
                return await self._preview(chat_id, reach, draft)
            return await self._ask_who(chat_id, draft)
        if step == "who" and (value == EVERYONE or value in FEATURES_BY_ID):
            return await self._after_who(chat_id, reach, draft, value)
        if step == "value" and self._is_category(draft.get("feature", ""), value):
            draft.update(value=value)
            return await self._preview(chat_id, reach, draft)
        if step == "when" and value == "at":
            await self._save(chat_id, {**draft, "step": "at"})
            ask = _("When? Type a day and time like 24/11 18:30, or a time like 6pm (UK time).")
            return Outcome([Reply(ask, (_cancel_row(),))])
        if step == "when" and value in ("now", "evening", "tomorrow"):
            return await self._send(chat_id, reach, draft, self._moment(value))
        return Outcome(notice=_("That button is from an earlier step."), stale=True)

    # ------------------------------------------------------------------ steps
    async def _ask_text_or_survey(self, chat_id: int, draft: dict[str, Any]) -> Outcome:
        if draft["kind"] == MESSAGE:
            return await self._ask_text(draft, chat_id)
        return await self._ask_survey(chat_id, draft, SURVEY)

    async def _ask_text(self, draft: dict[str, Any], chat_id: int) -> Outcome:
        await self._save(chat_id, {**draft, "step": "text"})
        text = _("Type your message now, as you want residents to read it.")
        return Outcome([Reply(text, (_cancel_row(),))])

    async def _ask_survey(self, chat_id: int, draft: dict[str, Any], purpose: str) -> Outcome:
        draft = {**draft, "step": "survey", "purpose": purpose}
        surveys = self._surveys(draft)
        if not surveys:
            await self._drop(chat_id)
            return Outcome([Reply(_("There are no open surveys to invite people to."))])
        await self._save(chat_id, draft)
        rows = [(Button(press("survey", s.id), SurveyView(s, 0).title),) for s in surveys]
        return Outcome([Reply(_("Which survey?"), (*rows, _cancel_row()))])

    def _surveys(self, draft: dict[str, Any]) -> list[Survey]:
        """Open surveys to invite to; for a follow-up, any survey (closed ones too)."""
        if draft.get("purpose") == FOLLOW_UP:
            return [s for s in self.library.surveys.values() if s.id != self.library.story.id]
        return self.library.open_surveys(self.clock())

    async def _ask_place(self, chat_id: int, reach: Reach, draft: dict[str, Any]) -> Outcome:
        places = self._places(reach)
        if not places:
            await self._drop(chat_id)
            return Outcome([Reply(_("You have no area to send to. Ask the panel team."))])
        await self._save(chat_id, {**draft, "step": "place"})
        rows = [(Button(press("place", place), self._place_name(place)),) for place in places]
        return Outcome([Reply(_("Where?"), (*rows, _cancel_row()))])

    async def _ask_who(self, chat_id: int, draft: dict[str, Any]) -> Outcome:
        await self._save(chat_id, {**draft, "step": "who"})
        rows = [(Button(press("who", EVERYONE), _("Everyone there")),)]
        rows += [(Button(press("who", f.id), _(f.name)),) for f in AUDIENCE_FEATURES]
        text = _("Who should get it? Everyone, or only people in one group?")
        return Outcome([Reply(text, (*rows, _cancel_row()))])

    async def _after_who(
        self, chat_id: int, reach: Reach, draft: dict[str, Any], value: str
    ) -> Outcome:
        if value == EVERYONE:
            draft.pop("feature", None)
            return await self._preview(chat_id, reach, draft)
        feature = FEATURES_BY_ID[value]
        await self._save(chat_id, {**draft, "step": "value", "feature": value})
        rows = [
            (Button(press("value", c.id), _(c.label)),)
            for c in feature.categories
            if c.id != PREFER_NOT_TO_SAY
        ]
        return Outcome([Reply(_(feature.name), (*rows, _cancel_row()))])

    async def _preview(self, chat_id: int, reach: Reach, draft: dict[str, Any]) -> Outcome:
        audience = self._audience(draft)
        try:
            count = await self.broadcasts.preview(audience, reach.localities)
        except NotAllowed:
            await self._drop(chat_id)
            return Outcome([Reply(_("You can only send to people in your own area."))])
        await self._save(chat_id, {**draft, "step": "when"})
        text = _("This will go to {count} members: {who}.").format(
            count=count, who=self._describe(draft)
        )
        if draft.get("text"):
            text = f"{text}\n\n{draft['text']}"
        rows = (
            (Button(press("when", "now"), _("Send now")),),
            (Button(press("when", "evening"), _("Send at 6pm")),),
            (Button(press("when", "tomorrow"), _("Send tomorrow at 10am")),),
            (Button(press("when", "at"), _("Another time")),),
            _cancel_row(),
        )
        return Outcome([Reply(text, rows)])

    async def _send(
        self, chat_id: int, reach: Reach, draft: dict[str, Any], send_at: datetime
    ) -> Outcome:
        made = await self.broadcasts.send(
            Draft(
                kind=draft["kind"],
                audience=self._audience(draft),
                send_at=send_at,
                text=draft.get("text", ""),
                survey_id=draft.get("survey"),
            ),
            actor=f"chat:{chat_id}",
            sender=chat_id,
            allowed=reach.localities,
        )
        await self._drop(chat_id)
        local = send_at.astimezone(LONDON).strftime("%d/%m %H:%M")
        text = _(
            "Done: broadcast {id} to {count} members, from {when}. "
            "Send /broadcasts to follow it or cancel it."
        ).format(id=made.id, count=made.recipients, when=local)
        return Outcome([Reply(text)], notice=_("Scheduled"))

    # ------------------------------------------------------------------ helpers
    def _places(self, reach: Reach) -> list[str]:
        if reach.localities is None:
            return [EVERYWHERE, *(self.area.localities if self.area else ())]
        return list(reach.localities)

    def _place_name(self, place: str) -> str:
        if place == EVERYWHERE:
            return _("Everywhere")
        return self.area.place_name(place) if self.area else place

    @staticmethod
    def _is_category(feature_id: str, value: str) -> bool:
        feature = FEATURES_BY_ID.get(feature_id)
        return feature is not None and feature.category(value) is not None

    @staticmethod
    def _audience(draft: dict[str, Any]) -> Audience:
        place = draft.get("place", EVERYWHERE)
        localities = () if place == EVERYWHERE else (place,)
        feature = draft.get("feature")
        filters = {feature: (draft["value"],)} if feature and "value" in draft else {}
        return Audience(localities, filters, draft.get("answered"))

    def _describe(self, draft: dict[str, Any]) -> str:
        place = self._place_name(draft.get("place", EVERYWHERE))
        answered = self.library.get(draft.get("answered") or "")
        if answered is not None:
            title = SurveyView(answered, 0).title
            return _("{place}, who answered {title}").format(place=place, title=title)
        feature = FEATURES_BY_ID.get(draft.get("feature", ""))
        category = feature.category(draft.get("value", "")) if feature else None
        if feature is None or category is None:
            return place
        return f"{place}, {_(feature.name)}: {_(category.label)}"

    def _moment(self, when: str) -> datetime:
        now = self.clock()
        if when == "now":
            return now
        local = now.astimezone(LONDON)
        if when == "evening":
            moment = datetime.combine(local.date(), time(18, 0), tzinfo=LONDON)
            if moment <= local:
                moment += timedelta(days=1)
        else:
            moment = datetime.combine(local.date() + timedelta(days=1), time(10, 0), tzinfo=LONDON)
        return moment.astimezone(now.tzinfo)

    async def _load(self, chat_id: int) -> dict[str, Any] | None:
        async with self.database.transaction() as session:
            return await DraftRepository(session).get(chat_id)

    async def _save(self, chat_id: int, state: dict[str, Any]) -> None:
        async with self.database.transaction() as session:
            await DraftRepository(session).put(chat_id, state, self.clock())

    async def _drop(self, chat_id: int) -> None:
        async with self.database.transaction() as session:
            await DraftRepository(session).drop(chat_id)
