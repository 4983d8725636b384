"""UK postcodes: normalise, validate and split into district and sector."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Royal Mail's outward-code shapes (A9, A99, AA9, AA99, A9A, AA9A) and their allowed letters.
_OUTWARD = (
    r"(?:[A-PR-UWYZ][0-9]{1,2}"
    r"|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
)
_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
_FULL = re.compile(rf"^(?P<outward>{_OUTWARD})(?P<inward>{_INWARD})$")
_DISTRICT_ONLY = re.compile(rf"^(?P<outward>{_OUTWARD})$")
_SEPARATORS = re.compile(r"[\s\-_.·]+")
MAX_INPUT_LENGTH = 16


@dataclass(frozen=True)
class Postcode:
    """A validated postcode: always a district, the full unit only when one was given."""

    district: str
    inward: str | None = None

    @property
    def full(self) -> str | None:
        """The full postcode in its standard form ('LS6 1AA'), if known."""
        return f"{self.district} {self.inward}" if self.inward else None

    @property
    def sector(self) -> str | None:
        """The postcode sector ('LS6 1'), if known."""
        return f"{self.district} {self.inward[0]}" if self.inward else None


def parse_postcode(text: str) -> Postcode | None:
    """Parse a UK postcode or a postcode district typed by a person; None if it is neither."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if not folded or len(folded) > MAX_INPUT_LENGTH:
        return None
    compact = _SEPARATORS.sub("", folded).upper()
    if compact == "GIR0AA":
        return Postcode("GIR", "0AA")
    match = _FULL.match(compact)
    if match:
        return Postcode(match["outward"], match["inward"])
    match = _DISTRICT_ONLY.match(compact)
    if match:
        return Postcode(match["outward"])
    return None
