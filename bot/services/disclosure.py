"""NHS-style disclosure control for counts anyone but the resident sees."""

from __future__ import annotations

SMALLEST_SHOWN = 8  # counts from 1 to 7 are hidden
ROUND_TO = 5
SMALLEST_VIEW = 10  # a view about fewer people says "too few responses"


def shown(count: int) -> str:
    """A count as it may be shown: 0 as 0, 1-7 as `*`, the rest rounded to the nearest 5."""
    if count <= 0:
        return "0"
    if count < SMALLEST_SHOWN:
        return "*"
    return str(ROUND_TO * round(count / ROUND_TO))


def percent(part: int, whole: int) -> str:
    """A share as shown: hidden when the part is, or when the whole is too small."""
    if whole < SMALLEST_VIEW or 0 < part < SMALLEST_SHOWN:
        return "*"
    return f"{100 * part / whole:.0f}%"
