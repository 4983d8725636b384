"""The aiohttp application: health checks and the routes other parts add."""

from __future__ import annotations

from aiohttp import web

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


def create_app(database: Database) -> web.Application:
    """The web application with its health route."""
    app = web.Application(client_max_size=1024 * 1024)
    app[DATABASE] = database
    app.router.add_get("/healthz", healthz)
    return app
