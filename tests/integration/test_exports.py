"""Exports of a response set: safe to share, in every format, with a codebook and a register."""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from pathlib import Path
from typing import Any

import pyreadstat
import pytest
from sqlalchemy import select

from bot.services.exports import Exporter, ExportRefused
from bot.services.survey_library import SurveyLibrary
from storage.database import Database
from storage.models import AuditEntry, ExportRecord, SurveyAnswer, SurveyRun
from tests.conftest import FakeClock
from tests.support.panel import new_member

SURVEY = SurveyLibrary.load().get("housing_repairs")
HOSTILE = ('=HYPERLINK("http://x")', "+44 sum", "-1+1", "@SUM(A1)", "plain words")
AGES = ("16_24", "25_34", "35_44", "45_54", "55_64", "65_74", "75_plus")


class Collected:
    """A sink that keeps the bytes."""

    def __init__(self) -> None:
        self.data = bytearray()

    async def write(self, data: bytes) -> None:
        self.data += data


async def panel_with_responses(
    database: Database, clock: FakeClock, count: int, first: int = 0
) -> None:
    chooser = random.Random(count)
    async with database.transaction() as session:
        for n in range(first, first + count):
            profile = {
                "age_band": chooser.choice(AGES),
                "sex": chooser.choice(("female", "male")),
                "carer": chooser.choice(("yes", "no")),
            }
            member = new_member(987_650_000 + n, "city_centre", profile, clock())
            member.postcode_district = "LS1"
            session.add(member)
            await session.flush()
            run = SurveyRun(
                resident_id=member.id, survey_id="housing_repairs", survey_version=1,
                status="submitted", state={}, started_at=clock(), updated_at=clock(),
                submitted_at=clock(), reminders_sent=0,
            )  # fmt: skip
            session.add(run)
            await session.flush()
            given: dict[str, tuple[Any, str | None]] = {
                "tenure": ("rent_council", None),
                "problems": (["damp_mould", "heating"] if n % 2 else ["pests"], None),
                "wait_weeks": (n % 30, None),
                "anything_else": ("Call Joan Smith on 07700 900123", HOSTILE[n % 5]),
            }
            for question, (value, redacted) in given.items():
                session.add(
                    SurveyAnswer(
                        run_id=run.id, question_id=question, value={"value": value},
                        redacted_text=redacted, answered_at=clock(),
                    )
                )  # fmt: skip


async def export(database: Database, clock: FakeClock, fmt: str) -> bytes:
    assert SURVEY is not None
    sink = Collected()
    exporter = Exporter(database, clock=clock)
    await exporter.write(
        await exporter.plan(SURVEY), fmt, sink, actor="web:lead1",
        reason="analysis for the repairs co-design group",
    )  # fmt: skip
    return bytes(sink.data)


def csv_rows(data: bytes) -> tuple[list[dict[str, str]], dict[str, Any]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    rows = list(csv.DictReader(io.StringIO(archive.read("responses.csv").decode())))
    return rows, json.loads(archive.read("codebook.json"))


async def test_a_csv_export_is_pseudonymous_redacted_neutralised_and_registered(
    database: Database, clock: FakeClock
) -> None:
    await panel_with_responses(database, clock, 120)
    data = await export(database, clock, "csv")
    rows, book = csv_rows(data)
    text = data.decode("latin-1") + json.dumps(rows)
    assert "98765" not in text and "LS1" not in text and "Joan" not in text and "07700" not in text
    assert len(rows) + book["suppressed_rows"] == 120 and book["suppressed_rows"] <= 6
    assert {r["anything_else"] for r in rows} <= {"'" + h for h in HOSTILE[:4]} | {"plain words"}
    assert all(len(r["respondent"]) == 16 for r in rows)
    assert {r["problems__pests"] for r in rows} == {"0", "1"}
    assert book["languages"] == ["en", "cy", "pl", "ur"]
    tenure = next(c for c in book["columns"] if c["name"] == "tenure")
    assert tenure["values"]["rent_council"]["cy"]
    again, _book = csv_rows(await export(database, clock, "csv"))
    assert {r["respondent"] for r in rows}.isdisjoint({r["respondent"] for r in again})
    async with database.transaction() as session:
        records = (await session.execute(select(ExportRecord))).scalars().all()
    assert [(r.actor, r.format, r.rows) for r in records] == [("web:lead1", "csv", len(rows))] * 2


async def test_json_and_xlsx_carry_the_same_rows_and_a_codebook(
    database: Database, clock: FakeClock
) -> None:
    await panel_with_responses(database, clock, 60)
    document = json.loads(await export(database, clock, "json"))
    assert document["codebook"]["survey"]["id"] == "housing_repairs"
    assert len(document["rows"]) == document["codebook"]["rows"]
    workbook = zipfile.ZipFile(io.BytesIO(await export(database, clock, "xlsx")))
    sheet = workbook.read("xl/worksheets/sheet1.xml").decode()
    assert "&apos;=HYPERLINK" in sheet or "'=HYPERLINK" in sheet
    assert "<f>" not in sheet  # nothing is a formula
    assert "xl/worksheets/sheet2.xml" in workbook.namelist()  # the codebook


async def test_a_set_too_small_to_hide_anyone_is_refused_and_the_refusal_registered(
    database: Database, clock: FakeClock
) -> None:
    await panel_with_responses(database, clock, 4)
    with pytest.raises(ExportRefused):
        await export(database, clock, "csv")
    async with database.transaction() as session:
        actions = list((await session.execute(select(AuditEntry.action))).scalars())
    assert "export.refused" in actions


async def test_an_spss_file_carries_labels_and_the_same_rows(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    await panel_with_responses(database, clock, 60)
    path = tmp_path / "set.sav"
    path.write_bytes(await export(database, clock, "sav"))
    frame, meta = pyreadstat.read_sav(str(path))
    kept = json.loads(await export(database, clock, "json"))["codebook"]["rows"]
    assert len(frame) == meta.number_rows == kept
    assert meta.variable_value_labels["tenure"][1.0] == "I rent from the council"
    assert set(frame["tenure"]) == {1.0}
    assert set(frame["problems__pests"]) <= {0.0, 1.0}
    assert frame["anything_else"].iloc[0].startswith(("'", "plain"))
    assert "Joan" not in frame.to_csv()
