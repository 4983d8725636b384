"""Area packs: the demo pack loads; a broken pack gets every problem named with its place."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.services.area import AreaProfile, AreaProfileError, check_area
from bot.services.postcode import parse_postcode

DEMO = Path(__file__).resolve().parents[2] / "areas" / "demo"


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(DEMO, folder)
    return folder


def test_the_demo_pack_loads_with_census_and_deprivation() -> None:
    area = AreaProfile.load(DEMO)
    assert check_area(DEMO) == []
    assert area.panel_size == 3000
    assert area.features() == ["age_band", "carer", "disability", "ethnic_group", "sex"]
    place = area.place_of(parse_postcode("LS8 1AA"))  # type: ignore[arg-type]
    assert place is not None and place.locality.id == "east_valley" and place.imd_quintile == 1
    whole = area.population("sex")
    by_locality = [area.population("sex", loc) for loc in area.localities]
    assert whole["female"] == sum(counts["female"] for counts in by_locality)
    assert AreaProfile.from_json(area.to_json()) == area


def test_unit_postcodes_take_precedence_over_their_district(pack: Path) -> None:
    (pack / "postcodes.csv").write_text("postcode,locality,imd_quintile\nls8 1aa,city_centre,5\n")
    area = AreaProfile.load(pack)
    unit = area.place_of(parse_postcode("LS8 1AA"))  # type: ignore[arg-type]
    neighbour = area.place_of(parse_postcode("LS8 1AB"))  # type: ignore[arg-type]
    assert unit is not None and unit.locality.id == "city_centre" and unit.imd_quintile == 5
    assert neighbour is not None and neighbour.locality.id == "east_valley"


def test_every_problem_is_named_with_its_file_line_and_place(pack: Path) -> None:
    meta = (pack / "area.yaml").read_text().replace('licence: "', 'licensed: "')
    (pack / "area.yaml").write_text(meta.replace("panel_size: 3000", "panel_size: -4"))
    districts = (pack / "districts.csv").read_text()
    (pack / "districts.csv").write_text(districts + "LS1,city_centre,3\nXX,nowhere,9\n")
    census = (pack / "census.csv").read_text()
    (pack / "census.csv").write_text(
        census + "city_centre,sex,nonbinary,4\ncity_centre,height,tall,3\nmoon,sex,male,1\n"
        "city_centre,carer,yes,many\n"
    )
    problems = [str(p) for p in check_area(pack)]
    expected = [
        "area.yaml: licence: say where the data comes from and under which licence",
        "area.yaml: panel_size: must be a whole number above 0",
        "districts.csv:18: district: LS1 is listed twice",
        "districts.csv:19: district: 'XX' is not a postcode district",
        "census.csv:102: category: 'nonbinary' is not a sex answer",
        "census.csv:103: feature: unknown feature 'height'",
        "census.csv:104: locality: unknown locality 'moon'",
        "census.csv:105: count: must be a whole number of people",
    ]
    for fragment in expected:
        assert any(fragment in problem for problem in problems), (fragment, problems)
    with pytest.raises(AreaProfileError):
        AreaProfile.load(pack)


def test_a_missing_pack_says_so(tmp_path: Path) -> None:
    assert [str(p) for p in check_area(tmp_path)] == [f"{tmp_path / 'area.yaml'}: (top): missing"]
