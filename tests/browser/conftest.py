"""Browser tests: Debian's Chromium through Playwright, against Panelbot run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe  # type: ignore[import-untyped]
from playwright.async_api import Browser, Page, async_playwright

from tests.e2e.conftest import ROOT, free_port

CHROMIUM = os.environ.get("PANELBOT_CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def panelbot_env(data: Path, port: int) -> dict[str, str]:
    """An environment for `panelbot` on its own data folder and port (no Telegram token)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("PANELBOT_")},
        "PANELBOT_DATA_DIR": str(data),
        "PANELBOT_AREA_DIR": str(ROOT / "areas" / "demo"),
        "PANELBOT_HTTP_PORT": str(port),
    }


@contextmanager
def serving(command: str, data: Path) -> Iterator[str]:
    """`panelbot COMMAND` running until the block ends; its base URL once it answers."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "bot", command], cwd=ROOT,
                              env=panelbot_env(data, port))  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        await launched.close()


async def shot(page: Page, name: str) -> None:
    """Keep a screenshot as a test artefact."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def axe_violations(page: Page) -> list[str]:
    """What axe-core (the engine behind Lighthouse's accessibility audit) finds against WCAG 2.2
    A and AA on the page: "rule (impact): where" per problem."""
    found = await Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    return [
        f"{v['id']} ({v['impact']}): {node['target']}"
        for v in found.response["violations"]
        for node in v["nodes"]
    ]
