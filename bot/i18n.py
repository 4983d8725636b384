"""Translations: Babel catalogues compiled at start, the locale of each update in a ContextVar."""

from __future__ import annotations

import gettext as _gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Language:
    """A language residents can choose, named in itself."""

    code: str
    native_name: str
    right_to_left: bool = False


LANGUAGES: tuple[Language, ...] = (
    Language("en", "English"),
    Language("cy", "Cymraeg"),
    Language("pl", "Polski"),
    Language("ur", "اردو", right_to_left=True),
)
LANGUAGE_CODES = frozenset(language.code for language in LANGUAGES)


def compile_catalogue(po_path: Path) -> _gettext.GNUTranslations:
    """Compile a .po file in memory into a gettext translation (no .mo on disk)."""
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=po_path.parent.parent.name)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


class Catalogues:
    """The compiled translations of every supported language."""

    def __init__(self, locales_dir: Path = LOCALES_DIR) -> None:
        self._translations: dict[str, _gettext.NullTranslations] = {}
        for language in LANGUAGES:
            po_path = locales_dir / language.code / "LC_MESSAGES" / f"{DOMAIN}.po"
            if po_path.is_file():
                self._translations[language.code] = compile_catalogue(po_path)
            else:
                self._translations[language.code] = _gettext.NullTranslations()

    def get(self, code: str) -> _gettext.NullTranslations:
        """The translation for a language code, English when unknown."""
        return self._translations.get(code) or self._translations[DEFAULT_LANGUAGE]


_catalogues: Catalogues | None = None
_current_language: ContextVar[str] = ContextVar("panelbot_language", default=DEFAULT_LANGUAGE)


def catalogues() -> Catalogues:
    """The process-wide compiled catalogues, built on first use."""
    global _catalogues
    if _catalogues is None:
        _catalogues = Catalogues()
    return _catalogues


def negotiate(language_code: str | None) -> str:
    """The supported language closest to a client's IETF tag (e.g. 'pl-PL' -> 'pl')."""
    if not language_code:
        return DEFAULT_LANGUAGE
    try:
        locale = Locale.parse(language_code.replace("_", "-"), sep="-")
    except (ValueError, UnknownLocaleError):
        return DEFAULT_LANGUAGE
    return locale.language if locale.language in LANGUAGE_CODES else DEFAULT_LANGUAGE


def current_language() -> str:
    """The language of the update being handled."""
    return _current_language.get()


def set_language(code: str) -> None:
    """Switch the language for the rest of this update."""
    _current_language.set(code if code in LANGUAGE_CODES else DEFAULT_LANGUAGE)


@contextmanager
def language(code: str) -> Iterator[None]:
    """Use a language inside a block, restoring the previous one after."""
    token = _current_language.set(code if code in LANGUAGE_CODES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _current_language.reset(token)


def gettext(message: str) -> str:
    """Translate a message into the current language."""
    return catalogues().get(_current_language.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Translate a message with a count, using the language's plural forms."""
    return catalogues().get(_current_language.get()).ngettext(singular, plural, count)


def language_by_code(code: str) -> Language:
    """The Language for a code (English when unknown)."""
    for candidate in LANGUAGES:
        if candidate.code == code:
            return candidate
    return LANGUAGES[0]


_ = gettext
