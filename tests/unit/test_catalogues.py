"""Every catalogue translates every message, with the same placeholders."""

from __future__ import annotations

import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, LOCALES_DIR

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [lang.code for lang in LANGUAGES if lang.code != "en"]
COMMAND = re.compile(r"/[a-z]+")


def load(code: str) -> Catalog:
    with (LOCALES_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=code)


def template() -> Catalog:
    with (LOCALES_DIR / "messages.pot").open("rb") as handle:
        return read_po(handle)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def ids(catalog: Catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def test_template_matches_the_code(tmp_path: Path) -> None:
    """The committed .pot is what extraction from the code gives now."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from babel.messages.frontend import main; main()",
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-k",
            "_",
            "-k",
            "gettext",
            "-k",
            "ngettext:1,2",
            "--add-comments=Translators:",
            "--no-location",
            "--sort-output",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with fresh.open("rb") as handle:
        extracted = ids(read_po(handle))
    assert extracted == ids(template()), "run `make messages` and translate the new texts"


@pytest.mark.parametrize("code", TRANSLATED)
def test_catalogue_is_complete(code: str) -> None:
    catalog = load(code)
    missing = sorted(ids(template()) - {m.id for m in catalog if m.id and m.string})
    assert not missing, f"{code}: untranslated: {missing[:5]}"
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"{code}: fuzzy entries: {fuzzy[:5]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_placeholders_and_commands_are_kept(code: str) -> None:
    for message in load(code):
        if not message.id or not message.string:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        targets = [message.string] if isinstance(message.string, str) else list(message.string)
        for target in targets:
            assert placeholders(target) == placeholders(source), (code, source, target)
            assert sorted(COMMAND.findall(target)) == sorted(COMMAND.findall(source)), (
                code,
                source,
            )


@pytest.mark.parametrize("code", TRANSLATED)
def test_catalogue_is_not_left_in_english(code: str) -> None:
    catalog = load(code)
    long_messages = [m for m in catalog if m.id and len(str(m.id)) > 25]
    same = [m.id for m in long_messages if m.string == m.id]
    assert not same, f"{code}: copied from English: {same[:3]}"
