"""The deployment's area profile: localities, postcodes mapped to them with deprivation, and
census counts per locality, read from a small replaceable pack of files (see docs/areas.md)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.services.postcode import Postcode, parse_postcode
from bot.services.profile import AGE_BAND, CARER, DISABILITY, ETHNIC_GROUPS, SEX
from bot.surveys import Problem

ID = re.compile(r"[a-z0-9_]{1,32}")
QUOTA_CATEGORIES: Mapping[str, tuple[str, ...]] = {
    AGE_BAND.id: tuple(c.id for c in AGE_BAND.categories),
    SEX.id: tuple(c.id for c in SEX.categories),
    "ethnic_group": tuple(c.id for c in ETHNIC_GROUPS),
    DISABILITY.id: tuple(c.id for c in DISABILITY.categories),
    CARER.id: tuple(c.id for c in CARER.categories),
}
"""Census features a pack can hold, with their categories (the answers residents give)."""
IMD_QUINTILES = range(1, 6)
DEMO_AREA = Path(__file__).resolve().parents[2] / "areas" / "demo"  # a made-up area, shipped


class AreaProfileError(ValueError):
    """An area profile has problems; the message lists every one."""

    def __init__(self, problems: list[Problem]) -> None:
        """Keep the problems and list them in the message."""
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass(frozen=True)
class Locality:
    """A named place in the area (a neighbourhood or a primary care network footprint)."""

    id: str
    name: str


@dataclass(frozen=True)
class Place:
    """Where a postcode is: its locality and deprivation quintile (1 = most deprived)."""

    locality: Locality
    imd_quintile: int | None


@dataclass(frozen=True)
class AreaProfile:
    """Localities, postcode districts (and units) mapped to them, and census counts."""

    name: str
    localities: dict[str, Locality]
    district_locality: dict[str, str] = field(default_factory=dict)
    district_imd: dict[str, int] = field(default_factory=dict)
    unit_locality: dict[str, str] = field(default_factory=dict)
    unit_imd: dict[str, int] = field(default_factory=dict)
    census: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    source: str = ""
    licence: str = ""
    panel_size: int | None = None

    def place_name(self, locality_id: str) -> str:
        """A locality's name (its id when the pack does not know it)."""
        locality = self.localities.get(locality_id)
        return locality.name if locality is not None else locality_id

    def locality_of(self, district: str) -> Locality | None:
        """The locality a postcode district belongs to, or None when outside the area."""
        locality_id = self.district_locality.get(district.upper())
        return self.localities.get(locality_id) if locality_id else None

    def place_of(self, postcode: Postcode) -> Place | None:
        """Where a postcode is (a listed unit postcode first, else its district)."""
        if postcode.full is not None and postcode.full in self.unit_locality:
            unit = self.localities[self.unit_locality[postcode.full]]
            return Place(unit, self.unit_imd.get(postcode.full))
        district = self.locality_of(postcode.district)
        return Place(district, self.district_imd.get(postcode.district)) if district else None

    def population(self, feature: str, locality: str | None = None) -> dict[str, int]:
        """Census counts of a feature's categories, in one locality or the whole area."""
        places = [locality] if locality else list(self.census)
        totals: dict[str, int] = {}
        for place in places:
            for category, count in self.census.get(place, {}).get(feature, {}).items():
                totals[category] = totals.get(category, 0) + count
        return totals

    def features(self) -> list[str]:
        """The census features the pack holds."""
        return sorted({f for by_feature in self.census.values() for f in by_feature})

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready copy, for installing the pack in the database."""
        return {
            "name": self.name,
            "source": self.source,
            "licence": self.licence,
            "panel_size": self.panel_size,
            "localities": [[loc.id, loc.name] for loc in self.localities.values()],
            "district_locality": self.district_locality,
            "district_imd": self.district_imd,
            "unit_locality": self.unit_locality,
            "unit_imd": self.unit_imd,
            "census": self.census,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AreaProfile:
        """Rebuild an installed pack."""
        return cls(
            name=data["name"],
            localities={i: Locality(i, n) for i, n in data["localities"]},
            district_locality=dict(data["district_locality"]),
            district_imd=dict(data["district_imd"]),
            unit_locality=dict(data["unit_locality"]),
            unit_imd=dict(data["unit_imd"]),
            census={k: {f: dict(c) for f, c in v.items()} for k, v in data["census"].items()},
            source=data["source"],
            licence=data["licence"],
            panel_size=data["panel_size"],
        )

    @classmethod
    def load(cls, folder: Path) -> AreaProfile:
        """Read a pack; AreaProfileError lists every problem found."""
        reader = _PackReader(folder)
        profile = reader.read()
        if reader.problems or profile is None:
            raise AreaProfileError(reader.problems)
        return profile


def check_area(folder: Path) -> list[Problem]:
    """Every problem of an area pack (none: it can be loaded)."""
    reader = _PackReader(folder)
    reader.read()
    return reader.problems


class _PackReader:
    """Reads a pack's files, collecting problems instead of stopping at the first."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problems: list[Problem] = []

    def problem(self, source: Path, place: str, message: str, line: int | None = None) -> None:
        self.problems.append(Problem(place, message, line, str(source)))

    def read(self) -> AreaProfile | None:
        meta = self._meta()
        if meta is None:
            return None
        localities = self._localities(meta)
        district_locality, district_imd = self._postcodes("districts.csv", localities, True)
        unit_locality, unit_imd = self._postcodes("postcodes.csv", localities, False)
        size = meta.get("panel_size")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            self.problem(self.folder / "area.yaml", "panel_size", "must be a whole number above 0")
        return AreaProfile(
            name=str(meta.get("name", self.folder.name)),
            localities=localities,
            district_locality=district_locality,
            district_imd=district_imd,
            unit_locality=unit_locality,
            unit_imd=unit_imd,
            census=self._census(localities),
            source=str(meta.get("source", "")),
            licence=str(meta.get("licence", "")),
            panel_size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        )

    def _meta(self) -> dict[str, Any] | None:
        path = self.folder / "area.yaml"
        if not path.is_file():
            self.problem(path, "", "missing")
            return None
        try:
            meta = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            self.problem(path, "", f"not readable YAML: {error}")
            return None
        if not isinstance(meta, dict):
            self.problem(path, "", "expected a mapping with name, source, licence, localities")
            return None
        for key in ("source", "licence"):
            if not isinstance(meta.get(key), str) or not meta[key].strip():
                self.problem(path, key, "say where the data comes from and under which licence")
        return meta

    def _localities(self, meta: Mapping[str, Any]) -> dict[str, Locality]:
        path = self.folder / "area.yaml"
        entries = meta.get("localities")
        if not isinstance(entries, list) or not entries:
            self.problem(path, "localities", "needs a list of localities (id and name)")
            return {}
        localities: dict[str, Locality] = {}
        for index, entry in enumerate(entries):
            place = f"localities[{index}]"
            if not isinstance(entry, dict) or not all(
                isinstance(entry.get(key), str) for key in ("id", "name")
            ):
                self.problem(path, place, "needs a quoted id and name")
            elif not ID.fullmatch(entry["id"]):
                self.problem(path, f"{place}.id", "must be 1-32 lowercase letters, digits or _")
            elif entry["id"] in localities:
                self.problem(path, f"{place}.id", f"`{entry['id']}` is used twice")
            else:
                localities[entry["id"]] = Locality(entry["id"], entry["name"])
        return localities

    def _rows(self, name: str, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
        """The rows of a CSV file with the given columns (nothing if it is absent or wrong)."""
        path = self.folder / name
        with path.open(encoding="utf-8", newline="") as handle:
            rows = csv.DictReader(handle)
            missing = [c for c in columns if c not in (rows.fieldnames or [])]
            if missing:
                self.problem(path, "header", f"needs the columns {', '.join(missing)}", 1)
                return
            for line, row in enumerate(rows, start=2):
                yield line, {k: (v or "").strip() for k, v in row.items() if k is not None}

    def _postcodes(
        self, name: str, localities: Mapping[str, Locality], districts: bool
    ) -> tuple[dict[str, str], dict[str, int]]:
        path = self.folder / name
        if not path.is_file():
            if districts:
                self.problem(path, "", "missing")
            return {}, {}
        key = "district" if districts else "postcode"
        to_locality: dict[str, str] = {}
        to_imd: dict[str, int] = {}
        for line, row in self._rows(name, (key, "locality")):
            postcode = parse_postcode(row[key])
            wrong = postcode is None or (postcode.inward is None) != districts
            if postcode is None or wrong:
                self.problem(path, key, f"{row[key]!r} is not a postcode {key}", line)
                continue
            code = postcode.district if districts else str(postcode.full)
            if code in to_locality:
                self.problem(path, key, f"{code} is listed twice", line)
            if row["locality"] not in localities:
                self.problem(path, "locality", f"unknown locality {row['locality']!r}", line)
            to_locality[code] = row["locality"]
            quintile = row.get("imd_quintile", "")
            if quintile:
                if not quintile.isdigit() or int(quintile) not in IMD_QUINTILES:
                    self.problem(path, "imd_quintile", "must be 1 (most deprived) to 5", line)
                else:
                    to_imd[code] = int(quintile)
        return to_locality, to_imd

    def _census(self, localities: Mapping[str, Locality]) -> dict[str, dict[str, dict[str, int]]]:
        path = self.folder / "census.csv"
        if not path.is_file():
            return {}
        census: dict[str, dict[str, dict[str, int]]] = {}
        for line, row in self._rows("census.csv", ("locality", "feature", "category", "count")):
            locality, feature, category = row["locality"], row["feature"], row["category"]
            if locality not in localities:
                self.problem(path, "locality", f"unknown locality {locality!r}", line)
            elif feature not in QUOTA_CATEGORIES:
                known = ", ".join(QUOTA_CATEGORIES)
                self.problem(path, "feature", f"unknown feature {feature!r} (use {known})", line)
            elif category not in QUOTA_CATEGORIES[feature]:
                self.problem(path, "category", f"{category!r} is not a {feature} answer", line)
            elif not row["count"].isdigit():
                self.problem(path, "count", "must be a whole number of people", line)
            elif category in census.get(locality, {}).get(feature, {}):
                self.problem(path, "category", f"{locality} {feature} {category} twice", line)
            else:
                counts = census.setdefault(locality, {}).setdefault(feature, {})
                counts[category] = int(row["count"])
        features = {f for by_feature in census.values() for f in by_feature}
        for locality in localities:
            for feature in sorted(features - set(census.get(locality, {}))):
                self.problem(path, "", f"locality {locality} has no {feature} counts")
        return census
