"""Drawing a sub-panel (a citizens' jury, a focus group) by lot, fairly, within quotas."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.i18n import gettext as _
from bot.i18n import language
from bot.services.area import AreaProfile
from bot.services.composition import LOCALITY
from bot.services.maximin import Lottery, Quota
from bot.services.quotas import groups_of
from storage.models import Resident, Selection


@dataclass(frozen=True)
class Candidate:
    """A member in the pool: who, and their groups for the chosen features."""

    resident_id: int
    chat_id: int
    language: str
    groups: dict[str, str]


def candidates(residents: Sequence[Resident], features: Sequence[str]) -> list[Candidate]:
    """The pool, each member described by the chosen features only."""
    pool = []
    for resident in residents:
        profile = {answer.feature: answer.value for answer in resident.profile}
        groups = groups_of(profile, resident.locality)
        chosen = {f: groups[f] for f in features if f in groups}
        pool.append(Candidate(resident.id, resident.chat_id, resident.language, chosen))
    return pool


def census_quotas(area: AreaProfile, size: int, features: Sequence[str]) -> list[Quota]:
    """For each category, the floor and ceiling of its census share of the sub-panel."""
    quotas = []
    for feature in features:
        if feature == LOCALITY:
            first = area.features()[0]
            counts = {loc: sum(area.population(first, loc).values()) for loc in area.localities}
        else:
            counts = area.population(feature)
        total = sum(counts.values())
        for category, count in counts.items():
            share = size * count / total if total else 0
            quotas.append(Quota(feature, category, math.floor(share), math.ceil(share)))
    return quotas


def audit_record(
    pool: Sequence[Candidate],
    quotas: Sequence[Quota],
    lottery: Lottery,
    chosen: frozenset[int],
    *,
    size: int,
    seed: int,
    now: datetime,
) -> Selection:
    """Everything needed to check a draw afterwards: seed, quotas and each member's chance."""
    return Selection(
        created_at=now,
        algorithm="maximin",
        seed=seed,
        size=size,
        pool=len(pool),
        quotas={"quotas": [[q.feature, q.category, q.min, q.max] for q in quotas]},
        probabilities={
            str(pool[i].resident_id): float(p) for i, p in enumerate(lottery.probabilities)
        },
        selected={"residents": sorted(pool[i].resident_id for i in chosen)},
        lowest=lottery.lowest,
        bound=lottery.bound,
        seconds=lottery.seconds,
    )


def invitation(language_code: str) -> str:
    """What a member drawn by lot is told, in their language."""
    with language(language_code):
        return _(
            "You have been chosen by lot to join a small group that will help shape local "
            "health and care services. Taking part is up to you: someone from the team will "
            "write to you here with the details. Thank you!"
        )
