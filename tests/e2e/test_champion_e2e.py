"""A champion's whole journey through the Bot API peer: an invite code, a link residents join
through, a survey invitation to one locality, residents answering, and the delivery report."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys

import pytest
from resident import NoReply, Peer  # type: ignore[import-not-found]

from tests.e2e.conftest import ROOT, BotProcess
from tests.e2e.journeys import join_by_position, step

pytestmark = pytest.mark.e2e


def invite_code(bot: BotProcess) -> str:
    """A one-time champion code for City Centre, made with the command line."""
    env = {**bot.env, "PANELBOT_AREA_DIR": str(ROOT / "areas" / "demo")}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "role", "invite", "--role", "champion",
         "--localities", "city_centre"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip().split()[-1]


async def test_a_champion_recruits_and_consults_their_own_area(survey_bot: BotProcess) -> None:
    code = invite_code(survey_bot)
    async with Peer(survey_bot.peer_url, survey_bot.token) as peer:
        amina = peer.resident(73001, "Amina", language_code="en")
        await step(amina, f"/champion {code}", "Welcome, community champion for City Centre")
        await amina.command("mylink")
        link = await amina.next(timeout=10, kinds=("message",))
        assert link.media == "document"
        referral = re.search(r"start=(ref_[0-9a-f]+)", link.content)
        assert referral is not None

        near = [peer.resident(73100 + n, f"Near{n}", language_code="en") for n in range(2)]
        far = peer.resident(73200, "Far", language_code="en")
        await asyncio.gather(
            *(join_by_position(r, "en", "LS1 1AA", referral.group(1)) for r in near),
            join_by_position(far, "en", "LS6 1AA"),
        )
        await step(amina, "/mystats", "joined through your link: * (on the panel: *)")

        await step(amina, "/broadcast", "What would you like to send?")
        await step(amina, "press:An invitation to a survey", "Which survey?")
        await step(amina, "press:Getting to appointments", "Where?")
        await step(amina, "press:City Centre", "Who should get it?")
        await step(amina, "press:Everyone there", "This will go to 2 members: City Centre.")
        await step(amina, "press:Send now", "Done: broadcast")

        for resident in near:
            invitation = await resident.next(timeout=15, kinds=("message",))
            assert "There is a new survey for you: Getting to appointments" in invitation.content
            assert invitation.buttons() == ["Start the survey"]
        with pytest.raises(NoReply):
            await far.next(timeout=2, kinds=("message",))

        first = near[0]
        await step(first, "press:Start the survey", "How do you get to appointments?")
        await first.press("Car")
        await first.next(timeout=10, kinds=("edit",))
        await step(first, "press:Done", "How many minutes")
        await step(first, "20", "missed one because of transport")
        await step(first, "press:No", "How easy")
        await step(first, "press:4", "Please check your answers")
        await step(first, "press:Send my answers", "Thank you! Your answers have been sent.")

        report = await step(amina, "/broadcasts", "Broadcast 1: sent 2")
        assert "answered 1" in report[-1]
