"""`panelbot run --webhook URL --workers N`: N worker processes on one port and one database.

Each worker is a whole `panelbot run` listening with SO_REUSEPORT, so the kernel spreads
Telegram's webhook connections across them. They share nothing but PostgreSQL: the update log
makes each update count once, row locks keep a resident's updates apart, the outbox is claimed
with SKIP LOCKED, and once-only jobs go to whichever worker holds their duty (storage/duty.py).
This process only starts the workers, starts again any that dies, and stops them all.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

from sqlalchemy.engine import make_url

from bot.cli.panel import area_in_use
from bot.config import ENV_PREFIX, Settings, SettingsError

log = logging.getLogger("panelbot")
WORKER_OPTION = "--worker-index"
STOP_GRACE = 20.0  # seconds a worker has to finish its updates before it is killed
MAX_PAUSE = 30.0  # the longest wait before starting again a worker that keeps failing
HEALTHY_AFTER = 60.0  # seconds of running after which a worker's earlier failures are forgiven


def check_workers(settings: Settings, args: argparse.Namespace) -> None:
    """Refuse, in one line, what cannot run as several workers."""
    if make_url(settings.effective_database_url).get_backend_name() != "postgresql":
        raise SettingsError(
            "--workers needs PostgreSQL (set PANELBOT_DATABASE_URL): SQLite serves one process"
        )
    if not args.webhook:
        raise SettingsError(
            "--workers needs --webhook URL: Telegram gives long-polled updates to one process"
        )


def worker_command(args: argparse.Namespace, index: int) -> list[str]:
    """The command line of one worker."""
    command = [sys.executable, "-m", "bot", "run", "--webhook", args.webhook]
    if args.no_sender:
        command.append("--no-sender")
    return [*command, WORKER_OPTION, str(index)]


def cmd_run_workers(settings: Settings, args: argparse.Namespace) -> int:
    """Migrate once, then run and watch over the workers until SIGINT or SIGTERM."""
    check_workers(settings, args)
    settings.require_token()
    area_in_use(settings)  # migrates the database before any worker starts
    # Every worker must check the same secret, so one is chosen here when none is set.
    secret = settings.webhook_secret or secrets.token_urlsafe(32)
    env = {**os.environ, f"{ENV_PREFIX}WEBHOOK_SECRET": secret}
    commands = [worker_command(args, index) for index in range(args.workers)]
    print(
        f"Panelbot is running {args.workers} workers on"
        f" http://{settings.http_host}:{settings.http_port}/ (webhook {args.webhook})",
        flush=True,
    )
    return Supervisor(commands, env).run()


class Supervisor:
    """Starts each worker, starts again one that dies, and stops them all on a signal."""

    def __init__(self, commands: Sequence[list[str]], env: dict[str, str]) -> None:
        self.commands = commands
        self.env = env
        self.workers: list[subprocess.Popen[bytes] | None] = [None] * len(commands)
        self.failures = [0] * len(commands)
        self.due = [0.0] * len(commands)
        self.started = [0.0] * len(commands)
        self.stopping = False

    def run(self) -> int:
        """Supervise until stopped; the exit code is 0 after a clean stop."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._stop)
        try:
            while not self.stopping:
                for index in range(len(self.commands)):
                    code = self._watch(index)
                    if code == 2:  # a worker refused the settings: so would every other
                        self.stopping = True
                        return 2
                time.sleep(0.2)
            return 0
        finally:
            self._stop_all()

    def _watch(self, index: int) -> int | None:
        """Start the worker if it is due; the exit code when it has just stopped by itself."""
        worker = self.workers[index]
        if worker is None:
            if time.monotonic() >= self.due[index]:
                self.workers[index] = subprocess.Popen(self.commands[index], env=self.env)
                self.started[index] = time.monotonic()
            return None
        code = worker.poll()
        if code is None:
            return None
        self.workers[index] = None
        if time.monotonic() - self.started[index] > HEALTHY_AFTER:
            self.failures[index] = 0  # it had been running well: start it again at once
        self.failures[index] += 1
        pause = min(MAX_PAUSE, 0.5 * 2 ** (self.failures[index] - 1))
        self.due[index] = time.monotonic() + pause
        log.warning("worker %d stopped (exit %s); starting it again in %.1f s", index, code, pause)
        return code

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def _stop_all(self) -> None:
        """Ask every worker to stop, then kill those still running after the grace time."""
        running = [worker for worker in self.workers if worker is not None]
        for worker in running:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for worker in running:
            try:
                worker.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
