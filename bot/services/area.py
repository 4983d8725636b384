"""The deployment's area: localities and the postcode districts in them."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.services.postcode import parse_postcode


class AreaProfileError(ValueError):
    """An area profile is malformed; the message says where."""


@dataclass(frozen=True)
class Locality:
    """A named place in the area (a neighbourhood or a primary care network footprint)."""

    id: str
    name: str


@dataclass(frozen=True)
class AreaProfile:
    """Localities and the postcode districts mapped to them."""

    name: str
    localities: dict[str, Locality]
    district_locality: dict[str, str] = field(default_factory=dict)

    def locality_of(self, district: str) -> Locality | None:
        """The locality a postcode district belongs to, or None when outside the area."""
        locality_id = self.district_locality.get(district.upper())
        return self.localities.get(locality_id) if locality_id else None

    @classmethod
    def load(cls, folder: Path) -> AreaProfile:
        """Read `area.yaml` and `districts.csv` from an area profile folder."""
        meta_path, districts_path = folder / "area.yaml", folder / "districts.csv"
        for path in (meta_path, districts_path):
            if not path.is_file():
                raise AreaProfileError(f"{path}: missing")
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
        if not isinstance(meta, dict) or not isinstance(meta.get("localities"), list):
            raise AreaProfileError(f"{meta_path}: needs a 'localities' list")
        localities: dict[str, Locality] = {}
        for index, entry in enumerate(meta["localities"]):
            if not isinstance(entry, dict) or not all(
                isinstance(entry.get(key), str) for key in ("id", "name")
            ):
                raise AreaProfileError(f"{meta_path}: localities[{index}] needs string id and name")
            localities[entry["id"]] = Locality(entry["id"], entry["name"])
        district_locality: dict[str, str] = {}
        with districts_path.open(encoding="utf-8", newline="") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                postcode = parse_postcode(row.get("district") or "")
                if postcode is None or postcode.inward is not None:
                    raise AreaProfileError(f"{districts_path}:{line}: not a postcode district")
                if row.get("locality") not in localities:
                    raise AreaProfileError(f"{districts_path}:{line}: unknown locality")
                district_locality[postcode.district] = row["locality"]
        return cls(str(meta.get("name", folder.name)), localities, district_locality)
