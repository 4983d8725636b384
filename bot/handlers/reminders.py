"""The JobQueue job that sends survey reminders."""

from __future__ import annotations

import logging

from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.channels.replies import Replies
from bot.channels.telegram import TelegramApp
from bot.services.reminders import SurveyReminders
from storage.duty import Duty

log = logging.getLogger(__name__)


def schedule_reminders(
    application: TelegramApp, reminders: SurveyReminders, minutes: int, duty: Duty
) -> None:
    """Check for due reminders every few minutes while the bot runs (in the one worker holding
    the duty)."""

    async def send_due(context: ContextTypes.DEFAULT_TYPE) -> None:
        if not duty.held:
            return
        for reminder in await reminders.due():
            try:
                await Replies(context.bot).send(reminder.chat_id, [reminder.reply])
            except Forbidden:
                log.info("reminder not delivered: the resident blocked the bot")
            except TelegramError as error:
                log.warning("reminder not delivered: %s", type(error).__name__)

    if application.job_queue is None:
        raise RuntimeError("python-telegram-bot was installed without its job-queue extra")
    application.job_queue.run_repeating(
        send_due, interval=minutes * 60, first=60, name="survey-reminders"
    )
