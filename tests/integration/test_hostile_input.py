"""Whatever a resident sends, at any step, the bot answers and its state stays sound."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.services import steps
from bot.services.area import AreaProfile
from bot.services.chat import Inbound, Voice
from bot.services.panel_chat import PanelChat, utc_now
from bot.services.profile import FEATURES, features_for
from bot.services.survey_chat import SurveyChat
from bot.services.survey_library import SurveyLibrary
from bot.services.survey_view import VERBS
from bot.surveys import DEFINITIONS, RunState, load_survey
from storage.database import Database
from storage.files import FileStore
from storage.repositories import ResidentRepository, SurveyRunRepository
from tests.support.driver import ResidentDriver, join

ROOT = Path(__file__).resolve().parents[2]
DEMO_AREA = ROOT / "areas" / "demo"
KNOWN_STEPS = {
    steps.LANGUAGE,
    *steps.CONSENT_STEPS,
    steps.POSTCODE,
    steps.ETHNICITY_GROUP,
    steps.MEMBER,
    steps.FORGET_CONFIRM,
    steps.POSTCODE,
    *(f.id for f in FEATURES),
}
VALID_BUTTONS = [
    "language:en",
    "language:ur",
    "consent_membership:yes",
    "consent_special:yes",
    "consent_special:no",
    "consent_consultations:yes",
    "consent_consultations:no",
    "age_band:25_34",
    "sex:prefer_not",
    "ethnicity_group:mixed",
    "ethnicity:back",
    "ethnicity:mixed_other",
    "disability:no",
    "carer:no",
    "edit:age_band",
    "edit:postcode",
    "forget_confirm:no",
    "resume:yes",
]
HOSTILE_TEXT = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "LS6 1AA",
            "ls6",
            "BD1 1AA",
            "\u202eAA1 6SL",
            "👩‍👩‍👧‍👦" * 50,
            "9" * 4096,
            "'; DROP TABLE residents; --",
            "<b>hi</b>",
            "=cmd|' /C calc'!A0",
            "ا" * 4096,
        ]
    ),
)
EVENTS = st.one_of(
    st.tuples(st.just("text"), HOSTILE_TEXT),
    st.tuples(st.just("button"), st.one_of(st.sampled_from(VALID_BUTTONS), st.text(max_size=80))),
    st.tuples(
        st.just("command"),
        st.sampled_from(["start", "help", "profile", "language", "stop", "mydata", "nonsense"]),
    ),
)
_keys = itertools.count()


async def check_sequence(database: Database, chat_id: int, events: list[tuple[str, str]]) -> None:
    chat = PanelChat(database, area=AreaProfile.load(DEMO_AREA))
    await chat.handle(Inbound(chat_id, f"h:{next(_keys)}", command="start"))
    for kind, value in events:
        event = Inbound(chat_id, f"h:{next(_keys)}", **{kind: value})  # type: ignore[arg-type]
        outcome = await chat.handle(event)
        assert outcome.replies or outcome.notice is not None
        async with database.transaction() as session:
            residents = ResidentRepository(session)
            resident = await residents.by_chat("telegram", chat_id)
            if resident is not None:
                await residents.load_details(resident)
        if resident is None:
            return  # declined or erased: nothing is held, and that is a sound state
        assert resident.step in KNOWN_STEPS
        if resident.status == "member":
            answered = {a.feature for a in resident.profile}
            required = {f.id for f in features_for(bool(resident.step_data.get("special")))}
            assert required <= answered
            assert resident.postcode_district is not None


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=st.lists(EVENTS, max_size=25), chat_id=st.integers(1, 10**12))
async def test_any_sequence_of_events_is_answered_and_state_stays_sound(
    database: Database, events: list[tuple[str, str]], chat_id: int
) -> None:
    await check_sequence(database, chat_id, events)


SURVEY_EVENTS = st.one_of(
    st.tuples(st.just("text"), HOSTILE_TEXT),
    st.tuples(
        st.just("button"),
        st.one_of(
            st.builds(
                "s:{}:{}:{}:{}".format,
                st.integers(-2, 5),
                st.integers(-2, 15),
                st.sampled_from([*sorted(VERBS), "x"]),
                st.integers(0, 12),
            ),
            st.builds(
                "s:{}:{}:{}".format,
                st.integers(0, 5),
                st.integers(-1, 15),
                st.sampled_from(sorted(VERBS)),
            ),
            st.sampled_from(["n:branching", "n:story", "n:nope", "s:", "s:1:1:p:99999999999999"]),
            st.text(max_size=64),
        ),
    ),
    st.tuples(
        st.just("command"),
        st.sampled_from(["surveys", "story", "back", "skip", "pause", "profile", "help"]),
    ),
    st.tuples(st.just("voice"), st.sampled_from([Voice(b"OggS"), Voice(b"")])),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=st.lists(SURVEY_EVENTS, max_size=30))
async def test_hostile_events_mid_survey_are_answered_and_answers_match_the_state(
    database: Database, tmp_path_factory: pytest.TempPathFactory, events: list[tuple[str, object]]
) -> None:
    pets = load_survey(ROOT / "tests" / "fixtures" / "surveys" / "branching.yaml")
    story = load_survey(DEFINITIONS / "story.yaml")
    voice = FileStore(tmp_path_factory.mktemp("voice"))
    surveys = SurveyChat(
        SurveyLibrary({pets.id: pets, story.id: story}), voice_store=voice, clock=utc_now
    )
    chat = PanelChat(database, area=AreaProfile.load(DEMO_AREA), surveys=surveys)
    driver = ResidentDriver(chat, next(_keys) + 10**9)
    await join(driver)
    await driver.press("n:branching")
    for kind, value in events:
        outcome = await chat.handle(
            Inbound(driver.chat_id, f"h:{next(_keys)}", **{kind: value})  # type: ignore[arg-type]
        )
        assert outcome.replies or outcome.notice is not None or outcome.edit is not None
    async with database.transaction() as session:
        resident = await ResidentRepository(session).by_chat("telegram", driver.chat_id)
        assert resident is not None
        runs = await SurveyRunRepository(session).for_resident(resident.id)
    for run in runs:
        stored = {a.question_id: a.value["value"] for a in run.answers}
        if run.survey_id == story.id and run.status == "submitted":
            assert stored == {}  # the story holds the one copy
            continue
        state = RunState.from_json(run.state).to_json()
        assert stored == state["answers"]
