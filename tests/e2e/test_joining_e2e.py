"""Residents join the panel through a real Bot API peer, as they would on Telegram."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from resident import Peer, Resident  # type: ignore[import-not-found]

from tests.e2e.conftest import BotProcess

pytestmark = pytest.mark.e2e


async def step(resident: Resident, action: str, expect: str) -> list[str]:
    """Do one thing and wait until a reply whose text or buttons hold `expect`; return the texts."""
    if action.startswith("press:"):
        await resident.press(action[6:])
    else:
        await resident.send(action)
    texts: list[str] = []
    while not any(expect in text for text in texts):
        message = await resident.next(timeout=10)
        texts.append(" ".join([message.content, *message.buttons()]))
    return texts


def database_rows(data_dir: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(data_dir / "panelbot.db") as connection:
        tables = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return {t: connection.execute(f"SELECT * FROM {t}").fetchall() for t in tables}


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


async def test_a_resident_joins_in_urdu_then_forgets_everything(
    bot: BotProcess, tmp_path: Path
) -> None:
    async with Peer(bot.peer_url, bot.token) as peer:
        bilal = peer.resident(70002, "Bilal", language_code="ur")
        first = await step(bilal, "/start", "English")
        assert "Which language" not in first[0]  # asked in Urdu, from Telegram's language
        await bilal.press("اردو")
        notice = (await bilal.next(timeout=10)).content
        assert "/mydata" in notice and "/forgetme" in notice
        # The consent buttons are in Urdu: press them by position (yes first, then no).
        message = next(m for m in reversed(list(bilal.messages.values())) if m.inline_keyboard)
        await bilal.press(message.buttons()[0])  # first button: yes
        special = await bilal.next(timeout=10)
        await bilal.press(special.buttons()[1])  # no special-category questions
        consultations = await bilal.next(timeout=10)
        await bilal.press(consultations.buttons()[0])
        await bilal.next(timeout=10)  # postcode question
        await bilal.say("LS11 5QR")
        age = await bilal.next(timeout=10)
        assert "1" in age.content and "3" in age.content  # question 1 of 3
        await bilal.press(age.buttons()[2])
        sex = await bilal.next(timeout=10)
        await bilal.press(sex.buttons()[-1])  # prefer not to say
        carer = await bilal.next(timeout=10)
        await bilal.press(carer.buttons()[1])
        welcome = await bilal.next(timeout=10)
        assert "/profile" in welcome.content

        await bilal.command("forgetme")
        confirm = await bilal.next(timeout=10)
        await bilal.press(confirm.buttons()[0])
        await bilal.next(timeout=10)

    rows = database_rows(bot.data_dir)
    dump = repr(rows)
    assert "70002" not in dump
    assert "LS11" not in dump
    assert rows["residents"] == []
