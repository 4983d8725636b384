"""The dashboard's pages: sign-in, overview and composition (each route declares its roles)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.i18n import gettext as _
from bot.i18n import language
from bot.services.accounts import same
from bot.services.composition import ETHNIC_GROUP, LOCALITY, category_label
from bot.services.dashboard import Dashboard
from bot.services.disclosure import SMALLEST_SHOWN, SMALLEST_VIEW, shown
from bot.services.exports import EXTENSIONS, FORMATS, MEDIA_TYPES, Exporter
from bot.services.profile import FEATURES_BY_ID
from bot.services.representativeness import FeatureFit
from bot.services.results import BY_FEATURES
from bot.services.roles import ADMIN, CHAMPION, LEAD
from bot.services.story_wall import MODERATION_ACTIONS, StoryWall
from bot.web.guard import (
    ACCOUNTS,
    COOKIE,
    CSRF_FIELD,
    VISITOR_KEY,
    allow,
    client_address,
    harden,
    public,
    visitor_of,
)

TEMPLATES = web.AppKey("templates", jinja2.Environment)
DASHBOARD = web.AppKey("dashboard", Dashboard)
STORIES = web.AppKey("stories", StoryWall)
EXPORTER = web.AppKey("exporter", Exporter)
STORY_STATES = ("new", "approved", "rejected")
LOGIN_CSRF = "panelbot_login_csrf"
EVERYONE = (ADMIN, LEAD, CHAMPION)
ANALYSTS = (ADMIN, LEAD)
NAV: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/", "Overview", EVERYONE),
    ("/composition", "Composition", EVERYONE),
    ("/broadcasts", "Broadcasts", EVERYONE),
    ("/surveys", "Survey results", ANALYSTS),
    ("/stories", "Stories", ANALYSTS),
    ("/exports", "Exports", ANALYSTS),
)
FEATURE_NAMES = {LOCALITY: "Locality", ETHNIC_GROUP: "Ethnic group"}


def templates() -> jinja2.Environment:
    """The page templates, autoescaped."""
    folder = Path(__file__).with_name("templates")
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder), autoescape=True, undefined=jinja2.StrictUndefined
    )
    environment.filters["shown"] = shown  # disclosure control for counts a page shows as given
    environment.globals["smallest_view"] = SMALLEST_VIEW
    return environment


def page(request: web.Request, template: str, title: str, **context: Any) -> web.Response:
    """A page in the dashboard's frame, with the navigation its visitor may use."""
    visitor = request.get(VISITOR_KEY, None)
    nav = [(href, label) for href, label, roles in NAV if visitor and visitor.role in roles]
    body = (
        request.app[TEMPLATES]
        .get_template(template)
        .render(title=title, visitor=visitor, nav=nav, here=request.path, **context)
    )
    return web.Response(text=body, content_type="text/html")


# ---------------------------------------------------------------------- signing in
def _login_page(request: web.Request, error: str | None = None) -> web.Response:
    """The sign-in form (its CSRF token is also in a short-lived cookie)."""
    csrf = secrets.token_urlsafe(24)
    response = page(request, "login.html", "Sign in", csrf=csrf, error=error)
    response.set_cookie(
        LOGIN_CSRF, csrf, httponly=True, samesite="Strict", secure=True, max_age=900
    )
    return response


@public
async def login_form(request: web.Request) -> web.Response:
    """The sign-in page."""
    return _login_page(request)


@public
async def login(request: web.Request) -> web.Response:
    """Check the details; a session cookie on success, the form again (kindly) otherwise."""
    form = await request.post()
    expected = request.cookies.get(LOGIN_CSRF, "")
    if not expected or not same(str(form.get(CSRF_FIELD, "")), expected):
        return _login_page(request, "The form had expired. Please try again.")
    token = await request.app[ACCOUNTS].sign_in(
        str(form.get("username", "")), str(form.get("password", "")), client_address(request)
    )
    if token is None:
        error = "Those details did not work, or there were too many tries. Wait, then try again."
        return _login_page(request, error)
    response = web.HTTPSeeOther("/")
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=True, path="/")
    response.del_cookie(LOGIN_CSRF)
    raise response


@allow(*EVERYONE)
async def logout(request: web.Request) -> web.Response:
    """End the session."""
    await request.app[ACCOUNTS].sign_out(request.cookies.get(COOKIE, ""))
    response = web.HTTPSeeOther("/login")
    response.del_cookie(COOKIE, path="/")
    raise response


# ---------------------------------------------------------------------- pages
@allow(*EVERYONE)
async def overview(request: web.Request) -> web.Response:
    """Panel size, joins per week, survey uptake, stories."""
    visitor = visitor_of(request)
    data = await request.app[DASHBOARD].overview()
    return page(request, "overview.html", "Overview", o=data, results=visitor.role in ANALYSTS)


@allow(*EVERYONE)
async def composition(request: web.Request) -> web.Response:
    """The panel against the census, per feature, for the area or one locality."""
    dashboard = request.app[DASHBOARD]
    area = dashboard.area
    localities = [(loc.id, loc.name) for loc in area.localities.values()] if area else []
    chosen = request.query.get("locality", "")
    if chosen and chosen not in dict(localities):
        raise web.HTTPNotFound(text="No such place.")
    found = await dashboard.composition(chosen or None)
    members = found.members if found else 0
    fits = [_fit_rows(fit, found, dict(localities)) for fit in found.fits] if found else []
    return page(
        request,
        "composition.html",
        "Composition against the census",
        localities=localities,
        chosen=chosen,
        composition=found,
        members=shown(members),
        too_few=members < SMALLEST_VIEW,
        fits=fits,
    )


@allow(*EVERYONE)
async def broadcasts(request: web.Request) -> web.Response:
    """Broadcasts and their delivery reports (champions: those to their own localities)."""
    visitor = visitor_of(request)
    within = None if visitor.role in ANALYSTS else visitor.localities
    reports = await request.app[DASHBOARD].broadcasts(within)
    return page(request, "broadcasts.html", "Broadcasts", reports=reports)


@allow(*ANALYSTS)
async def surveys(request: web.Request) -> web.Response:
    """The surveys there are results for."""
    library = request.app[DASHBOARD].library
    found = [
        (s.id, s.title.get("en")) for s in library.surveys.values() if s.id != library.story.id
    ]
    return page(request, "surveys.html", "Survey results", surveys=sorted(found))


@allow(*ANALYSTS)
async def results(request: web.Request) -> web.Response:
    """One survey's results, raw and weighted, optionally by one group."""
    dashboard = request.app[DASHBOARD]
    by = request.query.get("by") or None
    if by is not None and by not in BY_FEATURES:
        raise web.HTTPNotFound(text="No such breakdown.")
    found = await dashboard.results(request.match_info["survey"], by)
    if found is None:
        raise web.HTTPNotFound(text="No such survey.")
    features = [(f, _feature_name(f)) for f in BY_FEATURES]
    return page(
        request,
        "results.html",
        found.title,
        r=found,
        by=by or "",
        by_name=_feature_name(by).lower() if by else "",
        features=features,
    )


@allow(*ANALYSTS)
async def stories(request: web.Request) -> web.Response:
    """The moderation queue, the wall of approved stories, or the rejected ones."""
    state = request.query.get("state", "new")
    if state not in STORY_STATES:
        raise web.HTTPNotFound(text="No such list.")
    wall = request.app[STORIES]
    cards = await wall.cards(state)
    pattern = await wall.patterns() if state == "approved" else None
    return page(request, "stories.html", "Stories", cards=cards, state=state, pattern=pattern)


@allow(*ANALYSTS)
async def moderate(request: web.Request) -> web.Response:
    """Approve, reject or further redact one story."""
    form = await request.post()
    action = str(form.get("action", ""))
    if action not in MODERATION_ACTIONS or not request.match_info["story"].isdigit():
        raise web.HTTPBadRequest(text="Choose approve, reject or save.")
    text = str(form.get("text", ""))[:20000] or None
    actor = f"web:{visitor_of(request).username}"
    if not await request.app[STORIES].moderate(
        int(request.match_info["story"]), action, text, actor
    ):
        raise web.HTTPNotFound(text="No such story.")
    raise web.HTTPSeeOther("/stories")


@allow(*ANALYSTS)
async def exports(request: web.Request) -> web.Response:
    """The export form and the register."""
    return await _exports_page(request)


async def _exports_page(request: web.Request, error: str | None = None) -> web.Response:
    library = request.app[DASHBOARD].library
    found = sorted(
        (s.id, s.title.get("en")) for s in library.surveys.values() if s.id != library.story.id
    )
    register = await request.app[EXPORTER].register()
    return page(request, "exports.html", "Exports", surveys=found, register=register, error=error)


@allow(*ANALYSTS)
async def download(request: web.Request) -> web.StreamResponse:
    """Stream one export to the browser, or say why not."""
    form = await request.post()
    survey = request.app[DASHBOARD].library.get(str(form.get("survey", "")))
    fmt, reason = str(form.get("format", "")), str(form.get("reason", "")).strip()
    if survey is None or fmt not in FORMATS or len(reason) < 10:
        return await _form_again(
            request, "Choose a survey and a format, and say why (10 characters or more)."
        )
    exporter = request.app[EXPORTER]
    plan = await exporter.plan(survey)
    if plan.decision.rows == 0:
        return await _form_again(request, "There are no responses to this survey yet.")
    if plan.decision.refused:
        return await _form_again(request, "There are too few responses to share this safely.")
    response = web.StreamResponse(
        headers={
            "Content-Type": MEDIA_TYPES[fmt],
            "Content-Disposition": f'attachment; filename="{survey.id}.{EXTENSIONS[fmt]}"',
        }
    )
    harden(response)
    await response.prepare(request)
    actor = f"web:{visitor_of(request).username}"
    await exporter.write(plan, fmt, response, actor=actor, reason=reason)
    await response.write_eof()
    return response


async def _form_again(request: web.Request, error: str) -> web.Response:
    """The export form again, saying what was wrong."""
    response = await _exports_page(request, error)
    response.set_status(400)
    return response


def _fit_rows(fit: FeatureFit, found: Any, places: dict[str, str]) -> dict[str, Any]:
    """One feature's table, disclosed: small groups hidden, with their shares."""
    rows = []
    for share in fit.shares:
        hidden = 0 < share.count < SMALLEST_SHOWN
        target = found.target(fit, share.category)
        rows.append(
            {
                "label": _label(fit.feature, share.category, places),
                "members": shown(share.count),
                "panel": "*" if hidden else f"{100 * share.panel:.0f}%",
                "panel_value": 0 if hidden else round(100 * share.panel),
                "census": f"{100 * share.target:.0f}%",
                "census_value": round(100 * share.target),
                "target": target if target is not None else "–",
                "needed": shown(max(0, target - share.count)) if target is not None else "–",
            }
        )
    worst = _label(fit.feature, fit.worst.category, places) if fit.worst else "–"
    return {
        "feature": fit.feature,
        "name": _feature_name(fit.feature),
        "dissimilarity": f"{fit.dissimilarity:.2f}",
        "gap": f"{fit.largest_gap_pp:.1f}",
        "worst": worst,
        "w": f"{fit.cohens_w:.2f}",
        "rows": rows,
    }


def _feature_name(feature: str) -> str:
    known = FEATURES_BY_ID.get(feature)
    with language("en"):
        return _(known.name) if known else FEATURE_NAMES.get(feature, feature)


def _label(feature: str, category: str, places: dict[str, str]) -> str:
    if feature == LOCALITY:
        return places.get(category, category)
    label = category_label(feature, category)
    with language("en"):
        return _(label) if label else category


def add_dashboard(app: web.Application) -> None:
    """Register the dashboard's routes and static files."""
    app[TEMPLATES] = templates()
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/", overview)
    app.router.add_get("/composition", composition)
    app.router.add_get("/broadcasts", broadcasts)
    app.router.add_get("/surveys", surveys)
    app.router.add_get("/surveys/{survey}", results)
    app.router.add_get("/stories", stories)
    app.router.add_post("/stories/{story}", moderate)
    app.router.add_get("/exports", exports)
    app.router.add_post("/exports", download)
    app.router.add_static("/static", Path(__file__).with_name("static"))
