"""The dashboard in a real browser (Playwright driving Debian's Chromium): sign in, read a chart,
moderate a story, download an export. Screenshots are kept in artifacts/screenshots/."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser

from storage.database import Database, upgrade
from tests.browser.conftest import axe_violations, panelbot_env, serving, shot
from tests.conftest import FakeClock
from tests.e2e.conftest import ROOT
from tests.integration.test_exports import panel_with_responses
from tests.web.test_stories import add_stories

PASSWORD = "a long pass phrase for the browser"
pytestmark = pytest.mark.browser


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[str]:
    """`panelbot dashboard` on a database with responses and stories, and a lead's account."""
    data = tmp_path / "data"
    url = f"sqlite+aiosqlite:///{data / 'panelbot.db'}"
    upgrade(url)

    async def fill() -> None:
        database = Database(url)
        clock = FakeClock()
        await panel_with_responses(database, clock, 60)
        await add_stories(database, clock, 2)
        await database.dispose()

    asyncio.run(fill())
    added = subprocess.run(
        [sys.executable, "-m", "bot", "user", "add", "lead1", "--role", "lead", "--password-stdin"],
        cwd=ROOT, env=panelbot_env(data, 8080), input=PASSWORD + "\n", capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    with serving("dashboard", data) as base:
        yield base


async def test_a_lead_signs_in_reads_a_chart_moderates_and_exports(
    dashboard: str, browser: Browser
) -> None:
    page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    await page.goto(f"{dashboard}/")
    assert page.url.endswith("/login")
    await page.get_by_label("Username").fill("lead1")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{dashboard}/")
    await shot(page, "overview")

    await page.get_by_role("link", name="Composition").click()
    chart = page.locator("figure.chart").first
    await chart.locator("tbody tr").first.focus()  # the keyboard reads a row aloud
    readout = chart.locator(".chart-readout")
    await readout.wait_for()
    assert "Members" in await readout.inner_text()
    assert await page.locator("figure.chart .bar").count() > 0  # drawn by our own script
    await shot(page, "composition")

    await page.get_by_role("link", name="Survey results").click()
    await page.get_by_role("link", name="Housing repairs").click()
    assert await page.get_by_text("Weighted").count() > 0
    await shot(page, "results")

    await page.get_by_role("link", name="Stories").click()
    await page.get_by_role("button", name="Approve").first.click()
    await page.wait_for_url(f"{dashboard}/stories")
    assert await page.get_by_role("button", name="Approve").count() == 1
    await shot(page, "stories")

    await page.get_by_role("link", name="Exports").click()
    await page.get_by_label("Survey").select_option("housing_repairs")
    await page.get_by_label("Format").select_option("csv")
    await page.get_by_label("Why do you need it?").fill("checking the browser journey")
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Download").click()
    download = await waiting.value
    saved = await download.path()
    archive = zipfile.ZipFile(io.BytesIO(await asyncio.to_thread(Path(saved).read_bytes)))
    assert sorted(archive.namelist()) == ["codebook.json", "responses.csv"]
    await page.reload()
    assert await page.get_by_text("checking the browser journey").count() == 1
    await shot(page, "exports")


async def test_every_page_passes_axe_and_has_labels_and_landmarks(
    dashboard: str, browser: Browser
) -> None:
    page = await browser.new_page()
    await page.goto(f"{dashboard}/login")
    pages = ("/login", "/", "/composition", "/surveys", "/surveys/housing_repairs",
             "/surveys/housing_repairs?by=sex", "/stories", "/broadcasts", "/exports")  # fmt: skip
    for path in pages:
        if path == "/":
            await page.get_by_label("Username").fill("lead1")
            await page.get_by_label("Password").fill(PASSWORD)
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url(f"{dashboard}/")
        else:
            await page.goto(f"{dashboard}{path}")
        unlabelled = await page.evaluate(
            """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                  .filter(e => !(e.labels && e.labels.length)).map(e => e.name)"""
        )
        assert unlabelled == [], path
        assert await page.locator("main h1").count() == 1, path
        assert await page.get_attribute("html", "lang") == "en"
        assert await axe_violations(page) == [], path
    for width in (390, 1280):  # a phone and a desktop: contrast and reflow hold at both
        await page.set_viewport_size({"width": width, "height": 800})
        await page.goto(f"{dashboard}/composition")
        assert await axe_violations(page) == [], width


async def test_axe_finds_problems_where_there_are_some(browser: Browser) -> None:
    page = await browser.new_page()
    await page.set_content('<html><body><img src="chart.png"><input name="q"></body></html>')
    found = await axe_violations(page)
    assert any(v.startswith("image-alt") for v in found)
    assert any(v.startswith("label") for v in found)
