"""A dashboard on a real database, with an account for each role, and a signed-in client."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher

from bot.services.accounts import Accounts
from bot.services.area import AreaProfile
from bot.services.dashboard import Dashboard
from bot.services.exports import Exporter
from bot.services.story_wall import StoryWall
from bot.services.survey_library import SurveyLibrary
from bot.web.app import create_app
from bot.web.guard import COOKIE, CSRF_HEADER
from storage.database import Database
from tests.conftest import FakeClock

ROOT = Path(__file__).resolve().parents[2]
AREA = AreaProfile.load(ROOT / "areas" / "demo")
PASSWORD = "a long pass phrase"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)  # argon2id, for tests
ROLES = ("admin", "lead", "champion")


@dataclass
class Browser:
    """An HTTP client that keeps the session cookie by hand (it is Secure, and this is http)."""

    client: TestClient
    token: str = ""
    csrf: str = ""

    def headers(self) -> dict[str, str]:
        return {"Cookie": f"{COOKIE}={self.token}"} if self.token else {}

    async def get(self, path: str) -> tuple[int, str]:
        response = await self.client.get(path, headers=self.headers(), allow_redirects=False)
        return response.status, await response.text()

    async def post(self, path: str, data: dict[str, str] | None = None, csrf: bool = True) -> int:
        headers = self.headers()
        if csrf and self.csrf:
            headers[CSRF_HEADER] = self.csrf
        response = await self.client.post(
            path, data=data or {}, headers=headers, allow_redirects=False
        )
        return response.status

    async def sign_in(self, username: str, password: str = PASSWORD) -> bool:
        form = await self.client.get("/login")
        login_csrf = form.cookies["panelbot_login_csrf"].value
        field = re.search(r'name="csrf" value="([^"]+)"', await form.text())
        assert field is not None
        response = await self.client.post(
            "/login",
            data={"csrf": field.group(1), "username": username, "password": password},
            headers={"Cookie": f"panelbot_login_csrf={login_csrf}"},
            allow_redirects=False,
        )
        if response.status != 303:
            return False
        self.token = response.cookies[COOKIE].value
        status, page = await self.get("/")
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        self.csrf = found.group(1) if found else ""
        return status == 200


@pytest.fixture
async def web(database: Database, clock: FakeClock) -> AsyncIterator[TestClient]:
    accounts = Accounts(database, clock=clock, hasher=FAST_HASHER)
    for role in ROLES:
        localities = ["city_centre"] if role == "champion" else []
        await accounts.add(f"{role}1", role, PASSWORD, localities)
    library = SurveyLibrary.load()
    dashboard = Dashboard(database, library, AREA, clock=clock)
    stories = StoryWall(database, library, clock=clock)
    exporter = Exporter(database, clock=clock)
    app = create_app(database, accounts, dashboard, stories, exporter)
    client = TestClient(TestServer(app))
    await client.start_server()
    yield client
    await client.close()
