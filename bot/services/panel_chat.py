"""The resident conversation: joining the panel and the member commands, transport-free."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from bot.i18n import LANGUAGE_CODES, language, language_by_code, negotiate, set_language
from bot.i18n import gettext as _
from bot.services import steps
from bot.services.area import AreaProfile
from bot.services.chat import Button, Inbound, Outcome, Reply
from bot.services.notice import NOTICE_SHA256, NOTICE_VERSION
from bot.services.postcode import parse_postcode
from bot.services.privacy import data_export
from bot.services.profile import (
    ETHNIC_GROUPS,
    ETHNICITY,
    FEATURES_BY_ID,
    PREFER_NOT_TO_SAY,
    features_for,
)
from bot.services.quick_answers import QuickAnswers
from bot.services.quotas import Quotas
from bot.services.recruitment import Recruitment
from bot.services.survey_chat import SurveyChat, Turn, voice_keys_of
from bot.services.survey_view import START_PREFIX, parse_press
from storage.database import Database
from storage.models import ConsentRecord, Resident
from storage.repositories import (
    PanelRepository,
    ResidentRepository,
    SurveyRunRepository,
    UpdateLog,
)

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
REFERRAL_PREFIX = "ref_"
MAX_REFERRAL_LENGTH = 64


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


MEMBER, RESERVE, ON_PANEL = steps.MEMBER_STATUS, steps.RESERVE_STATUS, steps.ON_PANEL
SURVEY_COMMANDS = ("back", "skip", "pause")
MEMBER_COMMANDS = ("profile", "surveys", "story", *SURVEY_COMMANDS)


class PanelChat:
    """Handles one inbound event per call, in one transaction, and says what to answer."""

    def __init__(
        self,
        db: Database,
        *,
        channel: str = "telegram",
        area: AreaProfile | None = None,
        store_full_postcode: bool = False,
        surveys: SurveyChat | None = None,
        panel_size: int | None = None,
        clock: Clock = utc_now,
        quick_answers: bool = True,
    ) -> None:
        self.db = db
        self.surveys = surveys
        quotas = Quotas.from_area(area, panel_size) if area is not None else None
        self.recruitment = Recruitment(quotas) if quotas is not None else None
        self.channel = channel
        self.area = area
        self.store_full_postcode = store_full_postcode
        self.clock = clock
        store = db.answers
        self.quick = (
            QuickAnswers(store, surveys, channel=channel, clock=clock)
            if quick_answers and store is not None and surveys is not None
            else None
        )

    async def handle(self, event: Inbound) -> Outcome:
        """Apply one event and return the replies; a redelivered event changes nothing."""
        if self.quick is not None:
            outcome = await self.quick.handle(event)
            if outcome is not None:
                return outcome
        async with self.db.transaction() as session:
            residents = ResidentRepository(session)
            resident = await residents.by_chat(self.channel, event.chat_id)
            lang = resident.language if resident else negotiate(event.client_language)
            with language(lang):
                turn = (
                    Turn(SurveyRunRepository(session), resident, event.names) if resident else None
                )
                if not await UpdateLog(session).first_time(event.update_key, self.clock()):
                    log.info("duplicate update %s ignored", event.update_key)
                    return Outcome(await self._where_you_are(turn))
                outcome = await self._dispatch(residents, resident, event, turn)
                if outcome.stale and not outcome.replies:
                    # An old button: say so, and show where they are (after a lost reply, the
                    # button they press again is already answered, and they would be stuck).
                    outcome.replies.extend(await self._where_you_are(turn))
                if resident is not None and resident in session and resident not in session.deleted:
                    await residents.touch(resident, self.clock())
        return outcome

    # ------------------------------------------------------------------ routing
    async def _dispatch(
        self,
        residents: ResidentRepository,
        resident: Resident | None,
        event: Inbound,
        turn: Turn | None,
    ) -> Outcome:
        if resident is None or turn is None:
            if event.command in {"mydata", "forgetme"}:
                return self._say(_("We do not hold any information about you."))
            if event.command == "help":
                return self._say(self._help_text())
            return self._begin(residents, event)
        if resident.status in ON_PANEL:
            routed = await self._survey_route(residents, turn, event)
            if routed is not None:
                return routed
        await residents.load_details(resident)
        if event.voice is not None:
            return self._with_prompt(resident, _("Sorry, I can only take voice notes for stories."))
        if event.command is not None:
            return await self._command(residents, resident, event)
        if event.button is not None:
            return await self._button(residents, resident, event.button)
        return await self._text(residents, resident, event.text or "")

    async def _survey_route(
        self, residents: ResidentRepository, turn: Turn, event: Inbound
    ) -> Outcome | None:
        """Survey commands, buttons and answers of a member (None: not about surveys)."""
        starting = (event.button or "").startswith(f"{START_PREFIX}:")
        if turn.resident.status == RESERVE and (event.command == "surveys" or starting):
            return self._say(self._on_reserve_text())
        surveys = self.surveys
        if surveys is None:
            return None
        if event.command == "surveys":
            await residents.load_details(turn.resident)
            return await surveys.list_open(turn)
        if event.command == "story":
            return await surveys.start_story(turn)
        if event.button is not None:
            press = parse_press(event.button)
            if press is not None:
                return await surveys.press(turn, press)
            prefix, _sep, survey_id = event.button.partition(":")
            if prefix != START_PREFIX:
                return None
            await residents.load_details(turn.resident)
            return await surveys.start_survey(turn, survey_id)
        if turn.resident.step != steps.MEMBER:
            return None  # changing the profile or confirming erasure comes first
        run = await surveys.active(turn)
        if event.command in SURVEY_COMMANDS:
            if run is None:
                return self._say(
                    _("You are not answering a survey just now. Send /surveys to see what is open.")
                )
            return await surveys.command(turn, run, event.command)
        if run is None:
            if event.voice is not None:
                return self._say(_("To share a story by voice note, send /story first."))
            return None
        if event.voice is not None:
            return await surveys.voice(turn, run, event.voice)
        if event.command is None:
            return await surveys.text(turn, run, event.text or "")
        if event.command in ("forgetme", "stop"):
            return None
        await residents.load_details(turn.resident)
        outcome = await self._command(residents, turn.resident, event)
        choice = surveys.carry_on_or_pause(run)
        if choice is not None:
            outcome.replies.append(choice)
        return outcome

    async def _where_you_are(self, turn: Turn | None) -> list[Reply]:
        """What a resident was last asked, sent again after a redelivered update."""
        if turn is None:
            return []
        resident = turn.resident
        if self.surveys is not None and resident.step == steps.MEMBER:
            run = await self.surveys.active(turn)
            return self.surveys.where_you_are(run) if run is not None else []
        return self._current_prompt(resident)

    async def _command(
        self, residents: ResidentRepository, resident: Resident, event: Inbound
    ) -> Outcome:
        name = event.command
        if name == "start":
            return self._restart(resident)
        if name == "language":
            return Outcome([steps.language_prompt()])
        if name == "help":
            return self._with_prompt(resident, self._help_text())
        if name in MEMBER_COMMANDS and resident.status not in ON_PANEL:
            return self._with_prompt(resident, _("Let's finish joining first."))
        if name == "profile":
            return Outcome([self._profile_summary(resident)])
        if name == "stop":
            return self._stop(residents, resident)
        if name == "mydata":
            text = _("Here is everything we hold about you.")
            runs = SurveyRunRepository(residents.session)
            document = data_export(
                resident, await runs.for_resident(resident.id), await runs.stories_of(resident.id)
            )
            return Outcome([Reply(text, document=document)])
        if name == "forgetme":
            if resident.step != steps.FORGET_CONFIRM:
                resident.step_data = {**resident.step_data, "before_forget": resident.step}
                resident.step = steps.FORGET_CONFIRM
            return Outcome([steps.forget_prompt()])
        return self._with_prompt(
            resident, _("Sorry, I don't know that command. Send /help to see what I can do.")
        )

    async def _button(
        self, residents: ResidentRepository, resident: Resident, data: str
    ) -> Outcome:
        step, _sep, value = data.partition(":")
        if step == steps.LANGUAGE:
            return self._choose_language(resident, value)
        if step == "edit" and resident.status in ON_PANEL:
            return self._start_edit(resident, value)
        if step == "resume" and resident.status in ON_PANEL:
            return self._resume_consultations(residents, resident)
        if step != resident.step:
            return self._stale()
        if step == steps.FORGET_CONFIRM:
            return await self._forget(residents, resident, value)
        if step in steps.CONSENT_STEPS:
            return await self._consent(residents, resident, step, value)
        if step == steps.ETHNICITY_GROUP:
            return await self._ethnicity_group(residents, resident, value)
        if step in FEATURES_BY_ID:
            return await self._feature_answer(residents, resident, step, value)
        return self._stale()

    async def _text(self, residents: ResidentRepository, resident: Resident, text: str) -> Outcome:
        if resident.step == steps.POSTCODE:
            return await self._postcode(residents, resident, text)
        if resident.step == steps.MEMBER:
            return self._say(
                _(
                    "Thank you for your message. There is nothing to answer just now. "
                    "Send /help to see what you can do."
                )
            )
        return self._with_prompt(resident, _("Please choose one of the buttons below."))

    # ------------------------------------------------------------------ joining
    def _begin(self, residents: ResidentRepository, event: Inbound) -> Outcome:
        now = self.clock()
        referral = None
        if event.command == "start" and event.argument.startswith(REFERRAL_PREFIX):
            code = event.argument[len(REFERRAL_PREFIX) :]
            if code and len(code) <= MAX_REFERRAL_LENGTH and code.replace("_", "").isalnum():
                referral = code
        resident = Resident(
            channel=self.channel,
            chat_id=event.chat_id,
            language=negotiate(event.client_language),
            status="joining",
            step=steps.LANGUAGE,
            step_data={},
            referral_code=referral,
            consultations_stopped=False,
            created_at=now,
            updated_at=now,
        )
        residents.add(resident)
        resident.profile = []
        resident.consents = []
        return Outcome([steps.language_prompt()])

    def _restart(self, resident: Resident) -> Outcome:
        if resident.status == RESERVE:
            return self._say(self._on_reserve_text())
        if resident.status == MEMBER:
            text = _(
                "You are already a member of the panel. Thank you! "
                "Send /help to see what you can do."
            )
            if resident.consultations_stopped:
                more = _("You asked us not to send consultations. Would you like them again?")
                button = Button("resume:yes", _("Yes, send me consultations"))
                return Outcome([Reply(f"{text}\n\n{more}", ((button,),))])
            return self._say(text)
        return self._with_prompt(resident, _("Welcome back! Let's carry on where we left off."))

    def _choose_language(self, resident: Resident, code: str) -> Outcome:
        if code not in LANGUAGE_CODES:
            return Outcome(notice=_("Please choose one of the buttons below."))
        resident.language = code
        set_language(code)
        outcome = Outcome(notice=language_by_code(code).native_name)
        if resident.step == steps.LANGUAGE:
            resident.step = steps.CONSENT_MEMBERSHIP
            outcome.replies.append(steps.consent_prompt(steps.CONSENT_MEMBERSHIP))
            return outcome
        outcome.replies.append(Reply(_("I will write to you in English from now on.")))
        outcome.replies.extend(self._current_prompt(resident))
        return outcome

    async def _consent(
        self, residents: ResidentRepository, resident: Resident, step: str, value: str
    ) -> Outcome:
        if value not in (steps.YES, steps.NO):
            return self._with_prompt(resident, _("Please choose one of the buttons below."))
        granted = value == steps.YES
        if step == steps.CONSENT_MEMBERSHIP and not granted:
            return await self._decline(residents, resident)
        residents.record_consent(resident, self._consent_record(steps.CONSENT_STEPS[step], granted))
        if step == steps.CONSENT_MEMBERSHIP:
            resident.step = steps.CONSENT_SPECIAL
        elif step == steps.CONSENT_SPECIAL:
            resident.step_data = {**resident.step_data, "special": granted}
            resident.step = steps.CONSENT_CONSULTATIONS
        else:
            resident.consultations_stopped = not granted
            resident.step = steps.POSTCODE
        return Outcome(self._current_prompt(resident), notice=_("Thank you"))

    async def _decline(self, residents: ResidentRepository, resident: Resident) -> Outcome:
        await residents.erase(resident)
        return self._say(
            _(
                "That's fine. We have not kept anything about you. "
                "If you change your mind, send /start at any time."
            )
        )

    def _consent_record(self, purpose: str, granted: bool) -> ConsentRecord:
        return ConsentRecord(
            purpose=purpose,
            granted=granted,
            notice_version=NOTICE_VERSION,
            notice_sha256=NOTICE_SHA256,
            channel=self.channel,
            recorded_at=self.clock(),
        )

    async def _postcode(
        self, residents: ResidentRepository, resident: Resident, text: str
    ) -> Outcome:
        postcode = parse_postcode(text)
        if postcode is None:
            return self._with_prompt(
                resident, _("Sorry, that doesn't look like a UK postcode. Please try again.")
            )
        place = None
        if self.area is not None:
            place = self.area.place_of(postcode)
            if place is None:
                return self._with_prompt(
                    resident,
                    _(
                        "Sorry, {district} is outside the area this panel covers. "
                        "Please check the postcode and try again."
                    ).format(district=postcode.district),
                )
        resident.postcode_district = postcode.district
        resident.postcode_full = postcode.full if self.store_full_postcode else None
        resident.locality = place.locality.id if place else None
        resident.imd_quintile = place.imd_quintile if place else None
        return await self._next_feature(residents, resident, after=None)

    async def _ethnicity_group(
        self, residents: ResidentRepository, resident: Resident, value: str
    ) -> Outcome:
        if value == PREFER_NOT_TO_SAY:
            return await self._feature_answer(residents, resident, ETHNICITY.id, value)
        if value not in {g.id for g in ETHNIC_GROUPS}:
            return self._with_prompt(resident, _("Please choose one of the buttons below."))
        resident.step_data = {**resident.step_data, "ethnic_group": value}
        resident.step = ETHNICITY.id
        return Outcome(self._current_prompt(resident))

    async def _feature_answer(
        self, residents: ResidentRepository, resident: Resident, feature_id: str, value: str
    ) -> Outcome:
        feature = FEATURES_BY_ID[feature_id]
        if feature_id == ETHNICITY.id and value == steps.BACK:
            resident.step = steps.ETHNICITY_GROUP
            return Outcome(self._current_prompt(resident))
        category = feature.category(value)
        if category is None:
            return self._with_prompt(resident, _("Please choose one of the buttons below."))
        residents.set_answer(resident, feature_id, category.id, self.clock())
        if resident.step_data.get("editing"):
            resident.step = steps.MEMBER
            resident.step_data = {k: v for k, v in resident.step_data.items() if k != "editing"}
            return Outcome(
                [Reply(_("Thank you, your answer is changed.")), self._profile_summary(resident)]
            )
        return await self._next_feature(residents, resident, after=feature_id)

    async def _next_feature(
        self, residents: ResidentRepository, resident: Resident, after: str | None
    ) -> Outcome:
        asked = [f.id for f in features_for(bool(resident.step_data.get("special")))]
        index = 0 if after is None else asked.index(after) + 1
        if resident.step_data.get("editing") and after is None:
            resident.step = steps.MEMBER
            resident.step_data = {k: v for k, v in resident.step_data.items() if k != "editing"}
            return Outcome(
                [Reply(_("Thank you, your answer is changed.")), self._profile_summary(resident)]
            )
        if index >= len(asked):
            return await self._welcome(residents, resident)
        next_id = asked[index]
        resident.step = steps.ETHNICITY_GROUP if next_id == ETHNICITY.id else next_id
        return Outcome(self._current_prompt(resident), notice=_("Thank you"))

    async def _welcome(self, residents: ResidentRepository, resident: Resident) -> Outcome:
        resident.step = steps.MEMBER
        resident.joined_at = self.clock()
        if self.recruitment is not None:
            full = await self.recruitment.full_groups(PanelRepository(residents.session), resident)
            if full:
                resident.status = RESERVE
                return self._say(self._reserve_text())
        resident.status = MEMBER
        if resident.consultations_stopped:
            next_steps = _(
                "You asked us not to send consultations, so we won't. "
                "You can tell us your story at any time."
            )
        else:
            next_steps = _(
                "When there is a survey or consultation for you, it will arrive here. "
                "It usually takes a few minutes to answer."
            )
        text = _(
            "Welcome to the panel, and thank you for joining!\n\n{next_steps}\n\n"
            "Send /profile to see or change your answers, or /help for everything else."
        ).format(next_steps=next_steps)
        return self._say(text)

    @staticmethod
    def _on_reserve_text() -> str:
        return _(
            "You are on our reserve list: we will tell you as soon as a place opens. "
            "You can tell us your story at any time with /story."
        )

    @staticmethod
    def _reserve_text() -> str:
        return _(
            "Thank you for joining! Right now the panel already has enough people like you, "
            "so we have put you on our reserve list. We will tell you as soon as a place "
            "opens.\n\nYou can still tell us your story at any time with /story."
        )

    # ------------------------------------------------------------------ members
    def _profile_summary(self, resident: Resident) -> Reply:
        answers = {a.feature: a.value for a in resident.profile}
        lines = [
            _("Your answers:"),
            _("Postcode district: {district}").format(district=resident.postcode_district or "-"),
        ]
        buttons: list[Button] = [Button("edit:postcode", _("Change postcode"))]
        for feature in features_for(bool(resident.step_data.get("special"))):
            category = feature.category(answers.get(feature.id, ""))
            shown = _(category.label) if category else "-"
            lines.append(_("{feature}: {answer}").format(feature=_(feature.name), answer=shown))
            label = _("Change: {feature}").format(feature=_(feature.name))
            buttons.append(Button(f"edit:{feature.id}", label))
        return Reply("\n".join(lines), steps.one_per_row(buttons))

    def _start_edit(self, resident: Resident, feature_id: str) -> Outcome:
        special = bool(resident.step_data.get("special"))
        allowed = {f.id for f in features_for(special)} | {steps.POSTCODE}
        if feature_id not in allowed:
            return self._stale()
        resident.step_data = {**resident.step_data, "editing": True}
        resident.step = steps.ETHNICITY_GROUP if feature_id == ETHNICITY.id else feature_id
        return Outcome(self._current_prompt(resident))

    def _stop(self, residents: ResidentRepository, resident: Resident) -> Outcome:
        if not resident.consultations_stopped:
            residents.record_consent(resident, self._consent_record("consultations", False))
            resident.consultations_stopped = True
        text = _(
            "Done: we won't send you any more consultations. You are still on the panel. "
            "Send /start if you want them again, or /forgetme to delete everything."
        )
        return self._say(text)

    def _resume_consultations(self, residents: ResidentRepository, resident: Resident) -> Outcome:
        if resident.consultations_stopped:
            residents.record_consent(resident, self._consent_record("consultations", True))
            resident.consultations_stopped = False
        return self._say(_("Thank you! We will send you consultations again."))

    async def _forget(
        self, residents: ResidentRepository, resident: Resident, value: str
    ) -> Outcome:
        if value == steps.YES:
            runs = SurveyRunRepository(residents.session)
            voice_keys = await voice_keys_of(runs, resident.id)
            leaving_member = resident.status == MEMBER
            await residents.erase(resident)
            if leaving_member and self.recruitment is not None:
                await residents.session.flush()  # their place is free for the reserve list
                await self.recruitment.draw_and_tell(
                    PanelRepository(residents.session), self.clock()
                )
            if self.surveys is not None:
                self.surveys.delete_voice(voice_keys)
            return self._say(
                _(
                    "Everything we held about you has been deleted. Thank you for your time. "
                    "If you ever want to join again, send /start."
                )
            )
        resident.step = resident.step_data.get("before_forget", steps.LANGUAGE)
        resident.step_data = {k: v for k, v in resident.step_data.items() if k != "before_forget"}
        return self._with_prompt(resident, _("Nothing has been deleted."))

    # ------------------------------------------------------------------ prompts
    def _current_prompt(self, resident: Resident) -> list[Reply]:
        step = resident.step
        if step == steps.LANGUAGE:
            return [steps.language_prompt()]
        if step in steps.CONSENT_STEPS:
            return [steps.consent_prompt(step)]
        if step == steps.POSTCODE:
            return [steps.postcode_prompt()]
        if step == steps.FORGET_CONFIRM:
            return [steps.forget_prompt()]
        if step == steps.MEMBER:
            return []
        asked = [f.id for f in features_for(bool(resident.step_data.get("special")))]
        feature_id = ETHNICITY.id if step == steps.ETHNICITY_GROUP else step
        number = asked.index(feature_id) + 1 if feature_id in asked else 1
        group = resident.step_data.get("ethnic_group")
        return [steps.feature_prompt(step, number, len(asked), group)]

    def _with_prompt(self, resident: Resident, text: str) -> Outcome:
        return Outcome([Reply(text), *self._current_prompt(resident)])

    def _help_text(self) -> str:
        return _(
            "I am the panel's assistant. You can send:\n"
            "/surveys – surveys open for you\n"
            "/story – tell us your story, in your own words\n"
            "/back, /skip, /pause – go back, skip a question, or pause a survey\n"
            "/profile – see or change your answers\n"
            "/language – choose another language\n"
            "/stop – stop receiving consultations\n"
            "/mydata – get a copy of everything we hold about you\n"
            "/forgetme – delete everything we hold about you\n"
            "/help – this message"
        )

    @staticmethod
    def _stale() -> Outcome:
        return Outcome(notice=_("That question has already been answered."), stale=True)

    @staticmethod
    def _say(text: str) -> Outcome:
        return Outcome([Reply(text)])


def apology(client_language: str | None) -> str:
    """What a resident is told when something failed on our side (nothing they sent is lost)."""
    with language(negotiate(client_language)):
        return _(
            "Sorry, something went wrong on our side. "
            "Please send your last answer again in a minute."
        )
