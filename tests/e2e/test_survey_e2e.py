"""Surveys and stories through a real Bot API peer: a survey file the bot has never seen, a
kill -9 in the middle, several languages, and a story with a voice note."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from resident import Peer  # type: ignore[import-not-found]

from tests.e2e.conftest import BotProcess
from tests.e2e.journeys import join_by_position, press_nth, step

pytestmark = pytest.mark.e2e


def stored_answers(data_dir: Path) -> dict[str, object]:
    with sqlite3.connect(data_dir / "panelbot.db") as connection:
        rows = connection.execute("SELECT question_id, value FROM survey_answers").fetchall()
    return {question: json.loads(value)["value"] for question, value in rows}


async def test_a_new_survey_file_is_answered_with_a_kill_in_the_middle(
    survey_bot: BotProcess,
) -> None:
    async with Peer(survey_bot.peer_url, survey_bot.token) as peer:
        dora = peer.resident(71001, "Dora", language_code="en")
        await join_by_position(dora, "en")
        await step(dora, "/surveys", "Getting to appointments")
        await step(dora, "press:Getting to appointments", "Question 1 of 4")
        await dora.press("Bus")
        ticked = await dora.next(timeout=10, kinds=("edit",))
        assert "✅ Bus" in ticked.buttons()
        await dora.press("Walk", message=ticked)
        await dora.next(timeout=10, kinds=("edit",))
        await step(dora, "press:Done", "How many minutes")
        await step(dora, "about an hour", "Please type a number")
        await step(dora, "45", "missed one because of transport")

        survey_bot.kill()  # kill -9 mid-survey: everything answered so far was committed
        assert stored_answers(survey_bot.data_dir) == {"how": ["bus", "walk"], "minutes": 45}
        survey_bot.start()

        await step(dora, "/surveys", "Carry on: Getting to appointments")
        await step(dora, "press:Carry on: Getting to appointments", "Question 3 of")
        await step(dora, "press:Yes", "What happened?")
        await step(dora, "The 42 bus never came", "How easy")
        await step(dora, "press:2", "Please check your answers")
        await step(dora, "press:Send my answers", "Thank you! Your answers have been sent.")
    assert stored_answers(survey_bot.data_dir) == {
        "how": ["bus", "walk"],
        "minutes": 45,
        "missed": "yes",
        "what_happened": "The 42 bus never came",
        "ease": 2,
    }


async def test_a_polish_resident_answers_in_polish_and_tells_a_story_with_a_voice_note(
    survey_bot: BotProcess,
) -> None:
    async with Peer(survey_bot.peer_url, survey_bot.token) as peer:
        ewa = peer.resident(71002, "Ewa", language_code="pl")
        await join_by_position(ewa, "pl")
        await ewa.command("surveys")
        listing = await ewa.next(timeout=10, kinds=("message",))
        assert listing.buttons() == ["Dojazd na wizyty"]
        await ewa.press("Dojazd na wizyty")
        opening = await ewa.next(timeout=10, kinds=("message",))
        assert opening.content.startswith("Dojazd na wizyty")
        question = await ewa.next(timeout=10, kinds=("message",))
        assert "Jak dojeżdżasz na wizyty?" in question.content
        await ewa.command("pause")
        paused = await ewa.next(timeout=10, kinds=("message",))
        assert "/surveys" in paused.content and "Paused" not in paused.content

        await ewa.command("story")
        await ewa.next(timeout=10, kinds=("message",))  # title and introduction
        ask = await ewa.next(timeout=10, kinds=("message",))
        assert "Opowiedz nam własnymi słowami" in ask.content
        upload = await peer.upload(b"OggS-voice-note", "voice.ogg", "audio/ogg")
        voice = {key: upload[key] for key in ("file_id", "file_unique_id", "file_size")}
        await peer._post("/sendMessage", {**ewa._base(), "voice": {**voice, "duration": 3}})
        thanks = await ewa.next(timeout=10, kinds=("message",))
        assert thanks.buttons()[0] == "Gotowe"
        setting = await press_nth(ewa, thanks, 0)
        assert "Szpital" in setting.buttons()
    voice_files = list((survey_bot.data_dir / "voice").iterdir())
    assert [f.read_bytes() for f in voice_files] == [b"OggS-voice-note"]
