"""Who may open what: every route for anonymous visitors and each role, CSRF, throttling."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import FakeClock
from tests.web.conftest import ROLES, Browser

SEE_LOGIN, OK, FORBIDDEN, UNAUTHORISED = 303, 200, 403, 401
# path -> expected status for (anonymous, admin, lead, champion)
GET_ROUTES = {
    "/": (SEE_LOGIN, OK, OK, OK),
    "/composition": (SEE_LOGIN, OK, OK, OK),
    "/composition?locality=east_valley": (SEE_LOGIN, OK, OK, OK),
    "/broadcasts": (SEE_LOGIN, OK, OK, OK),
    "/surveys": (SEE_LOGIN, OK, OK, FORBIDDEN),
    "/surveys/housing_repairs": (SEE_LOGIN, OK, OK, FORBIDDEN),
    "/surveys/housing_repairs?by=sex": (SEE_LOGIN, OK, OK, FORBIDDEN),
    "/stories": (SEE_LOGIN, OK, OK, FORBIDDEN),
    "/stories?state=approved": (SEE_LOGIN, OK, OK, FORBIDDEN),
    "/exports": (SEE_LOGIN, OK, OK, FORBIDDEN),
    "/login": (OK, OK, OK, OK),
    "/healthz": (OK, OK, OK, OK),
    "/static/panelbot.css": (OK, OK, OK, OK),
    "/static/charts.js": (OK, OK, OK, OK),
}


@pytest.mark.parametrize("who", ["anonymous", *ROLES])
async def test_every_route_answers_each_role_as_the_table_says(web: TestClient, who: str) -> None:
    browser = Browser(web)
    if who != "anonymous":
        assert await browser.sign_in(f"{who}1")
    column = ("anonymous", *ROLES).index(who)
    for path, expected in GET_ROUTES.items():
        status, _page = await browser.get(path)
        assert status == expected[column], (who, path, status)


async def test_undeclared_and_unknown_routes_do_not_exist(web: TestClient) -> None:
    browser = Browser(web)
    assert await browser.sign_in("admin1")
    for path in ("/admin", "/static/../storage/models.py", "/composition?locality=atlantis"):
        status, _page = await browser.get(path)
        assert status == 404, path


async def test_security_headers_come_with_every_answer(web: TestClient) -> None:
    for path in ("/login", "/", "/nowhere", "/static/panelbot.css"):
        response = await web.get(path, allow_redirects=False)
        csp = response.headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_a_change_without_the_sessions_csrf_token_is_refused(web: TestClient) -> None:
    browser = Browser(web)
    assert await browser.sign_in("lead1")
    assert await browser.post("/logout", csrf=False) == FORBIDDEN
    assert await browser.post("/logout", {"csrf": "forged"}, csrf=False) == FORBIDDEN
    assert (await browser.get("/"))[0] == OK  # still signed in
    assert await browser.post("/logout") == SEE_LOGIN
    assert (await browser.get("/"))[0] == SEE_LOGIN  # the session is gone
    assert await Browser(web).post("/logout") == UNAUTHORISED


async def test_the_login_form_needs_its_own_csrf_token(web: TestClient) -> None:
    response = await web.post(
        "/login", data={"username": "lead1", "password": "a long pass phrase"}
    )
    assert response.status == OK and "The form had expired" in await response.text()


async def test_guessing_is_slowed_down_then_allowed_again(
    web: TestClient, clock: FakeClock
) -> None:
    browser = Browser(web)
    for _ in range(5):
        assert not await browser.sign_in("lead1", "wrong password!")
    assert not await browser.sign_in("lead1")  # the right one, but locked for a while
    clock.advance(16 * 60)
    assert await browser.sign_in("lead1")


async def test_an_idle_session_expires(web: TestClient, clock: FakeClock) -> None:
    browser = Browser(web)
    assert await browser.sign_in("champion1")
    clock.advance(2 * 3600)
    assert (await browser.get("/"))[0] == SEE_LOGIN
