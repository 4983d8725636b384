"""Deny by default: every route declares who may use it; sessions, CSRF and security headers.

A handler without a declared audience is answered 404, as if it did not exist. Signed-in
requests that change anything must carry the session's CSRF token (a form field or a header).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.services.accounts import Accounts, Visitor, same

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ROLES_ATTRIBUTE = "panelbot_roles"
PUBLIC = ("*",)
COOKIE = "__Host-panelbot"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ACCOUNTS = web.AppKey("accounts", Accounts)
VISITOR_KEY = web.RequestKey("visitor", Visitor)
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def allow(*roles: str) -> Callable[[Handler], Handler]:
    """Declare which roles may use a route."""

    def mark(handler: Handler) -> Handler:
        setattr(handler, ROLES_ATTRIBUTE, roles)
        return handler

    return mark


def public(handler: Handler) -> Handler:
    """Declare a route open to anyone (it does its own checks, if any)."""

    async def open_route(request: web.Request) -> web.StreamResponse:
        return await handler(request)

    setattr(open_route, ROLES_ATTRIBUTE, PUBLIC)
    return open_route


def visitor_of(request: web.Request) -> Visitor:
    """The signed-in visitor (routes with roles always have one)."""
    if VISITOR_KEY not in request:
        raise web.HTTPForbidden()
    return request[VISITOR_KEY]


def _roles_of(request: web.Request) -> tuple[str, ...] | None:
    info = request.match_info
    if info.http_exception is not None:
        return PUBLIC  # 404 and 405 answers are the router's own
    resource = info.route.resource
    if resource is not None and resource.canonical.startswith("/static"):
        return PUBLIC
    roles: tuple[str, ...] | None = getattr(info.handler, ROLES_ATTRIBUTE, None)
    return roles


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Who may do what, checked before any handler runs; security headers on every answer."""
    try:
        response = await _checked(request, handler)
    except web.HTTPException as answer:
        harden(answer)
        raise
    harden(response)
    return response


async def _checked(request: web.Request, handler: Handler) -> web.StreamResponse:
    roles = _roles_of(request)
    if roles is None:
        raise web.HTTPNotFound()
    if roles == PUBLIC:
        return await handler(request)
    token = request.cookies.get(COOKIE, "")
    visitor = await request.app[ACCOUNTS].visitor(token) if token else None
    if visitor is None:
        if request.method in SAFE_METHODS:
            raise web.HTTPSeeOther("/login")
        raise web.HTTPUnauthorized()
    if visitor.role not in roles:
        raise web.HTTPForbidden(text="You do not have access to this page.")
    if request.method not in SAFE_METHODS:
        given = request.headers.get(CSRF_HEADER) or str((await request.post()).get(CSRF_FIELD, ""))
        if not given or not same(given, visitor.csrf_token):
            raise web.HTTPForbidden(text="This form has expired. Go back, reload it and try again.")
    request[VISITOR_KEY] = visitor
    return await handler(request)


TRUSTED_PROXIES = web.AppKey("trusted_proxies", frozenset)
LOOPBACK = frozenset({"127.0.0.1", "::1"})


def client_address(request: web.Request) -> str:
    """Who is asking: behind a trusted proxy, the address it forwarded; otherwise the peer."""
    remote = request.remote or "unknown"
    if remote not in request.app.get(TRUSTED_PROXIES, frozenset()):
        return remote
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):  # the nearest hop the proxy added is the one to believe
        if hop not in request.app[TRUSTED_PROXIES]:
            return hop
    return remote


def from_this_machine(request: web.Request) -> bool:
    """A request from this machine itself, not one a proxy passed on."""
    forwarded = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    return request.remote in LOOPBACK and not forwarded


def harden(response: web.StreamResponse | Any) -> None:
    """Security headers, and no caching of anything personal."""
    if response.prepared:
        return
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")
