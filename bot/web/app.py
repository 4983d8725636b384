"""The aiohttp application: health checks and the routes other parts add."""

from __future__ import annotations

from aiohttp import web

from bot.services.accounts import Accounts
from bot.services.dashboard import Dashboard
from bot.services.exports import Exporter
from bot.services.story_wall import StoryWall
from bot.services.web_chat import WebChat
from bot.web.chat_views import add_web_chat
from bot.web.guard import ACCOUNTS, guard, public
from bot.web.views import DASHBOARD, EXPORTER, STORIES, add_dashboard
from storage.database import Database

DATABASE = web.AppKey("database", Database)


async def healthz(request: web.Request) -> web.Response:
    """Liveness and database reachability."""
    database = request.app[DATABASE]
    try:
        await database.ping()
    except Exception:
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})


def create_app(
    database: Database,
    accounts: Accounts | None = None,
    dashboard: Dashboard | None = None,
    stories: StoryWall | None = None,
    exporter: Exporter | None = None,
    *,
    web_chat: WebChat | None = None,
) -> web.Application:
    """The web application: health checks, the dashboard when its services are given, and the
    residents' web chat when given."""
    app = web.Application(client_max_size=1024 * 1024, middlewares=[guard])
    app[DATABASE] = database
    app.router.add_get("/healthz", public(healthz))
    if accounts and dashboard and stories and exporter:
        app[ACCOUNTS] = accounts
        app[DASHBOARD] = dashboard
        app[STORIES] = stories
        app[EXPORTER] = exporter
        add_dashboard(app)
    if web_chat is not None:
        add_web_chat(app, web_chat)
    return app
