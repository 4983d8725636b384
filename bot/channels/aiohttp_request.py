"""python-telegram-bot's requests over aiohttp: the same Bot API calls at a third of the CPU.

httpx, python-telegram-bot's default transport, took half the bot's CPU under load (about 1.5 ms
a call, partly a failed `import sniffio` on every request); aiohttp is already in the process
for the web server and the broadcast sender.
"""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

READ_TIMEOUT = 5.0
CONNECT_TIMEOUT = 5.0
MEDIA_TIMEOUT = 20.0  # sending a file (a champion's QR code, a resident's data)


class AiohttpRequest(BaseRequest):
    """One keep-alive aiohttp session for every call of the bot."""

    def __init__(self, connections: int = 256) -> None:
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The read timeout used when a call does not name one."""
        return READ_TIMEOUT

    async def initialize(self) -> None:
        """Open the session (on the running event loop)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._connections, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Make one call; network trouble becomes python-telegram-bot's own errors."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialised")
        files = request_data.multipart_data if request_data else {}
        fields = request_data.json_parameters if request_data else {}
        body: aiohttp.FormData | dict[str, str] | None = fields or None
        if files:
            body = aiohttp.FormData(fields)
            for name, (filename, content, mimetype) in files.items():
                body.add_field(name, content, filename=filename, content_type=mimetype)
        default_read = MEDIA_TIMEOUT if files else READ_TIMEOUT
        timeout = aiohttp.ClientTimeout(
            sock_connect=_seconds(connect_timeout, CONNECT_TIMEOUT),
            sock_read=_seconds(read_timeout, default_read),
        )
        try:
            async with self._session.request(method, url, data=body, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _seconds(given: ODVInput[float], default: float) -> float | None:
    """A call's timeout, or ours when it names none."""
    return default if isinstance(given, DefaultValue) else given
