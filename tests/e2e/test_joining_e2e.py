"""Residents join the panel through a real Bot API peer, as they would on Telegram."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from resident import Peer  # type: ignore[import-not-found]

from tests.e2e.conftest import BotProcess
from tests.e2e.journeys import database_rows, press_nth, step

pytestmark = pytest.mark.e2e


async def test_a_resident_joins_in_english_with_a_restart_in_the_middle(
    bot: BotProcess, tmp_path: Path
) -> None:
    async with Peer(bot.peer_url, bot.token) as peer:
        alice = peer.resident(70001, "Alice", language_code="en-GB")
        await step(alice, "/start ref_riverside", "Which language")
        await step(alice, "press:English", "Do you agree to join the panel?")
        await step(alice, "what?", "Do you agree to join the panel?")
        await step(alice, "press:Yes, I agree", "ethnic group and your health")
        await step(alice, "press:Yes, you may ask", "consultations and surveys")
        await step(alice, "press:Yes, send them", "What is your postcode?")
        await step(alice, "not a postcode", "doesn't look like a UK postcode")
        await step(alice, "ls6 1aa", "How old are you?")
        await step(alice, "press:65 to 74", "Are you")

        bot.kill()  # kill -9 in the middle of joining
        bot.start()

        await step(alice, "press:A woman", "ethnic group")
        await step(alice, "press:White", "Irish")
        await step(alice, "press:Irish", "reduces your ability")
        await step(alice, "press:No", "look after")
        await step(alice, "press:Yes", "Welcome to the panel")

        await alice.command("mydata")
        document = await alice.next(timeout=10)
        data = json.loads(await peer.download(document.file_id))
        assert data["status"] == "member"
        assert data["postcode_district"] == "LS6"
        assert data["recruited_through"] == "riverside"
        assert data["profile"] == {
            "age_band": "65_74",
            "carer": "yes",
            "disability": "no",
            "ethnicity": "white_irish",
            "sex": "female",
        }


async def test_a_resident_joins_in_urdu_then_forgets_everything(bot: BotProcess) -> None:
    async with Peer(bot.peer_url, bot.token) as peer:
        bilal = peer.resident(70002, "Bilal", language_code="ur")

        await bilal.command("start")
        languages = await bilal.next(timeout=10)
        assert "Which language" not in languages.content  # asked in Urdu, from Telegram's language
        notice = await press_nth(bilal, languages, 3)  # اردو
        assert "/mydata" in notice.content
        assert "/forgetme" in notice.content
        special = await press_nth(bilal, notice, 0)  # yes, join
        consultations = await press_nth(bilal, special, 1)  # no special-category questions
        await press_nth(bilal, consultations, 0)  # yes, send consultations
        age = await bilal.ask("LS11 5QR")
        assert "3" in age[-1].content  # question 1 of 3: ethnicity and health are skipped
        sex = await press_nth(bilal, age[-1], 2)
        carer = await press_nth(bilal, sex, 3)  # prefer not to say
        welcome = await press_nth(bilal, carer, 1)
        assert "/profile" in welcome.content

        await bilal.command("forgetme")
        confirm = await bilal.next(timeout=10, kinds=("message",))
        goodbye = await press_nth(bilal, confirm, 0)
        assert "/start" in goodbye.content

    rows = database_rows(bot.data_dir)
    assert rows["residents"] == []
    assert rows["consent_records"] == []
    assert rows["profile_answers"] == []
    dump = repr(rows)
    assert "70002" not in dump
    assert "LS11" not in dump


async def test_webhook_mode_serves_residents(peer_url: str, tmp_path: Path) -> None:
    process = BotProcess(peer_url, "555:WEBHOOK", tmp_path / "data", tmp_path / "bot.log")
    process.start("--webhook", process.webhook_url())
    try:
        async with Peer(peer_url, process.token) as peer:
            carol = peer.resident(70003, "Carol", language_code="cy")
            await carol.command("start")
            languages = await carol.next(timeout=10)
            assert languages.buttons() == ["English", "Cymraeg", "Polski", "اردو"]
            await carol.press("Cymraeg")
            notice = await carol.next(timeout=10, kinds=("message",))
            assert "/forgetme" in notice.content
            assert "Do you agree" not in notice.content  # in Welsh
    finally:
        process.stop()
