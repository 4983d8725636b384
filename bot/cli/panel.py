"""Area packs, the panel's composition, reserve draws and sub-panel selection."""

from __future__ import annotations

import argparse
import asyncio
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout

from bot.channels.telegram import send_direct
from bot.cli.data import print_problems
from bot.config import Settings, SettingsError
from bot.services.area import AreaProfile, check_area
from bot.services.area_install import install_area, installed_area
from bot.services.composition import LOCALITY, Counts, compose, panel_counts
from bot.services.maximin import Lottery, Quota, maximin
from bot.services.panel_chat import utc_now
from bot.services.panel_status import status_table
from bot.services.quotas import Quotas
from bot.services.recruitment import Recruitment
from bot.services.selection import Candidate, audit_record, candidates, census_quotas, invitation
from storage.database import open_database, upgrade
from storage.repositories import PanelRepository, SelectionRepository


def area_in_use(settings: Settings) -> AreaProfile | None:
    """Migrate, then the pack of PANELBOT_AREA_DIR (checked first), else the installed one."""
    area = AreaProfile.load(settings.area_dir) if settings.area_dir else None
    upgrade(settings.effective_database_url)
    return area or installed_area_of(settings)


def installed_area_of(settings: Settings) -> AreaProfile | None:
    """The area pack installed with `panelbot area load`, if any (the database is migrated)."""

    async def read() -> AreaProfile | None:
        async with open_database(settings.effective_database_url) as database:
            return await installed_area(database)

    return asyncio.run(read())


def census_area(settings: Settings) -> AreaProfile:
    """The area pack in use (after migrating), which must hold census counts."""
    area = area_in_use(settings)
    if area is None or not area.features():
        raise SettingsError(
            "no area pack with census counts: set PANELBOT_AREA_DIR or run `panelbot area load DIR`"
        )
    return area


def area_summary(profile: AreaProfile) -> str:
    """One line about a pack."""
    census = ", ".join(profile.features()) or "none"
    return (
        f"{profile.name}: {len(profile.localities)} localities, "
        f"{len(profile.district_locality)} districts, {len(profile.unit_locality)} unit postcodes, "
        f"census features: {census}"
    )


def cmd_area_check(_settings: Settings, args: argparse.Namespace) -> int:
    """Check an area pack: print every problem with its place."""
    problems = check_area(args.folder)
    if problems:
        print_problems(problems, str(args.folder))
        return 1
    print(f"{args.folder}: ok ({area_summary(AreaProfile.load(args.folder))})")
    return 0


def cmd_area_load(settings: Settings, args: argparse.Namespace) -> int:
    """Check an area pack and install it in the database."""
    problems = check_area(args.folder)
    if problems:
        print_problems(problems, str(args.folder))
        return 1
    profile = AreaProfile.load(args.folder)
    upgrade(settings.effective_database_url)

    async def install() -> None:
        async with open_database(settings.effective_database_url) as database:
            await install_area(database, profile)

    asyncio.run(install())
    print(f"Installed {area_summary(profile)}")
    return 0


def cmd_panel_draw(settings: Settings, _args: argparse.Namespace) -> int:
    """Move reserve residents whose groups have room onto the panel; queue the news for them."""
    quotas = Quotas.from_area(census_area(settings))
    if quotas is None:
        raise SettingsError("the area pack has no panel_size, so there are no quotas")

    async def draw() -> int:
        url = settings.effective_database_url
        async with open_database(url) as database, database.transaction() as session:
            return len(await Recruitment(quotas).draw_and_tell(PanelRepository(session), utc_now()))

    moved = asyncio.run(draw())
    print(
        f"{moved} moved from the reserve list onto the panel; the bot (or `panelbot sender`) "
        "tells them in the chat."
    )
    return 0


def solve_with_progress(
    people: list[dict[str, str]], quotas: list[Quota], size: int, time_limit: float
) -> Lottery:
    """Run maximin in a worker process, showing the time it has taken so far."""
    with ProcessPoolExecutor(max_workers=1) as workers:
        future = workers.submit(maximin, people, quotas, size, time_limit=time_limit)
        begin = time.monotonic()
        while True:
            try:
                lottery = future.result(timeout=1)
                break
            except FuturesTimeout:
                print(f"\rselecting fairly... {time.monotonic() - begin:.0f} s", end="", flush=True)
    print(f"\rselected in {lottery.seconds:.1f} s" + " " * 20)
    return lottery


def cmd_select(settings: Settings, args: argparse.Namespace) -> int:
    """Draw a sub-panel by lot within census quotas, keep its audit record, invite the chosen."""
    area = census_area(settings)
    features = args.features.split(",") if args.features else [LOCALITY, *area.features()]
    unknown = [f for f in features if f != LOCALITY and f not in area.features()]
    if unknown:
        raise SettingsError(f"no census counts for {', '.join(unknown)}")

    async def read_pool() -> list[Candidate]:
        url = settings.effective_database_url
        async with open_database(url) as database, database.transaction() as session:
            return candidates(await SelectionRepository(session).pool(), features)

    pool = asyncio.run(read_pool())
    if len(pool) < args.size:
        raise SettingsError(f"the pool has {len(pool)} members, fewer than {args.size}")
    quotas = census_quotas(area, args.size, features)
    try:
        lottery = solve_with_progress([c.groups for c in pool], quotas, args.size, args.time_limit)
    except ValueError as error:
        raise SettingsError(str(error)) from error
    chosen = lottery.draw(args.seed)
    record = audit_record(
        pool, quotas, lottery, chosen, size=args.size, seed=args.seed, now=utc_now()
    )

    async def keep_and_invite() -> tuple[int, int]:
        url = settings.effective_database_url
        async with open_database(url) as database, database.transaction() as session:
            SelectionRepository(session).record(record)
        selection_id = record.id
        invites = [(pool[i].chat_id, invitation(pool[i].language)) for i in sorted(chosen)]
        told = 0
        if settings.telegram_token:
            told = await send_direct(settings.telegram_token, settings.telegram_api_url, invites)
        return selection_id, told

    selection_id, told = asyncio.run(keep_and_invite())
    fair = args.size / len(pool)
    print(
        f"Selection {selection_id}: {len(chosen)} of {len(pool)} members (seed {args.seed}); "
        f"lowest chance {lottery.lowest:.2%} (equal chance would be {fair:.2%}; "
        f"the best possible is at most {lottery.bound:.2%}); {told} invited in the chat."
    )
    return 0


def cmd_panel_status(settings: Settings, args: argparse.Namespace) -> int:
    """Print the panel's composition against the area's census."""
    area = census_area(settings)
    if args.locality and args.locality not in area.localities:
        raise SettingsError(f"no locality {args.locality!r} (use {', '.join(area.localities)})")

    async def read() -> tuple[dict[str | None, Counts], dict[str | None, int]]:
        url = settings.effective_database_url
        async with open_database(url) as database, database.transaction() as session:
            panel = PanelRepository(session)
            return panel_counts(await panel.profile_counts()), await panel.locality_counts()

    counts, members = asyncio.run(read())
    print(status_table(area, compose(area, counts, members, args.locality), args.locality))
    return 0
