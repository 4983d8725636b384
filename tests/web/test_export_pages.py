"""Exports from the dashboard: a download for analysts, a reason required, the register shown."""

from __future__ import annotations

import io
import zipfile

from aiohttp.test_utils import TestClient

from storage.database import Database
from tests.conftest import FakeClock
from tests.integration.test_exports import panel_with_responses
from tests.web.conftest import Browser


async def test_a_lead_downloads_an_export_that_then_appears_in_the_register(
    web: TestClient, database: Database, clock: FakeClock
) -> None:
    await panel_with_responses(database, clock, 60)
    browser = Browser(web)
    assert await browser.sign_in("lead1")
    form = {"survey": "housing_repairs", "format": "csv", "reason": "repairs co-design group"}
    response = await web.post(
        "/exports", data=form, headers={**browser.headers(), "X-CSRF-Token": browser.csrf}
    )
    assert response.status == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="housing_repairs.zip"'
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    assert sorted(archive.namelist()) == ["codebook.json", "responses.csv"]
    status, register = await browser.get("/exports")
    assert status == 200 and "repairs co-design group" in register and "web:lead1" in register


async def test_no_reason_or_too_few_responses_gives_the_form_back_with_why(
    web: TestClient, database: Database, clock: FakeClock
) -> None:
    await panel_with_responses(database, clock, 3)
    browser = Browser(web)
    assert await browser.sign_in("admin1")
    headers = {**browser.headers(), "X-CSRF-Token": browser.csrf}
    short = {"survey": "housing_repairs", "format": "csv", "reason": "x"}
    response = await web.post("/exports", data=short, headers=headers)
    assert response.status == 400 and "say why" in await response.text()
    few = {**short, "reason": "a long enough reason"}
    response = await web.post("/exports", data=few, headers=headers)
    assert response.status == 400 and "too few responses" in await response.text()


async def test_champions_cannot_export(web: TestClient) -> None:
    browser = Browser(web)
    assert await browser.sign_in("champion1")
    assert (await browser.get("/exports"))[0] == 403
    form = {"survey": "housing_repairs", "format": "csv", "reason": "a long enough reason"}
    assert await browser.post("/exports", form) == 403
