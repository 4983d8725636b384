"""End-to-end fixtures: the shared Telegram Bot API peer and the real `panelbot run` process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PEER_DIR = Path(
    os.environ.get("PANELBOT_TELEGRAM_PEER_DIR", ROOT.parent / "shared" / "telegram-peer")
)
sys.path.insert(0, str(PEER_DIR))

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peer_call(url: str) -> Any:
    """POST an empty JSON body to the peer and return the result."""
    request = urllib.request.Request(url, data=b"{}", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)["result"]


def peer_polls(peer_url: str) -> int:
    """How many getUpdates calls the peer has answered (moves once a bot is polling)."""
    return int(peer_call(f"{peer_url}/compat/stats")["getUpdates"])


@pytest.fixture(scope="session")
def peer_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Bot API peer on loopback for the whole session."""
    port = free_port()
    env = {**os.environ, "TG_PEER_RUN": str(tmp_path_factory.mktemp("peer-run"))}
    subprocess.run([str(PEER_DIR / "tg_peer_start.sh"), str(port)], check=True, env=env)
    yield f"http://127.0.0.1:{port}"
    subprocess.run([str(PEER_DIR / "tg_peer_stop.sh"), str(port)], check=False, env=env)


class BotProcess:
    """The real bot, run as residents' deployments run it, which tests can kill and restart."""

    def __init__(
        self,
        peer_url: str,
        token: str,
        data_dir: Path,
        log_path: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.peer_url = peer_url
        self.token = token
        self.log_path = log_path
        self.data_dir = data_dir
        self.http_port = free_port()
        self.env = {
            **os.environ,
            "PANELBOT_TELEGRAM_TOKEN": token,
            "PANELBOT_TELEGRAM_API_URL": peer_url,
            "PANELBOT_DATA_DIR": str(data_dir),
            "PANELBOT_AREA_DIR": str(ROOT / "areas" / "demo"),
            "PANELBOT_HTTP_PORT": str(self.http_port),
            "PANELBOT_QUIET_HOURS": "off",  # broadcasts go at whatever hour the tests run
            **(env or {}),
        }
        self.env.pop("PANELBOT_DATABASE_URL", None)
        self.process: subprocess.Popen[bytes] | None = None

    def webhook_url(self) -> str:
        """The loopback URL this bot serves its webhook on."""
        return f"http://127.0.0.1:{self.http_port}/telegram"

    def ready(self, polls_before: int, webhook: bool) -> bool:
        """Polling has begun, or the webhook is registered with the peer."""
        if webhook:
            info = peer_call(f"{self.peer_url}/bot{self.token}/getWebhookInfo")
            return bool(info.get("url"))
        return peer_polls(self.peer_url) > polls_before

    def start(self, *extra: str) -> None:
        polls_before = peer_polls(self.peer_url)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", *extra],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bot exited: {self.log_path.read_text()[-2000:]}")
            if self.ready(polls_before, webhook="--webhook" in extra):
                return
            time.sleep(0.1)
        raise RuntimeError("bot did not start polling within 30 s")

    def kill(self) -> None:
        """kill -9: no chance to clean up."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
def bot(peer_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[BotProcess]:
    """A fresh bot (own token, own SQLite database) polling the peer."""
    token = f"{abs(hash(request.node.nodeid)) % 10**9}:E2E"
    process = BotProcess(peer_url, token, tmp_path / "data", tmp_path / "bot.log")
    process.start()
    yield process
    process.stop()


TRANSPORT = """\
format: 1
id: community_transport
version: 2
languages: [en, pl]
title: {en: "Getting to appointments", pl: "Dojazd na wizyty"}
questions:
  - id: how
    type: multi_choice
    text: {en: "How do you get to appointments?", pl: "Jak dojeżdżasz na wizyty?"}
    choices:
      - {id: "bus", text: {en: "Bus", pl: "Autobus"}}
      - {id: "car", text: {en: "Car", pl: "Samochód"}}
      - {id: "walk", text: {en: "Walk", pl: "Pieszo"}}
  - id: minutes
    type: number
    min: 0
    max: 300
    text: {en: "How many minutes does it take?", pl: "Ile minut to zajmuje?"}
  - id: missed
    type: yes_no
    text:
      en: "Have you missed one because of transport?"
      pl: "Czy opuściłeś wizytę z powodu dojazdu?"
  - id: what_happened
    type: text
    when: {missed: "yes"}
    text: {en: "What happened?", pl: "Co się stało?"}
  - id: ease
    type: scale
    min: 1
    max: 5
    min_label: {en: "Very hard", pl: "Bardzo trudno"}
    max_label: {en: "Very easy", pl: "Bardzo łatwo"}
    text: {en: "How easy is it overall?", pl: "Ogólnie, jak łatwo?"}
"""


@pytest.fixture
def survey_bot(
    peer_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[BotProcess]:
    """A bot serving a survey folder written just now."""
    surveys = tmp_path / "surveys"
    surveys.mkdir()
    (surveys / "transport.yaml").write_text(TRANSPORT, encoding="utf-8")
    token = f"{abs(hash(request.node.nodeid)) % 10**9}:SURVEY"
    process = BotProcess(
        peer_url,
        token,
        tmp_path / "data",
        tmp_path / "bot.log",
        env={"PANELBOT_SURVEYS_DIR": str(surveys)},
    )
    process.start()
    yield process
    process.stop()
