"""Exports of a survey's response set that are safe to share: CSV, XLSX or JSON, with a codebook.

- Rows carry a pseudonym (a keyed BLAKE2b hash of the response with a key made for this export
  and then forgotten), never a Telegram id, name or postcode.
- Free text is only ever the redacted text.
- Profile fields pass the k-anonymity gate (generalised, then small groups suppressed, or the
  export is refused).
- Text that a spreadsheet would run as a formula is neutralised.
- Rows are read a page at a time and written as they come, so memory stays flat.
- Every export goes in the register.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import tempfile
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from hashlib import blake2b
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import xlsxwriter  # type: ignore[import-untyped]

from bot.services.anonymity import QUASI_IDENTIFIERS, Decision, Gate
from bot.services.kept_responses import keep_unkept
from bot.services.results import BY_FEATURES
from bot.services.spss import MAX_STRING, SavWriter, Variable
from bot.surveys import Question, Survey
from storage.accounts import AccountRepository
from storage.audit import audit
from storage.database import Database
from storage.exports import kept_responses, sent_cells
from storage.models import ExportRecord

FORMATS = ("csv", "xlsx", "json", "sav")
EXTENSIONS = {"csv": "zip", "xlsx": "xlsx", "json": "json", "sav": "sav"}
MEDIA_TYPES = {
    "csv": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "sav": "application/x-spss-sav",
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
CHUNK = 1 << 16


class Sink(Protocol):
    """Where an export's bytes go (a file, or an HTTP response)."""

    async def write(self, data: bytes) -> None:
        """Take the next bytes."""


Progress = Callable[[int, int], Awaitable[None] | None]


class FileSink:
    """A sink writing to an open binary file."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file

    async def write(self, data: bytes) -> None:
        """Write the bytes."""
        self.file.write(data)


class DiscardSink:
    """A sink that keeps nothing (an export made only to be timed or registered)."""

    async def write(self, data: bytes) -> None:
        """Drop the bytes."""


class ExportRefused(Exception):
    """The response set cannot be shared without exposing small groups."""


@dataclass(frozen=True)
class Column:
    """One column of the export and what its codebook says about it."""

    name: str
    label: dict[str, str]
    kind: str  # id, profile, choice, option, number, scale, yes_no, text
    question: str | None = None
    option: str | None = None
    values: dict[str, dict[str, str]] | None = None


@dataclass(frozen=True)
class Plan:
    """What an export will hold, decided before a byte is written."""

    survey: Survey
    columns: tuple[Column, ...]
    decision: Decision


def columns_of(survey: Survey) -> tuple[Column, ...]:
    """The export's columns: pseudonym, generalised profile, then each question's answer."""
    columns = [Column("respondent", {"en": "Pseudonymous respondent (differs per export)"}, "id")]
    columns += [
        Column(f, {"en": f.replace("_", " ").capitalize()}, "profile") for f in QUASI_IDENTIFIERS
    ]
    for question in survey.questions:
        columns.extend(_question_columns(question))
    return tuple(columns)


def _question_columns(question: Question) -> list[Column]:
    label = dict(question.text.translations)
    if question.type == "note":
        return []
    if question.type == "multi_choice":
        return [
            Column(
                f"{question.id}__{choice.id}",
                {lang: f"{text} — {choice.text.get(lang)}" for lang, text in label.items()},
                "option",
                question.id,
                choice.id,
                {"1": {"en": "chosen"}, "0": {"en": "not chosen"}},
            )
            for choice in question.choices
        ]
    values = None
    if question.type == "choice":
        values = {c.id: dict(c.text.translations) for c in question.choices}
    elif question.type == "yes_no":
        values = {"yes": {"en": "Yes"}, "no": {"en": "No"}}
    kind = question.type if question.type in ("choice", "number", "scale", "yes_no") else "text"
    return [Column(question.id, label, kind, question.id, None, values)]


class Exporter:
    """Plans, writes and registers exports."""

    def __init__(self, database: Database, *, clock: Callable[[], datetime]) -> None:
        self.database = database
        self.clock = clock

    async def plan(self, survey: Survey) -> Plan:
        """Count the respondents per profile cell and decide how far to generalise them."""
        await keep_unkept(self.database, survey)
        gate = Gate()
        for cell, rows in (await sent_cells(self.database, survey.id)).items():
            gate.add(_quasi(cell), rows)
        return Plan(survey, columns_of(survey), gate.decide())

    async def write(
        self,
        plan: Plan,
        fmt: str,
        sink: Sink,
        *,
        actor: str,
        reason: str,
        progress: Progress | None = None,
    ) -> ExportRecord:
        """Write a planned export to the sink and record it; ExportRefused when the gate says no
        (the refusal is recorded too)."""
        if fmt not in FORMATS:
            raise ValueError(f"the format is one of {', '.join(FORMATS)}")
        survey = plan.survey
        if plan.decision.rows == 0:
            raise ExportRefused("there are no responses to export yet")
        if plan.decision.refused:
            await self._register(survey, fmt, actor, reason, 0, plan.decision.rows, refused=True)
            raise ExportRefused(
                "too few respondents in some groups to share this safely, even generalised"
            )
        rows = await WRITERS[fmt](self, plan, sink, _Ticker(progress, plan.decision.rows))
        return await self._register(survey, fmt, actor, reason, rows, plan.decision.suppressed)

    async def register(self) -> list[ExportRecord]:
        """The newest entries of the exports register."""
        async with self.database.transaction() as session:
            return await AccountRepository(session).exports()

    async def pages(self, plan: Plan) -> AsyncIterator[list[tuple[Any, ...]]]:
        """The export's rows in column order (suppressed rows left out), a page at a time.

        Each page is built column by column: one tight loop per column, not a call per cell.
        """
        key = secrets.token_bytes(32)  # never stored: pseudonyms cannot be linked across exports
        profiles: dict[str, tuple[str, ...] | None] = {}  # per cell, decided once
        readers = [_reader(column) for column in plan.columns if column.question]
        async for page in kept_responses(self.database, plan.survey.id):
            runs, kept, answers = [], [], []
            for run_id, cell, given in page:
                if cell not in profiles:
                    profiles[cell] = plan.decision.keeps(_quasi(cell))
                profile = profiles[cell]
                if profile is not None:
                    runs.append(str(run_id).encode())
                    kept.append(profile)
                    answers.append(given)
            pseudonyms = [blake2b(run, key=key, digest_size=8).hexdigest() for run in runs]
            columns = [pseudonyms, *zip(*kept, strict=True), *(read(answers) for read in readers)]
            yield list(zip(*columns, strict=True))

    async def _register(
        self,
        survey: Survey,
        fmt: str,
        actor: str,
        reason: str,
        rows: int,
        suppressed: int,
        refused: bool = False,
    ) -> ExportRecord:
        now = self.clock()
        record = ExportRecord(
            created_at=now,
            actor=actor,
            survey_id=survey.id,
            format=fmt,
            reason=reason[:500],
            rows=rows,
            suppressed=suppressed,
        )
        async with self.database.transaction() as session:
            AccountRepository(session).record_export(record)
            action = "export.refused" if refused else "export"
            audit(session, actor, action, {"survey": survey.id, "rows": rows}, now)
        return record


def _quasi(cell: str) -> dict[str, str]:
    """A cell's groups by feature ("" where unknown)."""
    return {
        feature: group or "" for feature, group in zip(BY_FEATURES, json.loads(cell), strict=True)
    }


def _reader(column: Column) -> Callable[[list[dict[str, Any]]], list[Any]]:
    """How a column's cells are read from a page of kept responses.

    Text a spreadsheet would run as a formula is made plain text with a leading `'` (OWASP).
    """
    question, option = column.question or "", column.option
    if column.kind == "option":
        return lambda page: [
            "" if (value := given.get(question)) is None else int(option in value) for given in page
        ]
    starts = FORMULA_STARTS
    return lambda page: [
        "" if (value := given.get(question)) is None
        else "'" + value if value.__class__ is str and value.startswith(starts)
        else value
        for given in page
    ]  # fmt: skip


class _Ticker:
    """Reports progress after each page."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress = progress
        self.total = total
        self.done = 0

    async def tick(self, rows: int) -> None:
        self.done += rows
        if self.progress is not None:
            result = self.progress(self.done, self.total)
            if result is not None:
                await result


def codebook(plan: Plan) -> dict[str, Any]:
    """The codebook: every column's label and values, in every language of the survey."""
    survey = plan.survey
    return {
        "survey": {
            "id": survey.id,
            "version": survey.version,
            "title": dict(survey.title.translations),
        },
        "languages": list(survey.languages),
        "generalised": list(plan.decision.level.steps) if plan.decision.level else [],
        "rows": plan.decision.rows - plan.decision.suppressed,
        "suppressed_rows": plan.decision.suppressed,
        "columns": [
            {"name": c.name, "kind": c.kind, "label": c.label, "values": c.values}
            for c in plan.columns
        ],
    }


class _Buffer(io.RawIOBase):
    """A write-only byte buffer that an async writer empties now and then."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, chunk: Any) -> int:
        self.data += chunk
        return len(chunk)

    def take(self) -> bytes:
        taken, self.data = bytes(self.data), bytearray()
        return taken


async def _write_csv(exporter: Exporter, plan: Plan, sink: Sink, ticker: _Ticker) -> int:
    """A zip with responses.csv and codebook.json, streamed."""
    buffer = _Buffer()
    rows = 0
    # Level 1: a much faster deflate; the zip comes out about 40% bigger than at level 6.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("responses.csv", "w", force_zip64=True) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            table = csv.writer(text)
            table.writerow([c.name for c in plan.columns])
            async for page in exporter.pages(plan):
                table.writerows(page)
                rows += len(page)
                await ticker.tick(len(page))
                if len(buffer.data) >= CHUNK:
                    await sink.write(buffer.take())
            text.flush()
            text.detach()
        archive.writestr("codebook.json", json.dumps(codebook(plan), ensure_ascii=False, indent=1))
    await sink.write(buffer.take())
    return rows


async def _write_json(exporter: Exporter, plan: Plan, sink: Sink, ticker: _Ticker) -> int:
    """{"codebook": ..., "rows": [{...}, ...]}, streamed."""
    names = [c.name for c in plan.columns]
    head = json.dumps({"codebook": codebook(plan)}, ensure_ascii=False)[:-1]
    pending = [head, ', "rows": [']
    rows = 0
    async for page in exporter.pages(plan):
        for row in page:
            pending.append(
                ("," if rows else "")
                + json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False)
            )
            rows += 1
        await ticker.tick(len(page))
        await sink.write("".join(pending).encode())
        pending = []
    pending.append("]}")
    await sink.write("".join(pending).encode())
    return rows


async def _write_xlsx(exporter: Exporter, plan: Plan, sink: Sink, ticker: _Ticker) -> int:
    """Sheets "responses" and "codebook", written row by row to a temporary file, then sent."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.xlsx"
        book = xlsxwriter.Workbook(
            str(path), {"constant_memory": True, "strings_to_formulas": False}
        )
        sheet = book.add_worksheet("responses")
        sheet.write_row(0, 0, [c.name for c in plan.columns])
        rows = 0
        async for page in exporter.pages(plan):
            for row in page:
                rows += 1
                for col, value in enumerate(row):
                    if isinstance(value, str):
                        sheet.write_string(rows, col, value)
                    elif value is not None:
                        sheet.write(rows, col, value)
            await ticker.tick(len(page))
        book_sheet = book.add_worksheet("codebook")
        book_sheet.write_row(0, 0, ["column", "kind", "label", "values"])
        for line, column in enumerate(plan.columns, start=1):
            values = json.dumps(column.values, ensure_ascii=False) if column.values else ""
            book_sheet.write_row(
                line, 0, [column.name, column.kind, column.label.get("en", ""), values]
            )
        book.close()
        with path.open("rb") as made:
            while chunk := made.read(CHUNK):
                await sink.write(chunk)
    return rows


def _sav_variable(column: Column) -> tuple[Variable, dict[str, float] | None]:
    """An SPSS variable for a column, and how its values are coded (None: kept as they are)."""
    label = column.label.get("en", column.name)
    if column.kind in ("id", "profile"):
        return Variable(column.name, label, width=16 if column.kind == "id" else 32), None
    if column.kind == "text":
        return Variable(column.name, f"{label} (redacted, first 255 bytes)", width=MAX_STRING), None
    if column.kind in ("choice", "yes_no") and column.values:
        codes = {value: float(code) for code, value in enumerate(column.values, start=1)}
        labels = {codes[value]: names.get("en", value) for value, names in column.values.items()}
        return Variable(column.name, label, value_labels=labels), codes
    if column.kind == "option":
        return Variable(column.name, label, value_labels={1.0: "chosen", 0.0: "not chosen"}), None
    return Variable(column.name, label), None


async def _write_sav(exporter: Exporter, plan: Plan, sink: Sink, ticker: _Ticker) -> int:
    """An SPSS system file with variable and value labels, one case at a time."""
    coded = [_sav_variable(column) for column in plan.columns]
    cases = plan.decision.rows - plan.decision.suppressed
    writer = SavWriter([variable for variable, _codes in coded], cases, plan.survey.id)
    await sink.write(writer.header(exporter.clock()))
    pending = bytearray()
    rows = 0
    async for page in exporter.pages(plan):
        for row in page:
            values = [
                codes.get(str(value)) if codes is not None and value != "" else value
                for (_variable, codes), value in zip(coded, row, strict=True)
            ]
            pending += writer.case(values)
            rows += 1
        await ticker.tick(len(page))
        if len(pending) >= CHUNK:
            await sink.write(bytes(pending))
            pending = bytearray()
    await sink.write(bytes(pending))
    return rows


Writer = Callable[[Exporter, Plan, Sink, _Ticker], Awaitable[int]]
WRITERS: dict[str, Writer] = {
    "csv": _write_csv,
    "xlsx": _write_xlsx,
    "json": _write_json,
    "sav": _write_sav,
}
