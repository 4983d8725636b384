"""Whatever a resident sends, at any step, the bot answers and its state stays sound."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.services import steps
from bot.services.area import AreaProfile
from bot.services.chat import Inbound
from bot.services.panel_chat import PanelChat
from bot.services.profile import FEATURES, features_for
from storage.database import Database
from storage.repositories import ResidentRepository

DEMO_AREA = Path(__file__).resolve().parents[2] / "areas" / "demo"
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
            resident = await ResidentRepository(session).by_chat("telegram", chat_id)
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
