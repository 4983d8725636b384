"""Results summed by the database equal the same figures worked out respondent by respondent."""

from __future__ import annotations

import random
from pathlib import Path

from sqlalchemy import delete

from bot.services.area import AreaProfile
from bot.services.disclosure import SMALLEST_VIEW, percent, shown
from bot.services.results import answer_key, respondent_cell, survey_results, weigh
from bot.services.survey_library import SurveyLibrary
from bot.services.tallies import weighted_sums
from storage.database import Database
from storage.models import AnswerTally, RespondentTally
from storage.tallies import TallyRepository

ROOT = Path(__file__).resolve().parents[2]
AREA = AreaProfile.load(ROOT / "areas" / "demo")
SURVEY = SurveyLibrary.load().get("housing_repairs")
Weights = dict[str, tuple[float, str | None]]
TENURES = ("rent_council", "rent_private", "own", "other")
PROBLEMS = ("damp_mould", "heating", "plumbing", "pests")
AGES = ("16_24", "35_44", "65_74", "75_plus")


def respondent(chooser: random.Random) -> tuple[dict[str, str], dict[str, object]]:
    """A random profile (some features missing) and answers (some skipped)."""
    profile = {
        "age_band": chooser.choice(AGES),
        "sex": chooser.choice(("female", "male")),
        "ethnicity": chooser.choice(("white_british", "asian_pakistani", "black_african")),
        "carer": chooser.choice(("yes", "no")),
    }
    if chooser.random() < 0.2:
        del profile["sex"]
    answers: dict[str, object] = {"tenure": chooser.choice(TENURES)}
    if chooser.random() < 0.8:
        answers["problems"] = tuple(sorted(chooser.sample(PROBLEMS, chooser.randint(1, 3))))
    answers["wait_weeks"] = chooser.randint(0, 52)
    return profile, answers


async def test_database_sums_match_a_count_by_hand(database: Database) -> None:
    assert SURVEY is not None
    types = {q.id: q.type for q in SURVEY.questions}
    for case in range(6):
        chooser = random.Random(case)
        people = [respondent(chooser) for _ in range(chooser.randint(30, 160))]
        async with database.transaction() as session:
            tallies = TallyRepository(session)
            await session.execute(delete(AnswerTally))  # each case starts from no tallies
            await session.execute(delete(RespondentTally))
            for profile, answers in people:
                given = {q: answer_key(v, types[q]) for q, v in answers.items()}
                await tallies.add_response(SURVEY.id, respondent_cell(profile), given)
            cells = await tallies.cells(SURVEY.id)
        by = chooser.choice((None, "age_band", "sex"))
        weighting = weigh(cells, AREA)
        weights = weighting.by_cell(by)
        sums = await weighted_sums(database, SURVEY, weights)
        results = {q.id: q for q in survey_results(SURVEY, weighting, sums, {}, by).questions}

        def weight(profile: dict[str, str], weights: Weights = weights) -> float:
            return weights[respondent_cell(profile)][0]

        tenure = results["tenure"]
        for row, option in zip(tenure.rows, ("rent_council", "rent_association", "rent_private",
                                             "own", "other"), strict=True):  # fmt: skip
            picked = [p for p, a in people if a["tenure"] == option]
            assert row.raw_value == round(100 * len(picked) / len(people))
            share = sum(weight(p) for p in picked) / sum(weight(p) for p, _a in people)
            assert abs(row.weighted_value - 100 * share) <= 0.5 + 1e-9
        answered = [(p, a) for p, a in people if "problems" in a]
        for row, option in zip(results["problems"].rows, ("damp_mould", "heating"), strict=False):
            picked = [p for p, a in answered if option in a["problems"]]  # type: ignore[operator]
            assert row.raw_value == round(100 * len(picked) / len(answered))
            share = sum(weight(p) for p in picked) / sum(weight(p) for p, _a in answered)
            assert abs(row.weighted_value - 100 * share) <= 0.5 + 1e-9
        numbers = [(weight(p), float(a["wait_weeks"])) for p, a in people]  # type: ignore[arg-type]
        mean = sum(n for _w, n in numbers) / len(numbers)
        weighted = sum(w * n for w, n in numbers) / sum(w for w, _n in numbers)
        assert results["wait_weeks"].mean_raw == f"{mean:.1f}"
        assert abs(float(results["wait_weeks"].mean_weighted) - weighted) <= 0.05 + 1e-9
        if by is not None:  # labels fall back to the group ids; raw shares per group
            groups = {p[by] for p, _a in people if by in p}
            assert {column.label for column in tenure.groups} == groups
            for column in tenure.groups:
                members = [a for p, a in people if p.get(by) == column.label]
                assert column.size == shown(len(members))
                if len(members) >= SMALLEST_VIEW:
                    own = sum(1 for a in members if a["tenure"] == "own")
                    assert column.shares[3] == percent(own, len(members))
