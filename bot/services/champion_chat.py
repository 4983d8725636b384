"""Champions, co-design leads and admins in the chat: invite codes, links, stats, broadcasts.

Every command here checks the account's roles (by its numeric id, in private chats only, which
the channel guarantees) before doing anything, and every change is audited.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import datetime

import segno

from bot.i18n import gettext as _
from bot.i18n import language, negotiate
from bot.services.area import AreaProfile
from bot.services.broadcast_wizard import PREFIX as WIZARD
from bot.services.broadcast_wizard import BroadcastWizard
from bot.services.broadcasts import Broadcasts, NotAllowed, Report
from bot.services.chat import Button, Document, Inbound, Outcome, Reply
from bot.services.composition import LOCALITY, category_label, compose, panel_counts
from bot.services.disclosure import shown
from bot.services.profile import FEATURES
from bot.services.quiet_hours import LONDON
from bot.services.roles import CHAMPION, Reach, Roles
from storage.broadcasts import BroadcastRepository
from storage.database import Database
from storage.repositories import PanelRepository, ResidentRepository
from storage.roles import RoleRepository

COMMANDS = ("champion", "mylink", "mystats", "broadcast", "broadcasts")
CANCEL_PREFIX = "bc"
HOLDERS_TTL = 60.0  # seconds an account's new role may take to be seen by other workers
SHORT_GROUPS = 3
# Champions see their recruits by these only: never by ethnicity or health.
STATS_FEATURES = tuple(f for f in FEATURES if not f.special_category)


class ChampionChat:
    """Handles the commands and buttons of accounts with roles."""

    def __init__(
        self,
        database: Database,
        roles: Roles,
        broadcasts: Broadcasts,
        wizard: BroadcastWizard,
        area: AreaProfile | None,
        *,
        bot_username: Callable[[], str],
        clock: Callable[[], datetime],
        web_address: str = "",
    ) -> None:
        self.database = database
        self.web_address = web_address.rstrip("/")  # where the web chat is public, if it is
        self.roles = roles
        self.broadcasts = broadcasts
        self.wizard = wizard
        self.area = area
        self.bot_username = bot_username
        self.clock = clock
        self._holders: set[int] = set()
        self._holders_read = float("-inf")

    async def claims(self, event: Inbound) -> bool:
        """Whether this event is for this service rather than the resident conversation."""
        if event.command in COMMANDS:
            return True
        if event.button is not None:
            return event.button.split(":", 1)[0] in (WIZARD, CANCEL_PREFIX)
        if event.text is None or event.voice is not None:
            return False
        return await self._holds_a_role(event.chat_id) and await self.wizard.awaiting_text(
            event.chat_id
        )

    async def handle(self, event: Inbound) -> Outcome:
        """Answer one event, in the account's language."""
        with language(await self._language(event)):
            if event.command == "champion":
                return await self._redeem(event)
            reach = await self.roles.reach(event.chat_id)
            if not reach.may_broadcast:
                text = _("This is for community champions. If you are one, send /champion CODE.")
                return Outcome([Reply(text)])
            if event.command == "mylink":
                return await self._link(event.chat_id)
            if event.command == "mystats":
                return await self._stats(event.chat_id, reach.localities)
            if event.command == "broadcast":
                return await self.wizard.begin(event.chat_id)
            if event.command == "broadcasts":
                return await self._list(event.chat_id, reach.localities is None)
            if event.button is not None:
                return await self._button(event.chat_id, reach, event.button)
            return await self.wizard.typed(event.chat_id, reach, event.text or "")

    async def _button(self, chat_id: int, reach: Reach, data: str) -> Outcome:
        prefix, _sep, rest = data.partition(":")
        step, _sep, value = rest.partition(":")
        if prefix == WIZARD:
            return await self.wizard.pressed(chat_id, reach, step, value)
        if step == "cancel" and value.isdigit():
            return await self._cancel(chat_id, int(value), reach.localities is None)
        return Outcome(stale=True)

    # ------------------------------------------------------------------ commands
    async def _redeem(self, event: Inbound) -> Outcome:
        code = event.argument.strip()
        role = await self.roles.redeem(code, event.chat_id) if code else None
        if role is None:
            text = _(
                "Sorry, that code does not work: it may have been used already, or expired. "
                "Ask the panel team for a new one."
            )
            return Outcome([Reply(text)])
        self._holders.add(event.chat_id)
        places = ", ".join(self._place_name(p) for p in role.localities.get("ids", []))
        text = _(
            "Welcome, community champion for {places}! Send /mylink for your link to share, "
            "/mystats to see who joined through it, and /broadcast to send a message to the panel."
        ).format(places=places or _("the whole area"))
        return Outcome([Reply(text)])

    async def _link(self, chat_id: int) -> Outcome:
        async with self.database.transaction() as session:
            role = await RoleRepository(session).find(chat_id, CHAMPION)
        if role is None or role.referral_code is None:
            return Outcome([Reply(_("Only community champions have a link to share."))])
        link = f"https://t.me/{self.bot_username()}?start=ref_{role.referral_code}"
        image = io.BytesIO()
        segno.make(link, error="m").save(image, kind="png", scale=8, border=4)
        text = _(
            "Share this link, or let people scan the picture. Everyone who joins through it is "
            "counted for you, in numbers only, never by name:\n{link}"
        ).format(link=link)
        if self.web_address:
            web = f"{self.web_address}/join?ref={role.referral_code}"
            text += "\n\n" + _("People without Telegram can join in their browser:\n{link}").format(
                link=web
            )
        document = Document("panel-link.png", image.getvalue(), "image/png")
        return Outcome([Reply(text, document=document)])

    async def _stats(self, chat_id: int, localities: tuple[str, ...] | None) -> Outcome:
        async with self.database.transaction() as session:
            roles = RoleRepository(session)
            role = await roles.find(chat_id, CHAMPION)
            code = role.referral_code if role is not None else None
            recruits = await roles.recruits(code) if code else []
            profiles = await roles.recruit_profiles(code) if code else []
            on_panel = [r for r in recruits if r.status == "member"]
            panel = PanelRepository(session)
            counts = panel_counts(await panel.profile_counts())
            members = await panel.locality_counts()
        lines = [
            _("People who joined through your link: {joined} (on the panel: {members}).").format(
                joined=shown(len(recruits)), members=shown(len(on_panel))
            )
        ]
        lines.extend(self._recruit_groups(profiles))
        lines.extend(self._short_groups(localities, counts, members))
        lines.append(_("* means fewer than 8: small numbers are hidden to protect privacy."))
        return Outcome([Reply("\n\n".join(lines))])

    @staticmethod
    def _recruit_groups(profiles: list[tuple[str, str, int]]) -> list[str]:
        """Who joined through the link, per group of each non-sensitive feature."""
        lines = []
        for feature in STATS_FEATURES:
            parts = [
                f"{_(category.label)} {shown(count)}"
                for category in feature.categories
                for answered, value, count in profiles
                if answered == feature.id and value == category.id
            ]
            if parts:
                lines.append(f"{_(feature.name)}: {', '.join(parts)}")
        return lines

    def _short_groups(
        self,
        localities: tuple[str, ...] | None,
        counts: dict[str | None, dict[str, dict[str, int]]],
        members: dict[str | None, int],
    ) -> list[str]:
        """Per locality, the groups furthest below their census target."""
        if self.area is None or not self.area.features() or not self.area.panel_size:
            return []
        lines: list[str] = []
        for place in localities or tuple(self.area.localities):
            composition = compose(self.area, counts, members, place)
            short = sorted(
                (
                    (share.ratio, self._group_name(fit.feature, share.category), needed)
                    for fit in composition.fits
                    for share in fit.shares
                    if (target := composition.target(fit, share.category)) is not None
                    and (needed := target - share.count) > 0
                ),
            )[:SHORT_GROUPS]
            if short:
                groups = "; ".join(f"{name} ({shown(needed)})" for _r, name, needed in short)
                lines.append(
                    _("{place} needs more: {groups}").format(
                        place=self._place_name(place), groups=groups
                    )
                )
        return lines

    async def _list(self, chat_id: int, everyone: bool) -> Outcome:
        owner = None if everyone else chat_id
        async with self.database.transaction() as session:
            broadcasts = BroadcastRepository(session)
            upcoming = await broadcasts.upcoming(owner, self.clock())
            recent = await broadcasts.recent(owner)
        replies = []
        for broadcast in upcoming:
            when = broadcast.send_at.astimezone(LONDON).strftime("%d/%m %H:%M")
            text = _("Broadcast {id}: {count} members, from {when}.").format(
                id=broadcast.id, count=broadcast.recipients, when=when
            )
            button = Button(f"{CANCEL_PREFIX}:cancel:{broadcast.id}", _("Cancel it"))
            replies.append(Reply(text, ((button,),)))
        reports = [await self.broadcasts.report(b.id) for b in recent if b not in upcoming]
        lines = [self._report_line(r) for r in reports if r is not None]
        if lines:
            replies.append(Reply("\n".join(lines)))
        if not replies:
            replies.append(Reply(_("No broadcasts yet. Send /broadcast to make one.")))
        return Outcome(replies)

    async def _cancel(self, chat_id: int, broadcast_id: int, admin: bool) -> Outcome:
        try:
            dropped = await self.broadcasts.cancel(
                broadcast_id, actor=f"chat:{chat_id}", sender=None if admin else chat_id
            )
        except NotAllowed:
            return Outcome(notice=_("That broadcast is not yours."))
        if dropped is None:
            return Outcome(notice=_("It has already gone out."))
        text = _("Broadcast {id} is cancelled. Nothing more of it will be sent.")
        return Outcome([Reply(text.format(id=broadcast_id))], notice=_("Cancelled"))

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _report_line(report: Report) -> str:
        return _(
            "Broadcast {id}: sent {sent}, blocked {blocked}, failed {failed}, "
            "still to send {pending}, answered {responded}."
        ).format(
            id=report.broadcast_id,
            sent=report.sent,
            blocked=report.blocked,
            failed=report.failed,
            pending=report.pending,
            responded=report.responded,
        )

    def _place_name(self, place: str) -> str:
        return self.area.place_name(place) if self.area else place

    def _group_name(self, feature: str, category: str) -> str:
        if feature == LOCALITY:
            return self._place_name(category)
        label = category_label(feature, category)
        return _(label) if label is not None else category

    async def _language(self, event: Inbound) -> str:
        async with self.database.transaction() as session:
            resident = await ResidentRepository(session).by_chat("telegram", event.chat_id)
        return resident.language if resident is not None else negotiate(event.client_language)

    async def _holds_a_role(self, chat_id: int) -> bool:
        if time.monotonic() - self._holders_read > HOLDERS_TTL:
            self._holders = await self.roles.holders()
            self._holders_read = time.monotonic()
        return chat_id in self._holders
