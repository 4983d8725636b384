"""The demo as a newcomer runs it: `panelbot demo`, then `panelbot run` with no token, then the
dashboard with the printed password shows the made-up panel."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

from aiohttp import ClientSession

from tests.browser.conftest import panelbot_env, serving
from tests.e2e.conftest import ROOT


def demo(data: Path, members: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--members", str(members)], cwd=ROOT,
        env=panelbot_env(data, 8080), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


async def test_demo_then_run_without_a_token(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = await asyncio.to_thread(demo, data, 300)
    assert made.returncode == 0, made.stderr
    password = re.search(r"Dashboard account: demo, password (\S+) ", made.stdout)
    assert password is not None, made.stdout
    again = await asyncio.to_thread(demo, data, 310)  # `make demo` again: topped up, not doubled
    assert "has 310 made-up members (10 added now" in again.stdout, again.stdout
    assert "already exists" in again.stdout  # the password is never shown twice
    with serving("run", data) as base:
        async with ClientSession() as http:
            async with http.get(f"{base}/chat") as welcome:
                assert welcome.status == 200 and "Have your say" in await welcome.text()
            async with http.get(f"{base}/login") as form:
                page = await form.text()
                csrf = re.search(r'name="csrf" value="([^"]+)"', page)
                assert csrf is not None
                login_cookie = form.cookies["panelbot_login_csrf"].value
            async with http.post(
                f"{base}/login",
                data={"csrf": csrf.group(1), "username": "demo", "password": password.group(1)},
                headers={"Cookie": f"panelbot_login_csrf={login_cookie}"},
                allow_redirects=False,
            ) as signed_in:
                assert signed_in.status == 303
                session = signed_in.cookies["__Host-panelbot"].value
            async with http.get(
                f"{base}/", headers={"Cookie": f"__Host-panelbot={session}"}
            ) as page:
                overview = await page.text()
    assert page.status == 200 and "310" in overview  # 300 + 10 members, rounded to 5
