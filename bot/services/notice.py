"""The privacy notice residents consent to, versioned by number and content hash."""

from __future__ import annotations

import hashlib

from bot.i18n import gettext as _
from bot.services.profile import N_

NOTICE_VERSION = "1.0"

# Translators: the privacy notice shown before anyone joins. Keep it plain and short.
PRIVACY_NOTICE = N_(
    "Before you join, here is what we do with your answers.\n\n"
    "• We use them to hear from people across our area and to improve health and care services.\n"
    "• We keep your postcode district (like LS6), not your address.\n"
    "• Reports only show groups of 10 or more people, never you.\n"
    "• You can see everything we hold with /mydata, stop with /stop, "
    "and delete it all with /forgetme, at any time.\n\n"
    "Do you agree to join the panel?"
)

NOTICE_SHA256 = hashlib.sha256(PRIVACY_NOTICE.encode("utf-8")).hexdigest()


def privacy_notice() -> str:
    """The privacy notice in the current language."""
    return _(PRIVACY_NOTICE)
