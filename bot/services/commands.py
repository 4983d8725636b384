"""The bot's command menu, in each language."""

from __future__ import annotations

from bot.i18n import LANGUAGES, language
from bot.i18n import gettext as _
from bot.services.profile import N_

COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Join the panel")),
    ("surveys", N_("Surveys open for you")),
    ("story", N_("Tell us your story")),
    ("pause", N_("Pause a survey and carry on later")),
    ("profile", N_("See or change your answers")),
    ("language", N_("Choose another language")),
    ("stop", N_("Stop receiving consultations")),
    ("mydata", N_("Get a copy of everything we hold about you")),
    ("forgetme", N_("Delete everything we hold about you")),
    ("help", N_("What I can do")),
)


def command_menus() -> dict[str, list[tuple[str, str]]]:
    """Command names with translated descriptions, per language code."""
    menus: dict[str, list[tuple[str, str]]] = {}
    for lang in LANGUAGES:
        with language(lang.code):
            menus[lang.code] = [(name, _(description)) for name, description in COMMANDS]
    return menus
