"""The joining steps: what each asks and the buttons it offers."""

from __future__ import annotations

from bot.i18n import LANGUAGES
from bot.i18n import gettext as _
from bot.services.chat import Button, Reply
from bot.services.notice import privacy_notice
from bot.services.profile import (
    ETHNIC_GROUPS,
    ETHNICITY,
    FEATURES_BY_ID,
    PREFER_NOT,
    Category,
    ethnicities_in_group,
)

LANGUAGE = "language"
CONSENT_MEMBERSHIP = "consent_membership"
CONSENT_SPECIAL = "consent_special"
CONSENT_CONSULTATIONS = "consent_consultations"
POSTCODE = "postcode"
ETHNICITY_GROUP = "ethnicity_group"
MEMBER = "member"
FORGET_CONFIRM = "forget_confirm"

CONSENT_STEPS = {
    CONSENT_MEMBERSHIP: "membership",
    CONSENT_SPECIAL: "special_category",
    CONSENT_CONSULTATIONS: "consultations",
}
YES, NO = "yes", "no"
# Resident statuses: the reserve list can tell stories and see their data, as members can.
MEMBER_STATUS, RESERVE_STATUS = "member", "reserve"
ON_PANEL = (MEMBER_STATUS, RESERVE_STATUS)
BACK = "back"


def button_id(step: str, value: str) -> str:
    """The callback id of an answer button: the step it answers and the value."""
    return f"{step}:{value}"


def one_per_row(buttons: list[Button]) -> tuple[tuple[Button, ...], ...]:
    """Lay buttons out one per row (labels can be long and are read on small screens)."""
    return tuple((b,) for b in buttons)


def language_prompt() -> Reply:
    """Ask which language to use."""
    buttons = [Button(button_id(LANGUAGE, lang.code), lang.native_name) for lang in LANGUAGES]
    return Reply(
        _("Hello! Which language would you like to use?"),
        (tuple(buttons[:2]), tuple(buttons[2:])),
    )


def yes_no(step: str, yes_label: str, no_label: str) -> tuple[tuple[Button, ...], ...]:
    """A yes and a no button for a step."""
    return ((Button(button_id(step, YES), yes_label), Button(button_id(step, NO), no_label)),)


def consent_prompt(step: str) -> Reply:
    """Ask one consent question."""
    if step == CONSENT_MEMBERSHIP:
        return Reply(privacy_notice(), yes_no(step, _("Yes, I agree"), _("No, thank you")))
    if step == CONSENT_SPECIAL:
        text = _(
            "Some questions are about your ethnic group and your health. They help us check that "
            "we hear from everyone, and the law gives them extra protection.\n\n"
            "May we ask you these questions? You can still join if you say no."
        )
        return Reply(text, yes_no(step, _("Yes, you may ask"), _("No, skip them")))
    text = _(
        "May we send you consultations and surveys in this chat? "
        "Usually no more than two a month. You can stop them at any time with /stop."
    )
    return Reply(text, yes_no(step, _("Yes, send them"), _("No, not now")))


def postcode_prompt() -> Reply:
    """Ask for the postcode."""
    return Reply(
        _(
            "What is your postcode? For example: LS6 1AA.\n\n"
            "If you prefer, just send the first part, like LS6. "
            "We use it only to know which part of the area you live in."
        )
    )


def category_buttons(step: str, categories: tuple[Category, ...]) -> list[Button]:
    """Buttons for a list of categories."""
    return [Button(button_id(step, c.id), _(c.label)) for c in categories]


def progress(text: str, number: int, total: int) -> str:
    """A question with 'Question n of N' under it."""
    return _("{question}\n\n(Question {number} of {total})").format(
        question=text, number=number, total=total
    )


def feature_prompt(step: str, number: int, total: int, group: str | None = None) -> Reply:
    """Ask one profile question (the ethnicity question in two stages)."""
    if step == ETHNICITY_GROUP:
        buttons = category_buttons(step, (*ETHNIC_GROUPS, PREFER_NOT))
        return Reply(progress(_(ETHNICITY.question), number, total), one_per_row(buttons))
    feature = FEATURES_BY_ID[step]
    if step == ETHNICITY.id:
        buttons = category_buttons(step, ethnicities_in_group(group or ""))
        buttons.append(Button(button_id(step, BACK), _("Back to the groups")))
        return Reply(progress(_(ETHNICITY.question), number, total), one_per_row(buttons))
    return Reply(
        progress(_(feature.question), number, total),
        one_per_row(category_buttons(step, feature.categories)),
    )


def forget_prompt() -> Reply:
    """Ask for confirmation before erasing everything."""
    return Reply(
        _(
            "This deletes everything we hold about you: your profile, your answers and your "
            "consent records. It cannot be undone. Delete everything?"
        ),
        yes_no(FORGET_CONFIRM, _("Yes, delete everything"), _("No, keep me on the panel")),
    )
