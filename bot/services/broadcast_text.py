"""What a broadcast looks like to each resident, in their own language."""

from __future__ import annotations

from collections.abc import Callable

from bot.i18n import gettext as _
from bot.i18n import language
from bot.services.chat import Button
from bot.services.delivery import Composer, Message
from bot.services.recruitment import PLACE_OPENED, place_opened_text
from bot.services.survey_library import SurveyLibrary
from bot.services.survey_view import SurveyView, start_id
from storage.outbox import BroadcastContent, Claimed

NOTICE = "notice"
NOTICES: dict[str, Callable[[str], str]] = {PLACE_OPENED: place_opened_text}


def composer(library: SurveyLibrary | None) -> Composer:
    """Renders claimed messages: the sender's words, or an invitation to a survey."""

    def compose(message: Claimed, content: BroadcastContent) -> Message | None:
        with language(message.language):
            if content.kind == NOTICE:
                notice = NOTICES.get(content.text)
                return (notice(message.language), ()) if notice is not None else None
            stop = _("Send /stop if you would rather not get these messages.")
            if content.kind != "survey":
                return f"{content.text}\n\n{stop}", ()
            survey = library.get(content.survey_id or "") if library is not None else None
            if survey is None:
                return None  # the survey was withdrawn since
            title = SurveyView(survey, 0).title
            invitation = _("There is a new survey for you: {title}").format(title=title)
            if content.text:
                invitation = f"{invitation}\n\n{content.text}"
            button = Button(start_id(survey.id), _("Start the survey"))
            return f"{invitation}\n\n{stop}", ((button,),)

    return compose
