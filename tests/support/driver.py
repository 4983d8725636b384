"""Drive PanelChat like a resident would, without any transport."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field

from bot.services.chat import Inbound, Outcome, Reply, Voice
from bot.services.panel_chat import PanelChat

_update_ids = itertools.count(1)
LAST_ANSWER = "carer:yes"


@dataclass
class ResidentDriver:
    """One resident's chat with a PanelChat service."""

    chat: PanelChat
    chat_id: int
    client_language: str | None = "en"
    display_name: str | None = None
    last: Outcome = field(default_factory=Outcome)

    async def _send(self, **kwargs: object) -> Outcome:
        event = Inbound(
            chat_id=self.chat_id,
            update_key=f"test:{os.getpid()}:{next(_update_ids)}",
            client_language=self.client_language,
            display_name=self.display_name,
            **kwargs,  # type: ignore[arg-type]
        )
        self.last = await self.chat.handle(event)
        return self.last

    async def command(self, name: str, argument: str = "") -> Outcome:
        return await self._send(command=name, argument=argument)

    async def say(self, text: str) -> Outcome:
        return await self._send(text=text)

    async def voice(self, content: bytes) -> Outcome:
        return await self._send(voice=Voice(content))

    async def press(self, button_id: str) -> Outcome:
        return await self._send(button=button_id)

    async def press_label(self, label: str) -> Outcome:
        """Press the button with this label in the newest reply (or edit) that has it."""
        return await self.press(self.button(label))

    def button(self, label: str) -> str:
        """The id of the button with this label in the newest reply (or edit) that has it."""
        replies = [*self.last.replies, *([self.last.edit] if self.last.edit else [])]
        for reply in reversed(replies):
            for row in reply.buttons:
                for button in row:
                    if button.label == label:
                        return button.id
        raise LookupError(f"no button {label!r} in {self.texts()}")

    def labels(self) -> list[str]:
        """Every button label in the newest replies (or edit)."""
        replies = [*self.last.replies, *([self.last.edit] if self.last.edit else [])]
        return [b.label for reply in replies for row in reply.buttons for b in row]

    def texts(self) -> list[str]:
        return [reply.text for reply in self.last.replies]

    def last_reply(self) -> Reply:
        return self.last.replies[-1]

    def button_ids(self) -> list[str]:
        return [b.id for reply in self.last.replies for row in reply.buttons for b in row]


async def reach_postcode(driver: ResidentDriver, *, special: bool = True) -> None:
    """Start, choose English and consent, up to the postcode question."""
    await driver.command("start")
    await driver.press("language:en")
    await driver.press("consent_membership:yes")
    await driver.press(f"consent_special:{'yes' if special else 'no'}")
    await driver.press("consent_consultations:yes")


async def join(
    driver: ResidentDriver, *, special: bool = True, postcode: str = "LS6 1AA", last: bool = True
) -> None:
    """Join the panel with a typical set of answers (all but the last one unless `last`)."""
    await reach_postcode(driver, special=special)
    await driver.say(postcode)
    await driver.press("age_band:65_74")
    await driver.press("sex:female")
    if special:
        await driver.press("ethnicity_group:asian")
        await driver.press("ethnicity:asian_pakistani")
        await driver.press("disability:yes_a_little")
    if last:
        await driver.press(LAST_ANSWER)
