"""Language negotiation and translation lookup."""

from __future__ import annotations

import pytest

from bot.i18n import gettext, language, negotiate


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en", "en"),
        ("en-GB", "en"),
        ("pl", "pl"),
        ("pl-PL", "pl"),
        ("cy", "cy"),
        ("ur-PK", "ur"),
        ("ur", "ur"),
        ("de", "en"),
        ("", "en"),
        (None, "en"),
        ("not a tag!", "en"),
        ("zh-hans", "en"),
    ],
)
def test_negotiate(tag: str | None, expected: str) -> None:
    assert negotiate(tag) == expected


@pytest.mark.parametrize("code", ["cy", "pl", "ur"])
def test_messages_are_translated(code: str) -> None:
    source = "Please choose one of the buttons below."
    with language(code):
        translated = gettext(source)
    assert translated and translated != source


def test_language_block_restores_previous() -> None:
    with language("pl"), language("cy"):
        pass
    assert gettext("Yes") == "Yes"
