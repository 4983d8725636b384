"""Typed settings: the only reader of the environment (prefix PANELBOT_)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path

TELEGRAM_API_URL = "https://api.telegram.org"
ENV_PREFIX = "PANELBOT_"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is one line for a person."""


def read_dotenv(path: Path) -> dict[str, str]:
    """Read KEY=VALUE lines from a .env file (comments and blank lines ignored)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


KEEP_SETTINGS = (
    "KEEP_RAW_STORIES_DAYS",
    "KEEP_INACTIVE_DAYS",
    "KEEP_UNFINISHED_JOINING_DAYS",
    "KEEP_EXPORT_RECORDS_DAYS",
)


LOG_FORMATS = ("text", "json")


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    """A setting that must be one of a few words."""
    if value.lower() not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value.lower()


def _quiet_hours(name: str, value: str) -> tuple[time, time]:
    """A nightly window as HH:MM-HH:MM, or `off` for none."""
    if value.lower() == "off":
        return time(0, 0), time(0, 0)
    try:
        start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError:
        raise SettingsError(f"{name} must be like 21:00-09:00, or off; not {value!r}") from None
    return start, end


def _days(name: str, value: str) -> int:
    """A keeping time: a whole number of days, one or more."""
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(f"{name} must be a whole number of days, 1 or more, not {value!r}")
    return int(value)


def _number(name: str, value: str) -> float:
    """A setting that must be a number of zero or more."""
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number >= 0 or number == float("inf"):
        raise SettingsError(f"{name} must be a number of zero or more, not {value!r}")
    return number


@dataclass(frozen=True)
class Settings:
    """Everything Panelbot can be configured with."""

    telegram_token: str = ""
    telegram_api_url: str = TELEGRAM_API_URL
    data_dir: Path = Path("data")
    database_url: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    webhook_secret: str = ""
    public_url: str = ""  # where the web chat is reached from outside, for champions' links
    metrics_token: str = ""  # lets a Prometheus server elsewhere read /metrics
    trusted_proxies: frozenset[str] = frozenset()  # reverse proxies whose X-Forwarded-For counts
    keep_days: tuple[int, int, int, int] = (90, 730, 30, 730)  # raw stories, inactive residents,
    # unfinished joining, exports register (see bot/services/retention.py)
    area_dir: Path | None = None
    surveys_dir: Path | None = None
    reminder_check_minutes: int = 15
    store_full_postcode: bool = False
    pseudonym_key: str = ""
    log_level: str = "INFO"
    log_format: str = "text"  # or "json": one object per line
    send_per_second: float = 30.0  # Telegram's limit for ordinary bots; 0: no limit of ours
    send_in_flight: int = 32
    quiet_hours: tuple[time, time] = (time(21, 0), time(9, 0))  # UK time; equal: none
    updates_at_once: int = 64  # chats whose updates are handled at the same moment, per worker
    replies_per_second: float = 0.0  # 0: replies are paced only by Telegram's own 429 answers

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'panelbot.db').resolve()}"

    @property
    def bot_api_base_url(self) -> str:
        """Base URL for Bot API calls, as python-telegram-bot expects it."""
        return self.telegram_api_url.rstrip("/") + "/bot"

    @property
    def bot_file_base_url(self) -> str:
        """Base URL for Bot API file downloads."""
        return self.telegram_api_url.rstrip("/") + "/file/bot"

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, dotenv: Path | None = None) -> Settings:
        """Build settings from a .env file overlaid by the process environment."""
        env = dict(read_dotenv(dotenv or Path(".env")))
        env.update(os.environ if environ is None else environ)

        def get(name: str, default: str = "") -> str:
            return env.get(ENV_PREFIX + name, default).strip()

        port = get("HTTP_PORT", "8080")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise SettingsError(f"{ENV_PREFIX}HTTP_PORT must be a port number, not {port!r}")
        area, surveys = get("AREA_DIR"), get("SURVEYS_DIR")
        minutes = get("REMINDER_CHECK_MINUTES", "15")
        if not minutes.isdigit() or int(minutes) < 1:
            raise SettingsError(
                f"{ENV_PREFIX}REMINDER_CHECK_MINUTES must be a whole number of minutes"
            )
        per_second = _number(ENV_PREFIX + "SEND_PER_SECOND", get("SEND_PER_SECOND", "30"))
        in_flight = _number(ENV_PREFIX + "SEND_IN_FLIGHT", get("SEND_IN_FLIGHT", "32"))
        if in_flight < 1 or in_flight != int(in_flight):
            raise SettingsError(f"{ENV_PREFIX}SEND_IN_FLIGHT must be a whole number from 1")
        at_once = _number(ENV_PREFIX + "UPDATES_AT_ONCE", get("UPDATES_AT_ONCE", "64"))
        if at_once < 1 or at_once != int(at_once):
            raise SettingsError(f"{ENV_PREFIX}UPDATES_AT_ONCE must be a whole number from 1")
        keep = tuple(
            _days(ENV_PREFIX + name, get(name, str(default)))
            for name, default in zip(KEEP_SETTINGS, cls.keep_days, strict=True)
        )
        return cls(
            keep_days=keep,  # type: ignore[arg-type]
            telegram_token=get("TELEGRAM_TOKEN"),
            telegram_api_url=get("TELEGRAM_API_URL", TELEGRAM_API_URL) or TELEGRAM_API_URL,
            data_dir=Path(get("DATA_DIR", "data") or "data"),
            database_url=get("DATABASE_URL"),
            http_host=get("HTTP_HOST", "127.0.0.1") or "127.0.0.1",
            http_port=int(port),
            webhook_secret=get("WEBHOOK_SECRET"),
            public_url=get("PUBLIC_URL"),
            metrics_token=get("METRICS_TOKEN"),
            trusted_proxies=frozenset(
                part.strip() for part in get("TRUSTED_PROXIES").split(",") if part.strip()
            ),
            area_dir=Path(area) if area else None,
            surveys_dir=Path(surveys) if surveys else None,
            reminder_check_minutes=int(minutes),
            store_full_postcode=_flag(get("STORE_FULL_POSTCODE", "false")),
            pseudonym_key=get("PSEUDONYM_KEY"),
            log_level=get("LOG_LEVEL", "INFO").upper() or "INFO",
            log_format=_choice(ENV_PREFIX + "LOG_FORMAT", get("LOG_FORMAT", "text"), LOG_FORMATS),
            send_per_second=per_second,
            send_in_flight=int(in_flight),
            updates_at_once=int(at_once),
            quiet_hours=_quiet_hours(ENV_PREFIX + "QUIET_HOURS", get("QUIET_HOURS", "21:00-09:00")),
            replies_per_second=_number(
                ENV_PREFIX + "REPLY_PER_SECOND", get("REPLY_PER_SECOND", "0")
            ),
        )

    def require_token(self) -> str:
        """The Telegram token, or a one-line error saying how to set it."""
        if not self.telegram_token:
            raise SettingsError(
                f"No Telegram bot token: set {ENV_PREFIX}TELEGRAM_TOKEN in the environment or"
                " in .env (ask @BotFather for one, or use any token against a test Bot API peer)."
            )
        return self.telegram_token
