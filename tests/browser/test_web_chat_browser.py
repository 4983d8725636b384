"""The web chat in a real browser, on `panelbot run` without a Telegram token (the demo):
joining and a whole survey in English and in Urdu, a reload in the middle, no JavaScript needed,
and axe-core's WCAG 2.2 AA checks. Screenshots are kept in artifacts/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from tests.browser.conftest import axe_violations, serving, shot

pytestmark = pytest.mark.browser
LATEST = "li.message:last-child"
SENT = {"en": "Thank you! Your answers have been sent.", "ur": "شکریہ"}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    """`panelbot run` with no token: the web chat and dashboard on the demo area."""
    with serving("run", tmp_path / "data") as base:
        yield base


async def press(page: Page, value: str) -> None:
    """Press the button that sends this value, and wait for the page it leads to."""
    async with page.expect_navigation():
        await page.locator(f'button[value="{value}"]').last.click()


async def type_and_send(page: Page, text: str) -> None:
    await page.locator("textarea#text").fill(text)
    async with page.expect_navigation():
        await page.locator("form.reply button[type=submit]").click()


async def join(page: Page, lang: str) -> None:
    """From the welcome page to a member, pressing buttons by what they send (any language)."""
    async with page.expect_navigation():
        await page.locator("button.big").click()
    for value in (f"language:{lang}", "consent_membership:yes", "consent_special:yes",
                  "consent_consultations:yes"):  # fmt: skip
        await press(page, value)
    await type_and_send(page, "LS1 1AA")
    for value in ("age_band:25_34", "sex:male", "ethnicity_group:asian",
                  "ethnicity:asian_pakistani", "disability:no", "carer:no"):  # fmt: skip
        await press(page, value)


async def answer_survey(page: Page, reload_after: int) -> None:
    """Answer whatever the survey asks (buttons by their values), reloading once on the way."""
    for step in range(60):
        if step == reload_after:
            shown = await page.locator(LATEST).inner_text()
            await page.reload()
            assert await page.locator(LATEST).inner_text() == shown  # resumed where it was
        values = await page.locator(f"{LATEST} button[name=button]").evaluate_all(
            "buttons => buttons.map(b => [b.value, b.textContent])"
        )
        verbs = {value.split(":")[3]: value for value, _label in values if value.startswith("s:")}
        ticked = any(label.startswith("✅") for _value, label in values)
        if "u" in verbs:
            await press(page, verbs["u"])  # send my answers
            return
        if "t" in verbs and not ticked:
            await press(page, verbs["t"])  # tick one option
        elif "p" in verbs or "n" in verbs:
            await press(page, verbs.get("p") or verbs["n"])
        elif "f" in verbs and ticked:
            await press(page, verbs["f"])
        else:  # a number, some text or a story: "3" answers them all
            await type_and_send(page, "3")
            if "f" in verbs:
                await press(page, verbs["f"])
    raise AssertionError("the survey did not end")


@pytest.mark.parametrize("lang", ["en", "ur"])
async def test_a_resident_joins_and_answers_a_whole_survey_in_the_browser(
    site: str, browser: Browser, lang: str
) -> None:
    context = await browser.new_context(
        locale="ur-PK" if lang == "ur" else "en-GB", viewport={"width": 360, "height": 740},
        java_script_enabled=False,  # a basic phone: plain forms must do everything
    )  # fmt: skip
    page = await context.new_page()
    await page.goto(f"{site}/join?ref=champ_7")
    assert await page.get_attribute("html", "lang") == lang
    assert await page.get_attribute("html", "dir") == ("rtl" if lang == "ur" else "ltr")
    assert await axe_violations_with_js(browser, page, lang) == []
    await shot(page, f"web-chat-welcome-{lang}")
    await join(page, lang)
    assert await page.get_attribute("html", "dir") == ("rtl" if lang == "ur" else "ltr")
    async with page.expect_navigation():
        await page.locator('button[value="surveys"]').click()
    start = await page.locator(f"{LATEST} button[name=button]").first.get_attribute("value")
    assert start is not None and re.match(r"n:", start)
    await press(page, start)
    assert await axe_violations_with_js(browser, page, lang) == []
    await shot(page, f"web-chat-question-{lang}")
    await answer_survey(page, reload_after=4)
    assert SENT[lang] in await page.locator(LATEST).inner_text()
    await shot(page, f"web-chat-sent-{lang}")
    await context.close()


async def axe_violations_with_js(browser: Browser, shown: Page, lang: str) -> list[str]:
    """axe-core needs JavaScript: check the same page, with the same cookies, in a second
    context that runs scripts."""
    context = await browser.new_context(locale="ur-PK" if lang == "ur" else "en-GB")
    await context.add_cookies(await shown.context.cookies())  # type: ignore[arg-type]
    page = await context.new_page()
    await page.goto(shown.url)
    found = await axe_violations(page)
    await context.close()
    return found
