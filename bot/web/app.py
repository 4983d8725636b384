"""The aiohttp application: health checks and the routes other parts add."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.services.accounts import Accounts, same
from bot.services.dashboard import Dashboard
from bot.services.exports import Exporter
from bot.services.metrics import OUTBOX, REGISTRY
from bot.services.story_wall import StoryWall
from bot.services.web_chat import WebChat
from bot.web.chat_views import add_web_chat
from bot.web.guard import ACCOUNTS, TRUSTED_PROXIES, from_this_machine, guard, public
from bot.web.views import DASHBOARD, EXPORTER, STORIES, add_dashboard
from storage.database import Database
from storage.outbox import Outbox

DATABASE = web.AppKey("database", Database)
METRICS_TOKEN = web.AppKey("metrics_token", str)


async def healthz(request: web.Request) -> web.Response:
    """Liveness and database reachability."""
    database = request.app[DATABASE]
    try:
        await database.ping()
    except Exception:
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready for traffic: the database answers and is migrated to this code's schema."""
    try:
        ready = await request.app[DATABASE].schema_is_current()
    except Exception:
        ready = False
    status = 200 if ready else 503
    return web.json_response({"status": "ready" if ready else "not ready"}, status=status)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics, for the machine itself or whoever has the metrics token."""
    token = request.app[METRICS_TOKEN]
    given = request.headers.get("Authorization", "")
    allowed = same(given, f"Bearer {token}") if token else from_this_machine(request)
    if not allowed:
        raise web.HTTPNotFound()
    for state, count in (await Outbox(request.app[DATABASE]).counts()).items():
        OUTBOX.labels(state).set(count)
    return web.Response(
        body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


def create_app(
    database: Database,
    accounts: Accounts | None = None,
    dashboard: Dashboard | None = None,
    stories: StoryWall | None = None,
    exporter: Exporter | None = None,
    *,
    web_chat: WebChat | None = None,
    metrics_token: str = "",
    trusted_proxies: frozenset[str] = frozenset(),
) -> web.Application:
    """The web application: health checks, the dashboard when its services are given, and the
    residents' web chat when given."""
    # Room for a voice note from the web chat (10 MB); the chat checks its cookie before reading.
    app = web.Application(client_max_size=11 * 1024 * 1024, middlewares=[guard])
    app[DATABASE] = database
    app[METRICS_TOKEN] = metrics_token
    app[TRUSTED_PROXIES] = trusted_proxies
    app.router.add_get("/healthz", public(healthz))
    app.router.add_get("/readyz", public(readyz))
    app.router.add_get("/metrics", public(metrics))
    if accounts and dashboard and stories and exporter:
        app[ACCOUNTS] = accounts
        app[DASHBOARD] = dashboard
        app[STORIES] = stories
        app[EXPORTER] = exporter
        add_dashboard(app)
    if web_chat is not None:
        add_web_chat(app, web_chat)
    return app
